"""The profile tables as profiles/store.py declares them agree with what the migrations create."""

from __future__ import annotations

from schemacheck import assert_table_matches
from sqlalchemy import inspect

from generec_desktop.corpus import Workspace
from generec_desktop.profiles import store


def test_store_tables_match_the_migrated_database(tmp_path):
    with Workspace.create(tmp_path / "W") as ws:
        insp = inspect(ws.engine)
        for table in store.metadata.sorted_tables:
            assert_table_matches(insp, table)


def test_example_audience_tables_are_declared_and_agree_on_keys(tmp_path):
    """m004's tables are among the declared ones (so the test above covers them) and their foreign keys
    between themselves and indexes agree too (items is the corpus's table: named by the migration only)."""
    declared = {t.name for t in store.metadata.sorted_tables}
    assert {"audiences", "audience_examples", "audience_example_vectors"} <= declared
    with Workspace.create(tmp_path / "W") as ws:
        insp = inspect(ws.engine)
        for table in (store.audience_examples, store.audience_example_vectors):
            migrated = {(tuple(fk["constrained_columns"]), fk["referred_table"], fk["options"].get("ondelete"))
                        for fk in insp.get_foreign_keys(table.name)}
            ours = {((fk.parent.name,), fk.column.table.name, fk.ondelete) for fk in table.foreign_keys}
            assert ours <= migrated, (table.name, ours, migrated)
            assert all(t != "items" for _, t, _ in ours)
        indexed = {tuple(ix["column_names"]) for ix in insp.get_indexes("audience_examples")}
        assert ("audience_id",) in indexed
        assert any(c.index for c in store.audience_examples.columns if c.name == "audience_id")
