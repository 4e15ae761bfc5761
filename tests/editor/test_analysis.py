"""The streamed analysis (decoder thread + consumer) gives the same answer as the one-step-at-a-time one."""

from __future__ import annotations

import threading
from pathlib import Path

import mediagen
import numpy as np
import pytest


def _demo_video(small_demo: Path) -> Path:
    from generec_desktop.corpus import Workspace
    from generec_desktop.demo import load_ground_truth

    item = next(iter(load_ground_truth(small_demo).items.values()))
    with Workspace.open(small_demo) as ws:
        return ws.media_path(item.item_id)


def _decoder_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "generec-decode"]


def test_streamed_analysis_equals_the_sequential_steps(small_demo):
    from generec_desktop.editor.analysis import analyze_video, sample_reference_frames
    from generec_desktop.editor.quality import measure_quality
    from generec_desktop.editor.shots import detect_cuts
    from generec_desktop.encoders import get_encoder

    path = _demo_video(small_demo)
    enc = get_encoder("builtin")
    a = analyze_video(path, enc, rate=4.0, batch_size=5)  # batches that do not divide the sample count
    frames = sample_reference_frames(path, 4.0)
    images = [f.image for f in frames]
    times = np.array([f.timestamp for f in frames])
    np.testing.assert_array_equal(a.sample_times, times)
    np.testing.assert_allclose(a.embeddings, enc.encode_images(images), atol=1e-6)
    from generec_desktop.editor.analysis import _with_dissolves
    from generec_desktop.editor.shots import detect_hsv, dissolve_samples

    dissolves = dissolve_samples([detect_hsv(im) for im in images])
    assert a.failed == _with_dissolves(measure_quality(images).failed, dissolves)
    np.testing.assert_array_equal(a.cut_after, detect_cuts(images, times).after)
    assert all(np.array_equal(x, y) for x, y in zip(a.images, images))
    assert not _decoder_threads()


def test_cancel_and_decoder_errors_stop_the_decoder_thread(small_demo, monkeypatch):
    import generec_desktop.editor.analysis as analysis
    from generec_desktop.encoders import get_encoder
    from generec_desktop.jobs import Cancelled, CancelToken
    from generec_desktop.media import MediaError

    path = _demo_video(small_demo)
    enc = get_encoder("builtin")
    token = CancelToken()
    seen = []

    def progress(fraction: float, message: str) -> None:
        seen.append(fraction)
        token.cancel()

    with pytest.raises(Cancelled):
        analysis.analyze_video(path, enc, rate=8.0, batch_size=2, progress=progress, cancel=token)
    assert seen and seen[-1] < 1.0
    assert not _decoder_threads()

    real = analysis._reference_stream

    def broken(*args, **kwargs):  # the decoder fails after a few frames, as a damaged file does
        for k, item in enumerate(real(*args, **kwargs)):
            if k == 4:
                raise MediaError("clip.mp4 is damaged or truncated (test); re-export it.")
            yield item

    monkeypatch.setattr(analysis, "_reference_stream", broken)
    with pytest.raises(MediaError, match="damaged"):
        analysis.analyze_video(path, enc, rate=4.0)
    assert not _decoder_threads()


def test_slice_count_chooses_the_threading(tmp_path):
    import av

    from generec_desktop.editor.analysis import _slices_per_frame

    def slices(path: Path) -> int:
        with av.open(str(path)) as c:
            stream = c.streams.video[0]
            return _slices_per_frame(stream, next(c.demux(stream)))

    one = mediagen.make_video(tmp_path / "one_slice.mp4", width=128, height=96, n_frames=4,
                              options={"slices": "1"})
    four = mediagen.make_video(tmp_path / "four_slices.mp4", width=128, height=96, n_frames=4,
                               options={"slices": "4"})
    assert slices(one) == 1
    assert slices(four) == 4


