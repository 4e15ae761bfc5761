"""The one declaration of the artwork table (fidelity/artwork.py) agrees with migration m005."""

from __future__ import annotations

from schemacheck import assert_table_matches
from sqlalchemy import inspect

from generec_desktop.corpus import Workspace
from generec_desktop.fidelity import artwork as store


def test_store_tables_match_the_migrated_database(tmp_path):
    with Workspace.create(tmp_path / "W") as ws:
        insp = inspect(ws.engine)
        assert [t.name for t in store.metadata.sorted_tables] == ["artwork"]
        for table in store.metadata.sorted_tables:
            assert_table_matches(insp, table)
            fks = {(tuple(f["constrained_columns"]), f["referred_table"]) for f in insp.get_foreign_keys(table.name)}
            assert fks == {(("item_id",), "items")}


def test_artwork_for_reads_a_row_and_none_without(tmp_path):
    from datetime import UTC, datetime

    import mediagen

    with Workspace.create(tmp_path / "W") as ws:
        item = ws.import_media(mediagen.make_video(tmp_path / "v.mp4")).items[0]
        assert store.artwork_for(ws, item.id, "segment:0") is None
        with ws.session() as s:  # a row as the artwork store would write it
            s.execute(store.artwork.insert().values(
                item_id=item.id, audience_id="segment:0", audience_label="Segment 1", path="artwork/ab/x.jpg",
                sha256="ab" * 32, width=64, height=48, format="JPEG", score=0.5, source_time=1.25,
                generator="personalize", created_at=datetime.now(UTC)))
        row = store.artwork_for(ws, item.id, "segment:0")
        assert row is not None and (row.path, row.width, row.source_time) == ("artwork/ab/x.jpg", 64, 1.25)
        assert store.artwork_for(ws, item.id, "segment:1") is None
