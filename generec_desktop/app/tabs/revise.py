"""Revise & Create tab (MCVD): revise a video toward an audience, or create a new one for it.

The MCVD model is trained per workspace (``W/models/mcvd*/``, or the folder set in Preferences); until a
checkpoint and the editor's revision/creation functions exist the tab says so instead of offering buttons
that cannot work.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout

from generec_desktop.app.commands import AddVersionCommand
from generec_desktop.app.compare import ResultBar, announce
from generec_desktop.app.widgets import FeatureTab, setting


def find_checkpoints(ws: Any, preferred: str = "") -> list[Path]:
    """The MCVD checkpoint to use: the Preferences path, else the workspace's, else the shipped demo one."""
    if ws is None:
        return []
    try:
        from generec_desktop.jobs import GenerecError
        from generec_desktop.mcvd.workspace import find_mcvd_checkpoint

        return [find_mcvd_checkpoint(Path(ws.root), explicit=Path(preferred) if preferred else None)]
    except (GenerecError, OSError, ValueError, ImportError):
        return []


class ReviseTab(FeatureTab):
    """MCVD revision (SDEdit strength) and creation for the first selected audience."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.checkpoints: list[Path] = []
        self._looked_up: tuple[str, str] | None = None  # (workspace root, Preferences path) of self.checkpoints
        self._looking: tuple[str, str] | None = None
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.strength = QDoubleSpinBox()
        self.strength.setRange(0.05, 1.0)
        self.strength.setSingleStep(0.05)
        self.strength.setValue(0.5)
        self.strength.setToolTip("How much noise is added before denoising toward the audience (SDEdit)")
        self.guidance = QDoubleSpinBox()
        self.guidance.setRange(0.0, 10.0)
        self.guidance.setValue(2.0)
        self.frames = QSpinBox()
        self.frames.setRange(4, 128)
        self.frames.setValue(16)
        for spin in (self.strength, self.guidance, self.frames):
            spin.setMaximumWidth(120)
        form = QFormLayout()
        form.addRow("Revision strength", self.strength)
        form.addRow("Guidance scale", self.guidance)
        form.addRow("Frames to create", self.frames)
        self.revise_button = QPushButton("Revise selected video")
        self.revise_button.clicked.connect(lambda: self.run("revise"))
        self.create_button = QPushButton("Create new video")
        self.create_button.clicked.connect(lambda: self.run("create"))
        row = QHBoxLayout()
        row.addWidget(self.revise_button)
        row.addWidget(self.create_button)
        row.addStretch(1)
        self.result_bar = ResultBar(window)
        layout = QVBoxLayout(self)
        layout.addWidget(self.notice)
        layout.addWidget(self.result_bar)
        layout.addWidget(self.status)
        layout.addLayout(form)
        layout.addLayout(row)
        layout.addStretch(1)
        self.refresh()

    def _lookup_key(self) -> tuple[str, str] | None:
        ws = self.ws
        return None if ws is None else (str(ws.root), setting(self.window_, "prefs/mcvd_checkpoint"))

    def look_for_checkpoints(self, *, again: bool = False) -> None:
        """Find the checkpoint in a worker (it reads config files and, for a Preferences path, checks it), so
        opening a workspace or showing this tab never waits for it; "Looking for…" meanwhile. ``again``: look
        even when this workspace was looked at (a model trained since); what was found stays shown meanwhile."""
        key = self._lookup_key()
        if key is None or (key == self._looked_up and not again) or key == self._looking:
            return
        self._looking = key
        ws, preferred = self.ws, key[1]

        def done(found: Any) -> None:
            if self._looking == key:
                self._looking = None
            if key == self._lookup_key():
                self.checkpoints, self._looked_up = list(found), key
            self.refresh()

        self.window_.jobs.submit("Look for an MCVD model", lambda progress, cancel: find_checkpoints(ws, preferred),
                                 on_done=done, on_error=lambda m: done([]))

    def on_workspace(self, ws: Any) -> None:
        self.checkpoints, self._looked_up = [], None
        self.look_for_checkpoints()
        self.refresh()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.look_for_checkpoints(again=True)

    def refresh(self) -> None:
        ws = self.ws
        if self._looked_up != self._lookup_key():
            self.checkpoints = []
        problems = []
        if ws is None:
            problems.append("Open a workspace first.")
        elif self._looked_up != self._lookup_key():  # a new workspace or Preferences path
            self.look_for_checkpoints()
            self.notice.set_text("Looking for an MCVD model…")
            self.status.setText("")
            self.revise_button.setEnabled(False)
            self.create_button.setEnabled(False)
            return
        if ws is not None and not self.checkpoints:
            problems.append(f"<b>No MCVD checkpoint fits this workspace</b> (looked in Preferences, "
                            f"{Path(ws.models_dir) / 'mcvd'} and the shipped demo model). Train one with "
                            "<code>generec train mcvd W</code>, then reopen this tab.")
        if problems:
            self.notice.set_text("<br>".join(problems), "warn")
        else:
            self.notice.set_text("")
        self.status.setText("Checkpoints: " + ", ".join(p.name for p in self.checkpoints) if self.checkpoints
                            else "Revision keeps the picture and moves it toward the audience; creation samples a "
                                 "new video from the audience's vector.")
        ok = ws is not None and bool(self.checkpoints) and bool(self.window_.selected_audiences())
        self.revise_button.setEnabled(ok
                                      and self.window_.current_item_id is not None and "mcvd" not in self.running)
        self.create_button.setEnabled(ok and "mcvd" not in self.running)

    def run(self, which: str) -> Any:
        ws, item_id = self.ws, self.window_.current_item_id
        auds = self.window_.selected_audiences()
        if ws is None or not self.checkpoints or not auds:
            self.refresh()
            return None
        ckpt, audience = self.checkpoints[0], auds[0]
        kwargs = {"strength": self.strength.value(), "guidance_scale": self.guidance.value()}
        if which == "create":
            kwargs = {"n_frames": self.frames.value(), "guidance_scale": self.guidance.value()}

        root = str(ws.root)

        def job(progress: Any, cancel: Any) -> Any:
            from generec_desktop.app import process_jobs

            # in a child process: the engines bring PyTorch and diffusers, whose import alone would hold the
            # window's GIL for seconds (app/process_jobs.py)
            return process_jobs.run_in_process(process_jobs.mcvd_version_at, root, which, audience, ckpt,
                                               item_id=item_id if which == "revise" else None, progress=progress,
                                               cancel=cancel, **kwargs)

        def done(pv: Any) -> None:
            self.window_.undo_stack.push(AddVersionCommand(self.versions, pv, f"MCVD {which}"))
            announce(self, pv)

        return self.submit("mcvd", f"MCVD {which} for {self.audience_label(audience)}", job, done,
                           f"MCVD {which} failed")
