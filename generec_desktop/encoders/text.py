"""Text in the image space: a description ("people who like skateboarding", "food") as a unit vector.

Only encoders with a text tower (open_clip's CLIP/SigLIP/MobileCLIP) can do this; the built-in
descriptor has none. A description is encoded with a small prompt ensemble (the text as given, "a
photo of …", "a video thumbnail showing …"), whose normalised mean is steadier than one phrasing —
the ensembling CLIP's authors use for zero-shot classification.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from generec_desktop.encoders.base import Encoder, EncoderError, l2_normalize

__all__ = ["PROMPTS", "combine", "has_text_tower", "text_vector"]

PROMPTS = ("{}", "a photo of {}", "a video thumbnail showing {}")


def has_text_tower(encoder: Encoder) -> bool:
    """Whether ``encoder`` can embed text (without loading a tokenizer: asks the model, not the text)."""
    model = getattr(encoder, "_model", None)
    if model is not None:
        return hasattr(model, "encode_text")
    try:
        return encoder.encode_text([]) is not None
    except EncoderError:
        return False


def text_vector(encoder: Encoder, text: str | Sequence[str], *, required: bool = True) -> np.ndarray | None:
    """The unit ``(dim,)`` float32 vector of a description (several: their normalised mean) in
    ``encoder``'s image space.

    Without a text tower: raises :class:`EncoderError` saying how to get one (``required=True``), or
    returns ``None``. An empty description is refused.
    """
    texts = [text] if isinstance(text, str) else list(text)
    texts = [" ".join(t.split()) for t in texts if t and t.strip()]
    if not texts:
        raise EncoderError("Describe the audience or the content in words, e.g. 'people who like skateboarding'.")
    if not has_text_tower(encoder):
        if not required:
            return None
        raise EncoderError(
            f"The encoder {encoder.id} has no text tower, so it cannot read descriptions; download one with "
            "`generec models get ViT-B-32` (or pick an open_clip encoder) and rebuild the profiles with it."
        )
    prompts = [p.format(t) for t in texts for p in PROMPTS]
    emb = encoder.encode_text(prompts)
    if emb is None:  # pragma: no cover - has_text_tower said yes
        raise EncoderError(f"The encoder {encoder.id} returned no text embedding.")
    per_text = l2_normalize(np.asarray(emb, np.float32).reshape(len(texts), len(PROMPTS), -1).mean(axis=1))
    out: np.ndarray = l2_normalize(per_text.mean(axis=0, keepdims=True))[0]
    return out


def combine(vectors: Sequence[np.ndarray], weights: Sequence[float] | None = None) -> np.ndarray:
    """The unit vector of a weighted mean of unit vectors (e.g. an audience's examples and its description)."""
    if not vectors:
        raise EncoderError("Nothing to combine: give at least one vector.")
    mat = l2_normalize(np.stack([np.asarray(v, np.float32).ravel() for v in vectors]))
    w = np.ones(len(vectors), np.float32) if weights is None else np.asarray(weights, np.float32)
    if w.shape != (len(vectors),) or not np.all(w >= 0) or not w.sum() > 0:
        raise EncoderError("Give one non-negative weight per vector, not all zero.")
    out: np.ndarray = l2_normalize((w[:, None] * mat).sum(axis=0, keepdims=True))[0]
    return out
