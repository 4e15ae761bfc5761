"""Nothing is ever lost (issue 13): a lost or damaged catalogue is refused, recovery deletes only the app's
own leftovers, paths stay inside the workspace, and faults are one clear line."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from generec_desktop.corpus import CorpusError, Workspace, WorkspaceError


def _age(root: Path, seconds: float = 3600) -> None:
    """Make every file look old (past any grace period), as in a workspace used for a while."""
    old = time.time() - seconds
    for p in root.rglob("*"):
        if p.is_file() and not p.is_symlink():
            os.utime(p, (old, old))


def _user_files(root: Path) -> dict[str, bytes]:
    """Every file under media/, versions/, covers/ with its bytes (what a user must never lose)."""
    out = {}
    for d in ("media", "versions", "covers"):
        for p in (root / d).rglob("*"):
            if p.is_file():
                out[p.relative_to(root).as_posix()] = p.read_bytes()
    return out


@pytest.fixture
def filled(tmp_path, bunny, bikes) -> Path:
    """A closed workspace with two originals, aged past the grace period."""
    root = tmp_path / "W"
    with Workspace.create(root) as ws:
        ws.import_media([bunny, bikes], owner="ann")
    _age(root)
    return root


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GENEREC_LOCK_TIMEOUT": "2"}
    return subprocess.run([sys.executable, "-m", "generec_desktop.cli", *args], capture_output=True, text=True,
                          timeout=120, env=env)


def _one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("generec: error:")]
    assert len(lines) == 1, proc.stderr
    return lines[0]


# ---------------------------------------------------------------- finding 1: a missing or empty catalogue

@pytest.mark.parametrize("how", ["deleted", "emptied", "replaced-by-new"])
def test_lost_catalogue_is_refused_and_no_file_is_deleted(filled, how):
    before = _user_files(filled)
    db = filled / "generec.sqlite"
    for p in filled.glob("generec.sqlite*"):
        p.unlink()
    if how == "emptied":
        db.write_bytes(b"")
    elif how == "replaced-by-new":  # a valid catalogue with no items, e.g. made by another tool
        tmp = filled.parent / "fresh"
        with Workspace.create(tmp):
            pass
        shutil.copyfile(tmp / "generec.sqlite", db)
    with pytest.raises(WorkspaceError, match="rebuild"):
        Workspace.open(filled)
    line = _one_line_error(_cli("items", str(filled)))
    assert "workspace rebuild" in line
    assert _user_files(filled) == before  # 4 files (2 originals + 2 covers), none gone
    assert len(before) == 4


def test_rebuild_recreates_the_catalogue_from_the_files(filled):
    with Workspace.open(filled) as ws:
        want = sorted((it.sha256, it.kind, it.duration) for it in ws.items())
        ws.add_users(["u1", "u2"])
        (a, _b) = ws.items()
        ws.add_interactions([(1, a.id), (2, a.id)])
        ws.backup()
    before = _user_files(filled)
    for p in filled.glob("generec.sqlite*"):
        p.unlink()
    proc = _cli("workspace", "rebuild", str(filled), "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["originals"] == 2 and out["users"] == 2 and out["interactions"] == 2  # from the backup
    with Workspace.open(filled) as ws:
        assert sorted((it.sha256, it.kind, it.duration) for it in ws.items()) == want
        assert {it.owner for it in ws.items()} == {"ann"}
        assert ws.check_integrity().ok
    assert _user_files(filled) == before
    # a healthy catalogue is not rebuilt unless asked
    assert "healthy" in _one_line_error(_cli("workspace", "rebuild", str(filled)))


# ---------------------------------------------------------------- finding 2: recovery deletes only its own

def test_hand_placed_files_are_quarantined_never_deleted(filled):
    master = filled / "media" / "my-master-copy.mov"
    master.write_bytes(b"the only copy of my film")
    stray_cover = filled / "covers" / "poster.jpg"
    stray_cover.write_bytes(b"jpeg")
    legacy_tmp = filled / "versions" / ".tmp-999999999-abc.mp4"  # a temp name, but in no journal
    legacy_tmp.write_bytes(b"x")
    _age(filled)
    with Workspace.open(filled) as ws:
        rep = ws.last_recovery
        assert rep.removed == []
        assert sorted(rep.quarantined) == ["covers/poster.jpg", "media/my-master-copy.mov",
                                           "versions/.tmp-999999999-abc.mp4"]
        assert ws.check_integrity().ok
    q = filled / rep.quarantine_folder
    assert (q / "media" / "my-master-copy.mov").read_bytes() == b"the only copy of my film"
    assert (q / "covers" / "poster.jpg").read_bytes() == b"jpeg"
    assert "no item in the catalogue referenced" in (q / "README.txt").read_text()


def test_young_strays_are_left_alone(filled):
    fresh = filled / "media" / "copying-right-now.mp4"
    fresh.write_bytes(b"partial")
    with Workspace.open(filled) as ws:
        assert ws.last_recovery.quarantined == [] and fresh.exists()
        assert ws.check_integrity().orphan_files == ["media/copying-right-now.mp4"]


def test_a_symlinked_managed_folder_is_never_followed(filled, tmp_path):
    other_disk = tmp_path / "other-disk"
    other_disk.mkdir()
    (other_disk / "holiday.mp4").write_bytes(b"not ours")
    shutil.rmtree(filled / "versions")
    (filled / "versions").symlink_to(other_disk, target_is_directory=True)
    link_in_media = filled / "media" / "linked.mp4"
    outside = tmp_path / "outside.mp4"
    outside.write_bytes(b"outside")
    link_in_media.symlink_to(outside)
    _age(filled)
    with Workspace.open(filled) as ws:
        rep = ws.last_recovery
        assert rep.removed == []
        assert "media/linked.mp4" in rep.quarantined  # the link is moved as a link
        assert any(x.startswith("versions/holiday.mp4") for x in rep.left)
    assert (other_disk / "holiday.mp4").read_bytes() == b"not ours"
    assert outside.read_bytes() == b"outside"
    assert (filled / rep.quarantine_folder / "media" / "linked.mp4").is_symlink()


_CRASH = textwrap.dedent("""
    import os, shutil, sys
    from generec_desktop.corpus import Workspace
    from generec_desktop.corpus import files
    ws = Workspace.open(sys.argv[1])
    where = sys.argv[3]
    if where == "rename":        # renamed into versions/, row not committed
        files.fsync_dir = lambda p: os._exit(9)
        ws.add_version(sys.argv[2], kind="ai_created")
    elif where == "import":      # an original renamed into media/, row not committed
        files.fsync_dir = lambda p: os._exit(9)
        ws.import_media(sys.argv[2])
    elif where == "pending":     # an export's staged file in pending/<id>/
        from generec_desktop.fidelity.export import create_pending
        from generec_desktop.safefiles import temp_path
        pv = create_pending(ws, sys.argv[2], operation="style", parent_id=1)
        stage = temp_path(pv.folder, ".mp4")
        shutil.copyfile(sys.argv[2], stage)
        os._exit(9)
