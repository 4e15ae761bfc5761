"""Checks tab: the fidelity report of each pending version — one plain sentence per check, its fix as a
button (blur faces, restore face colours, add a licence: each undoable), and the metrics and evidence frames
behind a *Show details* toggle (click an evidence row to see that frame)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
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

from generec_desktop.app.commands import AddVersionCommand, RemoveVersionCommand, VersionCommand
from generec_desktop.app.versions import version_label
from generec_desktop.app.widgets import STATUS_COLOURS, STATUS_ICONS, FeatureTab, add_action, local_preview
from generec_desktop.fidelity.report import FIXES, STATUSES


def _is_image(path: Any) -> bool:
    return str(path).lower().endswith((".png", ".jpg", ".jpeg", ".webp", ".bmp"))


def _shown_status(rep: Any) -> str:
    """The status a person sees: a check that could not run (safety without NudeNet) does not make a
    version look unchecked when every check that ran passed."""
    return "pass" if rep.status == "not_checked" else str(rep.status)


def _metric_text(key: str, value: Any) -> str:
    if isinstance(value, float):
        return f"{key}: {value:.3g}"
    if isinstance(value, list):
        return f"{key}: " + ", ".join(str(v) for v in value[:6]) + (" …" if len(value) > 6 else "")
    return f"{key}: {value}"


class LicenceCommand(VersionCommand):
    """Record (redo) or take back (undo) the licence/author declared for a version, through the core's
    ``set_version_licence``; the version's report is dropped each time, so the checks run again. Its
    export ends this (VersionCommand)."""

    def __init__(self, tab: ChecksTab, version_id: str, licence: str, author: str) -> None:
        super().__init__(f"Set licence of version {version_id}", tab.versions, tab.versions.get(version_id))
        self.tab, self.version_id = tab, version_id
        self.new = {"licence": licence, "author": author}
        self.old: dict[str, Any] | None = None

    def _apply(self, values: dict[str, Any]) -> dict[str, Any]:
        from generec_desktop.fidelity.export import set_version_licence

        pv, old = set_version_licence(self.tab.ws, self.version_id, licence=values.get("licence") or "",
                                      author=values.get("author") or "")
        self.tab.versions.update(pv)
        self.tab.recheck(pv.id)
        return old

    def redo(self) -> None:
        if self.pv is not None and self.ended():
            return
        old = self._apply(self.new)
        if self.old is None:
            self.old = old

    def undo(self) -> None:
        if self.pv is not None and self.ended():
            return
        self._apply(self.old or {})


class LicenceDialog(QDialog):
    """Ask for the licence and author the source is published under."""

    def __init__(self, parent: QWidget, licence: str = "", author: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Add licence and author")
        form = QFormLayout(self)
        self.licence = QLineEdit(licence)
        self.licence.setPlaceholderText("e.g. CC-BY-4.0")
        self.author = QLineEdit(author)
        self.author.setPlaceholderText("who made the original")
        form.addRow("Licence of the original:", self.licence)
        form.addRow("Author / owner:", self.author)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


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
        row = QGridLayout()  # two rows: three buttons side by side made the pane 290 px wide (issue 17)
        row.addWidget(self.run_button, 0, 0)
        row.addWidget(self.cancel_button, 0, 1)
        row.addWidget(self.discard_button, 1, 0, 1, 2)
        ll.addLayout(row)

        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.details_button = QPushButton("Show details")
        self.details_button.setObjectName("checkDetails")
        self.details_button.setCheckable(True)
        self.details_button.setToolTip("Show the measurements and evidence frames behind each sentence")
        self.details_button.toggled.connect(lambda _: self._apply_details())
        self.fix_buttons: dict[str, QPushButton] = {}
        fix_row = QHBoxLayout()
        for fix, text in FIXES.items():
            b = QPushButton(text + ("…" if fix == "licence" else ""))
            b.setObjectName(f"fix_{fix}")
            b.clicked.connect(lambda _=False, f=fix: self.apply_fix(f))
            b.setVisible(False)
            self.fix_buttons[fix] = b
            fix_row.addWidget(b)
        fix_row.addStretch(1)
        fix_row.addWidget(self.details_button)
        self.tree = QTreeWidget()
        self.tree.setObjectName("checkReport")
        self.tree.setHeaderLabels(["Check", "Status", "What it found — what to do"])
        self.tree.setColumnWidth(0, 120)
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
        report = QWidget()
        tl = QVBoxLayout(report)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.summary)
        tl.addWidget(self.tree, 1)
        tl.addWidget(self.detail)
        tl.addLayout(fix_row)
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(left)
        top.addWidget(report)
        top.setSizes([300, 800])
        # the evidence player spans the page's width under the list and the report: beside them, its
        # controls' width added to theirs and the page needed 890 px, a scrollbar in a 1280x720 window
        split = QSplitter(Qt.Orientation.Vertical)
        split.setObjectName("checksSplit")
        split.addWidget(top)
        split.addWidget(self.evidence_view)
        split.setSizes([380, 300])
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
        if "fix" in self.running:
            self.notice.set_text("Applying the fix… the result becomes a new pending version, checked again.")
        self.run_button.setEnabled(bool(len(self.versions)) and not running)
        self.cancel_button.setEnabled(running)
        self.discard_button.setEnabled(self.list.currentItem() is not None)
        self._update_fix_buttons()

    def fill_versions(self) -> None:
        current = self.selected_ids()
        self.list.blockSignals(True)
        self.list.clear()
        for pv in self.versions.versions():
            rep = self.versions.reports.get(pv.id)
            status = _shown_status(rep) if rep is not None else None
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
            self._update_fix_buttons()
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
        shown = _shown_status(rep)
        colour = STATUS_COLOURS[shown]
        attention = [c for c in rep.checks if c.status in ("warn", "fail")]
        added = rep.added_at_export
        lead = (f"{len(attention)} check(s) need your attention" if attention else "Nothing needs your attention")
        at_export = (" · added at export: " + ", ".join(a.replace("_", " ") for a in added)) if added else ""
        unchecked = [c.name for c in rep.checks if c.status == "not_checked"]
        skipped = f" ({', '.join(unchecked)} not checked)" if unchecked and shown == "pass" else ""
        self.summary.setText(f"<b>{version_label(pv)}</b> — <b style='color:{colour}'>{shown.upper()}</b>"
                             f"{skipped}: {lead}{at_export} ({rep.seconds:.1f} s).")
        for c in rep.checks:
            row = QTreeWidgetItem([c.name, f"{STATUS_ICONS[c.status]} {c.status.replace('_', ' ')}", c.headline])
            row.setForeground(1, QColor(STATUS_COLOURS[c.status]))
            row.setToolTip(2, c.headline)
            row.setData(0, Qt.ItemDataRole.UserRole + 1, c.name)
            for r in c.reasons:
                row.addChild(QTreeWidgetItem(["", "reason", r]))
            for k, v in c.metrics.items():
                if v is not None and not isinstance(v, dict):
                    row.addChild(QTreeWidgetItem(["", "metric", _metric_text(k, v)]))
            for e in c.evidence:
                where = f"at {e.timestamp:.2f} s" if e.timestamp is not None else ""
                score = f"score {e.score:.2f}" if e.score is not None else ""
                box = f"box {list(e.box)}" if e.box is not None else ""
                child = QTreeWidgetItem(["", e.kind.replace("_", " "),
                                         " ".join(x for x in (where, box, score, e.note) if x)])
                child.setData(0, Qt.ItemDataRole.UserRole, e.timestamp)
                if e.timestamp is not None:
                    child.setToolTip(2, "Click to show this frame")
                row.addChild(child)
            self.tree.addTopLevelItem(row)
        self._apply_details()
        worst = max(range(self.tree.topLevelItemCount()), default=None,
                    key=lambda i: STATUSES.index(rep.checks[i].status))
        if worst is not None:  # the worst check is selected: its sentence and its fix buttons show
            self.tree.setCurrentItem(self.tree.topLevelItem(worst))

    def _apply_details(self) -> None:
        """Details on: every check's reasons, metrics and evidence rows show (expanded); off: sentences only."""
        on = self.details_button.isChecked()
        self.details_button.setText("Hide details" if on else "Show details")
        for i in range(self.tree.topLevelItemCount()):
            row = self.tree.topLevelItem(i)
            for k in range(row.childCount()):
                row.child(k).setHidden(not on)
            row.setExpanded(on)

    def current_check(self) -> Any:
        """The check of the selected row (a check or one of its detail rows), or None."""
        row = self.tree.currentItem()
        if row is None:
            return None
        top = row if row.parent() is None else row.parent()
        rep = self.versions.reports.get(self.current_id() or "")
        name = top.data(0, Qt.ItemDataRole.UserRole + 1)
        return next((c for c in rep.checks if c.name == name), None) if rep is not None else None

    def _update_fix_buttons(self) -> None:
        check = self.current_check()
        fixes = set(check.fixes) if check is not None else set()
        busy = "fix" in self.running
        for fix, b in self.fix_buttons.items():
            b.setVisible(fix in fixes)
            b.setEnabled(not busy)

    def recheck(self, version_id: str) -> Any:
        """Run the checks of one version again (after a fix changed it)."""
        self.list.clearSelection()
        for i in range(self.list.count()):
            e = self.list.item(i)
            if e.data(Qt.ItemDataRole.UserRole) == version_id:
                self.list.setCurrentItem(e)
                e.setSelected(True)
        return self.run_checks()

    def apply_fix(self, fix: str) -> Any:
        """The selected check's remedy: blur/pixelate or restore face colours make a new pending version
        (undo removes it); a licence is recorded in the version (undo takes it back). The result is checked."""
        ws, pv = self.ws, self.versions.get(self.current_id() or "")
        if ws is None or pv is None:
            return None
        if fix == "licence":
            dlg = LicenceDialog(self, pv.licence or "", pv.author or "")
            if dlg.exec() != QDialog.DialogCode.Accepted:
                return None
            self.window_.undo_stack.push(LicenceCommand(self, pv.id, dlg.licence.text(), dlg.author.text()))
            return None

        def job(progress: Any, cancel: Any) -> Any:
            from generec_desktop.fidelity import export as ex
            from generec_desktop.jobs import sub_progress

            if fix == "restore_faces":
                new = ex.restore_faces_version(ws, pv, progress=sub_progress(progress, 0.0, 0.7), cancel=cancel)
            else:
                new = ex.blur_version(ws, pv, method=fix, progress=sub_progress(progress, 0.0, 0.7), cancel=cancel)
            return new, ex.check_version(ws, new, progress=sub_progress(progress, 0.7, 1.0), cancel=cancel)

        def done(result: Any) -> None:
            new, rep = result
            self.window_.undo_stack.push(AddVersionCommand(self.versions, new, f"{FIXES[fix]} ({pv.id})"))
            self.versions.set_report(new.id, rep)
            self.recheck_select(new.id)

        return self.submit("fix", f"{FIXES[fix]}: version {pv.id}", job, done, "The fix failed")

    def recheck_select(self, version_id: str) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).data(Qt.ItemDataRole.UserRole) == version_id:
                self.list.setCurrentRow(i)

    def _show_detail(self, row: QTreeWidgetItem | None) -> None:
        """The full sentence of the selected check (the tree elides long text) and its fix buttons."""
        self._update_fix_buttons()
        if row is None:
            self.detail.setText("")
            return
        top = row if row.parent() is None else row.parent()
        lines = [f"<b>{top.text(0)}</b> — {top.text(1)}: {top.text(2)}"]
        if row is not top:
            lines.append(f"{row.text(1).capitalize()}: {row.text(2)}")
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
