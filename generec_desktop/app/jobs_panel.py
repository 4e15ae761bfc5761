"""The jobs area: one row per running job with a progress bar, the time left, and a Cancel button.

The area keeps one height whatever runs (room for ``VISIBLE_ROWS`` rows; more scroll), and a row's title and
message are cut to the width they get (the whole text in a tooltip): starting a job never moves the buttons
above it nor widens the window.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from generec_desktop.app.widgets import ElidedLabel
from generec_desktop.app.worker import Job, JobManager
from generec_desktop.jobs import eta_text  # shared with the command line's progress bar

VISIBLE_ROWS = 2  # rows shown without scrolling; the area's height is reserved for them even when idle


class _JobRow(QWidget):
    def __init__(self, job: Job, manager: JobManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job_id = job.job_id
        self.eta = ""
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        self.title = ElidedLabel(job.title, min_chars=10)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setMinimumWidth(80)
        self.message = ElidedLabel("", min_chars=6)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop this job; nothing half-done is kept")
        self.cancel_button.clicked.connect(lambda: manager.cancel(self.job_id))
        layout.addWidget(self.title, 3)
        layout.addWidget(self.bar, 2)
        layout.addWidget(self.message, 4)
        layout.addWidget(self.cancel_button)

    def update_from(self, job: Job) -> None:
        self.bar.setValue(round(job.fraction * 1000))
        eta = eta_text(time.monotonic() - job.started, job.fraction) if not job.cancel.cancelled else ""
        self.eta = eta
        self.message.setText(f"{job.message} · {eta}" if job.message and eta else (job.message or eta))
        if job.cancel.cancelled:
            self.cancel_button.setEnabled(False)


class JobsPanel(QWidget):
    """Shows the running jobs of a :class:`JobManager`; finished ones disappear, idle shows a hint."""

    def __init__(self, manager: JobManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._manager = manager
        self._rows: dict[int, _JobRow] = {}
        outer = QVBoxLayout(self)
        outer.setContentsMargins(2, 2, 2, 2)
        host = QWidget()
        self._layout = QVBoxLayout(host)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(0)
        self._idle = QLabel("No jobs running.")
        self._idle.setObjectName("jobsIdle")
        self._layout.addWidget(self._idle)
        self._layout.addStretch(1)
        self.area = QScrollArea()
        self.area.setWidgetResizable(True)
        self.area.setFrameShape(QFrame.Shape.NoFrame)
        self.area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.area.setWidget(host)
        sample = _JobRow(Job(0, "—"), manager)  # only measured
        self.area.setFixedHeight(sample.sizeHint().height() * VISIBLE_ROWS + 2)
        sample.deleteLater()
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        outer.addWidget(self.area)
        manager.job_added.connect(self._add)
        manager.job_changed.connect(self._changed)
        manager.job_finished.connect(self._finished)

    def rows(self) -> list[_JobRow]:
        return list(self._rows.values())

    def _add(self, job: Job) -> None:
        row = _JobRow(job, self._manager, self)
        self._rows[job.job_id] = row
        self._layout.insertWidget(self._layout.count() - 1, row)
        self._idle.setVisible(False)

    def _changed(self, job: Job) -> None:
        row = self._rows.get(job.job_id)
        if row is not None:
            row.update_from(job)

    def _finished(self, job: Job) -> None:
        row = self._rows.pop(job.job_id, None)
        if row is not None:
            row.setParent(None)
            row.deleteLater()
        self._idle.setVisible(not self._rows)
