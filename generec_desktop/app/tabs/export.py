"""Export tab: choose versions, watermark on, export into the corpus, show where each new item would rank;
and files to upload: render an item or a version with a platform preset, or package one audience's clip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QGroupBox,
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

RENDER_KEY = "render-upload"
PACKAGE_KEY = "package-upload"


class ExportTab(FeatureTab):
    """Runs :func:`generec_desktop.fidelity.export.run_export` for the ticked versions, one job for all;
    "Render for upload…" runs :func:`generec_desktop.versions.render.render` and "Package for audience…"
    :func:`generec_desktop.versions.package.package`, each as one background job with Cancel."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.versions.changed.connect(self.fill_versions)
        self.versions.report_changed.connect(lambda _: self.fill_versions())
        self.last_results: list[Any] = []

        self.list = QListWidget()
        self.list.setObjectName("exportVersions")
        self.list.itemChanged.connect(lambda _: self.refresh())
        # a short text: a check box does not wrap, and the long one made the page 749 px wide (issue 17)
        self.watermark = QCheckBox("Watermark, AI label and signed C2PA credentials")
        self.watermark.setChecked(True)
        self.watermark.setEnabled(False)
        self.watermark.setToolTip("Always on: every AI-edited or AI-created item carries an invisible watermark, an "
                                  "AI label, a provenance manifest and signed Content Credentials (C2PA); "
                                  "check a file with `generec provenance verify FILE`")
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

        upload = QGroupBox("Files to upload (TikTok, Reels, Shorts, YouTube)")
        ul = QVBoxLayout(upload)
        self.render_button = QPushButton("Render for upload…")
        self.render_button.setObjectName("renderForUpload")
        self.render_button.setToolTip("Render the selected item or a pending version to an MP4 with a platform "
                                      "preset (watermark and provenance kept)")
        self.render_button.clicked.connect(lambda: self.render_for_upload())
        self.package_button = QPushButton("Package for audience…")
        self.package_button.setObjectName("packageForAudience")
        self.package_button.setToolTip("A folder with one audience's clip of the selected item, its image and a "
                                       "summary")
        self.package_button.clicked.connect(lambda: self.package_for_audience())
        self.upload_cancel = QPushButton("Cancel")
        self.upload_cancel.setObjectName("uploadCancel")
        self.upload_cancel.clicked.connect(self.cancel_upload)
        urow = QHBoxLayout()
        urow.addWidget(self.render_button)
        urow.addWidget(self.package_button)
        urow.addWidget(self.upload_cancel)
        ul.addLayout(urow)
        self.upload_label = QLabel("")
        self.upload_label.setObjectName("uploadResult")
        self.upload_label.setWordWrap(True)
        self.upload_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        ul.addWidget(self.upload_label)
        ll.addWidget(upload)
        self.last_upload: Any = None

        self.result_label = QLabel("")
        self.result_label.setWordWrap(True)
        self.rank = QTreeWidget()
        self.rank.setObjectName("rankPreview")
        self.rank.setHeaderLabels(["New item / audience", "Rank", "Percentile", "Score", "Targeted", "Method"])
        self.rank.setColumnWidth(0, 250)
        for col, width in ((1, 70), (2, 80), (3, 60), (4, 60)):
            self.rank.setColumnWidth(col, width)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rank_title = QLabel("<b>Rank preview</b> — where each new item would rank among the human items")
        rank_title.setWordWrap(True)  # wraps rather than widening the page (issue 17 part 5)
        rl.addWidget(rank_title)
        self.rank_item_button = QPushButton("Rank the selected item")
        self.rank_item_button.setObjectName("rankItem")
        self.rank_item_button.setToolTip("Where the item selected in the library ranks for each audience; an "
                                         "audience with stored artwork is scored with its artwork")
        self.rank_item_button.clicked.connect(self.rank_current)
        rl.addWidget(self.rank_item_button)
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
        uploading = RENDER_KEY in self.running or PACKAGE_KEY in self.running
        has_item = self.ws is not None and self.window_.current_item_id is not None
        self.render_button.setEnabled(self.ws is not None and (has_item or bool(len(self.versions)))
                                      and RENDER_KEY not in self.running)
        self.package_button.setEnabled(has_item and self.window_.profiles is not None
                                       and PACKAGE_KEY not in self.running)
        self.upload_cancel.setEnabled(uploading)

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

    def _add_ranks(self, head: QTreeWidgetItem, ranks: Any) -> None:
        for r in ranks:
            method = f"its artwork · {r.method}" if getattr(r, "artwork", False) else r.method
            child = QTreeWidgetItem([self.audience_label(r.audience), f"{r.rank} of {r.of}",
                                     f"{r.percentile * 100:.0f} %", f"{r.score:.3f}",
                                     "yes" if r.targeted else "", method])
            if r.targeted:
                for c in range(6):
                    child.setForeground(c, QColor("#1565c0"))
            head.addChild(child)

    def rank_current(self) -> Any:
        """Rank preview of the library's selected item (each audience's artwork when stored), in the background."""
        ws, item_id = self.ws, self.window_.current_item_id
        if ws is None or item_id is None:
            self.window_.statusBar().showMessage("Select an item in the library first.", 4000)
            return None

        def job(progress: Any, cancel: Any) -> Any:
            from generec_desktop.fidelity.ranking import rank_preview

            item = ws.item(item_id)
            return item, rank_preview(ws, item)

        def done(out: Any) -> None:
            item, ranks = out
            self.rank.clear()
            head = QTreeWidgetItem([f"Item #{item.id}: {item.title or item.id}", "", "", "", "", ""])
            self._add_ranks(head, ranks)
            self.rank.addTopLevelItem(head)
            head.setExpanded(True)
            n_art = sum(1 for r in ranks if r.artwork)
            self.result_label.setText(
                "No audiences to rank for yet." if not ranks else
                f"Item #{item.id} for {len(ranks)} audience(s); {n_art} scored with their stored artwork.")

        return self.submit("rank-item", f"Rank item #{item_id}", job, done, "Rank preview failed")

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
            self._add_ranks(head, res.rank)
            self.rank.addTopLevelItem(head)
            head.setExpanded(True)
        self.result_label.setText(f"Exported {done} of {len(results)} version(s); the new items are in the library.")
        self.window_.refresh_library()
        if errors:
            self.window_.show_error("Some versions were not exported", "\n".join(errors))
        self.refresh()

    # ------------------------------------------------------------------------------ files to upload

    def render_choices(self) -> list[tuple[str, Any]]:
        """What can be rendered: the selected library item first, then each pending version (by id)."""
        out: list[tuple[str, Any]] = []
        item = self.current_item()
        if item is not None:
            out.append((f"Library item #{item.id}: {item.title or item.original_name or ''}", item.id))
        for pv in self.versions.versions():
            out.append((f"Version: {version_label(pv)}", pv.id))
        return out

    def render_for_upload(self, target: Any = None, preset: str | None = None, out: str | None = None, *,
                          fit: str = "crop", trim: bool = False, force: bool = False) -> Any:
        """Render ``target`` (item id or version id) with ``preset`` to ``out`` in the background; missing
        values are asked for (preset dialog, then a save dialog)."""
        ws = self.ws
        if ws is None:
            self.window_.statusBar().showMessage("Open a workspace first", 4000)
            return None
        if target is None or preset is None:
            from generec_desktop.app.upload import RenderDialog

            choices = self.render_choices()
            if not choices:
                self.window_.statusBar().showMessage("Select a video in the library first", 4000)
                return None
            dialog = RenderDialog(choices, self, preset=preset or "vertical")
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
            v = dialog.values()
            target, preset, fit, trim = v["target"], v["preset"], v["fit"], v["trim"]
        if out is None:
            suggested = str(Path.home() / f"generec-{target}-{preset}.mp4")
            out, _ = QFileDialog.getSaveFileName(self, "Save the file to upload", suggested, "MP4 video (*.mp4)")
            if not out:
                return None
            if not out.lower().endswith((".mp4", ".m4v", ".mov")):
                out += ".mp4"
            force = force or Path(out).exists()  # the save dialog asked before replacing it
        dest = Path(out)

        def job(progress: Any, cancel: Any) -> Any:
            from generec_desktop.versions.render import render

            return render(ws, target, preset, dest, fit=fit, trim=trim, force=force, progress=progress,
                          cancel=cancel)

        self.upload_label.setText(f"Rendering {dest.name} ({preset})…")
        return self.submit(RENDER_KEY, f"Render {dest.name} ({preset})", job, self._rendered, "Render failed")

    def _rendered(self, res: Any) -> None:
        self.last_upload = res
        notes = "".join(f"<br>Note: {w}" for w in res.warnings)
        self.upload_label.setText(
            f"Rendered <b>{res.path.name}</b>: {res.preset}, {res.width}×{res.height}, {res.fps:g} fps, "
            f"{res.duration:.1f} s, {res.size / 1e6:.1f} MB{' (trimmed)' if res.trimmed else ''}; watermark "
            f"{res.payload:08x}; signed Content Credentials (C2PA) and provenance in the file, and in "
            f"{res.sidecar.name}.<br>{res.path.parent}{notes}")
        self.window_.statusBar().showMessage(f"Rendered {res.path}", 8000)

    def package_audiences(self) -> list[tuple[str, str]]:
        """The audiences to package for: those selected in the audiences panel, else every segment."""
        ids = list(self.window_.selected_audiences())
        if not ids and self.window_.profiles is not None:
            ids = [a.id for a in self.window_.profiles.audiences(users=False)]
        return [(self.audience_label(a), a) for a in ids]

    def package_for_audience(self, audience: str | None = None, out: str | None = None,
                             preset: str | None = None) -> Any:
        """Package the selected item for ``audience`` into the new folder ``out``, in the background."""
        ws, item = self.ws, self.current_item()
        if ws is None or item is None:
            self.window_.statusBar().showMessage("Select a video in the library first", 4000)
            return None
        if audience is None or preset is None:
            from generec_desktop.app.upload import PackageDialog

            audiences = self.package_audiences()
            if not audiences:
                self.window_.statusBar().showMessage("Build audience profiles first", 4000)
                return None
            dialog = PackageDialog(audiences, self, preset=preset or "vertical")
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
            v = dialog.values()
            audience, preset = v["audience"], v["preset"]
        if out is None:
            slug = "".join(c if c.isalnum() else "-" for c in str(audience)).strip("-")
            suggested = str(Path.home() / f"generec-{item.id}-{slug}")
            out, _ = QFileDialog.getSaveFileName(self, "Name the new package folder", suggested, "Folder (*)")
            if not out:
                return None
        dest = Path(out)
        item_id = item.id

        def job(progress: Any, cancel: Any) -> Any:
            from generec_desktop.versions.package import package

            return package(ws, item_id, audience, dest, preset=preset, progress=progress, cancel=cancel)

        self.upload_label.setText(f"Packaging item #{item_id} for {self.audience_label(audience)}…")
        return self.submit(PACKAGE_KEY, f"Package #{item_id} for {self.audience_label(audience)}", job,
                           self._packaged, "Packaging failed")

    def _packaged(self, res: Any) -> None:
        self.last_upload = res
        image = "its artwork" if res.image_kind == "artwork" else "its personalised thumbnail"
        notes = "".join(f"<br>Note: {w}" for w in res.warnings)
        self.upload_label.setText(
            f"Packaged for <b>{self.audience_label(res.audience_id)}</b> into <b>{res.folder.name}</b>: the clip "
            f"{res.clip_start:.2f}–{res.clip_end:.2f} s ({res.render.preset}, {res.render.width}×{res.render.height}),"
            f" {image}, summary.json.<br>{res.folder}{notes}")
        self.window_.statusBar().showMessage(f"Packaged into {res.folder}", 8000)

    def cancel_upload(self) -> None:
        """Cancel a running render or package job (nothing is left behind)."""
        for key in (RENDER_KEY, PACKAGE_KEY):
            self.cancel(key)
        self.upload_label.setText("Cancelling…")
