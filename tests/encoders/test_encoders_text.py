"""Descriptions as vectors through the text tower (tiny random CLIP: the path, not the quality)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tinyclip import write_tiny_hf_folder

from generec_desktop.encoders import EncoderError, get_encoder
from generec_desktop.encoders.text import PROMPTS, combine, has_text_tower, text_vector


@pytest.fixture
def clip(tmp_path: Path):  # type: ignore[no-untyped-def]
    write_tiny_hf_folder(tmp_path / "tiny")
    return get_encoder("open_clip:tiny", weights=tmp_path / "tiny", backend="torch")


def test_text_vector_is_the_normalised_prompt_ensemble(clip) -> None:  # type: ignore[no-untyped-def]
    assert has_text_tower(clip)
    v = text_vector(clip, "people who like skateboarding")
    assert v is not None and v.shape == (clip.dim,) and v.dtype == np.float32
    assert abs(float(np.linalg.norm(v)) - 1.0) < 1e-5
    raw = clip.encode_text([p.format("people who like skateboarding") for p in PROMPTS])
    expected = raw.mean(axis=0) / np.linalg.norm(raw.mean(axis=0))
    np.testing.assert_allclose(v, expected, atol=1e-5)
    np.testing.assert_allclose(text_vector(clip, "  people who like   skateboarding "), v, atol=1e-6)
    other = text_vector(clip, "cooking pasta")
    assert other is not None and float(v @ other) < 0.9999
    both = text_vector(clip, ["people who like skateboarding", "cooking pasta"])
    assert both is not None
    np.testing.assert_allclose(both, combine([v, other]), atol=1e-5)


def test_no_text_tower_is_a_clear_error_or_none() -> None:
    builtin = get_encoder("builtin")
    assert not has_text_tower(builtin)
    with pytest.raises(EncoderError, match=r"no text tower.*generec models get"):
        text_vector(builtin, "people who like skateboarding")
    assert text_vector(builtin, "food", required=False) is None
    with pytest.raises(EncoderError, match="Describe"):
        text_vector(builtin, "   ")


def test_combine_weights() -> None:
    a, b = np.array([1.0, 0.0], np.float32), np.array([0.0, 1.0], np.float32)
    np.testing.assert_allclose(combine([a, b], [3, 1]), np.array([3, 1]) / np.sqrt(10), atol=1e-6)
    np.testing.assert_allclose(combine([a * 5]), a)
    with pytest.raises(EncoderError):
        combine([a, b], [0, 0])