""")


@pytest.mark.parametrize("where", ["rename", "import", "pending"])
def test_a_crashed_process_leftovers_are_removed_at_open(filled, tmp_path, bikes, where):
    """A real process dies mid-write (os._exit); the next open removes exactly what it journaled."""
    src = bikes
    if where == "import":  # a file not imported yet
        src = tmp_path / "new.mp4"
        from mediagen import make_video

        make_video(src, n_frames=25)
    before = _user_files(filled)
    script = tmp_path / "crash.py"
    script.write_text(_CRASH)
    proc = subprocess.run([sys.executable, str(script), str(filled), str(src), where], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 9, proc.stderr
    leftovers = set(_user_files(filled)) - set(before)
    pending_tmp = list((filled / "pending").rglob(".tmp-*")) if where == "pending" else []
    assert leftovers or pending_tmp  # the crash did leave something
    with Workspace.open(filled) as ws:
        rep = ws.last_recovery
        assert rep.quarantined == []
        assert _user_files(filled) == before
        assert list((filled / "pending").rglob(".tmp-*")) == []
        assert ws.check_integrity().ok, ws.check_integrity().summary()
        assert len(ws.items()) == 2


def test_live_process_files_are_kept(ws):
    live = ws.temp_file(".mp4")  # journaled by this (live) process
    live.write_bytes(b"y")
    rep = ws.recover(grace_s=0)
    assert live.exists() and rep.removed == [] and rep.quarantined == []


# ---------------------------------------------------------------- finding 3: a damaged catalogue

@pytest.mark.parametrize("damage", ["garbage", "truncated", "not-sqlite"])
def test_damaged_catalogue_is_refused_before_anything_is_written(filled, damage):
    db = filled / "generec.sqlite"
    data = bytearray(db.read_bytes())
    assert len(data) > 16384
    if damage == "garbage":
        data[4096:4096 + 8192] = os.urandom(8192)
    elif damage == "truncated":
        data = data[: len(data) // 2 + 100]
    else:
        data[:16] = b"NOT A DATABASE!!"
    db.write_bytes(bytes(data))
    damaged = db.read_bytes()
    before = _user_files(filled)
    with pytest.raises(WorkspaceError, match=r"damaged|not an SQLite"):
        Workspace.open(filled)
    for cmd in (["items", str(filled)], ["profiles", "list", str(filled)]):
        _one_line_error(_cli(*cmd))
    assert db.read_bytes() == damaged  # nothing wrote into it
    assert _user_files(filled) == before


# ---------------------------------------------------------------- finding 4: faults as one line

def test_read_only_workspace_lists_and_checks_but_refuses_writes(filled, bunny):
    from generec_desktop.corpus.workspace import WorkspaceReadOnlyError

    with Workspace(filled, read_only=True) as ws:
        assert len(ws.items()) == 2 and ws.check_integrity().ok
        with pytest.raises(WorkspaceReadOnlyError, match="read-only"):
            ws.add_users(["x"])
        with pytest.raises(WorkspaceReadOnlyError):
            ws.import_media(bunny)


def _can_mount() -> str | None:
    if os.geteuid() != 0:
        return "needs root to mount a read-only or tiny tmpfs"
    probe = Path("/tmp") / f"generec-mount-probe-{os.getpid()}"
    probe.mkdir(exist_ok=True)
    try:
        ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(probe)],
                            capture_output=True).returncode == 0
        if ok:
            subprocess.run(["umount", str(probe)], check=False)
        return None if ok else "mount is not permitted in this sandbox"
    finally:
        probe.rmdir()


@pytest.fixture
def mountpoint(tmp_path):
    why = _can_mount()
    if why:
        pytest.skip(f"real read-only / full-disk runs need a tmpfs mount: {why} (the mocked tests still run)")
    mp = tmp_path / "mnt"
    mp.mkdir()
    yield mp
    subprocess.run(["umount", "-l", str(mp)], check=False)


def test_read_only_mount_real(filled, mountpoint, tmp_path):
    likes = tmp_path / "likes.csv"
    likes.write_text("user_id,item_id\nu1,1\n")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mountpoint)], check=True)
    shutil.copytree(filled, mountpoint / "W", symlinks=True)
    subprocess.run(["mount", "-o", "remount,ro", str(mountpoint)], check=True)
    w = str(mountpoint / "W")
    proc = _cli("items", w)
    assert proc.returncode == 0 and "human" in proc.stdout, proc.stderr
    proc = _cli("workspace", "check", w)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "read-only" in _one_line_error(_cli("profiles", "import", w, str(likes)))
    assert "read-only" in _one_line_error(_cli("workspace", "repair", w))


def test_full_disk_during_import_is_one_line_and_leaves_nothing(tmp_path, mountpoint, bunny):
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=640k", "tmpfs", str(mountpoint)], check=True)
    w = mountpoint / "W"
    with Workspace.create(w):
        pass
    assert bunny.stat().st_size > 1_000_000
    line = _one_line_error(_cli("import", str(w), str(bunny)))
    assert "disk is full" in line
    with Workspace.open(w) as ws:
        assert ws.items() == [] and ws.check_integrity().ok
    assert [p for p in (w / "media").rglob("*") if p.is_file()] == []


def test_mocked_enospc_at_the_write_layer(ws, bikes, monkeypatch, capsys):
    import errno

    from generec_desktop.cli_support import run_command
    from generec_desktop.corpus import files

    real = files.copy_hashing

    def full(src, dst, cancel, progress=None):
        real(src, dst, cancel, progress)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files, "copy_hashing", full)

    class Args:
        json = False

        def func(self, args):
            ws.import_media(bikes)

    assert run_command(Args()) == 2
    err = capsys.readouterr().err
    assert "disk is full" in err and "Traceback" not in err
    assert ws.items() == [] and [p for p in ws.media_dir.rglob("*") if p.is_file()] == []


def test_locked_database_waits_then_says_so(filled, tmp_path):
    from mediagen import make_video

    new = make_video(tmp_path / "new.mp4", n_frames=10)
    blocker = sqlite3.connect(filled / "generec.sqlite", timeout=1)
    blocker.isolation_level = None
    blocker.execute("BEGIN IMMEDIATE")
    try:
        listing = _cli("items", str(filled))  # readers are never blocked (WAL)
        assert listing.returncode == 0 and "human" in listing.stdout, listing.stderr
        t = time.monotonic()
        proc = _cli("import", str(filled), str(new))
        line = _one_line_error(proc)
        assert "locked" in line and time.monotonic() - t >= 2
        assert "Waiting for another program" in proc.stderr
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


# ---------------------------------------------------------------- finding 6: containment

@pytest.mark.parametrize("path", ["../outside.mp4", "/etc/hostname", "media/../../outside.mp4", "cache/x.mp4"])
def test_catalogue_paths_outside_the_workspace_are_refused(filled, path):
    (filled.parent / "outside.mp4").write_bytes(b"secret")
    with Workspace.open(filled) as ws:
        ws._execute(f"UPDATE items SET stored_path = '{path}' WHERE id = 1")
        with pytest.raises(CorpusError, match="outside the workspace"):
            ws.media_path(1)
        assert ws.check_integrity().unsafe_paths == [path]
    line = _one_line_error(_cli("personalize", str(filled), "1", "--profiles", "segment:0",
                                "--out", str(filled.parent / "out")))
    assert "outside the workspace" in line or "no audience" in line.lower() or "profile" in line.lower()


def test_a_symlink_replacing_an_original_is_refused_and_quarantined(filled, tmp_path):
    with Workspace.open(filled) as ws:
        path = ws.media_path(1)
    outside = tmp_path / "outside.mp4"
    outside.write_bytes(b"secret")
    os.chmod(path, 0o644)
    path.unlink()
    path.symlink_to(outside)
    with Workspace(filled, read_only=True) as ws, pytest.raises(CorpusError, match="symbolic link"):
        ws.media_path(1)  # read-only: no recovery ran, the link is still there and is not followed
    with Workspace.open(filled) as ws:
        assert ws.last_recovery.quarantined == [path.relative_to(filled).as_posix()]
        assert ws.check_integrity().missing_files == [path.relative_to(filled).as_posix()]
    assert outside.read_bytes() == b"secret"


# ---------------------------------------------------------------- finding 8: smaller ones

@pytest.mark.parametrize("version", ['"two"', "1.5", "true", "null"])
def test_bad_workspace_version_is_one_clear_line(filled, version):
    meta = filled / "workspace.json"
    meta.write_text(meta.read_text().replace('"version": 1', f'"version": {version}'))
    with pytest.raises(WorkspaceError, match="not a whole number"):
        Workspace.open(filled)


def test_nul_and_control_characters_in_ids_are_refused(ws):
    with pytest.raises(CorpusError, match="control character"):
        ws.add_users(["ann\x00bob"])
    with pytest.raises(CorpusError, match="control character"):
        ws.add_interactions([{"user_external_id": "a\x00", "item_id": 1}])
    assert ws.users() == []


def test_wal_is_checkpointed_at_close(filled):
    with Workspace.open(filled) as ws:
        ws.add_users(["a", "b"])
    wal = filled / "generec.sqlite-wal"
    assert not wal.exists() or wal.stat().st_size == 0


def test_backup_is_a_consistent_copy(filled):
    with Workspace.open(filled) as ws:
        dest = ws.backup()
    with sqlite3.connect(dest) as conn:
        assert conn.execute("SELECT count(*) FROM items").fetchone()[0] == 2
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# ---------------------------------------------------------------- migrations back up first; damage on the item

def test_an_older_catalogue_is_backed_up_before_it_is_migrated(tmp_path, bunny):
    from generec_desktop.corpus import migrations
    from generec_desktop.corpus.database import make_engine

    root = tmp_path / "old"
    root.mkdir()
    (root / "workspace.json").write_text(json.dumps({"format": "generec-workspace", "version": 1}))
    engine = make_engine(f"sqlite:///{root / 'generec.sqlite'}")
    migrations.migrate(engine, migrations.MIGRATIONS[:2])  # a workspace made before migration 3
    engine.dispose()
    with Workspace.open(root) as ws:
        assert ws.schema_version() == migrations.latest_version()
        item = ws.import_media(bunny).items[0]
        assert item.warnings == ()
    (backup,) = (root / "backups").glob("*.sqlite")
    with sqlite3.connect(backup) as conn:
        assert conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] == 2


def test_a_damaged_file_carries_its_repairs_on_the_item(ws, tmp_path):
    from mediacorpus import CASES

    case = next(c for c in CASES if c.name == "ts-concatenated")
    src = case.make(tmp_path)
    item = ws.import_media(src).items[0]
    assert item.warnings and any("timestamps" in w for w in item.warnings)
    assert ws.item(item.id).warnings == item.warnings


def test_rebuild_survives_garbled_rows_salvaged_from_a_damaged_catalogue(filled, monkeypatch):
    """A damaged page can repeat, garble or mistype rows; the rebuild keeps what is clean and never fails."""
    from generec_desktop.corpus import rebuild

    with Workspace.open(filled) as ws:
        items = ws.items()
    garbled = {
        "items": [{"id": it.id, "sha256": it.sha256, "title": b"\xff\x00", "owner": "ann\x00x",
                   "external_id": "same"} for it in items],
        "users": [{"id": 1, "external_id": "u1", "name": "Ann"}, {"id": 2, "external_id": "u1", "name": "dup"},
                  {"id": 3, "external_id": b"\x00\x01", "name": None}, {"id": 4, "external_id": "u4\x00"}],
        "interactions": [{"user_id": 1, "item_id": items[0].id, "timestamp": "garbage", "weight": "nan"},
                         {"user_id": 1, "item_id": items[1].id, "timestamp": None, "weight": b"\x00"}],
    }
    monkeypatch.setattr(rebuild, "_salvage", lambda db: garbled)
    for p in filled.glob("generec.sqlite*"):
        p.unlink()
    result = rebuild.rebuild_catalogue(filled)
    assert (result.originals, result.users, result.interactions) == (2, 1, 2)
    with Workspace.open(filled) as ws:
        assert [u.external_id for u in ws.users()] == ["u1"]
        assert sorted(it.external_id or "" for it in ws.items()) == ["", "same"]  # unique: the first keeps it
        assert all(i.weight == 1.0 for i in ws.interactions()) and ws.check_integrity().ok


def test_rebuild_salvages_past_text_that_is_not_utf8(filled):
    """A damaged page can leave bytes that are not UTF-8 in a text column: the salvage reads past them."""
    from generec_desktop.corpus.rebuild import rebuild_catalogue

    with Workspace.open(filled) as ws:
        ws.add_users(["u1"])
        ws._execute("UPDATE items SET title = CAST(X'E1FF41' AS TEXT) WHERE id = 1")
    result = rebuild_catalogue(filled, force=True)
    assert result.originals == 2 and result.users == 1
    with Workspace.open(filled) as ws:
        assert len(ws.items()) == 2 and ws.check_integrity().ok
