"""Fixtures of real and generated odd media for the media tests (generators in tests/mediagen.py)."""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

# tests/ holds the shared generators (tests/mediagen.py); it is not a package, so put it on the path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mediagen

VFR_PTS_MS = mediagen.VFR_PTS_MS


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def bbb() -> Path:
    return mediagen.bigbuckbunny()


@pytest.fixture(scope="session")
def bikes() -> Path:
    return mediagen.bikes()


@pytest.fixture(scope="session")
def barcode_video(media_dir: Path) -> Path:
    """100 barcode frames at 25 fps, keyframe every 50, stereo AAC audio of the same length."""
    return mediagen.make_video(media_dir / "barcode.mp4", width=160, height=96, n_frames=100, gop=50,
                               audio=True)


@pytest.fixture(scope="session")
def dense_gop_video(media_dir: Path) -> Path:
    """100 barcode frames at 25 fps with a keyframe every 5 frames (seeking pays)."""
    return mediagen.make_video(media_dir / "dense.mp4", width=160, height=96, n_frames=100, gop=5)


@pytest.fixture(scope="session")
def vfr_video(media_dir: Path) -> Path:
    """10 frames with irregular timestamps (milliseconds in VFR_PTS_MS), with audio."""
    return mediagen.make_video(media_dir / "vfr.mp4", width=96, height=64, pts=VFR_PTS_MS,
                               time_base=Fraction(1, 1000), fps=25, audio=True)


@pytest.fixture(scope="session")
def rotated_video(media_dir: Path) -> Path:
    """A 160x96 coded video with a display matrix saying "turn 90° clockwise" (a phone in portrait)."""
    return mediagen.make_video(media_dir / "rotated.mp4", width=160, height=96, n_frames=8, rotation=-90)


@pytest.fixture(scope="session")
def odd_video(media_dir: Path) -> Path:
    """321x241 (odd sizes need 4:4:4 in H.264), no audio."""
    return mediagen.make_video(media_dir / "odd.mp4", width=321, height=241, n_frames=6, pix_fmt="yuv444p")


@pytest.fixture(scope="session")
def one_frame_video(media_dir: Path) -> Path:
    return mediagen.make_video(media_dir / "one.mp4", width=64, height=48, n_frames=1)


@pytest.fixture(scope="session")
def cover_video(media_dir: Path, one_frame_video: Path) -> tuple[Path, np.ndarray]:
    cover = np.zeros((60, 80, 3), np.uint8)
    cover[:, :40] = (255, 0, 0)
    return mediagen.make_with_cover(one_frame_video, media_dir / "cover.mp4", cover), cover


@pytest.fixture(scope="session")
def bad_files(media_dir: Path, bikes: Path, barcode_video: Path) -> dict[str, Path]:
    """Files that must be refused with MediaError."""
    d = media_dir / "bad"
    d.mkdir()
    return {
        "zero_bytes": mediagen.make_zero_bytes(d / "empty.mp4"),
        "text": mediagen.make_text_mp4(d / "text.mp4"),
        "audio_only": mediagen.make_audio_only(d / "audio.m4a"),
        "truncated_moov_at_end": mediagen.make_truncated(bikes, d / "bikes_half.mp4", 0.5),
        "truncated_moov_at_start": mediagen.make_truncated(
            _faststart(barcode_video, d / "fast.mp4"), d / "fast_half.mp4", 0.6),
        "missing": d / "does_not_exist.mp4",
    }


def _faststart(src: Path, dst: Path) -> Path:
    """``src`` re-encoded by our writer, which puts the index (moov) first."""
    from generec_desktop.media import cut

    cut(src, 0.0, 4.0, dst)
    return dst
