"""What a version was *meant* to change, read from its ``version.json``, so the checks judge only the rest.

A clip shows the original from ``start``; a reframe shows a moving crop of it; a style changes colours
and textures over a time range; a blur hides regions on purpose. :func:`intended_edit` turns a version's
operation and parameters into an :class:`Intended` edit, and :func:`aligned_original` applies the same
time shift and crop to a frame of the original, so authenticity compares like with like (a 9:16 reframe of a
clip is compared with the same 9:16 window of the original at the same moment, not with the whole frame at
the clip's time 0). A reframe made before the crop path was recorded is aligned by finding the version's
frame inside the original's (:func:`estimate_crop`, normalised cross-correlation at the known crop size).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Intended", "aligned_original", "estimate_crop", "format_time", "intended_edit"]

#: Operations whose purpose is an appearance change (colours, textures): structure is judged, not colour.
APPEARANCE_OPERATIONS = frozenset({"style", "revise", "restore_faces"})


def format_time(seconds: float) -> str:
    """``m:ss`` (``0:03``), or ``m:ss.s`` below ten seconds when a tenth matters (``0:03.5``)."""
    seconds = max(0.0, float(seconds))
    m, s = divmod(seconds, 60.0)
    if m < 1 and abs(s - round(s)) >= 0.05 and s < 10:
        return f"0:{s:04.1f}"
    return f"{int(m)}:{round(s) if round(s) < 60 else 59:02d}"


@dataclass(frozen=True)
class Intended:
    """The requested edit of a version (see the module docstring).

    ``time_offset``: version time t shows the original at ``t + time_offset``. ``crop``: the reframe's
    window, ``{"size": [w, h], "times": [...], "centres": [[cx, cy], ...]}`` in fractions of the
    original's display size and the original's seconds, or None. ``aspect``: the reframe's aspect when
    the window was not recorded (then it is estimated). ``appearance``: colours/textures were meant to
    change (a style); ``styled``: the version-time range the style covers (None: all of it).
    ``blurred``: regions blurred on purpose, ``[{"kind", "start", "end", "keys": [[t, x, y, w, h], ...]}]``
    in version seconds and fractions of the version's size. ``source_time``: the original's moment a
    still (a thumbnail) was taken from.
    """

    operation: str = "edit"
    time_offset: float = 0.0
    crop: dict[str, Any] | None = None
    aspect: str | None = None
    appearance: bool = False
    style: str | None = None
    styled: tuple[float, float | None] | None = None
    blurred: list[dict[str, Any]] = field(default_factory=list)
    source_time: float | None = None

    @property
    def geometric(self) -> bool:
        """The picture is a crop of the original (a reframe)."""
        return self.crop is not None or self.aspect is not None

    def appearance_at(self, t: float) -> bool:
        """Whether version time ``t`` lies where colours were meant to change."""
        if not self.appearance:
            return False
        if self.styled is None:
            return True
        a, b = self.styled
        return a <= t < (b if b is not None else float("inf"))

    def blurred_boxes(self, t: float) -> list[tuple[float, float, float, float]]:
        """Regions (fractions x, y, w, h of the version) blurred on purpose at version time ``t``."""
        out = []
        for tr in self.blurred:
            if float(tr.get("start", 0)) - 0.05 <= t <= float(tr.get("end", 0)) + 0.05 and tr.get("keys"):
                keys = np.asarray(tr["keys"], np.float64)
                out.append(tuple(float(np.interp(t, keys[:, 0], keys[:, k])) for k in range(1, 5)))
        return out  # type: ignore[return-value]

    def describe(self) -> str:
        """The edit in words (``a 9:16 reframe from 0:02``)."""
        parts = []
        if self.operation in ("clip", "blur", "restore_faces") and self.time_offset:
            parts.append(f"a clip from {format_time(self.time_offset)}")
        elif self.operation == "clip":
            parts.append("a clip")
        if self.geometric:
            parts.append(f"reframed to {self.aspect or 'a crop'}")
        if self.appearance and self.style:
            parts.append(f"styled '{self.style}'")
        elif self.appearance:
            parts.append("restyled")
        if self.blurred:
            parts.append("with regions blurred")
        return ", ".join(parts) or "an edit"


def intended_edit(operation: str, params: dict[str, Any] | None, time_offset: float = 0.0) -> Intended:
    """The :class:`Intended` edit of a version from its ``version.json`` operation and parameters.

    ``time_offset`` is the version's recorded offset; a clip's own ``start`` wins over it (reframed clips
    made before this fix recorded 0 although their frames start at ``start``).
    """
    p = dict(params or {})
    base = str(p.get("base_operation") or operation)
    offset = float(time_offset or 0.0)
    clip_start = base == "clip" or (base == "style" and bool(p.get("trim")))
    if clip_start and p.get("start") is not None:
        offset = float(p["start"])
    crop = p.get("crop") if isinstance(p.get("crop"), dict) else None
    aspect = p.get("reframe") if isinstance(p.get("reframe"), str) else None
    appearance = base in APPEARANCE_OPERATIONS or operation in APPEARANCE_OPERATIONS
    styled: tuple[float, float | None] | None = None
    if base == "style" and (p.get("start") or p.get("end") is not None) and not p.get("trim"):
        styled = (float(p.get("start") or 0.0), None if p.get("end") is None else float(p["end"]))
    blurred = [b for b in (p.get("blurred") or []) if isinstance(b, dict)]
    return Intended(operation=operation, time_offset=offset, crop=crop, aspect=aspect, appearance=appearance,
                    style=p.get("style") if isinstance(p.get("style"), str) else None, styled=styled,
                    blurred=blurred,
                    source_time=float(p["timestamp"]) if base == "thumbnail" and p.get("timestamp") is not None
                    else None)


def _recorded_box(crop: dict[str, Any], t_original: float, width: int, height: int) -> tuple[int, int, int, int]:
    """The recorded crop window at original time ``t_original`` in pixels of a ``width``×``height`` frame."""
    sw, sh = (float(v) for v in crop["size"])
    times = np.asarray(crop.get("times") or [0.0], np.float64)
    centres = np.asarray(crop.get("centres") or [[0.5, 0.5]], np.float64)
    cx = float(np.interp(t_original, times, centres[:, 0]))
    cy = float(np.interp(t_original, times, centres[:, 1]))
    cw, ch = max(1, round(sw * width)), max(1, round(sh * height))
    x = int(np.clip(round(cx * width - cw / 2), 0, width - cw))
    y = int(np.clip(round(cy * height - ch / 2), 0, height - ch))
    return x, y, cw, ch


def _aspect_value(aspect: str) -> float | None:
    w, _, h = aspect.partition(":")
    try:
        value = float(w) / float(h)
    except (ValueError, ZeroDivisionError):
        return None
    return value if value > 0 else None


def estimate_crop(version: np.ndarray, original: np.ndarray, aspect: str | None = None
                  ) -> tuple[tuple[int, int, int, int], float]:
    """Where ``version`` sits inside ``original`` as a crop: ((x, y, w, h) in ``original``'s pixels, score).

    The crop is the largest box of the version's aspect inside the original (what the reframe cuts),
    so only its position is searched: normalised cross-correlation of grey images
    (``cv2.matchTemplate``) at that scale; the score is the correlation at the best position (1 = exact).
    """
    import cv2

    oh, ow = original.shape[:2]
    vh, vw = version.shape[:2]
    r = (_aspect_value(aspect) if aspect else None) or vw / max(vh, 1)
    if ow / oh > r:
        ch, cw = oh, max(1, round(oh * r))
    else:
        cw, ch = ow, max(1, round(ow / r))
    s = min(1.0, 160.0 / max(vw, vh))  # search on a small copy: the window position, not the detail
    tw, th = max(8, round(vw * s)), max(8, round(vh * s))
    scale_o = tw / cw  # original pixels -> template pixels
    big = cv2.resize(original, (max(tw, round(ow * scale_o)), max(th, round(oh * scale_o))),
                     interpolation=cv2.INTER_AREA)
    tmpl = cv2.resize(version, (tw, th), interpolation=cv2.INTER_AREA)
    g_big = cv2.cvtColor(big, cv2.COLOR_RGB2GRAY)
    g_t = cv2.cvtColor(tmpl, cv2.COLOR_RGB2GRAY)
    res = cv2.matchTemplate(g_big, g_t, cv2.TM_CCOEFF_NORMED)
    _, score, _, (bx, by) = cv2.minMaxLoc(res)
    x = int(np.clip(round(bx / scale_o), 0, ow - cw))
    y = int(np.clip(round(by / scale_o), 0, oh - ch))
    return (x, y, cw, ch), float(score)


def aligned_original(intended: Intended, original: np.ndarray, version: np.ndarray, t_version: float
                     ) -> tuple[np.ndarray, tuple[int, int, int, int] | None]:
    """The original frame with the version's intended crop applied and resized to the version's size.

    ``original`` is the original's frame at ``t_version + intended.time_offset``. Returns the aligned
    frame and the crop window used (None without a reframe).
    """
    import cv2

    vh, vw = version.shape[:2]
    box: tuple[int, int, int, int] | None = None
    if intended.crop is not None and intended.crop.get("size"):
        box = _recorded_box(intended.crop, t_version + intended.time_offset, original.shape[1], original.shape[0])
    elif intended.aspect is not None:
        box, _ = estimate_crop(version, original, intended.aspect)
    src = original if box is None else original[box[1]:box[1] + box[3], box[0]:box[0] + box[2]]
    if src.shape[:2] != (vh, vw):
        src = cv2.resize(src, (vw, vh), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(src), box
