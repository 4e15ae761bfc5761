"""Thumbnail generation without weights: move a frame's palette toward the audience's liked thumbnails.

Colour transfer in CIE Lab (Reinhard et al., 2001): each channel of the frame is shifted and scaled
toward the mean/std of the audience's liked thumbnails, blended by ``strength`` so the picture stays
faithful to the video (the fidelity checks judge the rest). Written with numpy + OpenCV because it is
three lines of statistics; scikit-image's ``match_histograms`` is the heavier full-histogram variant
and over-fits the look of one reference image. Reframing to 16:9 / 9:16 / 1:1 is in :mod:`.reframe`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["PaletteStats", "generate_thumbnail", "palette_stats", "transfer_palette"]

_STATS_SIDE = 96


@dataclass(frozen=True)
class PaletteStats:
    """Mean and standard deviation of L*, a*, b* (OpenCV 8-bit Lab scale) over some images."""

    mean: np.ndarray  # (3,)
    std: np.ndarray  # (3,)
    n_images: int


def _lab(image: np.ndarray, side: int | None = None) -> np.ndarray:
    import cv2

    img = np.ascontiguousarray(image)
    if side is not None and max(img.shape[:2]) > side:
        s = side / max(img.shape[:2])
        img = cv2.resize(img, (max(1, round(img.shape[1] * s)), max(1, round(img.shape[0] * s))),
                         interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(img.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def palette_stats(images: Sequence[np.ndarray]) -> PaletteStats:
    """The pooled Lab statistics of ``images`` (each reduced to 96 px; every image weighs the same)."""
    if not images:
        from generec_desktop.editor.personalize.errors import EditorError

        raise EditorError("The audience has no liked thumbnails to take a palette from.")
    means, sqs = [], []
    for im in images:
        lab = _lab(im, _STATS_SIDE).reshape(-1, 3).astype(np.float64)
        means.append(lab.mean(axis=0))
        sqs.append((lab ** 2).mean(axis=0))
    m = np.mean(means, axis=0)
    var = np.maximum(np.mean(sqs, axis=0) - m ** 2, 1e-6)
    return PaletteStats(m.astype(np.float32), np.sqrt(var).astype(np.float32), len(images))


def transfer_palette(image: np.ndarray, target: PaletteStats, *, strength: float = 0.6) -> np.ndarray:
    """``image`` with its Lab mean/std moved ``strength`` of the way to ``target`` (uint8 RGB)."""
    import cv2

    strength = float(np.clip(strength, 0.0, 1.0))
    lab = _lab(image)
    flat = lab.reshape(-1, 3)
    mu, sd = flat.mean(axis=0), flat.std(axis=0) + 1e-6
    # scale capped so a flat frame is not blown up into noise
    scale = np.clip(target.std / sd, 0.5, 2.0)
    moved = (lab - mu) * scale + target.mean
    out = (1 - strength) * lab + strength * moved
    out[..., 0] = np.clip(out[..., 0], 0, 100)
    rgb = cv2.cvtColor(out.astype(np.float32), cv2.COLOR_LAB2RGB)
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


def generate_thumbnail(frame: np.ndarray, target: PaletteStats, *, strength: float = 0.6,
                       aspect: str | float | None = None) -> np.ndarray:
    """A personalised thumbnail: ``frame`` recoloured toward ``target``, optionally reframed to ``aspect``."""
    out = transfer_palette(frame, target, strength=strength)
    if aspect is not None:
        from generec_desktop.editor.personalize.reframe import crop_to

        out = crop_to(out, aspect)
    return out
