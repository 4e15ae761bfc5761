"""A second, trivially different encoder for tests that switch encoders (no weights, no torch)."""

from __future__ import annotations

import numpy as np


class MeanColour:
    """The normalised mean colour plus a constant (3 + 1 values); no text tower."""

    id = "meancolour-v1"
    dim = 4

    def encode_images(self, images, *, batch_size=32):  # type: ignore[no-untyped-def]
        v = np.array([[*np.asarray(im, np.float32).reshape(-1, 3).mean(0) / 255.0, 1.0] for im in images],
                     np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    def encode_text(self, texts):  # type: ignore[no-untyped-def]
        return None
