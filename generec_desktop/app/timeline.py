"""The Clips tab's timeline with trim handles: drag a clip's start or end, snapping to shot cuts.

A drag changes the drawn range only; the release emits ``range_edited(row, start, end)`` once, which the
tab turns into one undoable command. Shot cuts are drawn as ticks under the ruler; an edge dragged
within ``SNAP_PX`` pixels of a cut (or of the video's start or end) lands exactly on it; hold Shift to
place it freely.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPolygonF
from PySide6.QtWidgets import QWidget

from generec_desktop.app.qtfix import emit
from generec_desktop.app.widgets import TimelineStrip

SNAP_PX = 8
HANDLE_PX = 7  # how close to an edge a press grabs it
MIN_CLIP_S = 0.1  # a clip's shortest length (as ClipsTab.set_range requires)


class TrimTimeline(TimelineStrip):
    """:class:`TimelineStrip` whose tracks have draggable start/end handles."""

    range_edited = Signal(int, float, float)  # row, start, end (on release, when changed)
    range_dragging = Signal(int, str, float)  # row, "start" | "end", the edge's time (while dragging)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cuts = np.zeros(0)
        self._drag: tuple[int, str, float, float] | None = None  # row, edge, original start, end
        self.setMouseTracking(True)
        self.setToolTip("Each row is an audience's clip: drag its ends to trim (snaps to shot cuts; "
                        "Shift: no snapping), click to seek, click a range to select it")

    def set_cuts(self, times: Any) -> None:
        """The shot cuts (seconds) that edges snap to."""
        self.cuts = np.asarray(times if times is not None else [], np.float64)
        self.update()

    def handle_x(self, row: int, edge: str) -> float:
        """The x of a track's start or end handle (for tests and hit-testing)."""
        _, start, end, _ = self.tracks[row]
        return self._x(start if edge == "start" else end)

    def row_y(self, row: int) -> float:
        return 22 + row * self.TRACK_H + self.TRACK_H / 2

    def snap(self, t: float, *, free: bool = False) -> float:
        """``t`` moved onto the nearest cut, the start or the end when within SNAP_PX pixels."""
        t = float(np.clip(t, 0.0, self.duration))
        if free or self.duration <= 0:
            return t
        targets = np.concatenate([self.cuts, [0.0, self.duration]])
        px = np.abs(np.array([self._x(c) for c in targets]) - self._x(t))
        k = int(np.argmin(px))
        return float(targets[k]) if px[k] <= SNAP_PX else t

    def _hit(self, x: float, y: float) -> tuple[int, str] | None:
        row = int((y - 22) // self.TRACK_H)
        if not 0 <= row < len(self.tracks) or x < self._label_w() - HANDLE_PX:
            return None
        d_start, d_end = abs(x - self.handle_x(row, "start")), abs(x - self.handle_x(row, "end"))
        if min(d_start, d_end) > HANDLE_PX:
            return None
        return row, "start" if d_start < d_end else "end"

    # painting ---------------------------------------------------------------------------------------
    def paintEvent(self, event: Any) -> None:
        super().paintEvent(event)
        if self.duration <= 0:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QColor("#9e9e9e"))
        for c in self.cuts:
            x = self._x(float(c))
            p.drawLine(QPointF(x, 17), QPointF(x, self.height()))
        for row, (_, _, _, colour) in enumerate(self.tracks):
            y = 22 + row * self.TRACK_H
            for edge in ("start", "end"):
                x = self.handle_x(row, edge)
                grabbed = self._drag is not None and self._drag[:2] == (row, edge)
                p.setPen(QColor("#212121"))
                p.setBrush(QColor("#ffd54f") if grabbed else QColor(colour).lighter(150))
                p.drawRect(QRectF(x - 3, y + 1, 6, self.TRACK_H - 2))
                arrow = -1 if edge == "start" else 1
                p.drawPolygon(QPolygonF([QPointF(x + arrow * 6, y + self.TRACK_H / 2),
                                         QPointF(x + arrow * 3, y + self.TRACK_H / 2 - 3),
                                         QPointF(x + arrow * 3, y + self.TRACK_H / 2 + 3)]))
        p.end()

    # mouse ------------------------------------------------------------------------------------------
    def mousePressEvent(self, event: Any) -> None:
        pos = event.position()
        hit = self._hit(pos.x(), pos.y()) if event.button() == Qt.MouseButton.LeftButton else None
        if hit is None:
            super().mousePressEvent(event)
            return
        row, edge = hit
        _, start, end, _ = self.tracks[row]
        self._drag = (row, edge, start, end)
        emit(self.track_clicked, row)
        self.update()

    def mouseMoveEvent(self, event: Any) -> None:
        pos = event.position()
        if self._drag is None:
            hit = self._hit(pos.x(), pos.y())
            self.setCursor(Qt.CursorShape.SizeHorCursor if hit else Qt.CursorShape.ArrowCursor)
            return
        row, edge, _, _ = self._drag
        label, start, end, colour = self.tracks[row]
        free = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        t = self.snap(self.time_at(pos.x()), free=free)
        if edge == "start":
            start = min(t, end - MIN_CLIP_S)
            t = start
        else:
            end = max(t, start + MIN_CLIP_S)
            t = end
        self.tracks[row] = (label, max(0.0, start), min(self.duration, end), colour)
        emit(self.range_dragging, row, edge, t)
        self.update()

    def mouseReleaseEvent(self, event: Any) -> None:
        if self._drag is None:
            super().mouseReleaseEvent(event)
            return
        row, _, old_start, old_end = self._drag
        self._drag = None
        _, start, end, _ = self.tracks[row]
        self.update()
        if (start, end) != (old_start, old_end):
            emit(self.range_edited, row, float(start), float(end))
