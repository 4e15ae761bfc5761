"""The same Workspace code on a real PostgreSQL server (issue 18, part 4): migrations m001–m006, import,
pending versions, export, profiles; the write lock; two processes at once. Never a mock (tests/pgtest.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import inspect, text

from generec_desktop.corpus import Workspace, WorkspaceError, migrations

pytestmark = pytest.mark.postgres
WORKER = Path(__file__).with_name("pg_worker.py")


@pytest.fixture(scope="module")
def small_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20 frames (0.8 s) of real photos, 320x240, H.264 (as the fidelity tests use)."""
    import mediagen

    from generec_desktop import media

    path = tmp_path_factory.mktemp("pg-media") / "small.mp4"
    media.encode_frames(mediagen.photo_frames(20, 320, 240), path, fps=25)
    return path


def _styled(src: Path, dst: Path, shift: int) -> Path:
    from generec_desktop import media

    media.transform_video(src, dst, lambda f, t: np.clip(f.astype(np.int16) + shift, 0, 255).astype(np.uint8))
    return dst


def test_migrations_make_the_declared_schema_on_postgres(tmp_path: Path, pg_url: str) -> None:
    from generec_desktop.corpus.schema import Base
    from generec_desktop.profiles import store

    with Workspace.create(tmp_path / "w", db_url=pg_url) as ws:
        assert ws.engine.dialect.name == "postgresql" and ws.db_path is None
        assert not (tmp_path / "w" / "generec.sqlite").exists()
        assert ws.schema_version() == migrations.latest_version() == len(migrations.MIGRATIONS)
        insp = inspect(ws.engine)
        tables = set(insp.get_table_names())
        assert {"audiences", "audience_examples", "audience_example_vectors", "artwork"} <= tables  # m004, m005
        for table in [*Base.metadata.sorted_tables, *store.metadata.sorted_tables]:
            cols = {c["name"]: c for c in insp.get_columns(table.name)}
            assert set(cols) == {c.name for c in table.columns}, table.name
            for c in table.columns:
                assert cols[c.name]["nullable"] == c.nullable or c.primary_key, (table.name, c.name)
        indexes = {i["name"]: i for i in insp.get_indexes("items")}
        assert indexes["uq_items_human_sha256"]["unique"]  # the partial unique index exists on the server too
        assert migrations.migrate(ws.engine) == []  # idempotent
    with Workspace.open(tmp_path / "w") as ws:  # the URL is found in workspace.json
        assert ws.engine.dialect.name == "postgresql"


def test_workspace_json_keeps_the_url_but_never_the_password(tmp_path: Path, pg_url: str) -> None:
    from sqlalchemy.engine import make_url

    with_password = make_url(pg_url).set(password="s3cret-word").render_as_string(hide_password=False)
    Workspace.create(tmp_path / "w", db_url=with_password).close()  # trust auth: any password is accepted
    meta = json.loads((tmp_path / "w" / "workspace.json").read_text())
    assert "s3cret-word" not in json.dumps(meta)
    assert make_url(meta["database"]).database == make_url(pg_url).database
    assert make_url(meta["database"]).drivername == "postgresql+psycopg"
    with Workspace.open(tmp_path / "w") as ws:
        assert ws.items() == []
    (tmp_path / "x").mkdir()
    with pytest.raises(WorkspaceError, match="PostgreSQL"):
        Workspace.create(tmp_path / "x" / "w", db_url="mysql://u@localhost/db")
    assert not (tmp_path / "x" / "w").exists()


def test_import_pending_export_and_reopen_on_postgres(tmp_path: Path, pg_url: str, small_clip: Path) -> None:
    from generec_desktop.fidelity.export import check_version, create_pending, list_pending, run_export

    with Workspace.create(tmp_path / "w", db_url=pg_url) as ws:
        item = ws.import_media(small_clip, owner="ann", licence="CC-BY-4.0").items[0]
        assert ws.import_media(small_clip).files[0].new is False  # same bytes: the same item
        pv = create_pending(ws, _styled(small_clip, tmp_path / "s.mp4", 12), operation="style",
                            parent_id=item.id, params={"style": "brighten", "gain": float("nan")},
                            target_profile="segment:0")
        assert [p.id for p in list_pending(ws)] == [pv.id]
        rep = check_version(ws, pv)
        assert not rep.failed
        res = run_export(ws, pv.id)
        new = res.item
        assert new.kind == "ai_edited" and new.parent_id == item.id and new.target_profile == "segment:0"
        assert ws.media_path(new).is_file() and res.sidecar.is_file()
        assert [e.operation for e in ws.lineage(new.id)] == ["style"]
        # NaN (which the server's json type refuses) is stored as null, not an error
        assert ws.item(new.id).params["params"]["gain"] is None
        check = ws.check_integrity()
        assert check.ok, check.summary()
    with Workspace.open(tmp_path / "w") as ws:
        assert [(it.kind, it.parent_id) for it in ws.items()] == [("human", None), ("ai_edited", item.id)]
        assert ws.item(new.id).fidelity["identifiability_after_export"]["payload"] == new.watermark_payload


