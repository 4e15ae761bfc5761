"""Frame-format conversions and the full-resolution transfer (numpy + OpenCV; no torch).

The model works on float frames (T, 3, H, W) in [-1, 1]; the rest of the app uses uint8 RGB (T, H, W, 3)
(ARCHITECTURE, media). Low-resolution frames are the full frame resized to ``size × size`` (aspect not
kept), so :func:`transfer_to_full_resolution` can map a change back exactly by resizing it up.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from generec_desktop.diffusion.config import DiffusionError

__all__ = ["from_model_frames", "resize_frames", "suppress_chroma_noise", "to_model_frames",
           "transfer_to_full_resolution"]


def _is_channels_first(a: np.ndarray) -> bool:
    return a.ndim == 4 and a.shape[1] == 3 and a.shape[-1] != 3


def to_model_frames(frames: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
    """uint8 (T, H, W, 3) RGB, or float (T, 3, H, W) in [-1, 1] -> float32 (T, 3, H, W) in [-1, 1]."""
    a = np.asarray(frames)
    if a.ndim != 4:
        raise DiffusionError(f"Expected a stack of frames with 4 dimensions, got shape {a.shape}.")
    if a.dtype == np.uint8:
        if a.shape[-1] != 3:
            raise DiffusionError(f"uint8 frames must be (T, H, W, 3) RGB, got shape {a.shape}.")
        return (a.transpose(0, 3, 1, 2).astype(np.float32) / 127.5) - 1.0
    if not np.issubdtype(a.dtype, np.floating) or a.shape[1] != 3:
        raise DiffusionError(f"Float frames must be (T, 3, H, W) in [-1, 1], got {a.dtype} {a.shape}.")
    if not np.isfinite(a).all():
        raise DiffusionError("The frames contain NaN or infinite values.")
    return a.astype(np.float32, copy=False)


def from_model_frames(frames: np.ndarray) -> np.ndarray:
    """float (T, 3, H, W) in [-1, 1] -> uint8 (T, H, W, 3) RGB (rounded, clipped)."""
    a = np.asarray(frames, dtype=np.float32)
    return np.clip(np.rint((a.transpose(0, 2, 3, 1) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def resize_frames(frames: np.ndarray | Sequence[np.ndarray], size: int) -> np.ndarray:
    """uint8 RGB frames (any size) -> uint8 (T, size, size, 3), area-averaged (aspect not kept)."""
    import cv2

    out = np.empty((len(frames), size, size, 3), dtype=np.uint8)
    for i, f in enumerate(frames):
        f = np.asarray(f)
        if f.dtype != np.uint8 or f.ndim != 3 or f.shape[2] != 3:
            raise DiffusionError(f"Frame {i} must be uint8 (H, W, 3) RGB, got {f.dtype} {f.shape}.")
        out[i] = cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA)
    return out


def _as_uint8_hwc(frames: np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(frames)
    if a.dtype == np.uint8 and a.ndim == 4 and a.shape[-1] == 3:
        return a
    if np.issubdtype(a.dtype, np.floating) and _is_channels_first(a):
        return from_model_frames(a)
    raise DiffusionError(f"{name} must be uint8 (T, h, w, 3) or float (T, 3, h, w), got {a.dtype} {a.shape}.")


def transfer_to_full_resolution(
    orig_frames_full: np.ndarray | Sequence[np.ndarray],
    input_lowres: np.ndarray,
    revised_lowres: np.ndarray,
) -> np.ndarray:
    """Apply a low-resolution revision to the original frames: ``orig + upsample(revised - input)``.

    Only the change is upsampled (bilinear), so the original's detail survives wherever the model changed
    nothing. ``orig_frames_full``: uint8 (T, H, W, 3); the low-res stacks: uint8 (T, h, w, 3) or float
    (T, 3, h, w) in [-1, 1]. Returns uint8 (T, H, W, 3).

    Speed: the signed difference is resized as int16 (OpenCV's fixed-point path) and added to the uint8
    frame with a saturating ``cv2.add(..., dtype=CV_8U)``, so no float image is made at full size (≈3×
    faster at 1080p than float32). The result is within 0.5 grey level of the exact float computation.
    """
    import cv2

    lo_in = _as_uint8_hwc(input_lowres, "input_lowres")
    lo_rev = _as_uint8_hwc(revised_lowres, "revised_lowres")
    if lo_in.shape != lo_rev.shape:
        raise DiffusionError(f"input_lowres {lo_in.shape} and revised_lowres {lo_rev.shape} differ in shape.")
    n = len(orig_frames_full)
    if n != lo_in.shape[0]:
        raise DiffusionError(f"{n} original frames but {lo_in.shape[0]} low-resolution frames; they must match.")
    diff = lo_rev.astype(np.int16) - lo_in.astype(np.int16)
    first = np.asarray(orig_frames_full[0]) if n else None
    out = np.empty((n, *first.shape), dtype=np.uint8) if first is not None else np.empty((0, 1, 1, 3), np.uint8)
    for i in range(n):
        f = np.asarray(orig_frames_full[i])
        if f.dtype != np.uint8 or f.ndim != 3 or f.shape != first.shape or f.shape[2] != 3:
            raise DiffusionError(f"Original frame {i} must be uint8 (H, W, 3) like frame 0, got {f.dtype} {f.shape}.")
        size = (f.shape[1], f.shape[0])
        up = cv2.resize(diff[i], size, interpolation=cv2.INTER_LINEAR)
        cv2.add(f, up, dst=out[i], dtype=cv2.CV_8U)
    return out


#: RGB -> (Y, Cr, Cb), BT.601 full range, applied to *differences* (so no offsets) and its inverse
_TO_YCC = np.array([[0.299, 0.587, 0.114], [0.5, -0.418688, -0.081312], [-0.168736, -0.331264, 0.5]], np.float32)
_FROM_YCC = np.linalg.inv(_TO_YCC).astype(np.float32)


def suppress_chroma_noise(before: np.ndarray, after: np.ndarray, *, threshold: float = 6.0,
                          sigma: float | None = None) -> np.ndarray:
    """``after`` with the colour part of its change from ``before`` denoised; float (T, 3, S, S) in [-1, 1].

    A small diffusion model denoised in few steps leaves independent noise in each RGB channel, which
    reads as colour speckle: on a black-and-white video it adds colours that were never there (measured on
    the demo's greyscale clips: mean saturation 0 -> 30-60 of 255 at strength 0.5) and costs most of
    the clip's colour-histogram similarity. The change is split into luma and chroma (BT.601); the luma
    change is kept as is, the chroma change is smoothed (Gaussian, ``sigma`` px, default 2 px per 64) and
    soft-thresholded by ``threshold`` (8-bit levels): speckle goes, a real colour change of more than a
    few levels stays (less the threshold). No change in, no change out.
    """
    import cv2

    b = np.asarray(before, np.float32)
    a = np.asarray(after, np.float32)
    if b.shape != a.shape or b.ndim != 4 or b.shape[1] != 3:
        raise DiffusionError(f"Expected two (T, 3, S, S) stacks of the same shape, got {b.shape} and {a.shape}.")
    if threshold <= 0 and not sigma:
        return a.copy()
    sigma = 2.0 * b.shape[-1] / 64.0 if sigma is None else float(sigma)
    ycc = np.einsum("ij,tjhw->tihw", _TO_YCC, a - b)
    chroma = ycc[:, 1:]
    if sigma > 0:
        for t in range(chroma.shape[0]):
            for k in range(2):
                chroma[t, k] = cv2.GaussianBlur(chroma[t, k], (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    thr = float(threshold) / 127.5  # model units: [-1, 1] spans 255 levels
    ycc[:, 1:] = np.sign(chroma) * np.maximum(np.abs(chroma) - thr, 0.0)
    return np.clip(b + np.einsum("ij,tjhw->tihw", _FROM_YCC, ycc), -1.0, 1.0).astype(np.float32)
