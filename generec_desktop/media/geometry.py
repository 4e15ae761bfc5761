"""How a coded picture is shown: its sample aspect ratio and its display matrix (rotation, mirroring).

Players show a coded W×H picture with a non-square sample aspect ratio (SAR, e.g. anamorphic DV or HDV)
stretched to its display size, then turned and mirrored as the display matrix says (a phone's rotation
flag, a front camera's mirror). Every reader here does the same, so frames, ``MediaInfo.width/height``
and outputs are all in display geometry, with square pixels.
"""

from __future__ import annotations

import struct
from fractions import Fraction

import av
import av.sidedata.sidedata
import numpy as np

__all__ = ["MAX_SAR", "display_size", "orient", "orientation_of", "sample_aspect"]

_DISPLAYMATRIX = av.sidedata.sidedata.Type.DISPLAYMATRIX
#: a sample aspect ratio beyond [1/MAX_SAR, MAX_SAR] is taken for damage and ignored (real ones: 8:9 … 2:1)
MAX_SAR = 4


def sample_aspect(stream: av.video.stream.VideoStream) -> Fraction:
    """The stream's sample (pixel) aspect ratio as FFmpeg guesses it (container first, then the codec's),
    1 when it is unknown or implausible (a damaged header must not blow a frame up)."""
    try:
        sar = stream.sample_aspect_ratio
    except (ValueError, ZeroDivisionError):
        return Fraction(1)
    if not sar or not Fraction(1, MAX_SAR) <= sar <= MAX_SAR:
        return Fraction(1)
    return Fraction(sar)


def display_size(width: int, height: int, sar: Fraction | None) -> tuple[int, int]:
    """The size a ``width``×``height`` picture with ``sar`` is shown at, before any rotation.

    The stretched axis is enlarged (as mpv does), never shrunk, so no coded detail is lost:
    64×48 at 2:1 shows 128×48, 64×48 at 1:2 shows 64×96.
    """
    if not sar or sar == 1:
        return width, height
    if sar > 1:
        return max(1, round(width * sar)), height
    return width, max(1, round(height / sar))


def orientation_of(frame: av.VideoFrame) -> tuple[int, bool]:
    """``(rotation, mirrored)`` that ``frame``'s display matrix asks for: turn the picture ``rotation``
    degrees clockwise (0/90/180/270), then mirror it left-right when ``mirrored``.

    Read from the matrix itself (``VideoFrame.rotation`` alone takes a mirror for a 180° turn and
    misses a flip): FFmpeg maps a coded pixel (x, y) to display (a·x + c·y, b·x + d·y) for the matrix
    rows (a b u; c d v; ...). The nearest of the eight right-angle transforms is used, as ffmpeg's
    ``autorotate`` does for right angles.
    """
    sd = frame.side_data.get(_DISPLAYMATRIX)
    if sd is None:
        return 0, False
    raw = bytes(sd)
    if len(raw) < 36:
        return 0, False
    a, b, _, c, d = struct.unpack("=5i", raw[:20])
    if abs(a) + abs(d) >= abs(b) + abs(c):  # no transpose: flips only
        if a == 0 and d == 0:
            return 0, False  # a degenerate (zero) matrix: show the picture as coded
        return (180 if d < 0 else 0), (a < 0) != (d < 0)
    return (90 if b > 0 else 270), (b > 0) == (c > 0)


def orient(image: np.ndarray, rotation: int, mirrored: bool) -> np.ndarray:
    """``image`` turned ``rotation`` degrees clockwise, then mirrored left-right when ``mirrored``."""
    if not rotation and not mirrored:
        return image
    import cv2

    if rotation:
        code = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
        image = cv2.rotate(image, code[rotation])
    if mirrored:
        image = cv2.flip(image, 1)
    return image
