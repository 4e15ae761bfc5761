"""Shot-boundary (hard cut) detection: a ContentDetector-like HSV-difference detector (``--shots hsv``).

Hand-written when PySceneDetect still required the non-headless OpenCV; ``scenedetect-headless`` and
TransNetV2 are now measured beside it (:mod:`.shotdetect`, ``benchmarks/bench_shots.py``): on the cut
benchmark this detector's F1 is 0.623 against Adaptive's 0.722 and TransNetV2's 0.988, so it is kept only
where it wins: cost (it runs on the samples the analysis decodes anyway, nothing more to decode) and as the
fallback without PySceneDetect. The algorithm is the one of PySceneDetect's ``ContentDetector``: each frame
is converted to HSV at a small size, the "content value" between consecutive frames is the mean of the mean
absolute differences of H, S and V, and a cut is declared where it exceeds ``threshold`` and at least
``min_gap`` seconds passed since the previous cut. A cut is also required to stand out from its
neighbourhood (``ratio``) so that a fast pan sampled sparsely does not read as a cut.

It runs on the frames the editor already sampled (one decode pass serves everything); the cut then
lies between two samples. :func:`refine_cuts` localises each cut to the exact frame with a low-res
decode of only that gap (used for clip boundaries). Accuracy on the demo videos, whose true cuts
are in ``ground_truth.json``, is measured by ``tests/editor/personalize/test_shots.py`` and the benchmark.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from generec_desktop.jobs import CancelToken, check_cancel

__all__ = ["DETECT_WIDTH", "ShotCuts", "content_value", "content_values", "detect_cuts", "detect_hsv",
           "dissolve_samples", "refine_cuts"]

#: frames are compared at this width (PySceneDetect downscales 1080p by about the same factor)
DETECT_WIDTH = 96


@dataclass(frozen=True)
class ShotCuts:
    """Cuts found between sampled frames.

    ``after[k]`` is the index of the first sample of a new shot (sample ``after[k] - 1`` is the last
    of the previous shot); ``times[k]`` is the cut time in seconds (the first new frame's timestamp,
    exact after :func:`refine_cuts`, else the sample's); ``values`` the content value of every
    consecutive pair (length N - 1).
    """

    after: np.ndarray
    times: np.ndarray
    values: np.ndarray
    refined: bool = False


def detect_hsv(image: np.ndarray) -> np.ndarray:
    """The small HSV copy of ``image`` that content values compare (for callers that stream frames)."""
    import cv2

    h, w = image.shape[:2]
    size = (DETECT_WIDTH, max(1, round(h * DETECT_WIDTH / max(w, 1))))
    small = np.ascontiguousarray(image)
    while small.shape[1] >= 4 * DETECT_WIDTH and small.shape[0] >= 4 * size[1]:
        # exact halving first: OpenCV's 2x2-mean fast path, then one short area step (0.14 vs 0.27 ms per
        # 448-px frame straight to 96 px, which takes OpenCV's slow fractional-area path)
        small = cv2.resize(small, (small.shape[1] // 2, small.shape[0] // 2), interpolation=cv2.INTER_AREA)
    small = cv2.resize(small, size, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_RGB2HSV).astype(np.int16)


def content_values(images: Sequence[np.ndarray]) -> np.ndarray:
    """ContentDetector's content value between each consecutive pair of frames (length N - 1)."""
    if len(images) < 2:
        return np.zeros(0, np.float64)
    hsv = [detect_hsv(im) for im in images]
    return np.array([content_value(hsv[k - 1], hsv[k]) for k in range(1, len(hsv))], np.float64)


def content_value(a: np.ndarray, b: np.ndarray) -> float:
    """Content value between two :func:`detect_hsv` copies (255 when their sizes differ: surely a cut)."""
    if a.shape != b.shape:
        return 255.0
    return float(np.abs(b - a).reshape(-1, 3).mean(axis=0).mean())


def detect_cuts(images: Sequence[np.ndarray] | None, timestamps: Sequence[float], *, threshold: float = 15.0,
                ratio: float = 3.0, min_gap: float = 0.6, values: Sequence[float] | None = None) -> ShotCuts:
    """Hard cuts among frames ``images`` shown at ``timestamps`` (seconds, increasing).

    A pair is a cut when its content value exceeds ``threshold`` and ``ratio`` times the median of
    the values around it (a window of 5 pairs each side), and at least ``min_gap`` s after the last cut.
    ``values``: the content values already computed while streaming (``images`` is then ignored).
    """
    ts = np.asarray(timestamps, np.float64)
    vals = np.asarray(values, np.float64) if values is not None else content_values(images or [])
    after: list[int] = []
    last = -np.inf
    for k, v in enumerate(vals):
        if v < threshold:
            continue
        lo, hi = max(0, k - 5), min(len(vals), k + 6)
        around = np.delete(vals[lo:hi], k - lo)
        base = float(np.median(around)) if around.size else 0.0
        if v < ratio * base:
            continue
        if ts[k + 1] - last < min_gap:
            continue
        after.append(k + 1)
        last = ts[k + 1]
    a = np.asarray(after, np.int64)
    return ShotCuts(after=a, times=ts[a] if a.size else np.zeros(0), values=vals)


def refine_cuts(path: str | os.PathLike[str], cuts: ShotCuts, timestamps: Sequence[float], *,
                cancel: CancelToken | None = None) -> ShotCuts:
    """Move each cut to the exact first frame of the new shot by decoding only the gap between the
    two samples that bracket it (low resolution): the largest content value inside the gap wins."""
    from generec_desktop import media

    ts = np.asarray(timestamps, np.float64)
    exact = []
    for k in cuts.after:
        check_cancel(cancel)
        t0, t1 = float(ts[k - 1]), float(ts[k])
        frames = media.decode_range(path, t0, t1 + 1e-4, max_side=DETECT_WIDTH)
        if len(frames) < 2:
            exact.append(t1)
            continue
        vals = content_values([f.image for f in frames])
        exact.append(frames[int(np.argmax(vals)) + 1].timestamp)
    return ShotCuts(after=cuts.after, times=np.asarray(exact, np.float64), values=cuts.values, refined=True)


#: a sample is inside a cross-fade when it is this close to a blend of two neighbours that differ this much
#: Measured on the independent set's 42 videos at 4 samples/s (1,317 samples, 61 inside its 0.6-1 s
#: cross-fades): residual < 0.25 and change > 30 flag about 44 of the 61 with 5 false alarms; 0.3 / 18
#: flagged 50 with 81 false alarms (pans and zooms of detailed pictures), 0.15 / 30 31 with none.
DISSOLVE_RESIDUAL = 0.25  # residual / distance between the neighbours
DISSOLVE_MIN_CHANGE = 30.0  # RMS difference (0-255) between the neighbours: a scene change, not motion


def dissolve_samples(hsv_copies: Sequence[np.ndarray]) -> np.ndarray:
    """Which samples lie inside a cross-fade (dissolve), from :func:`detect_hsv`'s small copies.

    A dissolve frame is a blend ``(1 - a)·x_prev + a·x_next`` of frames of two different scenes: for each
    sample and neighbours 1 and 2 samples away on each side, the least-squares ``a`` and the residual are
    computed on the RGB copies; the sample counts as a dissolve when ``0.15 <= a <= 0.85``, the residual is
    under :data:`DISSOLVE_RESIDUAL` of the neighbours' distance and that distance is a scene change
    (RMS > :data:`DISSOLVE_MIN_CHANGE`). A hard cut's frames equal one neighbour (``a`` near 0 or 1); a pan
    or zoom is a shift, not a blend (large residual). Why hand-written: PySceneDetect and TransNetV2 find
    transitions, not which frames are double exposures; this is a few vector operations per sample.
    """
    import cv2

    n = len(hsv_copies)
    out = np.zeros(n, bool)
    if n < 3:
        return out
    rgb = [cv2.cvtColor(np.clip(h, 0, 255).astype(np.uint8), cv2.COLOR_HSV2RGB).astype(np.float32).ravel()
           for h in hsv_copies]
    for i in range(1, n - 1):
        for k in (1, 2):
            a, b = i - k, i + k
            if a < 0 or b >= n or rgb[a].shape != rgb[i].shape or rgb[b].shape != rgb[i].shape:
                continue
            d = rgb[b] - rgb[a]
            dd = float(d @ d)
            if dd <= 0 or np.sqrt(dd / d.size) < DISSOLVE_MIN_CHANGE:
                continue
            x = rgb[i] - rgb[a]
            alpha = float(x @ d) / dd
            if not 0.15 <= alpha <= 0.85:
                continue
            if float(np.linalg.norm(x - alpha * d)) < DISSOLVE_RESIDUAL * np.sqrt(dd):
                out[i] = True
                break
    return out