def test_profiles_and_recommender_on_postgres(tmp_path: Path, pg_url: str) -> None:
    from PIL import Image

    from generec_desktop.corpus.schema import Item
    from generec_desktop.profiles import (
        build_profiles,
        import_interactions,
        load_profiles,
        load_recommender,
        train_recommender,
    )

    rng = np.random.default_rng(0)
    colours = [(220, 30, 30), (30, 200, 40), (30, 40, 220)]
    with Workspace.create(tmp_path / "w", db_url=pg_url) as ws:
        with ws.session() as s:
            for k in range(9):
                sha = f"{k:064x}"
                img = np.clip(np.array(colours[k % 3])[None, None] + rng.normal(0, 20, (48, 48, 3)), 0, 255)
                Image.fromarray(img.astype(np.uint8)).save(ws.covers_dir / f"{sha}.jpg")
                s.add(Item(kind="human", sha256=sha, stored_path=f"media/none/{sha}.mp4", title=f"v{k}",
                           cover_path=f"covers/{sha}.jpg", external_id=f"v{k}"))
        lines = ["user_id,item_id,timestamp,weight"]
        for u in range(18):
            for j, k in enumerate(k for k in range(9) if k % 3 == u % 3):
                lines.append(f"u{u},v{k},{1_700_000_000 + 60 * j},1")
        (tmp_path / "i.csv").write_text("\n".join(lines) + "\n")
        rep = import_interactions(ws, tmp_path / "i.csv")
        assert rep.new_users == 18 and len(ws.interactions()) == 54
        built = build_profiles(ws, n_segments=3)
        loaded = load_profiles(ws)
        assert loaded.encoder_id == built.encoder_id and len(loaded.segments) == 3
        np.testing.assert_allclose(loaded.user_hist, built.user_hist, atol=1e-6)  # bytea round trip
        assert sorted(s.size for s in loaded.segments) == [6, 6, 6]
        model = train_recommender(ws, epochs=2, frames_per_item=0)  # recorded in recommender_runs
        again = load_recommender(ws)
        np.testing.assert_allclose(again.user_embeddings, model.user_embeddings, atol=1e-6)


def test_an_empty_database_over_a_workspace_with_media_is_refused(tmp_path: Path, pg_url: str,
                                                                   pg_server, small_clip: Path) -> None:
    with Workspace.create(tmp_path / "w", db_url=pg_url) as ws:
        ws.import_media(small_clip)
    files = sorted(p for p in (tmp_path / "w" / "media").rglob("*") if p.is_file())
    other = pg_server.new_database()
    try:
        with pytest.raises(WorkspaceError, match="wrong database"):
            Workspace.open(tmp_path / "w", db_url=other)
    finally:
        pg_server.drop(other)
    assert sorted(p for p in (tmp_path / "w" / "media").rglob("*") if p.is_file()) == files
    assert not (tmp_path / "w" / "quarantine").exists()


def test_sqlite_only_maintenance_says_what_to_do_on_postgres(tmp_path: Path, pg_url: str) -> None:
    from generec_desktop.corpus.rebuild import rebuild_catalogue

    with Workspace.create(tmp_path / "w", db_url=pg_url) as ws:
        rep = ws.check_integrity()
        assert rep.ok and rep.database_errors == []
        with pytest.raises(WorkspaceError, match="pg_dump"):
            ws.backup()
        ws._execute("DROP TABLE lineage")
        assert any("lineage" in e for e in ws.check_integrity().database_errors)
    with pytest.raises(WorkspaceError, match="PostgreSQL"):
        rebuild_catalogue(tmp_path / "w", force=True)
    assert not (tmp_path / "w" / "generec.sqlite").exists()


def test_read_only_open_on_postgres(tmp_path: Path, pg_url: str) -> None:
    from generec_desktop.faults import describe_fault

    Workspace.create(tmp_path / "w", db_url=pg_url).close()
    with Workspace(tmp_path / "w", db_url=pg_url, read_only=True) as ws:
        assert ws.items() == []
        from generec_desktop.corpus.schema import User

        with pytest.raises(Exception) as info, ws.session() as s:
            s.add(User(external_id="x"))
        assert "read-only" in (describe_fault(info.value) or "")


def test_writers_are_serialised_like_on_sqlite(tmp_path: Path, pg_url: str) -> None:
    """Overlapping add_users from 6 threads: check-then-insert must not race (unique external ids)."""
    from concurrent.futures import ThreadPoolExecutor

    with Workspace.create(tmp_path / "w", db_url=pg_url) as ws:
        def work(k: int) -> int:
            ws.add_users([f"u{i}" for i in range(k * 20, k * 20 + 60)])  # each overlaps its neighbours
            return len(ws.users())

        with ThreadPoolExecutor(6) as pool:
            list(pool.map(work, range(6)))
        assert sorted(u.external_id for u in ws.users()) == sorted(f"u{i}" for i in range(160))


