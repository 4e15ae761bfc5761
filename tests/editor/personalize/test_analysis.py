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
    from generec_desktop.editor.personalize.analysis import SAMPLE_MAX_SIDE, analyze_video
    from generec_desktop.editor.personalize.quality import measure_quality
    from generec_desktop.editor.personalize.shots import detect_cuts
    from generec_desktop.encoders import get_encoder
    from generec_desktop.media import sample_reference_frames

    path = _demo_video(small_demo)
    enc = get_encoder("builtin")
    a = analyze_video(path, enc, rate=4.0, batch_size=5)  # batches that do not divide the sample count
    frames = sample_reference_frames(path, 4.0, max_side=SAMPLE_MAX_SIDE, loop_filter=False)
    images = [f.image for f in frames]
    times = np.array([f.timestamp for f in frames])
    np.testing.assert_array_equal(a.sample_times, times)
    np.testing.assert_allclose(a.embeddings, enc.encode_images(images), atol=1e-6)
    from generec_desktop.editor.personalize.analysis import _with_dissolves
    from generec_desktop.editor.personalize.shots import detect_hsv, dissolve_samples

    dissolves = dissolve_samples([detect_hsv(im) for im in images])
    assert a.failed == _with_dissolves(measure_quality(images).failed, dissolves)
    np.testing.assert_array_equal(a.cut_after, detect_cuts(images, times).after)
    assert all(np.array_equal(x, y) for x, y in zip(a.images, images))
    assert not _decoder_threads()


