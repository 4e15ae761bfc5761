"""The corpus side of a version (corpus/versions.py: add_version, the atomic export primitive), a crash
between its rename and commit, and the CLI commands."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from generec_desktop.corpus import CorpusError, VerificationError, Workspace


def _version_files(ws) -> list[str]:
    return sorted(p.name for p in ws.versions_dir.iterdir())


def test_add_version_moves_temp_file_and_records_lineage(ws, bunny, bikes):
    parent = ws.import_media(bunny).items[0]
    tmp = ws.temp_file(".mp4")
    shutil.copyfile(bikes, tmp)
    seen = []
    cover = np.full((90, 160, 3), 200, np.uint8)
    v = ws.add_version(tmp, kind="ai_edited", parent_id=parent.id, operation="style",
                       target_profile="segment-3", generator="editor.style:v1", params={"style": "warm"},
                       fidelity={"ok": True}, watermark_payload="abcd", author="alice",
                       verify=lambda p: seen.append(p.read_bytes()[:16]) or True, cover=cover)
    assert not tmp.exists() and len(seen) == 1
    assert v.kind == "ai_edited" and v.parent_id == parent.id and v.params == {"style": "warm"}
    assert v.stored_path.startswith("versions/") and ws.media_path(v).read_bytes() == bikes.read_bytes()
    assert ws.cover_path(v).is_file() and ws.cover_path(v) != ws.cover_path(parent)
    (edge,) = ws.lineage(v.id)
    assert (edge.parent_id, edge.operation, edge.params) == (parent.id, "style", {"style": "warm"})
    assert ws.items("ai_edited") == [v]
    rep = ws.check_integrity()
    assert rep.ok, rep.summary()


def test_add_version_from_outside_copies_and_leaves_source(ws, bikes):
    v = ws.add_version(bikes, kind="ai_created", generator="creator:mcvd")
    assert bikes.exists() and ws.media_path(v).is_file() and v.parent_id is None
    assert ws.lineage(v.id) == [] and ws.check_integrity().ok


@pytest.mark.parametrize("how", ["returns_false", "raises"])
def test_rejected_verification_adds_nothing(ws, bunny, bikes, how):
    parent = ws.import_media(bunny).items[0]
    tmp = ws.temp_file(".mp4")
    shutil.copyfile(bikes, tmp)

    def verify(path):
        if how == "raises":
            raise VerificationError("face of a bystander found")
        return False

    with pytest.raises(VerificationError):
        ws.add_version(tmp, kind="ai_edited", parent_id=parent.id, verify=verify)
    assert not tmp.exists() and _version_files(ws) == []
    assert ws.items() == [parent] and ws.check_integrity().ok


def test_bad_version_arguments(ws, bikes, tmp_path):
    with pytest.raises(CorpusError, match="parent_id"):
        ws.add_version(bikes, kind="ai_edited")
    with pytest.raises(CorpusError, match="no item 99"):
        ws.add_version(bikes, kind="ai_edited", parent_id=99)
    with pytest.raises(CorpusError, match="kind"):
        ws.add_version(bikes, kind="remix")
    with pytest.raises(CorpusError, match="does not exist"):
        ws.add_version(tmp_path / "nope.mp4", kind="ai_created")
    assert ws.items() == [] and _version_files(ws) == []


def test_crash_between_rename_and_commit_is_undone_at_open(ws, bikes, monkeypatch):
    """Simulate a hard crash: the file is renamed in, then the process dies before the commit. While
    this (live) process owns the journal, nothing is touched; once it is gone, its files are removed."""
    from generec_desktop import safefiles
    from generec_desktop.corpus import files

    class Crash(BaseException):
        pass

    def crash(path):
        raise Crash()

    real_unlink = files.unlink
    monkeypatch.setattr(files, "fsync_dir", crash)
    monkeypatch.setattr(files, "unlink", lambda p: None)  # a dead process cleans nothing up
    with pytest.raises(Crash):
        ws.add_version(bikes, kind="ai_created")
    monkeypatch.setattr(files, "unlink", real_unlink)
    monkeypatch.undo()
    assert ws.items() == []
    left = _version_files(ws)
    assert len(left) == 1 and not left[0].startswith(".tmp")  # the renamed file, no row
    sha = left[0].split(".")[0]
    rep = ws.recover(grace_s=0)
    assert rep.removed == [] and rep.quarantined == []  # journaled by a live process: a commit in flight
    # the process "dies": what it journaled is now a dead owner's (a copy under a dead pid's name)
    (journal,) = (ws.root / safefiles.JOURNAL_DIR).glob("*.log")
    shutil.copyfile(journal, journal.with_name(f"{safefiles._host()}-999999999-1.log"))
    ws.close()
    with Workspace.open(ws.root) as again:
        assert sorted(again.last_recovery.removed) == [f"covers/{sha}.jpg", f"versions/{left[0]}"]
        assert _version_files(again) == [] and not (again.root / f"covers/{sha}.jpg").exists()
        assert again.check_integrity().ok


def test_cli_import_and_items(tmp_path, bunny, capsys):
    from generec_desktop.cli import main

    w = tmp_path / "cli-ws"
    assert main(["import", str(w), str(bunny), "--owner", "bob", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["files"][0]["new"] is True and out["files"][0]["item"]["owner"] == "bob"
    assert main(["import", str(w), str(bunny)]) == 0
    assert "already there" in capsys.readouterr().out
    assert main(["items", str(w), "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert [i["kind"] for i in items] == ["human"] and items[0]["width"] == 1280
    assert main(["items", str(w), "--kind", "ai_edited"]) == 0
    assert "No items" in capsys.readouterr().out
    assert main(["import", str(w), str(tmp_path / "missing.mp4")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("generec: error:") and "missing.mp4 does not exist" in err
    assert main(["items", str(tmp_path / "nowhere")]) == 2
    # a failed import into a new folder leaves no empty workspace behind; an existing one is kept
    fresh = tmp_path / "never-made"
    assert main(["import", str(fresh), str(tmp_path / "missing.mp4")]) == 2
    assert not fresh.exists()
    assert w.exists() and main(["items", str(w)]) == 0


def test_duplicate_external_id_and_cancel_add_nothing(ws, bikes):
    from generec_desktop.jobs import Cancelled, CancelToken

    first = ws.add_version(bikes, kind="ai_created", external_id="platform-42")
    before = _version_files(ws)
    with pytest.raises(CorpusError, match="platform-42"):
        ws.add_version(bikes, kind="ai_created", external_id="platform-42", cover=np.zeros((8, 8, 3), np.uint8))
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        ws.add_version(bikes, kind="ai_created", cancel=token)
    assert ws.items() == [first] and _version_files(ws) == before
    rep = ws.check_integrity()
    assert rep.ok, rep.summary()
