"""Colour speckle from a small diffusion model is removed from a revision; real changes are kept."""

from __future__ import annotations

import numpy as np
import pytest

from generec_desktop.diffusion import DiffusionError, suppress_chroma_noise


def _grey_clip(rng: np.random.Generator) -> np.ndarray:
    """(T, 3, S, S) in [-1, 1]: a greyscale texture (R = G = B)."""
    y = rng.uniform(-0.8, 0.8, size=(4, 1, 64, 64)).astype(np.float32)
    return np.repeat(y, 3, axis=1)


def _saturation(x: np.ndarray) -> float:
    """Mean absolute chroma (8-bit levels)."""
    return float(np.abs(x - x.mean(axis=1, keepdims=True)).mean() * 127.5)


def test_luma_change_passes_untouched_and_no_change_stays_none():
    rng = np.random.default_rng(0)
    clip = _grey_clip(rng)
    brighter = np.clip(clip + rng.normal(0, 0.1, size=(4, 1, 64, 64)).astype(np.float32), -1, 1)
    out = suppress_chroma_noise(clip, brighter)
    np.testing.assert_allclose(out, brighter, atol=1e-5)
    np.testing.assert_array_equal(suppress_chroma_noise(clip, clip), clip)


def test_colour_speckle_on_a_grey_clip_is_removed():
    rng = np.random.default_rng(1)
    clip = _grey_clip(rng)
    speckled = np.clip(clip + rng.normal(0, 8 / 127.5, size=clip.shape).astype(np.float32), -1, 1)
    assert _saturation(speckled) > 4.0
    out = suppress_chroma_noise(clip, speckled)
    assert _saturation(out) < 0.2
    # the luma part of the noise is kept (only colour is cleaned)
    luma = lambda x: np.einsum("c,tchw->thw", np.array([0.299, 0.587, 0.114], np.float32), x)  # noqa: E731
    np.testing.assert_allclose(luma(out), luma(speckled), atol=2e-3)
    # off: the output is the model's
    np.testing.assert_array_equal(suppress_chroma_noise(clip, speckled, threshold=0, sigma=0), speckled)


def test_a_real_colour_change_survives_less_the_threshold():
    rng = np.random.default_rng(2)
    clip = _grey_clip(rng)
    warmer = clip.copy()
    warmer[:, 0] += 30 / 127.5  # +30 levels of red everywhere: a grade, not noise
    warmer[:, 2] -= 30 / 127.5
    out = suppress_chroma_noise(clip, np.clip(warmer, -1, 1))
    red_shift = float((out[:, 0] - clip[:, 0]).mean() * 127.5)
    assert 15.0 < red_shift < 30.0


def test_shapes_are_checked():
    with pytest.raises(DiffusionError, match="same shape"):
        suppress_chroma_noise(np.zeros((2, 3, 8, 8), np.float32), np.zeros((2, 3, 8, 4), np.float32))
