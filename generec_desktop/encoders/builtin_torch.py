"""A differentiable torch version of part of the built-in descriptor (``builtin-v1``), for guidance.

MCVD sampling can be steered by how well the frames it is making score against an audience (classifier
guidance on top of classifier-free guidance, issue 20). That needs the score's gradient with respect to the
pixels; the built-in encoder is numpy/OpenCV with integer binning. This module recomputes the blocks that
are smooth functions of the pixels — where colours are (``colour_layout``), where the detail is
(``edge_layout``), the global colour statistics (``global``) and the GIST-like ``spectrum`` — with the same
arithmetic in torch, weighted as :data:`~generec_desktop.encoders.builtin.BLOCK_WEIGHTS` weights them, so
``partial_embedding(frames) · vector[dims]`` is the part of the encoder's (unnormalised) dot product with an
audience vector that these blocks carry. The histogram blocks (colour histogram, HOG, LBP, skin) are left
out: their hard bins have no useful gradient. ``tests/encoders/test_builtin_torch.py`` checks that the
blocks match the encoder's on real photos.

Frames: float (N, 3, 64, 64) RGB in [-1, 1] (the MCVD model's format); any other size is resized (area).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from generec_desktop.encoders.builtin import _BAND, _PRIOR, _WINDOW, BLOCK_DIMS, BLOCK_WEIGHTS

__all__ = ["GUIDED_BLOCKS", "block_slices", "partial_blocks", "partial_dims", "partial_embedding"]

#: The blocks recomputed here, in the encoder's order.
GUIDED_BLOCKS = ("colour_layout", "spectrum", "edge_layout", "global")
_S = 64
_G = 4


def block_slices() -> dict[str, slice]:
    """Where each block lies in the 409-dimensional embedding."""
    out, start = {}, 0
    for name, dim in BLOCK_DIMS.items():
        out[name] = slice(start, start + dim)
        start += dim
    return out


def partial_dims() -> np.ndarray:
    """Indices into the embedding of :data:`GUIDED_BLOCKS`, in the order :func:`partial_embedding` returns them."""
    s = block_slices()
    return np.concatenate([np.arange(s[b].start, s[b].stop) for b in GUIDED_BLOCKS])


def _srgb_to_lab_8bit(rgb: Any) -> Any:
    """OpenCV's ``COLOR_RGB2Lab`` for 8-bit images, in float: sRGB gamma, D65 XYZ, L·255/100, a + 128, b + 128."""
    import torch

    c = rgb / 255.0
    lin = torch.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055).clamp_min(1e-8) ** 2.4)
    m = torch.tensor([[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169],
                      [0.019334, 0.119193, 0.950227]], dtype=rgb.dtype, device=rgb.device)
    xyz = torch.einsum("ij,njhw->nihw", m, lin)
    white = torch.tensor([0.950456, 1.0, 1.088754], dtype=rgb.dtype, device=rgb.device)[None, :, None, None]
    t = xyz / white
    eps = 0.008856
    f = torch.where(t > eps, t.clamp_min(1e-8) ** (1.0 / 3.0), 7.787 * t + 16.0 / 116.0)
    big_l = torch.where(t[:, 1] > eps, 116.0 * f[:, 1] - 16.0, 903.3 * t[:, 1])
    a = 500.0 * (f[:, 0] - f[:, 1])
    b = 200.0 * (f[:, 1] - f[:, 2])
    return torch.stack([big_l * 255.0 / 100.0, a + 128.0, b + 128.0], dim=1)


