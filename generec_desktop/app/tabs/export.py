"""Export tab: choose versions, watermark on, export into the corpus, show where each new item would rank."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from generec_desktop.app.versions import version_label
from generec_desktop.app.widgets import STATUS_COLOURS, STATUS_ICONS, FeatureTab, add_action, setting


class ExportTab(FeatureTab):
    """Runs :func:`generec_desktop.fidelity.export.run_export` for the ticked versions, one job for all."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.versions.changed.connect(self.fill_versions)
        self.versions.report_changed.connect(lambda _: self.fill_versions())
        self.last_results: list[Any] = []

        self.list = QListWidget()
        self.list.setObjectName("exportVersions")
        self.list.itemChanged.connect(lambda _: self.refresh())
        self.watermark = QCheckBox("Invisible watermark + AI label + provenance manifest")
        self.watermark.setChecked(True)
        self.watermark.setEnabled(False)
        self.watermark.setToolTip("Always on: every AI-edited or AI-created item carries them (issue 8)")
        self.override = QLineEdit()
        self.override.setPlaceholderText("Override reason (only needed to export a version whose checks FAIL)")
        self.export_button = QPushButton("Export to corpus")
        self.export_button.setToolTip("Export the ticked versions as new items (Ctrl+E)")
        self.export_button.clicked.connect(self.export_checked)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(lambda: self.cancel("export"))
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(QLabel("<b>Versions to export</b> (tick them)"))
        ll.addWidget(self.list, 1)
        ll.addWidget(self.watermark)
        ll.addWidget(self.override)
        row = QHBoxLayout()
        row.addWidget(self.export_button)
        row.addWidget(self.cancel_button)
        ll.addLayout(row)

        self.result_label = QLabel("")
        self.result_label.setWordWrap(True)
        self.rank = QTreeWidget()
        self.rank.setObjectName("rankPreview")
        self.rank.setHeaderLabels(["New item / audience", "Rank", "Percentile", "Score", "Targeted", "Method"])
        self.rank.setColumnWidth(0, 250)
        for col, width in ((1, 70), (2, 80), (3, 60), (4, 70)):
            self.rank.setColumnWidth(col, width)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(QLabel("<b>Rank preview</b> — where each new item would rank among the human items"))
        rl.addWidget(self.result_label)
        rl.addWidget(self.rank, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([380, 700])
        layout = QVBoxLayout(self)
        layout.addWidget(self.notice)
        layout.addWidget(split, 1)
        add_action(window, "&Actions", "&Export Versions", self.export_checked, "Ctrl+E",
                   "Export the ticked versions into the corpus")
        self.fill_versions()

    def refresh(self) -> None:
        running = "export" in self.running
        if self.ws is None:
            self.notice.set_text("Open a workspace first.")
        elif not len(self.versions) and not self.last_results:
            self.notice.set_text("No pending versions: make one in Thumbnails, Clips or Style first.")
        elif running:
            self.notice.set_text("Exporting… checks (cached when done), watermark on every frame, verify, commit.")
        else:
            self.notice.set_text("")
        self.export_button.setEnabled(bool(self.checked_ids()) and not running)
        self.cancel_button.setEnabled(running)

    def fill_versions(self) -> None:
        ticked = set(self.checked_ids())
        self.list.blockSignals(True)
        self.list.clear()
        for pv in self.versions.versions():
            rep = self.versions.reports.get(pv.id)
            status = (f"{STATUS_ICONS[rep.status]} {rep.status}" if rep is not None
                      else "not checked (checked on export)")
            entry = QListWidgetItem(f"{version_label(pv)} — {status}")
            entry.setData(Qt.ItemDataRole.UserRole, pv.id)
            entry.setFlags(entry.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            entry.setCheckState(Qt.CheckState.Checked if pv.id in ticked else Qt.CheckState.Unchecked)
            if rep is not None:
                entry.setForeground(QColor(STATUS_COLOURS[rep.status]))
            self.list.addItem(entry)
        self.list.blockSignals(False)
        self.refresh()

    def checked_ids(self) -> list[str]:
        out = []
        for i in range(self.list.count()):
            e = self.list.item(i)
            if e.checkState() == Qt.CheckState.Checked:
                out.append(e.data(Qt.ItemDataRole.UserRole))
        return out

    def set_checked(self, ids: list[str]) -> None:
        for i in range(self.list.count()):
            e = self.list.item(i)
            e.setCheckState(Qt.CheckState.Checked if e.data(Qt.ItemDataRole.UserRole) in ids
                            else Qt.CheckState.Unchecked)

    def export_checked(self) -> Any:
        """Export every ticked version in one background job; failures are reported per version."""
        ws = self.ws
        pvs = [self.versions.get(i) for i in self.checked_ids() if self.versions.get(i) is not None]
        if ws is None or not pvs:
            self.window_.statusBar().showMessage("Tick the versions to export first", 4000)
            return None
        reason = self.override.text().strip() or None
        uploader = setting(self.window_, "prefs/uploader") or None

        def job(progress: Any, cancel: Any) -> Any:
            from generec_desktop.fidelity.export import run_export
            from generec_desktop.jobs import Cancelled, GenerecError, sub_progress

            out: list[tuple[Any, Any, str | None]] = []
            for k, pv in enumerate(pvs):
                try:
                    res = run_export(ws, pv, override_reason=reason, uploader=uploader,
                                     progress=sub_progress(progress, k / len(pvs), (k + 1) / len(pvs)), cancel=cancel)
                    out.append((pv, res, None))
                except Cancelled:
                    raise
                except GenerecError as exc:  # one blocked version must not stop the others
                    out.append((pv, None, str(exc)))
            return out

        return self.submit("export", f"Export {len(pvs)} version(s)", job, self._exported, "Export failed")

    def _exported(self, results: Any) -> None:
        self.last_results = results
        self.rank.clear()
        errors = []
        done = 0
        for pv, res, err in results:
            if res is None:
                errors.append(f"{version_label(pv)}: {err}")
                continue
            done += 1
            self.versions.set_report(pv.id, res.report)
            self.versions.mark_exported(pv.id, res.item.id)
            head = QTreeWidgetItem([f"Item #{res.item.id}: {res.item.title or version_label(pv)}", "", "", "",
                                    "", f"{res.seconds:.1f} s{' (override)' if res.overridden else ''}"])
            for r in res.rank:
                child = QTreeWidgetItem([self.audience_label(r.audience), f"{r.rank} of {r.of}",
                                         f"{r.percentile * 100:.0f} %", f"{r.score:.3f}",
                                         "yes" if r.targeted else "", r.method])
                if r.targeted:
                    for c in range(6):
                        child.setForeground(c, QColor("#1565c0"))
                head.addChild(child)
            self.rank.addTopLevelItem(head)
            head.setExpanded(True)
        self.result_label.setText(f"Exported {done} of {len(results)} version(s); the new items are in the library.")
        self.window_.refresh_library()
        if errors:
            self.window_.show_error("Some versions were not exported", "\n".join(errors))
        self.refresh()
