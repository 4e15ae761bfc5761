"""Dialogs of the Export tab's files to upload: what to render, with which preset, and for which audience.

The dialogs only choose; the Export tab runs ``versions.render.render`` / ``versions.package.package`` as
background jobs (progress and Cancel in the jobs panel and on the tab).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)


def preset_details(preset: Any) -> str:
    """The limits of a preset for a person: size, duration, file size, frame rate, audio, platforms."""
    from generec_desktop.versions.render import bytes_text, duration_text

    size = "the source's own size" if not preset.width else f"{preset.width}×{preset.height}"
    fps = f"{preset.min_fps:g}–{preset.max_fps:g} fps" if preset.min_fps else f"up to {preset.max_fps:g} fps"
    shortest = f"{preset.min_seconds:g} s – " if preset.min_seconds else "up to "
    silent = "; a silent track when the video has none" if preset.silent_track else ""
    return (f"<b>{preset.label}</b><br>{size}, H.264 High + AAC, {fps}<br>"
            f"{shortest}{duration_text(preset.max_seconds)}, at most {bytes_text(preset.max_bytes)}{silent}<br>"
            f"For {preset.platforms}. Longer videos are refused unless trimmed.")


def _preset_combo(default: str = "vertical") -> QComboBox:
    from generec_desktop.versions.render import PRESETS

    combo = QComboBox()
    combo.setObjectName("uploadPreset")
    for p in PRESETS.values():
        combo.addItem(p.describe(), p.name)
    combo.setCurrentIndex(max(0, combo.findData(default)))
    return combo


class RenderDialog(QDialog):
    """Choose what to render (the selected library item or a pending version), the preset and the fit."""

    def __init__(self, choices: list[tuple[str, Any]], parent: QWidget | None = None, *,
                 preset: str = "vertical") -> None:
        super().__init__(parent)
        self.setWindowTitle("Render for upload")
        self.what = QComboBox()
        self.what.setObjectName("renderWhat")
        for label, target in choices:
            self.what.addItem(label, target)
        self.preset = _preset_combo(preset)
        self.details = QLabel()
        self.details.setObjectName("presetDetails")
        self.details.setWordWrap(True)
        self.fit = QComboBox()
        self.fit.addItem("Crop, following the main subject", "crop")
        self.fit.addItem("Letterbox (black bars)", "pad")
        self.trim = QCheckBox("Trim a video longer than the preset allows (keeps its start)")
        form = QFormLayout()
        form.addRow("Render", self.what)
        form.addRow("Preset", self.preset)
        form.addRow("", self.details)
        form.addRow("When the shape changes", self.fit)
        form.addRow("", self.trim)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Choose file…")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("The file keeps the invisible watermark and gets signed Content Credentials (C2PA)\n"
                                "and its provenance manifest (in the file and beside it, FILE.provenance.json)."))
        layout.addWidget(buttons)
        self.preset.currentIndexChanged.connect(self._show_details)
        self._show_details()

    def _show_details(self) -> None:
        from generec_desktop.versions.render import get_preset

        self.details.setText(preset_details(get_preset(self.preset.currentData())))

    def values(self) -> dict[str, Any]:
        """The choices: target, preset name, fit, trim."""
        return {"target": self.what.currentData(), "preset": self.preset.currentData(),
                "fit": self.fit.currentData(), "trim": self.trim.isChecked()}


class PackageDialog(QDialog):
    """Choose the audience and the preset of a per-audience upload package."""

    def __init__(self, audiences: list[tuple[str, str]], parent: QWidget | None = None, *,
                 preset: str = "vertical") -> None:
        super().__init__(parent)
        self.setWindowTitle("Package for audience")
        self.audience = QComboBox()
        self.audience.setObjectName("packageAudience")
        for label, audience_id in audiences:
            self.audience.addItem(label, audience_id)
        self.preset = _preset_combo(preset)
        self.details = QLabel()
        self.details.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Audience", self.audience)
        form.addRow("Preset", self.preset)
        form.addRow("", self.details)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Choose folder…")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("A new folder with the audience's clip (rendered with the preset), the image to "
                                "show it (its artwork, else its personalised thumbnail) and summary.json."))
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.preset.currentIndexChanged.connect(self._show_details)
        self._show_details()

    def _show_details(self) -> None:
        from generec_desktop.versions.render import get_preset

        self.details.setText(preset_details(get_preset(self.preset.currentData())))

    def values(self) -> dict[str, Any]:
        """The choices: audience id, preset name."""
        return {"audience": self.audience.currentData(), "preset": self.preset.currentData()}
