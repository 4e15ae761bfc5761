"""Preferences ▸ Models: the model manager (get an open_clip / SigLIP / MobileCLIP checkpoint, switch to it).

Nothing is downloaded until the user picks a model and accepts its licence. Every network step is a
job on the window's JobManager (asking the hub what the download holds, then the download itself with
its progress bar and Cancel); a cancelled download keeps its bytes and the next Download resumes.
"Use for this workspace" sets the encoder preference and rebuilds the workspace's profiles in the
background with it. The core work is :mod:`generec_desktop.encoders.hub`.
"""

from __future__ import annotations

import contextlib
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

__all__ = ["ModelManagerDialog"]

_COLUMNS = ("Model", "Family", "Licence", "Size", "On this machine")


class ModelManagerDialog(QDialog):
    """Lists the catalogue, downloads one model at a time, and switches the workspace's encoder."""

    def __init__(self, window: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent or window)
        self.window_ = window
        self.setWindowTitle("Models")
        self.setObjectName("modelManager")
        self.resize(860, 460)
        self.plan: Any = None  # the DownloadPlan being downloaded or last planned
        self.result: Any = None  # the last DownloadResult
        self.job_id: int | None = None
        self.licence_box: QMessageBox | None = None

        from generec_desktop.encoders.hub import hub_endpoint

        layout = QVBoxLayout(self)
        intro = QLabel("Encoders that understand what is in a frame (and read text). Nothing is downloaded until you "
                       "choose a model and accept its licence; an interrupted download resumes.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.table = QTableWidget(0, len(_COLUMNS))
        self.table.setHorizontalHeaderLabels(list(_COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        layout.addWidget(self.table, 1)

        row = QHBoxLayout()
        row.addWidget(QLabel("Or any open_clip repository:"))
        self.custom = QLineEdit()
        self.custom.setPlaceholderText("hf-hub:<org>/<repo>")
        self.custom.textChanged.connect(self._update_buttons)
        row.addWidget(self.custom, 1)
        row.addWidget(QLabel("Hub:"))
        self.endpoint = QLineEdit(hub_endpoint())
        self.endpoint.setObjectName("hubEndpoint")
        row.addWidget(self.endpoint, 1)
        layout.addLayout(row)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFormat("%p%")
        self.progress.setVisible(False)
        layout.addWidget(self.progress)
        self.status = QLabel("")
        self.status.setObjectName("modelStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.status)

        buttons = QHBoxLayout()
        self.download_button = QPushButton("Download…")
        self.download_button.clicked.connect(self.start_download)
        self.cancel_button = QPushButton("Cancel download")
        self.cancel_button.clicked.connect(self.cancel_download)
        self.use_button = QPushButton("Use for this workspace")
        self.use_button.setToolTip("Make it the encoder and rebuild the audience profiles with it, in the background")
        self.use_button.clicked.connect(self.use_selected)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        for b in (self.download_button, self.cancel_button, self.use_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout.addLayout(buttons)

        window.jobs.job_changed.connect(self._job_changed)
        window.jobs.job_finished.connect(self._job_finished)
        self.refresh()

    # Listing ------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the catalogue and what is on disk (local files only: cheap)."""
        from generec_desktop.encoders.catalog import CATALOGUE
        from generec_desktop.encoders.hub import installed_models, partial_bytes

        selected = self.selected_name()
        have = {m["name"]: m for m in installed_models()}
        names = [e.name for e in CATALOGUE] + sorted(n for n in have if n not in {e.name for e in CATALOGUE})
        self.table.setRowCount(len(names))
        by_name = {e.name: e for e in CATALOGUE}
        for r, name in enumerate(names):
            entry = by_name.get(name)
            kept = partial_bytes(name)
            state = ("downloaded" if name in have else
                     f"partly downloaded ({kept / 1e6:,.1f} MB kept)" if kept else "not downloaded")
            cells = (name, entry.family if entry else "open_clip",
                     (entry.licence if entry else have[name].get("licence", "")) or "?",
                     f"{entry.approx_mb} MB" if entry else "", state)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, name)
                if entry is not None:
                    item.setToolTip(f"{entry.description}\n{entry.repo_id}")
                self.table.setItem(r, c, item)
            if name == selected:
                self.table.selectRow(r)
        if self.table.currentRow() < 0 and names:
            self.table.selectRow(0)
        self._update_buttons()

    def selected_name(self) -> str | None:
        """The model to act on: the custom repository if one is typed, else the selected row."""
        custom = self.custom.text().strip() if hasattr(self, "custom") else ""
        if custom:
            return custom if custom.startswith("hf-hub:") else f"hf-hub:{custom}"
        items = self.table.selectedItems()
        return str(items[0].data(Qt.ItemDataRole.UserRole)) if items else None

    def _is_installed(self, name: str | None) -> bool:
        from generec_desktop.encoders.hub import installed_models

        local = (name or "").removeprefix("hf-hub:").split("/")[-1].split("@")[0]
        return any(m["name"] in (name, local) for m in installed_models())

    def _update_buttons(self) -> None:
        busy = self.job_id is not None
        name = self.selected_name()
        self.download_button.setEnabled(not busy and name is not None)
        self.cancel_button.setEnabled(busy)
        self.use_button.setEnabled(not busy and self._is_installed(name))

    # Download -----------------------------------------------------------------------------------------
    def start_download(self) -> None:
        """Ask the hub what the download holds (a job), then show the licence before anything is fetched."""
        name = self.selected_name()
        if name is None or self.job_id is not None:
            return
        endpoint = self.endpoint.text().strip() or None

        def plan_job(progress: Any, cancel: Any) -> Any:
            from generec_desktop.encoders.hub import plan_download

            return plan_download(name, endpoint=endpoint)

        self.status.setText(f"Asking {endpoint or 'the hub'} about {name}…")
        job = self.window_.jobs.submit(f"Look up model {name}", plan_job, on_done=self._planned,
                                       on_error=self._failed)
        self.job_id = job.job_id
        self._update_buttons()

    def _planned(self, plan: Any) -> None:
        self.job_id = None
        self.plan = plan
        self._update_buttons()
        if plan.installed:
            self.status.setText(f"{plan.name} is already downloaded ({plan.destination}).")
            self.refresh()
            return
        text = (f"<b>{plan.name}</b> — {plan.model.repo_id} at {plan.commit[:12]}<br>"
                f"{plan.total_bytes / 1e6:,.1f} MB in {len(plan.files)} files"
                + (f" ({plan.resumable_bytes / 1e6:,.1f} MB already here: the download resumes)"
                   if plan.resumable_bytes else "")
                + f"<br><br>Licence: <b>{plan.licence_name or plan.licence or 'not stated'}</b><br>"
                f"<a href='{plan.licence_link or plan.page}'>{plan.licence_link or plan.page}</a><br><br>"
                "Accept this licence and download?")
        box = QMessageBox(QMessageBox.Icon.Question, f"Licence of {plan.name}", text,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setTextFormat(Qt.TextFormat.RichText)
        if plan.licence_text:
            box.setDetailedText(plan.licence_text)
        box.button(QMessageBox.StandardButton.Yes).setText("Accept and download")
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.finished.connect(lambda code: self._licence_answered(plan, code))
        self.licence_box = box
        box.open()

    def _licence_answered(self, plan: Any, code: int) -> None:
        box, self.licence_box = self.licence_box, None
        accepted = box is not None and box.clickedButton() is box.button(QMessageBox.StandardButton.Yes)
        if not accepted:
            self.status.setText(f"Nothing downloaded: the licence of {plan.name} was not accepted.")
            return
        self.download(plan)

    def download(self, plan: Any) -> None:
        """Download ``plan`` (its licence accepted) as a job with progress and Cancel."""

        def job(progress: Any, cancel: Any) -> Any:
            from generec_desktop.encoders.hub import download_model

            return download_model(plan, accept_licence=True, progress=progress, cancel=cancel)

        self.plan = plan
        self.progress.setValue(int(1000 * plan.resumable_bytes / max(plan.total_bytes, 1)))
        self.progress.setVisible(True)
        self.status.setText(f"Downloading {plan.name} from {plan.endpoint}…")
        submitted = self.window_.jobs.submit(f"Download {plan.name}", job, on_done=self._downloaded,
                                             on_error=self._failed)
        self.job_id = submitted.job_id
        self._update_buttons()

    def cancel_download(self) -> None:
        if self.job_id is not None:
            self.window_.jobs.cancel(self.job_id)

    def _job_changed(self, job: Any) -> None:
        if job.job_id == self.job_id and self.progress.isVisible():
            self.progress.setValue(int(job.fraction * 1000))
            if job.message:
                self.status.setText(job.message)

    def _job_finished(self, job: Any) -> None:
        if job.job_id != self.job_id or job.state != "cancelled":
            return
        self.job_id = None
        self.progress.setVisible(False)
        name = self.plan.name if self.plan is not None else "the model"
        self.status.setText(f"Download of {name} cancelled; what was fetched is kept and Download resumes from it.")
        self.refresh()

    def _downloaded(self, result: Any) -> None:
        self.job_id = None
        self.result = result
        self.progress.setValue(1000)
        self.status.setText(f"{result.name} downloaded and verified ({result.folder}). Choose “Use for this "
                            "workspace” to switch the encoder and rebuild the profiles.")
        self.refresh()
        for r in range(self.table.rowCount()):
            item = self.table.item(r, 0)
            if item is not None and item.data(Qt.ItemDataRole.UserRole) == result.name:
                self.table.selectRow(r)
        self.custom.clear()

    def _failed(self, message: str) -> None:
        self.job_id = None
        self.progress.setVisible(False)
        self.status.setText(message)
        self._update_buttons()
        self.refresh()

    # Switching ----------------------------------------------------------------------------------------
    def use_selected(self) -> None:
        """Make the selected downloaded model the encoder; rebuild the open workspace's profiles with it."""
        name = self.selected_name()
        if name is None:
            return
        local = name.removeprefix("hf-hub:").split("/")[-1].split("@")[0] if name.startswith("hf-hub:") else name
        encoder = f"open_clip:{local}"
        w = self.window_
        w.settings.setValue("prefs/encoder", encoder)
        w.settings.setValue("prefs/encoder_weights", "")  # the downloaded folder is found by name
        w.settings.sync()
        ws = w.workspace
        if ws is None or getattr(ws, "read_only", False):
            self.status.setText(f"The encoder is now {encoder}. Open a workspace and build its profiles to use it.")
            return

        def job(progress: Any, cancel: Any) -> Any:
            from generec_desktop.jobs import Steps
            from generec_desktop.profiles import build_profiles, train_recommender

            steps = Steps(progress, {"profiles": 2, "recommender": 1})
            profiles = build_profiles(ws, encoder=encoder, progress=steps["profiles"], cancel=cancel)
            train_recommender(ws, encoder=encoder, progress=steps["recommender"], cancel=cancel)
            return profiles

        def done(profiles: Any) -> None:
            w._set_profiles(profiles)
            self.status.setText(f"Profiles rebuilt with {profiles.encoder_id}.")

        self.status.setText(f"The encoder is now {encoder}; rebuilding the audience profiles in the background…")
        w.jobs.submit(f"Rebuild profiles with {encoder}", job, on_done=done,
                      on_error=lambda m: w.show_error("Cannot rebuild profiles", m))

    def closeEvent(self, event: Any) -> None:
        # a running download goes on in the Jobs panel (Cancel is there too); only stop listening
        for signal, slot in ((self.window_.jobs.job_changed, self._job_changed),
                             (self.window_.jobs.job_finished, self._job_finished)):
            with contextlib.suppress(RuntimeError, TypeError):
                signal.disconnect(slot)
        super().closeEvent(event)
