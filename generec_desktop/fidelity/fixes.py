"""One-click fixes for what the checks found: blur tracked faces/plates, restore shifted face colours.

* :func:`track_regions` finds faces (and licence plates) every few frames of a video and links the
  detections into tracks with a time span, so a blur covers a face from the moment it appears to the
  moment it leaves, boxes interpolated in between (a detector that misses a frame leaves no gap).
* :func:`blur_tracked` re-encodes a video with those tracks blurred or pixelated.
* :func:`restore_face_colours` puts the original's colours back into the faces of a styled video
  (the style's texture stays: only the face's mean lightness and its chroma return to the original's).

The version-level wrappers (a new pending version each, undoable like any other) are
``fidelity.export.blur_version``, ``restore_faces_version`` and ``set_version_licence``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from generec_desktop.fidelity.checks import _iou, blur_regions, detect_faces, detect_plates
from generec_desktop.jobs import CancelToken, GenerecError, Progress, Steps, check_cancel, report

if TYPE_CHECKING:
    from generec_desktop.media import MediaInfo

__all__ = ["FixError", "Track", "blur_tracked", "restore_face_colours", "track_regions"]

Box = tuple[int, int, int, int]


class FixError(GenerecError):
    """A fix that does not apply (nothing to blur, a version whose frames are not the original's)."""


@dataclass
class Track:
    """One face or plate followed over time: detections ``keys`` = [(t, x, y, w, h)] in the video's pixels."""

    kind: str
    keys: list[tuple[float, int, int, int, int]] = field(default_factory=list)
    step: float = 0.0  # seconds between two detections: the span is held this long on each side

    @property
    def start(self) -> float:
        return max(0.0, self.keys[0][0] - self.step)

    @property
    def end(self) -> float:
        return self.keys[-1][0] + self.step

    def box_at(self, t: float) -> Box | None:
        """The box at ``t`` (interpolated between detections, held near the ends), or None outside the span."""
        if not (self.start - 1e-6 <= t <= self.end + 1e-6):
            return None
        k = np.asarray(self.keys, np.float64)
        return tuple(round(float(np.interp(t, k[:, 0], k[:, i]))) for i in range(1, 5))  # type: ignore[return-value]

    def to_dict(self, width: int, height: int) -> dict[str, Any]:
        """The track as version.json records it: seconds and fractions of the frame."""
        return {"kind": self.kind, "start": round(self.start, 3), "end": round(self.end, 3),
                "keys": [[round(t, 3), round(x / width, 4), round(y / height, 4), round(w / width, 4),
                          round(h / height, 4)] for t, x, y, w, h in self.keys]}


def _link(tracks: list[Track], kind: str, t: float, boxes: list[Box], step: float) -> None:
    """Add this moment's boxes to the open tracks of ``kind`` they overlap, or start new tracks."""
    open_ = [tr for tr in tracks if tr.kind == kind and t - tr.keys[-1][0] <= 3.5 * step]
    used: set[int] = set()
    for b in boxes:
        best, score = None, 0.0
        for i, tr in enumerate(open_):
            if i in used:
                continue
            last = tr.keys[-1][1:]
            s = _iou(last, b)
            cx, cy = b[0] + b[2] / 2, b[1] + b[3] / 2
            near = abs(cx - (last[0] + last[2] / 2)) < 0.6 * max(b[2], last[2]) and \
                abs(cy - (last[1] + last[3] / 2)) < 0.6 * max(b[3], last[3])
            if (s > 0.1 or near) and s >= score:
                best, score = i, s + (0.01 if near else 0.0)
        if best is None:
            tracks.append(Track(kind, [(t, *b)], step))
        else:
            used.add(best)
            open_[best].keys.append((t, *b))


def track_regions(path: str | Path, *, kinds: tuple[str, ...] = ("face", "plate"), every_s: float = 0.12,
                  max_side: int = 480, progress: Progress | None = None,
                  cancel: CancelToken | None = None) -> tuple[list[Track], tuple[int, int]]:
    """Faces/plates of a video followed over time: (tracks in the video's pixels, (width, height)).

    Detection runs on a frame every ``every_s`` seconds (at ``max_side`` pixels); each track's span
    reaches one detection step beyond its first and last detection, so the frames in between are covered.
    """
    from generec_desktop import media

    info = media.probe(path)
    w, h = int(info.width), int(info.height)
    tracks: list[Track] = []
    next_t = 0.0
    total = max(1.0, float(info.duration))
    step = max(every_s, 1.0 / max(info.fps, 1.0))
    frames = media.iter_frames(path, max_side=max_side)
    try:
        for fr in frames:
            check_cancel(cancel)
            if fr.timestamp + 1e-6 < next_t:
                continue
            next_t = fr.timestamp + every_s
            s = w / fr.image.shape[1]
            for kind, boxes in (("face", detect_faces(fr.image) if "face" in kinds else []),
                                ("plate", detect_plates(fr.image) if "plate" in kinds else [])):
                scaled: list[Box] = [(round(b[0] * s), round(b[1] * s), round(b[2] * s), round(b[3] * s))
                                     for b in boxes]
                _link(tracks, kind, fr.timestamp, scaled, step)
            report(progress, min(0.99, fr.timestamp / total), f"Tracking faces at {fr.timestamp:.1f} s")
    finally:
        close = getattr(frames, "close", None)  # a generator: stop its decoder now, not at garbage collection
        if close is not None:
            close()
    # a single detection flanked by none is kept (a face seen once is still a face), spans held by a step
    report(progress, 1.0, f"{len(tracks)} region(s) tracked")
    return tracks, (w, h)


def blur_tracked(src: str | Path, dst: str | Path, tracks: list[Track], *, method: str = "blur", crf: int = 20,
                 progress: Progress | None = None, cancel: CancelToken | None = None) -> MediaInfo:
    """Re-encode ``src`` to ``dst`` with every track's box blurred (or pixelated) over its time span."""
    from generec_desktop import media

    if method not in ("blur", "pixelate"):
        raise FixError(f"Unknown blur method {method!r}; use blur or pixelate.")

    def fn(rgb: np.ndarray, t: float) -> np.ndarray:
        boxes = [b for b in (tr.box_at(t) for tr in tracks) if b is not None]
        return blur_regions(rgb, boxes, pad=0.25, method=method) if boxes else rgb

    return media.transform_video(src, dst, fn, crf=crf, progress=progress, cancel=cancel)


def _face_mask(shape: tuple[int, ...], boxes: list[Box]) -> np.ndarray:
    """A soft elliptical mask (0..1) over each face box, feathered so no seam shows."""
    import cv2

    h, w = shape[:2]
    m = np.zeros((h, w), np.float32)
    for x, y, bw, bh in boxes:
        cv2.ellipse(m, (int(x + bw / 2), int(y + bh / 2)), (max(1, int(bw * 0.5)), max(1, int(bh * 0.6))),
                    0, 0, 360, 1.0, -1)
    k = max(3, (min(h, w) // 40) | 1)
    return np.asarray(cv2.GaussianBlur(m, (k, k), 0))


def restore_face_colours(version: str | Path, original: str | Path, dst: str | Path, *, time_offset: float = 0.0,
                         every_s: float = 0.2, crf: int = 20, progress: Progress | None = None,
                         cancel: CancelToken | None = None) -> tuple[MediaInfo, int]:
    """Write ``dst``: ``version`` with its faces' colours back to the original's; returns (info, frames fixed).

    The version's frame at t shows the original at ``t + time_offset`` in the same geometry (a style,
    not a reframe). Faces are found on the original every ``every_s`` seconds; inside a soft mask
    over each face the version keeps its own texture (its lightness minus its mean) on the original's
    mean lightness, and takes the original's chroma (CIE Lab a*, b*): the skin tone is the original's.
    """
    import cv2

    from generec_desktop import media

    vinfo, oinfo = media.probe(version), media.probe(original)
    if abs(vinfo.width / max(vinfo.height, 1) - oinfo.width / max(oinfo.height, 1)) > 0.02:
        raise FixError("This version is a crop of its original (a reframe): its faces' colours cannot be put "
                       "back frame by frame; restyle the original with face-aware styling instead.")
    steps = Steps(progress, {"encode": 1})
    orig_iter = media.iter_frames(original, start=time_offset)
    state: dict[str, Any] = {"cur": None, "boxes": [], "next": 0.0, "fixed": 0}

    def original_at(t: float) -> np.ndarray | None:
        cur = state["cur"]
        while cur is None or cur.timestamp < t + time_offset - 1e-3:
            nxt = next(orig_iter, None)
            if nxt is None:
                break
            cur = nxt
        state["cur"] = cur
        return None if cur is None else cur.image

    def fn(rgb: np.ndarray, t: float) -> np.ndarray:
        o = original_at(t)
        if o is None:
            return rgb
        if o.shape != rgb.shape:
            o = cv2.resize(o, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_AREA)
        if t + 1e-6 >= state["next"]:
            state["boxes"], state["next"] = detect_faces(o), t + every_s
        if not state["boxes"]:
            return rgb
        m = _face_mask(rgb.shape, state["boxes"])
        lab_v = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab).astype(np.float32)
        lab_o = cv2.cvtColor(o, cv2.COLOR_RGB2Lab).astype(np.float32)
        out = lab_v.copy()
        sel = m > 0.5
        if sel.any():
            out[..., 0] = lab_v[..., 0] - float(lab_v[..., 0][sel].mean()) + float(lab_o[..., 0][sel].mean())
        out[..., 1:] = lab_o[..., 1:]
        mixed = lab_v * (1 - m[..., None]) + out * m[..., None]
        state["fixed"] += 1
        return np.asarray(cv2.cvtColor(mixed.clip(0, 255).astype(np.uint8), cv2.COLOR_Lab2RGB))

    try:
        info = media.transform_video(version, dst, fn, crf=crf, progress=steps["encode"], cancel=cancel)
    finally:
        close = getattr(orig_iter, "close", None)
        if close is not None:
            close()
    return info, int(state["fixed"])