def test_samples_without_the_deblocking_filter_are_the_same_frames_and_nearly_the_same_pictures(small_demo):
    """The analysis decodes without H.264's in-loop filter (a quarter less decoding): same frames, pictures that
    differ from the filtered ones less than the cache's JPEG copies of them do, and the option really reaches the
    decoder (the pictures are not identical)."""
    import cv2

    from generec_desktop.editor.personalize.analysis import SAMPLE_MAX_SIDE, _jpeg
    from generec_desktop.media import sample_reference_frames

    path = _demo_video(small_demo)
    filtered = sample_reference_frames(path, 4.0, max_side=SAMPLE_MAX_SIDE)
    fast = sample_reference_frames(path, 4.0, max_side=SAMPLE_MAX_SIDE, loop_filter=False)
    assert [f.timestamp for f in fast] == [f.timestamp for f in filtered] and len(fast) > 10
    diffs = [np.abs(a.image.astype(np.int16) - b.image).mean() for a, b in zip(fast, filtered, strict=True)]
    assert max(diffs) > 0  # without the option both decodes would be bit-identical
    jpeg = [np.abs(cv2.cvtColor(cv2.imdecode(_jpeg(f.image), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB).astype(np.int16)
                   - f.image).mean() for f in filtered]
    # this 160x90 clip's long GOPs drift furthest (0.3 -> 2.3 levels along a GOP, mean 1.3; JPEG 1.9)
    assert float(np.mean(diffs)) < float(np.mean(jpeg))


def test_cancel_and_decoder_errors_stop_the_decoder_thread(small_demo, monkeypatch):
    import generec_desktop.editor.personalize.analysis as analysis
    import generec_desktop.media.reference as reference
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

    real = reference.iter_reference_frames

    def broken(*args, **kwargs):  # the decoder fails after a few frames, as a damaged file does
        for k, item in enumerate(real(*args, **kwargs)):
            if k == 4:
                raise MediaError("clip.mp4 is damaged or truncated (test); re-export it.")
            yield item

    monkeypatch.setattr(reference, "iter_reference_frames", broken)
    with pytest.raises(MediaError, match="damaged"):
        analysis.analyze_video(path, enc, rate=4.0)
    assert not _decoder_threads()


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_parallel_runs_of_gops_equal_one_serial_decode(tmp_path, monkeypatch, workers):
    import generec_desktop.editor.personalize.analysis as analysis
    import generec_desktop.media.reference as reference
    from generec_desktop.editor.personalize.quality import measure_quality
    from generec_desktop.editor.personalize.shots import detect_cuts
    from generec_desktop.encoders import get_encoder

    path = mediagen.make_gop_video(tmp_path / "gops.mp4")
    monkeypatch.setattr(reference, "decoder_workers", lambda: workers)
    monkeypatch.setattr(reference, "MIN_RUN_FRAMES", 10)
    assert len(reference.split_at_keyframes(reference.scan(path), workers)) == workers
    enc = get_encoder("builtin")
    a = analysis.analyze_video(path, enc, rate=7.0, batch_size=4)
    # one decoder, start to end
    frames = reference.sample_reference_frames(path, 7.0, max_side=analysis.SAMPLE_MAX_SIDE, loop_filter=False)
    images = [f.image for f in frames]
    times = np.array([f.timestamp for f in frames])
    assert len(times) > 20
    np.testing.assert_array_equal(a.sample_times, times)
    assert all(np.array_equal(x, y) for x, y in zip(a.images, images, strict=True))
    np.testing.assert_allclose(a.embeddings, enc.encode_images(images), atol=1e-6)
    from generec_desktop.editor.personalize.analysis import _with_dissolves
    from generec_desktop.editor.personalize.shots import detect_hsv, dissolve_samples

    dissolves = dissolve_samples([detect_hsv(im) for im in images])
    assert a.failed == _with_dissolves(measure_quality(images).failed, dissolves)
    np.testing.assert_array_equal(a.cut_after, detect_cuts(images, times).after)
    assert not _decoder_threads()


def test_opencv_threads_are_restored_after_overlapping_analyses():
    import cv2

    from generec_desktop.editor.personalize.analysis import _opencv_single_thread

    before = cv2.getNumThreads()
    with _opencv_single_thread():
        with _opencv_single_thread():
            assert cv2.getNumThreads() == 1
        assert cv2.getNumThreads() == 1  # the outer analysis is still running
    assert cv2.getNumThreads() == before


@pytest.mark.parametrize(("name", "options"), [("rot90.mp4", {"rotation": 90}), ("vp9.webm", {"codec": "libvpx-vp9"}),
                                               ("full_range.mp4", {"pix_fmt": "yuvj420p"})])
def test_parallel_runs_keep_rotation_other_codecs_and_full_range(tmp_path, monkeypatch, name, options):
    import generec_desktop.editor.personalize.analysis as analysis
    import generec_desktop.media.reference as reference
    from generec_desktop.encoders import get_encoder

    path = mediagen.make_video(tmp_path / name, width=160, height=96, n_frames=120, fps=25, gop=10, **options)
    monkeypatch.setattr(reference, "decoder_workers", lambda: 3)
    monkeypatch.setattr(reference, "MIN_RUN_FRAMES", 10)
    a = analysis.analyze_video(path, get_encoder("builtin"), rate=7.0, batch_size=4)
    frames = reference.sample_reference_frames(path, 7.0, max_side=analysis.SAMPLE_MAX_SIDE, loop_filter=False)
    np.testing.assert_array_equal(a.sample_times, [f.timestamp for f in frames])
    assert all(np.array_equal(x, f.image) for x, f in zip(a.images, frames, strict=True))
    assert a.images[0].shape == ((160, 96, 3) if "rotation" in options else (96, 160, 3))


class _Costly:
    """The built-in encoder dressed as a costly one (``reuse_similar_frames``), counting what it is given."""

    reuse_similar_frames = True

    def __init__(self) -> None:
        from generec_desktop.encoders import get_encoder

        self._inner = get_encoder("builtin")
        self.id, self.dim = "costly-" + self._inner.id, self._inner.dim
        self.encoded: list[np.ndarray] = []

    def encode_images(self, images, *, batch_size=32):  # type: ignore[no-untyped-def]
        self.encoded.extend(images)
        return self._inner.encode_images(images, batch_size=batch_size)

    def encode_text(self, texts):  # type: ignore[no-untyped-def]
        return None


def test_a_costly_encoder_encodes_each_still_once_per_gap_and_every_changing_frame(tmp_path):
    """Near-repeats (by the built-in encoder's similarity) take the embedding of the last encoded sample; a new
    shot, a picture that changes, and a still longer than REUSE_MAX_GAP are encoded again. The built-in
    encoder itself (cheap) encodes every sample."""
    from skimage import data

    import generec_desktop.editor.personalize.analysis as analysis
    from generec_desktop.encoders import get_encoder

    w, h, fps = 160, 96, 10
    stills = [np.ascontiguousarray(cv2_resize(p, (w, h))) for p in (data.astronaut(), data.coffee(), data.chelsea())]
    wide = cv2_resize(data.rocket(), (4 * w, h))  # then a fast pan (a quarter of the picture per sample)
    frames = [im.copy() for im in stills for _ in range(int(5 * fps))] + [
        np.ascontiguousarray(wide[:, 16 * i:16 * i + w]) for i in range(30)]
    for i, im in enumerate(frames[:150]):  # a corner that changes: no two samples the same picture
        im[:6, :6] = (i * 37) % 256
    path = mediagen.make_video(tmp_path / "stills.mp4", width=w, height=h, fps=fps, frames=frames)
    enc = _Costly()
    a = analysis.analyze_video(path, enc, rate=4.0, batch_size=4)
    n = len(a.sample_times)
    assert n > 40
    encoded = [next(k for k in range(n) if np.array_equal(a.images[k], im)) for im in enc.encoded]
    assert len(encoded) == len(set(encoded))  # none twice
    truth = get_encoder("builtin").encode_images(a.images)
    moving = a.sample_times >= 15.0
    assert set(np.flatnonzero(moving)) <= set(encoded)  # every panned sample differs: each is encoded
    for shot in range(3):  # 5 s stills: encoded at least every REUSE_MAX_GAP s, and at most a few times
        mine = [k for k in encoded if shot * 5.0 <= a.sample_times[k] < (shot + 1) * 5.0]
        assert 3 <= len(mine) <= 5
    for k in range(n):
        if k in encoded:
            np.testing.assert_allclose(a.embeddings[k], truth[k], atol=1e-6)
            continue
        src = max(j for j in encoded if j < k)  # the last encoded sample before it
        np.testing.assert_array_equal(a.embeddings[k], a.embeddings[src])
        assert a.sample_times[k] - a.sample_times[src] <= analysis.REUSE_MAX_GAP
        assert float(truth[src] @ truth[k]) >= analysis.REUSE_SIMILARITY  # the probe is the built-in encoder
    cheap = analysis.analyze_video(path, get_encoder("builtin"), rate=4.0, batch_size=4)
    np.testing.assert_allclose(cheap.embeddings, truth, atol=1e-6)  # the built-in encoder reuses nothing
    from generec_desktop.encoders.clip import OpenClipEncoder

    assert OpenClipEncoder.reuse_similar_frames  # the encoder this is for


def cv2_resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import cv2

    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)
