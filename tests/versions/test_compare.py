"""What a version is compared with and what it is called (issue 17 part 4), from the core and the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import mediagen
import pytest

from generec_desktop.cli import main


@pytest.fixture
def ws_root(tmp_path: Path) -> Path:
    from generec_desktop.corpus import Workspace

    clip = mediagen.make_video(tmp_path / "barcodes.mp4", width=160, height=96, n_frames=75, fps=25, audio=True)
    root = tmp_path / "W"
    with Workspace.create(root) as ws:
        ws.import_media([clip], owner="ann", licence="CC-BY-4.0", title="Harbour walk: morning, boats")
    return root


def test_pairs_and_titles_of_clips_and_styles(ws_root: Path) -> None:
    from generec_desktop.corpus import Workspace
    from generec_desktop.versions import clip_version, style_version
    from generec_desktop.versions.compare import compare_pair, result_title

    with Workspace.open(ws_root) as ws:
        item = ws.items()[0]
        clip = clip_version(ws, item.id, 1.0, 2.0, target_profile="segment:1")
        square = clip_version(ws, item.id, 0.4, 1.6, reframe="1:1")
        styled = style_version(ws, item.id, "noir", target_profile="segment:0")
        assert result_title(ws, clip) == "Clip of Harbour walk for Segment 2"
        assert result_title(ws, square) == "Clip of Harbour walk (square 1:1)"
        assert result_title(ws, styled.id) == "Noir style of Harbour walk for Segment 1"
        for pv in (clip, square, styled):
            assert not re.search(r"[0-9a-f]{8}", result_title(ws, pv))  # words, no version ids

        pair = compare_pair(ws, clip.id)
        assert pair.original == ws.media_path(item) and pair.version == clip.media
        assert pair.offset == pytest.approx(1.0)  # the clip's 0 s is the original's 1 s
        assert pair.original_label == "Original: Harbour walk"
        assert pair.version_label == "Clip 1.00–2.00 s"
        assert pair.note == ""
        assert compare_pair(ws, styled).offset == 0.0  # a style runs on the original's clock


def test_cli_compare_prints_the_pair_and_writes_it_side_by_side(ws_root: Path, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from generec_desktop import media
    from generec_desktop.corpus import Workspace
    from generec_desktop.versions import clip_version

    with Workspace.open(ws_root) as ws:
        pv = clip_version(ws, ws.items()[0].id, 1.0, 2.0)
    out = tmp_path / "side.mp4"
    assert main(["compare", str(ws_root), pv.id, "--json", "--out", str(out), "--height", "96"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["offset"] == pytest.approx(1.0) and data["out"] == str(out)
    info = media.probe(out)
    assert info.height == 96 and info.width == 160 + 8 + 160 and info.has_audio
    assert info.frame_count == media.probe(pv.media).frame_count
    # each output frame holds the original's frame and the version's frame of the same moment
    for frame in media.sample_frames(out, timestamps=[0.0, 0.5]):
        left, right = frame.image[:, :160], frame.image[:, 168:]
        assert mediagen.read_barcode(left) == mediagen.read_barcode(right) == round((1.0 + frame.timestamp) * 25)

    # the text form, and a second write is refused in one line, the first file untouched
    before = out.stat().st_mtime_ns
    assert main(["compare", str(ws_root), pv.id]) == 0
    text = capsys.readouterr().out
    assert "Clip of Harbour walk" in text and "original's 1.000 s" in text
    assert main(["compare", str(ws_root), pv.id, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "already exists" in err[0]
    assert out.stat().st_mtime_ns == before
