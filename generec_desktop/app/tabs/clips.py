"""Clips tab: each audience's clip (Eq. 2) as a range on a timeline strip — playable, adjustable, exportable.

A clip's range is edited by dragging its handles on the timeline (snapping to shot cuts), by the Start/End
boxes, or with the preview's I/O keys; each edit is one command on the window's undo stack.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from generec_desktop.app.commands import AddVersionCommand, SetValueCommand
from generec_desktop.app.compare import ResultBar, announce
from generec_desktop.app.preview import format_time
from generec_desktop.app.tabs._personal import JOB_KEY, personalize_blocker, start_personalize
from generec_desktop.app.timeline import TrimTimeline
from generec_desktop.app.versions import ensure_results
from generec_desktop.app.widgets import PALETTE, FeatureTab, Notice, add_action, local_preview

REFRAMES = (("Original frame", None), ("Vertical 9:16", "9:16"), ("Square 1:1", "1:1"), ("Wide 16:9", "16:9"))


class ClipsTab(FeatureTab):
    """Per-audience clip ranges of the current item; the ranges are edits (undoable) until exported."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.results = ensure_results(window)
        self.results.updated.connect(lambda item_id: self.show_results())
        self.ranges: dict[str, tuple[float, float]] = {}  # audience id -> (start, end), as edited
        self.scores: dict[str, float] = {}
        self.duration = 0.0
        self._play_end: float | None = None

        self.compute_button = QPushButton("Compute thumbnails && clips")
        self.compute_button.clicked.connect(lambda: start_personalize(self))
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(lambda: self.cancel(JOB_KEY))
        top = QHBoxLayout()
        top.addWidget(self.compute_button)
        top.addWidget(self.cancel_button)
        top.addStretch(1)

        # the clip choice's verdict (one scene, scores within the noise, diversified), above the timeline
        self.choice_notice = Notice()
        self.choice_notice.setObjectName("choiceNotice")
        self.timeline = TrimTimeline()
        self.timeline.setObjectName("clipsTimeline")
        self.timeline.seek_requested.connect(lambda t: self.preview.seek_time(t))
        self.timeline.track_clicked.connect(self._select_row)
        self.timeline.range_edited.connect(self._trimmed)
        # while an edge is dragged the preview shows the frame at it (the end: the clip's last frame)
        self.timeline.range_dragging.connect(
            lambda row, edge, t: self.preview.seek_time(t if edge == "start" else max(0.0, t - 1e-3)))
        self.table = QTreeWidget()
        self.table.setHeaderLabels(["Audience", "Start", "End", "Length", "Eq. 2 score", "Snapped to cut"])
        self.table.setRootIsDecorated(False)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.table.itemDoubleClicked.connect(lambda *_: self.play_selected())
        self.table.setColumnWidth(0, 260)

        self.start_spin = QDoubleSpinBox()
        self.end_spin = QDoubleSpinBox()
        for spin, name in ((self.start_spin, "start"), (self.end_spin, "end")):
            spin.setDecimals(2)
            spin.setSuffix(" s")
            spin.setSingleStep(0.1)
            spin.setKeyboardTracking(False)
            spin.valueChanged.connect(lambda v, n=name: self._edit_range(n, v))
        self.reframe = QComboBox()
        for text, value in REFRAMES:
            self.reframe.addItem(text, value)
        self.play_button = QPushButton("▶ Play clip")
        self.play_button.clicked.connect(self.play_selected)
        self.export_button = QPushButton("Make clip version")
        self.export_button.setToolTip("Cut the clip (frame-exact, with its audio) into a pending version "
                                      "(Ctrl+Shift+L)")
        self.export_button.clicked.connect(self.export_selected)
        edit_row = QHBoxLayout()
        for w in (QLabel("Start"), self.start_spin, QLabel("End"), self.end_spin, QLabel("Reframe"), self.reframe,
                  self.play_button, self.export_button):
            edit_row.addWidget(w)
        edit_row.addStretch(1)

        self.preview = local_preview()
        self.preview.frame_shown.connect(self._on_frame)
        self.preview.range_marked.connect(self._marked)
        self.result_bar = ResultBar(window)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.table, 1)
        left_layout.addLayout(edit_row)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.preview)
        split.addWidget(left)
        split.setSizes([420, 260])

        layout = QVBoxLayout(self)
        layout.addWidget(self.notice)
        layout.addLayout(top)
        layout.addWidget(self.choice_notice)
        layout.addWidget(self.result_bar)
        layout.addWidget(self.timeline)
        layout.addWidget(split, 1)
        add_action(window, "&Actions", "Make C&lip Version", self.export_selected, "Ctrl+Shift+L",
                   "Cut the selected audience's clip into a pending version")
        self.refresh()

    # state ------------------------------------------------------------------------------------
    def refresh(self) -> None:
        blocker = personalize_blocker(self)
        running = JOB_KEY in self.running
        has = bool(self.ranges)
        if running:
            self.notice.set_text("Computing clips… (Eq. 2 windows over the sampled frames, snapped to shot cuts)")
        elif blocker:
            self.notice.set_text(blocker)
        elif not has:
            self.notice.set_text("Ready: click <b>Compute thumbnails &amp; clips</b> (Ctrl+T).")
        else:
            self.notice.set_text("")
        self.compute_button.setEnabled(not blocker and not running)
        self.cancel_button.setEnabled(running)
        selected = self.selected_audience() is not None
        for w in (self.start_spin, self.end_spin, self.play_button, self.export_button, self.reframe):
            w.setEnabled(selected)

    def on_item(self, item_id: int) -> None:
        ws = self.ws
        if ws is not None:
            item = self.window_.item_record(item_id)
            self.preview.set_video(ws.media_path(item))
            self.duration = float(item.duration or 0.0)
        self.show_results()

    def on_workspace(self, ws: Any) -> None:
        self.preview.set_video(None)
        self.ranges.clear()
        self.show_results()

    def show_results(self) -> None:
        result = self.results.get(self.window_.current_item_id)
        self.ranges.clear()
        self.scores.clear()
        self.snapped: dict[str, str] = {}
        self.timeline.set_cuts(getattr(result, "cut_times", None))
        rep = getattr(result, "clip_choice", None)
        if rep is not None and rep.message:
            self.choice_notice.set_text(rep.message[0].upper() + rep.message[1:] + ".",
                                        "info" if rep.real_choice else "warn")
        else:
            self.choice_notice.set_text("")
        if result is not None:
            for aud in result.audiences:
                if aud.clip is not None:
                    self.ranges[aud.audience_id] = (aud.clip.start, aud.clip.end)
                    self.scores[aud.audience_id] = aud.clip.score
                    self.snapped[aud.audience_id] = ", ".join(
                        s for s, on in (("start", aud.clip.snapped_start), ("end", aud.clip.snapped_end)) if on) or "—"
        self._fill_table()
        if self.table.topLevelItemCount():
            self.table.setCurrentItem(self.table.topLevelItem(0))
        self.refresh()

    def _fill_table(self) -> None:
        current = self.selected_audience()
        self.table.blockSignals(True)
        self.table.clear()
        tracks = []
        for k, (aid, (start, end)) in enumerate(self.ranges.items()):
            colour = PALETTE[k % len(PALETTE)]
            row = QTreeWidgetItem([self.audience_label(aid), format_time(start), format_time(end),
                                   f"{end - start:.2f} s", f"{self.scores.get(aid, 0.0):.3f}",
                                   self.snapped.get(aid, "—")])
            row.setData(0, Qt.ItemDataRole.UserRole, aid)
            row.setForeground(0, QColor(colour))
            self.table.addTopLevelItem(row)
            tracks.append((self.audience_label(aid), start, end, colour))
            if aid == current:
                self.table.setCurrentItem(row)
        self.table.blockSignals(False)
        self.timeline.set_tracks(self.duration, tracks)

    def selected_audience(self) -> str | None:
        row = self.table.currentItem()
        return None if row is None else row.data(0, Qt.ItemDataRole.UserRole)

    def _select_row(self, row: int) -> None:
        if 0 <= row < self.table.topLevelItemCount():
            self.table.setCurrentItem(self.table.topLevelItem(row))

    def _on_selection(self, *, seek: bool = True) -> None:
        aid = self.selected_audience()
        if aid is not None and aid in self.ranges:
            start, end = self.ranges[aid]
            for spin, value in ((self.start_spin, start), (self.end_spin, end)):
                spin.blockSignals(True)
                spin.setRange(0.0, max(self.duration, end))
                spin.setValue(value)
                spin.blockSignals(False)
            if seek:
                self.preview.seek_time(start)
            self.preview.set_marks(start, end)
        self.refresh()

    # edits (undoable) ---------------------------------------------------------------------------
    def set_range(self, audience_id: str, start: float, end: float) -> None:
        """Change a clip's range through the undo stack."""
        old = self.ranges.get(audience_id)
        if old is None or (start, end) == old:
            return
        if end - start < 0.1:
            self.window_.show_error("Clip too short", "A clip must end at least 0.1 s after it starts.")
            self._on_selection()
            return

        def apply(value: tuple[float, float], aid: str = audience_id) -> None:
            self.ranges[aid] = value
            self._fill_table()
            if self.selected_audience() == aid:
                self._on_selection(seek=False)  # the playhead stays where the edit was made

        self.window_.undo_stack.push(SetValueCommand(f"Change the clip of {self.audience_label(audience_id)}",
                                                     apply, old, (start, end)))

    def _trimmed(self, row: int, start: float, end: float) -> None:
        """A handle was dragged on the timeline: one undoable change of that clip."""
        item = self.table.topLevelItem(row)
        if item is not None:
            self.set_range(item.data(0, Qt.ItemDataRole.UserRole), round(start, 3), round(end, 3))

    def _marked(self, in_point: float | None, out_point: float | None) -> None:
        """I/O in the preview: the selected clip starts at the in point / ends at the out point."""
        aid = self.selected_audience()
        if aid is None or aid not in self.ranges:
            self.window_.statusBar().showMessage("Select a clip first: I and O set its start and end", 4000)
            return
        start, end = self.ranges[aid]
        new = (in_point if in_point is not None else start, out_point if out_point is not None else end)
        if new[1] - new[0] < 0.1:
            self.window_.statusBar().showMessage("The out point must be after the in point", 4000)
            self.preview.set_marks(start, end)
            return
        self.set_range(aid, round(new[0], 3), round(new[1], 3))

    def _edit_range(self, which: str, value: float) -> None:
        aid = self.selected_audience()
        if aid is None or aid not in self.ranges:
            return
        start, end = self.ranges[aid]
        self.set_range(aid, value if which == "start" else start, value if which == "end" else end)

    # playback and export ------------------------------------------------------------------------
    def play_selected(self) -> None:
        aid = self.selected_audience()
        if aid is None:
            return
        start, end = self.ranges[aid]
        self.preview.seek_time(start)
        self._play_end = end
        if not self.preview.playing:
            self.preview.toggle_play()

    def _on_frame(self, index: int, t: float) -> None:
        self.timeline.set_cursor(t)
        if self._play_end is not None and self.preview.playing and t >= self._play_end - 1e-6:
            self.preview.pause()
            self._play_end = None

    def export_selected(self) -> Any:
        """Cut the selected clip into a pending version, in the background; undoable."""
        aid = self.selected_audience()
        ws, item_id = self.ws, self.window_.current_item_id
        if aid is None or ws is None or item_id is None:
            self.window_.statusBar().showMessage("Select a clip first", 4000)
            return None
        start, end = self.ranges[aid]
        reframe = self.reframe.currentData()
        label = self.audience_label(aid)

        score = self.scores.get(aid)

        def job(progress: Any, cancel: Any) -> Any:
            from generec_desktop.versions import clip_version

            return clip_version(ws, item_id, start, end, reframe=reframe, score=score, target_profile=aid,
                                label=label, progress=progress, cancel=cancel)

        def done(pv: Any) -> None:
            self.window_.undo_stack.push(AddVersionCommand(self.versions, pv, f"Make clip for {label}"))
            announce(self, pv)

        return self.submit(f"clip:{aid}", f"Cut clip for {label}", job, done, "Cannot cut the clip")

    def closeEvent(self, event: Any) -> None:
        self.preview.close_source()
        super().closeEvent(event)
