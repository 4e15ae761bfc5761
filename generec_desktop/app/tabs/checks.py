"""Checks tab: the fidelity report of each pending version — pass / warn / fail, reasons, jump to the evidence."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from generec_desktop.app.commands import RemoveVersionCommand
from generec_desktop.app.versions import version_label
from generec_desktop.app.widgets import STATUS_COLOURS, STATUS_ICONS, FeatureTab, add_action, local_preview
from generec_desktop.fidelity.report import STATUSES


def _is_image(path: Any) -> bool:
    return str(path).lower().endswith((".png", ".jpg", ".jpeg", ".webp", ".bmp"))


class ChecksTab(FeatureTab):
    """Runs :func:`generec_desktop.fidelity.export.check_version` and shows the report per version."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.versions.changed.connect(self.fill_versions)
        self.versions.report_changed.connect(lambda vid: self._report_changed(vid))

        self.list = QListWidget()
        self.list.setObjectName("checkVersions")
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.currentItemChanged.connect(lambda *_: self.show_report())
        self.run_button = QPushButton("Run checks")
        self.run_button.setToolTip("Check the selected versions (all unchecked ones when none is selected) — Ctrl+K")
        self.run_button.clicked.connect(self.run_checks)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(lambda: self.cancel("checks"))
        self.discard_button = QPushButton("Discard version")
        self.discard_button.setToolTip("Remove the selected pending version (undo with Ctrl+Z)")
        self.discard_button.clicked.connect(self.discard_selected)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(QLabel("<b>Pending versions</b>"))
        ll.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addWidget(self.run_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.discard_button)
        ll.addLayout(row)

        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setObjectName("checkReport")
        self.tree.setHeaderLabels(["Check", "Status", "Reasons / evidence"])
        self.tree.setColumnWidth(0, 170)
        self.tree.setColumnWidth(1, 110)
        self.tree.setWordWrap(True)
        self.tree.itemActivated.connect(self._jump)
        self.tree.itemClicked.connect(self._jump)
        self.tree.currentItemChanged.connect(lambda row, _: self._show_detail(row))
        self.detail = QLabel("")
        self.detail.setObjectName("checkDetail")
        self.detail.setWordWrap(True)
        self.detail.setStyleSheet("color:#333; padding:2px;")
        self.evidence_view = local_preview()
        right = QSplitter(Qt.Orientation.Vertical)
        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.summary)
        tl.addWidget(self.tree, 1)
        tl.addWidget(self.detail)
        right.addWidget(top)
        right.addWidget(self.evidence_view)
        right.setSizes([380, 300])
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([300, 800])
        layout = QVBoxLayout(self)
        layout.addWidget(self.notice)
        layout.addWidget(split, 1)
        add_action(window, "&Actions", "Run &Checks", self.run_checks, "Ctrl+K", "Run the fidelity checks")
        self.fill_versions()

    def refresh(self) -> None:
        running = "checks" in self.running
        if self.ws is None:
            self.notice.set_text("Open a workspace first.")
        elif not len(self.versions):
            self.notice.set_text("No pending versions yet: make one in Thumbnails, Clips or Style, then check it here.")
        elif running:
            self.notice.set_text("Checking… privacy, safety, authenticity, bias, legal, identifiability.")
        else:
            self.notice.set_text("")
        self.run_button.setEnabled(bool(len(self.versions)) and not running)
        self.cancel_button.setEnabled(running)
        self.discard_button.setEnabled(self.list.currentItem() is not None)

    def fill_versions(self) -> None:
        current = self.selected_ids()
        self.list.blockSignals(True)
        self.list.clear()
        for pv in self.versions.versions():
            rep = self.versions.reports.get(pv.id)
            status = rep.status if rep is not None else None
            icon = STATUS_ICONS.get(status, "○") if status else "○"
            entry = QListWidgetItem(f"{icon} {version_label(pv)}")
            entry.setData(Qt.ItemDataRole.UserRole, pv.id)
            entry.setToolTip("not checked yet" if status is None else f"worst status: {status}")
            if status:
                entry.setForeground(QColor(STATUS_COLOURS[status]))
            self.list.addItem(entry)
            if pv.id in current:
                entry.setSelected(True)
                self.list.setCurrentItem(entry)
        if self.list.currentItem() is None and self.list.count():
            self.list.setCurrentRow(self.list.count() - 1)
        self.list.blockSignals(False)
        self.show_report()
        self.refresh()

    def selected_ids(self) -> list[str]:
        return [e.data(Qt.ItemDataRole.UserRole) for e in self.list.selectedItems()]

    def current_id(self) -> str | None:
        e = self.list.currentItem()
        return None if e is None else e.data(Qt.ItemDataRole.UserRole)

    def _report_changed(self, vid: str) -> None:
        self.fill_versions()

    def show_report(self) -> None:
        """Fill the tree with the current version's report; evidence rows carry their timestamp."""
        self.tree.clear()
        self.detail.setText("")
        vid = self.current_id()
        pv = self.versions.get(vid) if vid else None
        self.refresh()
        if pv is None:
            self.summary.setText("")
            self.evidence_view.set_video(None)
            return
        if not _is_image(pv.media):
            self.evidence_view.set_video(pv.media)
        else:
            self.evidence_view.set_video(None)
            self.evidence_view.view.setPixmap(QPixmap(str(pv.media)).scaled(
                480, 270, Qt.AspectRatioMode.KeepAspectRatio))
        rep = self.versions.reports.get(vid)
        if rep is None:
            self.summary.setText(f"<b>{version_label(pv)}</b> — not checked yet: <b>Run checks</b> (Ctrl+K).")
            return
        colour = STATUS_COLOURS[rep.status]
        self.summary.setText(f"<b>{version_label(pv)}</b> — overall "
                             f"<b style='color:{colour}'>{rep.status.upper()}</b> "
                             f"({rep.seconds:.1f} s). Click an evidence row to see that frame.")
        for c in rep.checks:
            row = QTreeWidgetItem([c.name, f"{STATUS_ICONS[c.status]} {c.status}", "; ".join(c.reasons)])
            row.setForeground(1, QColor(STATUS_COLOURS[c.status]))
            row.setToolTip(2, "\n".join(c.reasons))
            for e in c.evidence:
                where = f"at {e.timestamp:.2f} s" if e.timestamp is not None else ""
                score = f"score {e.score:.2f}" if e.score is not None else ""
                child = QTreeWidgetItem(["", e.kind, " ".join(x for x in (where, score, e.note) if x)])
                child.setData(0, Qt.ItemDataRole.UserRole, e.timestamp)
                if e.timestamp is not None:
                    child.setToolTip(2, "Click to show this frame")
                row.addChild(child)
            self.tree.addTopLevelItem(row)
            row.setExpanded(c.status in ("warn", "fail"))
        worst = max(range(self.tree.topLevelItemCount()), default=None,
                    key=lambda i: STATUSES.index(rep.checks[i].status))
        if worst is not None:  # show the full text of the worst check right away
            self.tree.setCurrentItem(self.tree.topLevelItem(worst))

    def _show_detail(self, row: QTreeWidgetItem | None) -> None:
        """The full text of the selected check (the tree elides long reasons)."""
        if row is None:
            self.detail.setText("")
            return
        top = row if row.parent() is None else row.parent()
        lines = [f"<b>{top.text(0)}</b> — {top.text(1)}: {top.text(2)}"]
        if row is not top:
            lines.append(f"Evidence: {row.text(1)} {row.text(2)}")
        self.detail.setText("<br>".join(lines))

    def _jump(self, row: QTreeWidgetItem, column: int = 0) -> None:
        t = row.data(0, Qt.ItemDataRole.UserRole)
        if t is not None and self.evidence_view.path is not None:
            self.evidence_view.seek_time(float(t))

    def run_checks(self) -> Any:
        """Check the selected versions (or every unchecked one) in one background job."""
        ws = self.ws
        ids = self.selected_ids() or [v.id for v in self.versions.versions() if v.id not in self.versions.reports]
        if ws is None or not ids:
            self.window_.statusBar().showMessage("Nothing to check", 4000)
            return None
        pvs = [self.versions.get(i) for i in ids if self.versions.get(i) is not None]

        def job(progress: Any, cancel: Any) -> Any:
            from generec_desktop.fidelity.export import check_version
            from generec_desktop.jobs import sub_progress

            out = []
            for k, pv in enumerate(pvs):
                out.append((pv.id, check_version(ws, pv, progress=sub_progress(progress, k / len(pvs),
                                                                                 (k + 1) / len(pvs)),
                                                 cancel=cancel)))
            return out

        def done(reports: Any) -> None:
            for vid, rep in reports:
                self.versions.set_report(vid, rep)

        return self.submit("checks", f"Check {len(pvs)} version(s)", job, done, "Checks failed")

    def discard_selected(self) -> None:
        for vid in self.selected_ids() or ([self.current_id()] if self.current_id() else []):
            pv = self.versions.get(vid)
            if pv is not None:
                self.window_.undo_stack.push(RemoveVersionCommand(self.versions, pv))
