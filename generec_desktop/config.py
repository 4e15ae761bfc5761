"""Paths and settings shared by the CLI and the GUI (no Qt here; the GUI persists its own via QSettings)."""

from __future__ import annotations

import os
from pathlib import Path


def data_home() -> Path:
    """Where the app keeps per-user data: ``$GENEREC_HOME`` or ``$XDG_DATA_HOME/generec-desktop``."""
    explicit = os.environ.get("GENEREC_HOME")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "generec-desktop"


def demo_workspace_dir() -> Path:
    """The default location of the built-in demo workspace."""
    return data_home() / "demo-workspace"


def repo_models_dir() -> Path:
    """The ``models/`` folder next to the package (model cards and checkpoints we trained)."""
    return Path(__file__).resolve().parent.parent / "models"


def resources_dir() -> Path:
    """The ``resources/`` folder (icons, style sheets, presets)."""
    return Path(__file__).resolve().parent.parent / "resources"


def shot_detector() -> str:
    """The shot detector analyses use unless told otherwise: ``$GENEREC_SHOTS`` or ``auto``
    (``generec_desktop.editor.personalize.shotdetect``: auto, hsv, content, adaptive, hash, transnetv2)."""
    return os.environ.get("GENEREC_SHOTS", "").strip() or "auto"