def _gop_video(tmp_path: Path, n_frames: int = 120, gop: int = 10) -> Path:
    """Frames that change every frame, a keyframe every ``gop`` frames and B-frames between P-frames."""
    return mediagen.make_video(tmp_path / "gops.mp4", width=160, height=96, n_frames=n_frames, fps=25, gop=gop)


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_parallel_runs_of_gops_equal_one_serial_decode(tmp_path, monkeypatch, workers):
    import generec_desktop.editor.analysis as analysis
    from generec_desktop.editor.quality import measure_quality
    from generec_desktop.editor.shots import detect_cuts
    from generec_desktop.encoders import get_encoder
    from generec_desktop.media._index import scan

    path = _gop_video(tmp_path)
    monkeypatch.setattr(analysis, "_workers", lambda: workers)
    monkeypatch.setattr(analysis, "MIN_RUN_FRAMES", 10)
    assert len(analysis._parts(scan(path), workers)) == workers
    enc = get_encoder("builtin")
    a = analysis.analyze_video(path, enc, rate=7.0, batch_size=4)
    frames = analysis.sample_reference_frames(path, 7.0)  # one decoder, start to end
    images = [f.image for f in frames]
    times = np.array([f.timestamp for f in frames])
    assert len(times) > 20
    np.testing.assert_array_equal(a.sample_times, times)
    assert all(np.array_equal(x, y) for x, y in zip(a.images, images, strict=True))
    np.testing.assert_allclose(a.embeddings, enc.encode_images(images), atol=1e-6)
    from generec_desktop.editor.analysis import _with_dissolves
    from generec_desktop.editor.shots import detect_hsv, dissolve_samples

    dissolves = dissolve_samples([detect_hsv(im) for im in images])
    assert a.failed == _with_dissolves(measure_quality(images).failed, dissolves)
    np.testing.assert_array_equal(a.cut_after, detect_cuts(images, times).after)
    assert not _decoder_threads()


def test_runs_start_at_keyframes_and_balance_the_frames(tmp_path):
    from generec_desktop.editor.analysis import _parts
    from generec_desktop.media._index import scan

    index = scan(_gop_video(tmp_path))  # keyframes at 0, 10, ..., 110
    assert _parts(index, 1) == [(0, None)]
    assert _parts(index, 2, min_frames=10) == [(0, 60), (60, None)]
    assert _parts(index, 4, min_frames=10) == [(0, 30), (30, 60), (60, 90), (90, None)]
    assert _parts(index, 4, min_frames=45) == [(0, 60), (60, None)]  # short runs merge into their neighbour
    one_gop = scan(mediagen.make_video(tmp_path / "one.mp4", n_frames=30))
    assert _parts(one_gop, 8, min_frames=1) == [(0, None)]


def test_opencv_threads_are_restored_after_overlapping_analyses():
    import cv2

    from generec_desktop.editor.analysis import _opencv_single_thread

    before = cv2.getNumThreads()
    with _opencv_single_thread():
        with _opencv_single_thread():
            assert cv2.getNumThreads() == 1
        assert cv2.getNumThreads() == 1  # the outer analysis is still running
    assert cv2.getNumThreads() == before


@pytest.mark.parametrize(("name", "options"), [("rot90.mp4", {"rotation": 90}), ("vp9.webm", {"codec": "libvpx-vp9"}),
                                               ("full_range.mp4", {"pix_fmt": "yuvj420p"})])
def test_parallel_runs_keep_rotation_other_codecs_and_full_range(tmp_path, monkeypatch, name, options):
    import generec_desktop.editor.analysis as analysis
    from generec_desktop.encoders import get_encoder

    path = mediagen.make_video(tmp_path / name, width=160, height=96, n_frames=120, fps=25, gop=10, **options)
    monkeypatch.setattr(analysis, "_workers", lambda: 3)
    monkeypatch.setattr(analysis, "MIN_RUN_FRAMES", 10)
    a = analysis.analyze_video(path, get_encoder("builtin"), rate=7.0, batch_size=4)
    frames = analysis.sample_reference_frames(path, 7.0)
    np.testing.assert_array_equal(a.sample_times, [f.timestamp for f in frames])
    assert all(np.array_equal(x, f.image) for x, f in zip(a.images, frames, strict=True))
    assert a.images[0].shape == ((160, 96, 3) if "rotation" in options else (96, 160, 3))


def test_one_decoder_per_usable_core_at_most_eight(monkeypatch):
    import os

    from generec_desktop.editor.analysis import _workers

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3}, raising=False)
    assert _workers() == 1  # pinned to one core, however many the machine has
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(20)), raising=False)
    assert _workers() == 8
