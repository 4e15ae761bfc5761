"""The :class:`Encoder` protocol, the package's error type and helpers every encoder shares."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from generec_desktop.jobs import GenerecError

__all__ = ["Encoder", "EncoderError", "as_rgb_uint8", "l2_normalize"]


class EncoderError(GenerecError):
    """An encoder could not be found, loaded or fed (missing weights, bad image, unknown name)."""


@runtime_checkable
class Encoder(Protocol):
    """Maps RGB frames to L2-normalised float32 vectors; Eq. 1 and Eq. 2 work in any such space."""

    #: stable identifier that changes whenever outputs could change (includes the weights hash)
    id: str
    dim: int

    def encode_images(self, images: Sequence[np.ndarray], *, batch_size: int = 32) -> np.ndarray:
        """``(N, dim)`` float32, each row of unit L2 norm."""
        ...

    def encode_text(self, texts: Sequence[str]) -> np.ndarray | None:
        """``(N, dim)`` float32 unit rows in the image space, or ``None`` without a text tower."""
        ...


def l2_normalize(x: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Rows of ``x`` scaled to unit L2 norm (all-zero rows stay zero), as float32."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return (x / np.maximum(norms, eps)).astype(np.float32, copy=False)


def as_rgb_uint8(image: np.ndarray, index: int = 0) -> np.ndarray:
    """``image`` as an (H, W, 3) uint8 RGB array; grey is repeated, an alpha channel is dropped."""
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        if np.issubdtype(arr.dtype, np.floating) and arr.size and np.nanmax(arr) <= 1.0:
            arr = np.clip(np.nan_to_num(arr) * 255.0 + 0.5, 0, 255).astype(np.uint8)
        elif np.issubdtype(arr.dtype, np.number):
            arr = np.clip(np.nan_to_num(arr), 0, 255).astype(np.uint8)
        else:
            raise EncoderError(f"Image {index} has dtype {arr.dtype}; pass uint8 RGB frames (H, W, 3).")
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    elif arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[:, :, :3]
    elif arr.ndim == 3 and arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.shape[0] < 2 or arr.shape[1] < 2:
        raise EncoderError(
            f"Image {index} has shape {np.asarray(image).shape}; pass uint8 RGB frames of shape (H, W, 3)."
        )
    return np.ascontiguousarray(arr)
