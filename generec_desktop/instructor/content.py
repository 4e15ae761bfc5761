"""What a thumbnail should show ("make the thumbnail show food"), read through the encoder's text tower.

The planner keeps the phrase (``plan.params["show"]``); when the workspace's encoder has a text tower
(open_clip), :func:`steer_targets` moves each audience's Eq. 1 vector ``t*`` toward the phrase's text
embedding, so the frame chosen is the one this audience would click *among those that show it*:
``t' = normalise((1 - w) t* + w e(text))``, with ``w`` = :data:`CONTENT_WEIGHT`. Both vectors live in the
same CLIP space, so the usual ``t'·f(frame)`` argmax does the rest. Without a text tower the phrase is
reported as not usable and the targets are left as they are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["CONTENT_WEIGHT", "content_phrase", "content_vector", "steer", "steer_targets"]

#: share of the content phrase in the steered vector (0: the audience only, 1: the phrase only)
CONTENT_WEIGHT = 0.5
_SHOW_RE = re.compile(
    r"\b(?:show(?:s|ing)?|with|of|featur(?:e|es|ing)|contain(?:s|ing)?|depict(?:s|ing)?|focus(?:ed)? on)\s+"
    r"(?:(?:the|a|an|some|more|lots of|plenty of|our|my)\s+)*"
    r"(?P<what>[a-z][a-z0-9'-]*(?:\s+(?!for\b|to\b|and\b|but\b|so\b|instead\b|please\b)[a-z0-9'-]+){0,4})")
_NOT_CONTENT = frozenset({"thumbnail", "thumbnails", "cover", "covers", "frame", "frames", "picture", "image",
                          "it", "them", "this", "that", "one", "audience", "segment", "user", "everyone"})


def content_phrase(text: str) -> str | None:
    """The thing the instruction asks the thumbnail to show ("food", "people laughing"), or ``None``."""
    for m in _SHOW_RE.finditer(text.lower()):
        words = m.group("what").split()
        while words and words[-1] in _NOT_CONTENT | {"the", "a", "an", "at", "in", "on"}:
            words.pop()
        if words and words[0] not in _NOT_CONTENT:
            return " ".join(words)
    return None


def content_vector(phrase: str, encoder: Any) -> np.ndarray | None:
    """The phrase's unit text embedding in ``encoder``'s space, or ``None`` without a text tower."""
    from generec_desktop.encoders.text import text_vector

    return text_vector(encoder, phrase, required=False)


def steer(vector: np.ndarray, content: np.ndarray, weight: float = CONTENT_WEIGHT) -> np.ndarray:
    """``normalise((1 - weight) * vector + weight * content)`` (both unit vectors of one space)."""
    from generec_desktop.encoders.text import combine

    return combine([vector, content], [1.0 - weight, weight])


def steer_targets(targets: Sequence[Any], phrase: str, encoder: Any, *,
                  weight: float = CONTENT_WEIGHT) -> list[Any]:
    """The editor's targets (``editor.personalize.Target``) steered toward ``phrase``; unchanged (the
    same objects) when the encoder has no text tower. Pass the result to ``personalize(...)``."""
    from dataclasses import replace

    vec = content_vector(phrase, encoder)
    if vec is None:
        return list(targets)
    return [replace(t, vector=steer(t.vector, vec, weight), label=f"{t.label or t.id} · showing {phrase}")
            for t in targets]
