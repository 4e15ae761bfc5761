"""Database: WAL, foreign keys, migrations (idempotent, transactional, refusing the future), bulk helpers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect

from generec_desktop.corpus import CorpusError, SchemaVersionError, Workspace, WorkspaceError, migrations
from generec_desktop.corpus.schema import Base, Item


def test_layout_wal_and_foreign_keys(ws):
    for d in ("media", "covers", "versions", "cache", "models"):
        assert (ws.root / d).is_dir()
    assert (ws.root / "workspace.json").is_file()
    assert ws._execute("PRAGMA journal_mode")[0][0] == "wal"
    assert ws._execute("PRAGMA foreign_keys")[0][0] == 1


def test_migrated_schema_matches_orm_models(ws):
    insp = inspect(ws.engine)
    for table in Base.metadata.sorted_tables:
        db_cols = {c["name"]: c for c in insp.get_columns(table.name)}
        assert set(db_cols) == {c.name for c in table.columns}, table.name
        for col in table.columns:
            assert db_cols[col.name]["nullable"] == col.nullable, f"{table.name}.{col.name}"
        db_indexes = {(i["name"], bool(i["unique"])) for i in insp.get_indexes(table.name)}
        assert db_indexes == {(i.name, bool(i.unique)) for i in table.indexes}, table.name


def test_threads_share_a_workspace(ws):
    from concurrent.futures import ThreadPoolExecutor

    def work(k):
        ws.add_users([f"t{k}-{i}" for i in range(50)])
        return len(ws.users())

    with ThreadPoolExecutor(4) as pool:
        counts = list(pool.map(work, range(8)))
    assert max(counts) == 400 and len(ws.users()) == 400


def test_migrations_idempotent_at_reopen(tmp_path):
    Workspace.create(tmp_path / "w").close()
    with Workspace.open(tmp_path / "w") as w:
        assert w.schema_version() == migrations.latest_version()
        assert migrations.migrate(w.engine) == []
        rows = w._execute("SELECT version FROM schema_version ORDER BY version")
        assert [r[0] for r in rows] == list(range(1, migrations.latest_version() + 1))


def test_schema_from_the_future_is_refused(tmp_path):
    with Workspace.create(tmp_path / "w") as w:
        future = migrations.latest_version() + 1
        w._execute(f"INSERT INTO schema_version (version, name, applied_at) "
                   f"VALUES ({future}, 'from_the_future', '2099-01-01 00:00:00')")
    with pytest.raises(SchemaVersionError, match="upgrade"):
        Workspace.open(tmp_path / "w")


def test_failed_migration_rolls_back_everything(tmp_path):
    from generec_desktop.corpus.database import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")

    def broken(conn):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        migrations.migrate(engine, [*migrations.MIGRATIONS, broken])
    assert not inspect(engine).has_table("items")  # the DDL of migration 1 was rolled back too
    with engine.connect() as conn:
        assert migrations.current_version(conn) == 0
    engine.dispose()


def test_not_a_workspace_and_non_empty_folder(tmp_path):
    with pytest.raises(WorkspaceError, match="not a GeneRec workspace"):
        Workspace.open(tmp_path)
    (tmp_path / "stuff.txt").write_text("x")
    with pytest.raises(WorkspaceError, match="not empty"):
        Workspace.create(tmp_path)
    with pytest.raises(WorkspaceError, match="is a file"):
        Workspace.create(tmp_path / "stuff.txt")
    assert (tmp_path / "stuff.txt").read_text() == "x"


def _fake_item(ws, sha="0" * 64, kind="human"):
    with ws.session() as s:
        row = Item(kind=kind, sha256=sha, stored_path=f"media/{sha}.mp4", created_at=datetime.now(UTC))
        s.add(row)
        s.flush()
        return row.id


def test_kind_constraint_and_foreign_keys_enforced(ws):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        _fake_item(ws, kind="robot")
    with pytest.raises(CorpusError, match="does not exist"):
        ws.add_interactions([(12345, 67890)])
    assert ws.items() == [] and ws.interactions() == []


def test_add_users_and_interactions_bulk(ws):
    item_id = _fake_item(ws)
    with ws.session() as s:
        s.get(Item, item_id).external_id = "video-1"
    users = ws.add_users(["u1", {"external_id": "u2", "name": "Ann"}, "u1"])
    assert [u.external_id for u in users] == ["u1", "u2"] and users[1].name == "Ann"
    again = ws.add_users([{"external_id": "u2", "name": "changed"}, "u3"])
    assert again[0].id == users[1].id and again[0].name == "Ann"  # existing users are kept
    assert len(ws.users()) == 3
    n = ws.add_interactions([
        (users[0].id, item_id, 1_700_000_000, 2.0),
        {"user_external_id": "u2", "item_external_id": "video-1", "timestamp": datetime(2024, 1, 1, tzinfo=UTC)},
        {"user_id": users[0].id, "item_id": item_id},
    ])
    assert n == 3
    rows = ws.interactions(user_id=users[0].id)
    assert [r.weight for r in rows] == [2.0, 1.0]
    assert rows[0].timestamp == datetime.fromtimestamp(1_700_000_000, UTC)
    assert ws.interactions(user_id=users[1].id)[0].timestamp == datetime(2024, 1, 1, tzinfo=UTC)
    with pytest.raises(CorpusError, match="external id 'nobody'"):
        ws.add_interactions([{"user_external_id": "nobody", "item_id": item_id}])
    assert len(ws.interactions()) == 3  # the failed batch added nothing


def test_many_interactions_in_one_call(ws):
    """5,000 rows in one batch (the speed is measured by benchmarks/bench_corpus.py, not asserted here)."""
    item_id = _fake_item(ws)
    users = ws.add_users([f"u{i}" for i in range(1000)])
    n = ws.add_interactions((u.id, item_id, 1_700_000_000 + i) for i, u in enumerate(users * 5))
    assert n == 5000 and len(ws.interactions(item_id=item_id)) == 5000