def test_a_held_write_lock_times_out_with_one_sentence(tmp_path: Path, pg_url: str, monkeypatch) -> None:
    from generec_desktop.corpus import database

    monkeypatch.setattr(database, "LOCK_TIMEOUT_S", 1.0)
    with Workspace.create(tmp_path / "w", db_url=pg_url) as ws:
        held, release = threading.Event(), threading.Event()

        def hold() -> None:
            with ws.session() as s:
                s.execute(text("SELECT 1"))
                held.set()
                release.wait(10)

        t = threading.Thread(target=hold)
        t.start()
        held.wait(10)
        try:
            with pytest.raises(database.WorkspaceLockedError, match="locked for writing"):
                ws.add_users(["late"])
        finally:
            release.set()
            t.join()
        assert [u.external_id for u in ws.add_users(["late"])] == ["late"]


def _workers(mode: str, root: Path, go: Path, args_per_worker: list[list[str]]) -> list[dict]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2]),
                                                         os.environ.get("PYTHONPATH", "")])}
    procs = [subprocess.Popen([sys.executable, str(WORKER), mode, str(root), str(go), *args],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for args in args_per_worker]
    go.touch()
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-3000:]
        outs.append(json.loads(out.strip().splitlines()[-1]))
    go.unlink()
    return outs


def test_two_processes_migrate_import_and_export_at_once(tmp_path: Path, pg_url: str, small_clip: Path) -> None:
    """Two GeneRec processes on one shared corpus: nothing lost, nothing duplicated."""
    from sqlalchemy.engine import make_url

    from generec_desktop.fidelity.export import create_pending, external_id_for

    root = tmp_path / "w"
    root.mkdir()
    # a workspace whose database is still empty: both processes' first open runs the migrations
    (root / "workspace.json").write_text(json.dumps({
        "format": "generec-workspace", "version": 1, "created": "2026-01-01T00:00:00+00:00",
        "database": make_url(pg_url).render_as_string(hide_password=False)}))
    go = tmp_path / "go"
    outs = _workers("open", root, go, [[], []])
    assert [o["schema"] for o in outs] == [migrations.latest_version()] * 2

    # both import the same clip and one of their own at once: the shared clip becomes one item
    clips = [_styled(small_clip, tmp_path / f"c{k}.mp4", 20 * (k + 1)) for k in range(2)]
    outs = _workers("import", root, go, [[str(small_clip), str(clips[0])], [str(small_clip), str(clips[1])]])
    got = [o["items"] for o in outs]
    shared = {g[str(small_clip)][0] for g in got}
    assert len(shared) == 1 and sorted(g[str(small_clip)][1] for g in got) == [False, True], got

    with Workspace.open(root) as ws:
        assert len(ws.items()) == 3
        parent = ws.item(shared.pop())
        pvs = [create_pending(ws, _styled(small_clip, tmp_path / f"v{k}.mp4", 8 + 6 * k), operation="style",
                              parent_id=parent.id, params={"k": k}, target_profile=f"segment:{k % 2}")
               for k in range(4)]
    ids = [p.id for p in pvs]
    # both try every version, in opposite orders, at the same time
    outs = _workers("export", root, go, [ids, ids[::-1]])
    for vid in ids:
        results = [o[vid] for o in outs]
        assert sum(r.startswith("exported") for r in results) == 1, results
        assert all(r.startswith("exported") or "already exported" in r or "being exported" in r
                   for r in results), results
    with Workspace.open(root) as ws:
        items = ws.items()
        versions = [it for it in items if it.kind == "ai_edited"]
        assert len(items) == 3 + 4 and len(versions) == 4
        assert sorted(it.external_id for it in versions) == sorted(external_id_for(v) for v in ids)
        assert len({it.sha256 for it in versions}) == 4 and len({it.stored_path for it in items}) == 7
        assert all(len(ws.lineage(it.id)) == 1 for it in versions)
        rep = ws.check_integrity()
        assert rep.ok, rep.summary()


def test_cli_on_a_shared_corpus(tmp_path: Path, pg_url: str, small_clip: Path, capsys) -> None:
    from sqlalchemy.engine import make_url

    from generec_desktop.cli import main

    root = str(tmp_path / "w")
    assert main(["workspace", "create", root, "--database", pg_url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["schema_version"] == migrations.latest_version()
    assert main(["import", root, str(small_clip), "--json"]) == 0
    capsys.readouterr()
    assert main(["items", root, "--json"]) == 0
    assert [it["kind"] for it in json.loads(capsys.readouterr().out)] == ["human"]
    assert main(["workspace", "check", root]) == 0
    assert "OK: 1 items" in capsys.readouterr().out
    assert main(["workspace", "backup", root]) == 2
    err = capsys.readouterr().err.strip()
    assert "pg_dump" in err and len(err.splitlines()) == 1
    # a server that is not there: one sentence, no traceback
    gone = make_url(pg_url).set(query={"host": str(tmp_path / "no-server-here")}).render_as_string(
        hide_password=False)
    assert main(["items", root]) == 0
    capsys.readouterr()
    meta = json.loads((tmp_path / "w" / "workspace.json").read_text())
    (tmp_path / "w" / "workspace.json").write_text(json.dumps({**meta, "database": gone}))
    assert main(["items", root]) == 2
    err = capsys.readouterr().err.strip()
    assert "cannot be reached" in err and len(err.splitlines()) == 1
