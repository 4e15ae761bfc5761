"""probe / read_cover / errors / the ``generec probe`` command, on real and generated media."""

from __future__ import annotations

import json

import numpy as np
import pytest
from mediagen import VFR_PTS_MS, read_barcode

from generec_desktop.cli import main
from generec_desktop.media import MediaError, decode_range, probe, read_cover, sample_frames


def test_probe_bigbuckbunny(bbb):
    info = probe(bbb)
    assert (info.frame_count, info.width, info.height, info.rotation) == (132, 1280, 720, 0)
    assert info.fps == pytest.approx(25.0) and info.duration == pytest.approx(5.28)
    assert not info.variable_frame_rate
    assert info.video_codec == "h264" and info.pixel_format == "yuv420p"
    assert info.has_audio and info.audio_codec == "aac" and info.audio_sample_rate == 48000
    assert info.audio_channels == 6 and info.audio_duration == pytest.approx(5.312)
    assert not info.has_cover and read_cover(bbb) is None
    assert info.metadata["major_brand"] == "isom"


def test_probe_bikes_has_no_audio(bikes):
    info = probe(bikes)
    assert (info.frame_count, info.width, info.height) == (250, 640, 272)
    assert info.duration == pytest.approx(10.0)
    assert not info.has_audio and info.audio_codec is None and info.audio_duration is None


def test_probe_variable_frame_rate(vfr_video):
    info = probe(vfr_video)
    assert info.frame_count == len(VFR_PTS_MS)
    assert info.variable_frame_rate
    # Duration: first frame to the end of the last (the last lasts one nominal 1/25 s).
    assert info.duration == pytest.approx(0.740, abs=1e-3)
    assert info.fps == pytest.approx(len(VFR_PTS_MS) / info.duration)


def test_probe_and_decode_rotated(rotated_video):
    info = probe(rotated_video)
    assert info.rotation == 90
    assert (info.coded_width, info.coded_height) == (160, 96)
    assert (info.width, info.height) == (96, 160)
    frames = decode_range(rotated_video, 0.0, None)
    assert [f.image.shape for f in frames] == [(160, 96, 3)] * 8
    # Turning the displayed picture back by 90° counter-clockwise gives the coded picture.
    assert [read_barcode(np.rot90(f.image, k=1)) for f in frames] == list(range(8))


def test_probe_odd_size_and_one_frame(odd_video, one_frame_video):
    info = probe(odd_video)
    assert (info.width, info.height, info.frame_count) == (321, 241, 6)
    one = probe(one_frame_video)
    assert one.frame_count == 1 and one.duration == pytest.approx(0.04)
    frames = sample_frames(one_frame_video, rate=2.0)
    assert [(f.index, f.timestamp) for f in frames] == [(0, 0.0)]
    assert read_barcode(frames[0].image) == 0


def test_read_cover(cover_video):
    path, cover = cover_video
    info = probe(path)
    assert info.has_cover and info.frame_count == 1  # the cover is not counted as a frame
    got = read_cover(path)
    assert got is not None and got.shape == cover.shape
    assert np.abs(got.astype(int) - cover.astype(int)).mean() < 6


@pytest.mark.parametrize("kind", ["zero_bytes", "text", "audio_only", "truncated_moov_at_end", "missing"])
def test_bad_files_raise_media_error(bad_files, kind):
    path = bad_files[kind]
    before = path.read_bytes() if path.exists() else None
    with pytest.raises(MediaError) as err:
        probe(path)
    message = str(err.value)
    assert path.name in message and message.endswith(".")
    with pytest.raises(MediaError):
        sample_frames(path, rate=1.0)
    if before is not None:
        assert path.read_bytes() == before  # never modified


def test_truncated_with_index_at_start_is_usable_and_reported(bad_files):
    """Cut short after its index (moov first): what is there decodes, as in every player (issue 15)."""
    path = bad_files["truncated_moov_at_start"]
    info = probe(path)
    assert 0 < info.frame_count < 100 and info.damaged
    assert any(w.startswith("truncated at t = ") and "the header lists 100 frames" in w for w in info.warnings)
    frames = sample_frames(path, rate=5.0)
    # each frame is the one shown at its timestamp (frames lost at the cut leave a gap, not a shift)
    assert frames and [read_barcode(f.image) for f in frames] == [round(f.timestamp * 25) for f in frames]


def test_cli_probe_json_and_text(bbb, bad_files, capsys):
    assert main(["probe", str(bbb), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["frame_count"] == 132 and data["has_audio"] is True and data["rotation"] == 0
    assert main(["probe", str(bbb)]) == 0
    assert "132 in 5.280 s at 25.000 fps" in capsys.readouterr().out
    assert main(["probe", str(bad_files["text"])]) == 2
    assert "not a readable video file" in capsys.readouterr().err


def test_cli_probe_reports_damage_and_symlink_loops(bad_files, tmp_path, capsys):
    """``generec probe`` shows the repairs (text and ``--json``) and refuses a loop of links in one line."""
    path = bad_files["truncated_moov_at_start"]
    assert main(["probe", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert any(w.startswith("truncated at t = ") for w in data["warnings"])
    assert main(["probe", str(path)]) == 0
    assert "  damaged: truncated at t = " in capsys.readouterr().out
    loop = tmp_path / "loop.mp4"
    loop.symlink_to(tmp_path / "loop2.mp4")
    (tmp_path / "loop2.mp4").symlink_to(loop)
    assert main(["probe", str(loop)]) == 2
    err = capsys.readouterr().err
    assert "loop.mp4" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
