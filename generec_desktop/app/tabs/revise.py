"""Revise & Create tab (MCVD): revise a video toward an audience, or create a new one for it.

The MCVD model is trained per workspace (``W/models/mcvd*/``, or the folder set in Preferences); until a
checkpoint and the editor's revision/creation functions exist the tab says so instead of offering buttons
that cannot work.
"""

from __future__ import annotations

import importlib.util
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


def _engine(name: str) -> Any:
    """The editor's revision or the creator's creation function."""
    module, func = {"revise": ("generec_desktop.editor.revise", "revise_item"),
                    "create": ("generec_desktop.creator.create", "create_video")}[name]
    return getattr(importlib.import_module(module), func)


class ReviseTab(FeatureTab):
    """MCVD revision (SDEdit strength) and creation for the first selected audience."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.checkpoints: list[Path] = []
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

    def refresh(self) -> None:
        ws = self.ws
        self.checkpoints = find_checkpoints(ws, setting(self.window_, "prefs/mcvd_checkpoint"))
        problems = []
        if ws is None:
            problems.append("Open a workspace first.")
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

        def job(progress: Any, cancel: Any) -> Any:
            from generec_desktop.versions import mcvd_version

            # imported here, in the worker: the engines bring torch, which must not load on the GUI thread
            return mcvd_version(ws, which, audience, ckpt, _engine(which),
                                item_id=item_id if which == "revise" else None, progress=progress, cancel=cancel,
                                **kwargs)

        def done(pv: Any) -> None:
            self.window_.undo_stack.push(AddVersionCommand(self.versions, pv, f"MCVD {which}"))
            announce(self, pv)

        return self.submit("mcvd", f"MCVD {which} for {self.audience_label(audience)}", job, done,
                           f"MCVD {which} failed")
