"""Choosing and writing an item's cover image (the library thumbnail, not a personalised one).

Rule (cheap, deterministic): the file's attached picture if it has one; else sample
:data:`COVER_SAMPLES` frames evenly over the first :data:`COVER_SPAN` of the video, drop frames that
are nearly black or blown out (mean luma outside [:data:`MIN_LUMA`, :data:`MAX_LUMA`] or a
low spread), and take the sharpest of the rest (variance of the Laplacian of the grey image).
If every frame fails the exposure gate, take the one whose mean luma is closest to mid-grey.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

COVER_SAMPLES = 8
COVER_SPAN = 0.2  # fraction of the duration searched
COVER_MAX_SIDE = 640
MIN_LUMA, MAX_LUMA, MIN_LUMA_STD = 20.0, 235.0, 8.0


def _luma(image: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def frame_score(image: np.ndarray) -> tuple[bool, float, float]:
    """(well exposed, sharpness, mean luma) of an RGB frame."""
    import cv2

    grey = _luma(image)
    mean, std = float(grey.mean()), float(grey.std())
    exposed = MIN_LUMA <= mean <= MAX_LUMA and std >= MIN_LUMA_STD
    sharpness = float(cv2.Laplacian(grey, cv2.CV_64F).var())
    return exposed, sharpness, mean


def pick_cover_frame(images: list[np.ndarray]) -> int:
    """Index of the cover among candidate frames, by the rule in the module docstring."""
    if not images:
        raise ValueError("no candidate frames")
    scores = [frame_score(im) for im in images]
    good = [i for i, (ok, _, _) in enumerate(scores) if ok]
    if good:
        return max(good, key=lambda i: scores[i][1])
    return min(range(len(images)), key=lambda i: abs(scores[i][2] - 127.5))


def choose_cover(path: Path, duration: float, has_cover: bool) -> np.ndarray:
    """The cover image (RGB uint8) of a video file, by the module's rule."""
    from generec_desktop.media import read_cover, sample_frames

    if has_cover:
        image = read_cover(path)
        if image is not None:
            return image
    span = max(0.0, duration) * COVER_SPAN
    times = [span * (k + 0.5) / COVER_SAMPLES for k in range(COVER_SAMPLES)]
    frames = sample_frames(path, timestamps=times, max_side=COVER_MAX_SIDE)
    if not frames:
        frames = sample_frames(path, timestamps=[0.0], max_side=COVER_MAX_SIDE)
    images = [f.image for f in frames]
    return images[pick_cover_frame(images)]


def write_jpeg(image: np.ndarray, dest: Path, *, quality: int = 90) -> None:
    """Write ``image`` as JPEG to ``dest`` atomically (journaled temp file beside it, fsync, rename).

    The rename is journaled as a final file too: a cover is written before its item's row commits, so
    after a crash the recovery knows that an unreferenced cover at ``dest`` is the app's own.
    """
    from PIL import Image

    from generec_desktop.safefiles import atomic_writer

    with atomic_writer(dest, record_final=True) as fh:
        Image.fromarray(image).convert("RGB").save(fh, format="JPEG", quality=quality)
