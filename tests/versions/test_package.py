"""Per-audience upload package (issue 16 part 6): the audience's clip rendered, its image, a summary; atomic."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from generec_desktop.jobs import Cancelled, CancelToken

KEY = "package-test-key"


@pytest.fixture
def demo_copy(small_demo: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "demo"
    shutil.copytree(small_demo, dst)
    return dst


def _sha(path: Path) -> str:
    from generec_desktop.safefiles import file_sha256

    return file_sha256(path)


def test_package_holds_the_audience_clip_thumbnail_and_summary(small_demo, tmp_path):
    from PIL import Image

    from generec_desktop import media
    from generec_desktop.corpus import Workspace
    from generec_desktop.editor.personalize.pipeline import personalize
    from generec_desktop.fidelity import watermark as wm
    from generec_desktop.profiles import load_profiles
    from generec_desktop.versions.package import package

    out = tmp_path / "for-segment-1"
    with Workspace.open(small_demo) as ws:
        res = package(ws, "demo-002", "segment:0", out, preset="original", key=KEY)
        chosen = personalize(ws, "demo-002", ["segment:0"], generate=False,
                             encoder=load_profiles(ws).encoder_id).audiences[0]
    assert sorted(p.name for p in out.iterdir()) == ["clip.mp4", "clip.mp4.provenance.json", "summary.json",
                                                     "thumbnail.jpg"]
    assert [p.name for p in tmp_path.iterdir()] == ["for-segment-1"]  # no temporary folder left beside it
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary == json.loads(json.dumps(res.summary, default=str))
    assert summary["item"]["external_id"] == "demo-002"
    assert summary["audience"] == {"id": "segment:0", "label": chosen.label}
    # the clip is the audience's Eq. 2 window, rendered with the preset
    assert (summary["clip"]["start"], summary["clip"]["end"]) == (chosen.clip.start, chosen.clip.end)
    info = media.probe(out / "clip.mp4")
    assert info.duration == pytest.approx(chosen.clip.duration, abs=1.5 / info.fps)
    assert summary["preset"]["name"] == "original" and summary["scores"]["clip_eq2"] == pytest.approx(chosen.clip.score)
    assert summary["scores"]["thumbnail_time"] == pytest.approx(chosen.thumbnail.timestamp)
    for f in summary["files"]:
        assert _sha(out / f["name"]) == f["sha256"] and (out / f["name"]).stat().st_size == f["size"]
    assert {f["role"] for f in summary["files"]} == {"video", "image", "provenance"}
    assert summary["provenance"]["manifest"]["render"]["preset"]["name"] == "original"
    # the thumbnail is the chosen frame at the clip's size, carrying the same watermark as the clip
    thumb = np.asarray(Image.open(out / "thumbnail.jpg").convert("RGB"))
    assert (thumb.shape[1], thumb.shape[0]) == (res.render.width, res.render.height)
    from generec_desktop.fidelity import still_mark as sm

    if sm.too_small(thumb.shape[1], thumb.shape[0]):  # the small demo's 'original' size: the video mark, said so
        assert summary["image"]["watermark"] == "video-v1" and any("480×270" in w for w in res.warnings)
        det = wm.detect_images([thumb], key=KEY, search=False)
    else:
        assert summary["image"]["watermark"] == "still-v1"
        det = sm.detect_still(sm.attack(thumb), key=KEY)  # the still mark: survives JPEG 75 + a 50 % resize
    assert det.found and det.payload == res.render.payload
    assert wm.detect_video(out / "clip.mp4", key=KEY, search=False).payload == res.render.payload
    # both uploads carry signed Content Credentials naming the item's file (the session's data home signed them)
    from generec_desktop.fidelity.credentials import read_credentials

    with Workspace.open(small_demo) as ws:
        item_sha = next(it.sha256 for it in ws.items() if it.external_id == "demo-002")
    for name in ("clip.mp4", "thumbnail.jpg"):
        c = read_credentials(out / name)
        assert c.state in ("trusted", "valid") and not c.tampered, (name, c.failures)
        assert c.ingredients[0]["sha256"] == item_sha and c.audience and c.audience["id"] == "segment:0"
        assert c.watermark_payload == f"{res.render.payload:08x}"


def test_package_never_writes_into_an_existing_folder(small_demo, tmp_path):
    from generec_desktop.corpus import Workspace
    from generec_desktop.versions.package import package
    from generec_desktop.versions.render import RenderError

    out = tmp_path / "taken"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    with Workspace.open(small_demo) as ws, pytest.raises(RenderError, match="exists already"):
        package(ws, "demo-002", "segment:0", out, preset="original", key=KEY)
    assert [p.name for p in out.iterdir()] == ["mine.txt"] and (out / "mine.txt").read_text() == "keep me"


def test_package_uses_the_stored_artwork_and_refuses_a_changed_one(demo_copy, tmp_path):
    from PIL import Image

    from generec_desktop.corpus import Workspace
    from generec_desktop.editor.personalize.pipeline import resolve_item
    from generec_desktop.fidelity import artwork as store
    from generec_desktop.versions.package import package

    art = demo_copy / "artwork" / "ab" / "demo-002-segment-0.jpg"
    art.parent.mkdir(parents=True)
    Image.fromarray(np.full((90, 160, 3), (200, 40, 90), np.uint8)).save(art, quality=90)
    with Workspace.open(demo_copy) as ws:
        item = resolve_item(ws, "demo-002")
        with ws.session() as s:
            s.execute(store.artwork.insert().values(
                item_id=item.id, audience_id="segment:0", audience_label="Segment 1",
                path="artwork/ab/demo-002-segment-0.jpg", sha256=_sha(art), width=160, height=90, format="JPEG",
                score=0.42, source_time=1.0, generator="personalize", created_at=datetime.now(UTC)))
        res = package(ws, item.id, "segment:0", tmp_path / "with-art", preset="original", key=KEY)
        assert res.image_kind == "artwork" and res.image.name == "artwork.jpg"
        assert _sha(res.image) == _sha(art)
        assert res.summary["image"]["stored_path"] == "artwork/ab/demo-002-segment-0.jpg"
        # another audience has none: its personalised frame
        other = package(ws, item.id, "segment:1", tmp_path / "no-art", preset="original", key=KEY)
        assert other.image_kind == "thumbnail"
        # a stored file that no longer matches its hash is not shipped
        art.write_bytes(art.read_bytes() + b"changed")
        changed = package(ws, item.id, "segment:0", tmp_path / "changed", preset="original", key=KEY)
    assert changed.image_kind == "thumbnail" and any("no longer matches" in w for w in changed.warnings)


def test_package_cancel_leaves_nothing(small_demo, tmp_path):
    from generec_desktop.corpus import Workspace
    from generec_desktop.versions.package import package

    token = CancelToken()

    def progress(fraction: float, message: str = "") -> None:
        if message.startswith("Frame 3 of"):
            token.cancel()

    with Workspace.open(small_demo) as ws, pytest.raises(Cancelled):
        package(ws, "demo-002", "segment:0", tmp_path / "p", preset="original", key=KEY, progress=progress,
                cancel=token)
    assert list(tmp_path.iterdir()) == []


def test_cli_package_json(small_demo, tmp_path, capsys):
    from generec_desktop.cli import main

    out = tmp_path / "pkg"
    assert main(["package", str(small_demo), "demo-003", "--audience", "segment:1", "--out", str(out),
                 "--preset", "original", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["folder"] == str(out) and data["audience_id"] == "segment:1" and Path(data["video"]).is_file()
    assert main(["package", str(small_demo), "demo-003", "--audience", "segment:1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "exists already" in err and err.count("\n") == 1
    assert main(["package", str(small_demo), "demo-003", "--audience", "segment:99", "--out",
                 str(tmp_path / "x")]) == 2
    assert capsys.readouterr().err.count("\n") == 1 and not (tmp_path / "x").exists()


def test_a_package_thumbnail_of_platform_size_carries_the_still_mark(small_demo, tmp_path):
    """At a preset's size (1280×720 here) the personalised frame gets the still-image mark, which survives
    JPEG 75 + a 50 % resize (what a platform's re-encode does to a cover)."""
    from PIL import Image

    from generec_desktop.corpus import Workspace
    from generec_desktop.fidelity import still_mark as sm
    from generec_desktop.versions.package import package

    with Workspace.open(small_demo) as ws:
        res = package(ws, "demo-002", "segment:1", tmp_path / "p", preset="landscape-720", key=KEY)
    thumb = np.asarray(Image.open(res.image).convert("RGB"))
    assert thumb.shape[:2] == (720, 1280) and res.summary["image"]["watermark"] == "still-v1"
    det = sm.detect_still(sm.attack(thumb), key=KEY)
    assert det.found and det.payload == res.render.payload
