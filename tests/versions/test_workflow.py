"""The version workflow in the core (issue 14): every flow headless, the same functions the tabs call."""

from __future__ import annotations

import json
from pathlib import Path

import mediagen
import pytest

from generec_desktop.cli import main


@pytest.fixture
def ws_root(tmp_path: Path) -> Path:
    from generec_desktop import media
    from generec_desktop.corpus import Workspace

    clip = tmp_path / "clip.mp4"
    media.encode_frames(mediagen.photo_frames(20, 320, 240), clip, fps=25)
    root = tmp_path / "W"
    with Workspace.create(root) as ws:
        ws.import_media(clip, owner="ann", licence="CC-BY-4.0")
    return root


def _json(capsys: pytest.CaptureFixture[str], argv: list[str], code: int = 0) -> object:
    assert main([*argv, "--json"]) == code
    return json.loads(capsys.readouterr().out)


def test_headless_style_check_export(ws_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """generec style --version → versions → check → export → items: one more item, watermarked, with provenance."""
    w = str(ws_root)
    made = _json(capsys, ["style", w, "1", "--style", "toon", "--version", "--audience", "segment:0"])
    vid = made["version"]
    listed = _json(capsys, ["versions", w])
    assert [v["id"] for v in listed] == [vid] and listed[0]["operation"] == "style"
    assert listed[0]["target_profile"] == "segment:0"
    check = _json(capsys, ["check", w, vid])
    assert check["status"] in ("pass", "warn"), check
    exported = _json(capsys, ["export", w, vid])
    new_id = exported["item"]["id"]
    items = _json(capsys, ["items", w])
    assert [i["kind"] for i in items] == ["human", "ai_edited"] and items[1]["id"] == new_id
    assert items[1]["watermark_payload"] and items[1]["parent_id"] == 1
    assert main(["provenance", "verify", str(ws_root / items[1]["stored_path"])]) == 0
    capsys.readouterr()
    # a second export of the same version is refused with one line
    assert main(["export", w, vid]) == 2
    assert "already exported" in capsys.readouterr().err


def test_headless_flow_on_a_new_workspace_all_from_the_cli(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """The closing-note flow end to end, every step a `generec` command (issue 14 "Must show").

    `workspace create` → `import` (a photo video with sound) → `style --version` → `versions` → `check` →
    `export` → `items` (one more item, with sound) → `watermark detect` finds the payload the catalogue
    recorded → `provenance verify` matches sha256, embedded manifest and watermark; the version is listed
    as exported and a second export is refused.
    """
    src = mediagen.make_video(tmp_path / "photos.mp4", frames=mediagen.photo_frames(75, 640, 360),
                              audio=True)
    w = str(tmp_path / "W")
    assert main(["workspace", "create", w]) == 0
    assert main(["import", w, str(src)]) == 0
    capsys.readouterr()
    before = _json(capsys, ["items", w])
    assert [i["kind"] for i in before] == ["human"] and before[0]["has_audio"]
    made = _json(capsys, ["style", w, str(before[0]["id"]), "--style", "toon", "--version"])
    vid = made["version"]
    assert [(v["id"], v["operation"]) for v in _json(capsys, ["versions", w])] == [(vid, "style")]
    assert _json(capsys, ["check", w, vid])["status"] in ("pass", "warn")
    exported = _json(capsys, ["export", w, vid])
    after = _json(capsys, ["items", w])
    assert len(after) == len(before) + 1
    new = after[-1]
    assert new["id"] == exported["item"]["id"] and new["kind"] == "ai_edited"
    assert new["parent_id"] == before[0]["id"] and new["has_audio"]
    stored = str(tmp_path / "W" / new["stored_path"])
    mark = _json(capsys, ["watermark", "detect", stored, "--workspace", w])
    assert mark["found"] and mark["payload_hex"] == new["watermark_payload"], (mark, new["watermark_payload"])
    proof = _json(capsys, ["provenance", "verify", stored, "--workspace", w])
    assert proof["ok"] and proof["checks"] == {"sha256": True, "embedded": True, "watermark": True}, proof
    assert proof["sha256"] == new["sha256"]
    listed = _json(capsys, ["versions", w])
    assert listed[0]["id"] == vid and listed[0]["exported_item_id"] == new["id"], listed
    assert main(["export", w, vid]) == 2
    assert "already exported" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["items", "versions", "check", "export"])
def test_any_cli_command_finishes_an_export_that_crashed_after_its_commit(
        ws_root: Path, capsys: pytest.CaptureFixture[str], command: str) -> None:
    """Deliver 1: opening a workspace runs the version recovery. A crash between the export's commit and
    its sidecar leaves an item without W/provenance/<file>.provenance.json and a pending folder without
    exported.json; the next `generec items|versions|check|export` rewrites both (was: only the window and
    `generec workspace repair` did)."""
    w = str(ws_root)
    vid = _json(capsys, ["style", w, "1", "--style", "toon", "--version"])["version"]
    item = _json(capsys, ["export", w, vid])["item"]
    sidecar = ws_root / "provenance" / (Path(item["stored_path"]).name + ".provenance.json")
    marker = ws_root / "pending" / vid / "exported.json"
    kept = sidecar.read_bytes()
    sidecar.unlink()
    marker.unlink()  # the state a crash right after the commit leaves
    argv = {"items": ["items", w], "versions": ["versions", w], "check": ["check", w, vid],
            "export": ["export", w, vid]}[command]
    main(argv)
    capsys.readouterr()
    assert sidecar.is_file() and marker.is_file()
    assert json.loads(sidecar.read_bytes()) == json.loads(kept)
    assert json.loads(marker.read_text())["item_id"] == item["id"]


def test_discard_and_restore(ws_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from generec_desktop.versions import open_workspace, thumbnail_version

    with open_workspace(ws_root) as ws:
        pv = thumbnail_version(ws, 1, mediagen.photo_frames(1, 64, 48)[0], timestamp=0.2, target_profile="user:3")
    assert pv.media.suffix == ".png" and pv.operation == "thumbnail"
    _json(capsys, ["discard", str(ws_root), pv.id])
    assert _json(capsys, ["versions", str(ws_root)]) == []
    _json(capsys, ["restore", str(ws_root), pv.id])
    assert [v["id"] for v in _json(capsys, ["versions", str(ws_root)])] == [pv.id]
    assert main(["restore", str(ws_root), pv.id]) == 2  # nothing left in the trash
    assert "no discarded version" in capsys.readouterr().err


def test_a_failed_or_cancelled_operation_leaves_no_version_and_no_file(ws_root: Path) -> None:
    from generec_desktop.jobs import Cancelled, CancelToken
    from generec_desktop.versions import clip_version, make_version, open_workspace

    with open_workspace(ws_root) as ws:
        def broken(out: Path) -> None:
            out.write_bytes(b"half")
            raise RuntimeError("the editor failed")

        with pytest.raises(RuntimeError):
            make_version(ws, "style", broken, parent_id=1)
        token = CancelToken()
        token.cancel()
        with pytest.raises(Cancelled):
            clip_version(ws, 1, 0.0, 0.4, cancel=token)
        from generec_desktop.fidelity.export import list_pending

        assert list_pending(ws) == []
        assert [p for p in ws.cache_dir.rglob("*") if p.is_file() and ".tmp-" in str(p)] == []
        assert ws.check_integrity().ok


def test_clip_version_is_frame_exact_with_its_offset(ws_root: Path) -> None:
    from generec_desktop import media
    from generec_desktop.versions import clip_version, open_workspace

    with open_workspace(ws_root) as ws:
        pv = clip_version(ws, 1, 0.2, 0.6, target_profile="segment:1", label="Segment 2")
    info = media.probe(pv.media)
    assert info.frame_count == 10 and pv.time_offset == pytest.approx(0.2)
    assert pv.title == "Clip of #1 for Segment 2 (0.20–0.60 s)"


def test_an_export_from_a_damaged_source_says_so_in_its_provenance(tmp_path: Path) -> None:
    """Issue 15: outputs made from a damaged source say so in their provenance."""
    from mediacorpus import CASES

    from generec_desktop.fidelity.export import run_export
    from generec_desktop.versions import open_workspace, style_version

    src = next(c for c in CASES if c.name == "ts-concatenated").make(tmp_path)
    with open_workspace(tmp_path / "W", create=True) as ws:
        item = ws.import_media(src).items[0]
        assert item.warnings
        pv = style_version(ws, item.id, "noir")
        res = run_export(ws, pv.id, rank=False, override_reason="test clip")
        damage = res.manifest["source_damage"]
        assert any(d.startswith("source: ") and "timestamps" in d for d in damage)
        assert json.loads(res.sidecar.read_text())["source_damage"] == damage