def partial_blocks(frames: Any) -> dict[str, Any]:
    """The weighted :data:`GUIDED_BLOCKS` of each frame (N, dim) as the encoder computes them (differentiable)."""
    import torch
    import torch.nn.functional as F

    x = frames
    if x.shape[-2:] != (_S, _S):
        x = F.adaptive_avg_pool2d(x, (_S, _S))
    rgb = ((x.clamp(-1.0, 1.0) + 1.0) * 127.5)
    n = rgb.shape[0]
    lab = _srgb_to_lab_8bit(rgb)  # (N, 3, S, S)
    gray = lab[:, 0]
    blocks: dict[str, Any] = {}

    cells = F.avg_pool2d(lab, _S // _G).permute(0, 2, 3, 1).reshape(n, _G * _G, 3)
    scale = torch.tensor([64.0, 32.0, 32.0], dtype=x.dtype, device=x.device)
    blocks["colour_layout"] = ((cells - 128.0) / scale).clamp(-2, 2).reshape(n, -1) / np.sqrt(_G * _G)

    gx = torch.zeros_like(gray)
    gy = torch.zeros_like(gray)
    gx[:, :, 1:-1] = gray[:, :, 2:] - gray[:, :, :-2]
    gy[:, 1:-1, :] = gray[:, 2:, :] - gray[:, :-2, :]
    mag = torch.sqrt(gx * gx + gy * gy + 1e-6)

    window = torch.from_numpy(_WINDOW).to(x)
    centred = (gray - gray.mean(dim=(1, 2), keepdim=True)) * window
    power = torch.fft.rfft2(centred).abs().reshape(n, -1) ** 2
    band = torch.from_numpy(_BAND)
    keep = band >= 0
    sums = torch.zeros(n, 24, dtype=x.dtype, device=x.device).index_add_(1, band[keep], power[:, keep])
    counts = torch.bincount(band[keep], minlength=24).to(x)
    logp = torch.log(sums / counts + 1e-3) - torch.from_numpy(_PRIOR).to(x)
    logp = logp - logp.mean(dim=1, keepdim=True)
    blocks["spectrum"] = logp / logp.norm(dim=1, keepdim=True).clamp_min(1e-6)

    edge = F.avg_pool2d(mag[:, None], _S // _G).reshape(n, -1)
    blocks["edge_layout"] = (torch.log1p(edge) - 2.0) / 2.0 / np.sqrt(_G * _G)

    flat = lab.reshape(n, 3, -1)
    r, g, bl = rgb[:, 0].reshape(n, -1), rgb[:, 1].reshape(n, -1), rgb[:, 2].reshape(n, -1)
    rg = r - g
    yb = 0.5 * (r + g) - bl
    colourful = torch.sqrt(rg.std(1, unbiased=False) ** 2 + yb.std(1, unbiased=False) ** 2 + 1e-6) \
        + 0.3 * torch.sqrt(rg.mean(1) ** 2 + yb.mean(1) ** 2 + 1e-6)
    hi = torch.maximum(torch.maximum(r, g), bl)
    lo = torch.minimum(torch.minimum(r, g), bl)
    sat = torch.where(hi > 0, (hi - lo) / hi.clamp_min(1e-6) * 255.0, torch.zeros_like(hi))  # OpenCV's HSV S
    stats = torch.stack([
        (flat[:, 0].mean(1) - 128.0) / 64.0,
        (flat[:, 1].mean(1) - 128.0) / 16.0,
        (flat[:, 2].mean(1) - 128.0) / 16.0,
        flat[:, 0].std(1, unbiased=False) / 32.0 - 1.0,
        flat[:, 1].std(1, unbiased=False) / 8.0 - 1.0,
        flat[:, 2].std(1, unbiased=False) / 8.0 - 1.0,
        sat.mean(1) / 64.0 - 1.0,
        colourful / 40.0 - 1.0,
    ], dim=1)
    blocks["global"] = stats.clamp(-2.0, 2.0) / np.sqrt(8.0)
    return {k: blocks[k] * float(np.sqrt(BLOCK_WEIGHTS[k])) for k in GUIDED_BLOCKS}


def partial_embedding(frames: Any) -> Any:
    """(N, len(partial_dims())) the guided blocks of each frame, concatenated in the encoder's order."""
    import torch

    blocks = partial_blocks(frames)
    return torch.cat([blocks[k] for k in GUIDED_BLOCKS], dim=1)
