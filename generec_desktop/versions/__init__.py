"""The version workflow, owned by the core (issue 14): make → list → check → export, discard → restore.

One use-case function per editor operation (:func:`style_version`, :func:`clip_version`,
:func:`thumbnail_version`, :func:`mcvd_version`) runs the editor into a journaled temporary file in the
workspace and registers the result as a pending version (``fidelity.export.create_pending``), so the
command line and the window's tabs make versions the same way; the window's undo commands only wrap
:func:`discard_version` / :func:`restore_version`. :func:`open_workspace` opens a workspace and finishes
what a crashed export left (sidecars, markers) on top of the corpus's own recovery.

Files to upload (issue 16 part 6): :func:`render` (``versions.render``) makes an item or a pending version
into an MP4 for a platform preset (``PRESETS``: vertical, square, landscape-1080, landscape-720, original),
watermark and provenance kept; :func:`package` (``versions.package``) makes one audience's folder (its
clip rendered, its artwork or thumbnail, ``summary.json``). Both are imported on first use.

Layer: above editor, creator, fidelity and corpus; below cli and app.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from generec_desktop.versions.workflow import (
    TRASH_DIR,
    clip_version,
    discard_version,
    make_version,
    mcvd_version,
    open_workspace,
    restore_version,
    style_version,
    thumbnail_version,
)

if TYPE_CHECKING:
    from generec_desktop.versions.package import PackageResult, package
    from generec_desktop.versions.render import PRESETS, Preset, RenderError, RenderResult, render

__all__ = [
    "PRESETS",
    "TRASH_DIR",
    "PackageResult",
    "Preset",
    "RenderError",
    "RenderResult",
    "clip_version",
    "discard_version",
    "make_version",
    "mcvd_version",
    "open_workspace",
    "package",
    "render",
    "restore_version",
    "style_version",
    "thumbnail_version",
]

#: names imported on first use (numpy, PyAV and OpenCV stay out of ``import generec_desktop.versions``)
_LAZY = {"render": "render", "PRESETS": "render", "Preset": "render", "RenderError": "render",
         "RenderResult": "render", "package": "package", "PackageResult": "package"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
