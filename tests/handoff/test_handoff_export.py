"""`generec corpus export`: RecBole atomic files and a Parquet set, written atomically (issue 18, part 3)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from handoff_corpus import fill

from generec_desktop.handoff import MANIFEST_NAME, HandoffError, export_corpus, read_atomic_header


def _rows(path: Path) -> list[list[str]]:
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == ""  # every row ends with a newline, the last too
    return [line.split("\t") for line in lines[1:-1]]


def _visual(ws, items):
    from generec_desktop.profiles import store

    return store.thumbnail_embeddings(ws, store.get_encoder("builtin", ws), items)


def test_recbole_atomic_files(corpus, tmp_path: Path) -> None:
    from generec_desktop.profiles import build_profiles

    ws = corpus.ws
    build_profiles(ws, n_segments=3)
    res = export_corpus(ws, tmp_path / "gr", format="recbole")
    out = tmp_path / "gr"
    assert res.dataset == "gr" and sorted(p.name for p in out.iterdir()) == sorted(
        ["gr.inter", "gr.item", "gr.user", MANIFEST_NAME])
    assert read_atomic_header(out / "gr.inter") == [("user_id", "token"), ("item_id", "token"),
                                                    ("rating", "float"), ("timestamp", "float")]
    assert read_atomic_header(out / "gr.item") == [
        ("item_id", "token"), ("kind", "token"), ("generator", "token"), ("parent_id", "token"),
        ("target_audience", "token"), ("external_id", "token"), ("title", "token_seq"), ("duration", "float"),
        ("visual", "float_seq")]
    assert read_atomic_header(out / "gr.user") == [("user_id", "token"), ("external_id", "token"),
                                                   ("segment", "token")]
    inter = _rows(out / "gr.inter")
    assert len(inter) == len(ws.interactions()) == res.rows["gr.inter"]
    stored = {(r.user_id, r.item_id, r.weight, r.timestamp.timestamp() if r.timestamp else None)
              for r in ws.interactions()}
    assert {(int(u), int(i), float(w), float(t) if t else None) for u, i, w, t in inter} == stored
    items = ws.items()
    item_rows = _rows(out / "gr.item")
    assert len(item_rows) == len(items) and all(len(r) == 9 for r in item_rows)
    vis = _visual(ws, items)
    by_id = {int(r[0]): r for r in item_rows}
    for k, it in enumerate(items):
        r = by_id[it.id]
        assert r[1] == it.kind and r[3] == ("" if it.parent_id is None else str(it.parent_id))
        assert r[4] == (it.target_profile or "") and r[5] == (it.external_id or "")
        assert r[2] == ("human" if it.kind == "human" else "style:warm")
        got = np.array(r[8].split(" "), np.float32)
        assert got.shape == (vis.shape[1],) and np.array_equal(got, vis[k])  # float32 round trip, exact
    assert by_id[corpus.human[3]][6] == "clip 3 of mine"  # tab and newline of the title do not split the row
    users = {r[1]: r for r in _rows(out / "gr.user")}
    assert set(users) == set(corpus.user_group)
    segs = {r[2] for r in users.values()}
    assert segs == {"segment:0", "segment:1", "segment:2"}
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert manifest["encoder_id"] == res.encoder_id == "builtin-v1" and manifest["dim"] == vis.shape[1]
    assert manifest["files"]["gr.item"]["rows"] == len(items)


def test_parquet_set(corpus, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from generec_desktop.profiles import build_profiles, store

    ws = corpus.ws
    build_profiles(ws, n_segments=3)
    enc = store.get_encoder("builtin", ws)
    first = ws.item(corpus.human[0])
    vec = _visual(ws, [first])[0]
    with ws.session() as s:  # the example's embedding, unless building the profiles stored it already
        ex_id = s.execute(store.audience_examples.select()).first().id
        v = store.audience_example_vectors
        if s.execute(v.select().where(v.c.example_id == ex_id, v.c.encoder_id == enc.id)).first() is None:
            s.execute(v.insert().values(example_id=ex_id, encoder_id=enc.id, dim=enc.dim, vector=store.to_blob(vec)))
    res = export_corpus(ws, tmp_path / "pq", format="parquet")
    names = {"items", "users", "interactions", "lineage", "artwork", "audiences", "audience_examples"}
    assert set(res.rows) == {f"{n}.parquet" for n in names}
    read = {n: pq.read_table(tmp_path / "pq" / f"{n}.parquet") for n in names}
    items = read["items"].to_pylist()
    assert [r["id"] for r in items] == [it.id for it in ws.items()]
    assert str(read["items"].schema.field("visual").type) == "list<element: float>"
    assert str(read["items"].schema.field("created_at").type) == "timestamp[us, tz=UTC]"
    vis = _visual(ws, ws.items())
    np.testing.assert_array_equal(np.array([r["visual"] for r in items], np.float32), vis)
    ai = [r for r in items if r["kind"] == "ai_edited"]
    assert len(ai) == 12 and all(r["parent_id"] in corpus.human and r["generator"] == "style:warm" for r in ai)
    assert json.loads(ai[0]["params_json"]) == {"gain": 1.5} and ai[0]["target_audience"] == "segment:0"
    assert read["items"].schema.metadata[b"generec.encoder_id"] == b"builtin-v1"
    assert read["interactions"].num_rows == len(ws.interactions())
    assert read["lineage"].num_rows == 12 and read["users"].num_rows == 30
    art = read["artwork"].to_pylist()
    assert len(art) == 1 and art[0]["audience_id"] == "segment:0" and art[0]["width"] == 1080
    auds = {r["audience_id"]: r for r in read["audiences"].to_pylist()}
    assert set(auds) == {"examples:1", "segment:0", "segment:1", "segment:2"}
    assert auds["examples:1"]["label"] == "Cyclists" and auds["examples:1"]["size"] == 1
    np.testing.assert_allclose(auds["examples:1"]["vector"], vec / np.linalg.norm(vec), atol=1e-6)
    assert sum(auds[f"segment:{k}"]["size"] for k in range(3)) == 30
    ex = read["audience_examples"].to_pylist()
    assert ex[0]["item_id"] == corpus.human[0] and ex[0]["encoder_id"] == "builtin-v1"


def test_an_empty_artwork_and_audience_table_still_gives_every_file(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from generec_desktop.corpus import Workspace

    with Workspace.create(tmp_path / "w") as ws:
        c = fill(ws)
        from generec_desktop.fidelity import artwork as t

        ws._execute("DELETE FROM artwork")
        ws._execute("DELETE FROM audience_examples")
        ws._execute("DELETE FROM audiences")
        export_corpus(ws, tmp_path / "pq", format="parquet")
        assert pq.read_table(tmp_path / "pq" / "artwork.parquet").num_rows == 0
        assert pq.read_table(tmp_path / "pq" / "audiences.parquet").num_rows == 0  # no profiles built either
        assert pq.read_table(tmp_path / "pq" / "artwork.parquet").schema.names == [c.name for c in t.artwork.c]
        assert pq.read_table(tmp_path / "pq" / "items.parquet").num_rows == len(c.human) * 2


def test_the_folder_appears_whole_and_is_never_overwritten_by_surprise(corpus, tmp_path: Path) -> None:
    ws = corpus.ws
    out = tmp_path / "out"
    export_corpus(ws, out, format="recbole")
    before = (out / "out.item").read_bytes()
    with pytest.raises(HandoffError, match="already exists"):
        export_corpus(ws, out, format="recbole")
    assert (out / "out.item").read_bytes() == before
    export_corpus(ws, out, format="parquet", force=True)  # replaces the earlier export
    assert not (out / "out.item").exists() and (out / "items.parquet").is_file()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(HandoffError, match="not an earlier GeneRec export"):
        export_corpus(ws, mine, format="recbole", force=True)
    assert (mine / "notes.txt").read_text() == "keep me" and len(list(mine.iterdir())) == 1
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no staging left


def test_a_failed_export_leaves_nothing(corpus, tmp_path: Path, monkeypatch) -> None:
    from generec_desktop.handoff import export as ex

    def boom(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ex, "_write_atomic", boom)
    with pytest.raises(OSError):
        export_corpus(corpus.ws, tmp_path / "x", format="recbole")
    assert list(tmp_path.iterdir()) == [tmp_path / "ws"]


def test_bad_requests(corpus, tmp_path: Path) -> None:
    from generec_desktop.corpus import Workspace

    with pytest.raises(HandoffError, match="Unknown format"):
        export_corpus(corpus.ws, tmp_path / "x", format="csv")
    (tmp_path / "file").write_text("x")
    with pytest.raises(HandoffError, match="is a file"):
        export_corpus(corpus.ws, tmp_path / "file" / "x", format="recbole")
    with pytest.raises(HandoffError, match="dataset name"):
        export_corpus(corpus.ws, tmp_path / "x", format="recbole", name="a b")
    with Workspace.create(tmp_path / "empty") as ws, pytest.raises(HandoffError, match="no items"):
        export_corpus(ws, tmp_path / "x", format="recbole")


def test_cli(corpus, tmp_path: Path, capsys) -> None:
    from generec_desktop.cli import main

    root = str(corpus.ws.root)
    assert main(["corpus", "export", root, "--format", "parquet", "--out", str(tmp_path / "p"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["rows"]["items.parquet"] == 24 and data["encoder_id"] == "builtin-v1"
    assert main(["corpus", "export", root, "--format", "recbole", "--out", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err.strip()
    assert "already exists" in err and len(err.splitlines()) == 1
    assert main(["corpus", "export", root, "--format", "recbole", "--out", str(tmp_path / "r"),
                 "--name", "generec"]) == 0
    assert (tmp_path / "r" / "generec.inter").is_file() and "Exported the corpus" in capsys.readouterr().out


def test_tables_match_the_migrated_database(tmp_path: Path) -> None:
    from sqlalchemy import inspect

    from generec_desktop.corpus import Workspace
    from generec_desktop.fidelity import artwork as tables

    with Workspace.create(tmp_path / "W") as ws:
        insp = inspect(ws.engine)
        for table in tables.metadata.sorted_tables:
            cols = {c["name"]: c for c in insp.get_columns(table.name)}
            assert list(cols) == [c.name for c in table.columns], table.name
            for c in table.columns:
                assert cols[c.name]["nullable"] == c.nullable or c.primary_key, (table.name, c.name)
                assert isinstance(cols[c.name]["type"], c.type._type_affinity), (table.name, c.name)


@pytest.mark.postgres
def test_export_from_a_shared_corpus_on_postgres(tmp_path: Path, pg_url: str) -> None:
    import pyarrow.parquet as pq

    from generec_desktop.corpus import Workspace

    with Workspace.create(tmp_path / "w", db_url=pg_url) as ws:
        c = fill(ws)
        res = export_corpus(ws, tmp_path / "pq", format="parquet")
        export_corpus(ws, tmp_path / "rb", format="recbole")
    assert res.rows["items.parquet"] == 24 and res.rows["artwork.parquet"] == 1
    assert pq.read_table(tmp_path / "pq" / "audiences.parquet").to_pylist()[0]["label"] == "Cyclists"
    assert len(_rows(tmp_path / "rb" / "rb.user")) == len(c.user_group)
