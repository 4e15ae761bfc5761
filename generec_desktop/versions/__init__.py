"""The version workflow, owned by the core (issue 14): make → list → check → export, discard → restore.

One use-case function per editor operation (:func:`style_version`, :func:`clip_version`,
:func:`thumbnail_version`, :func:`mcvd_version`) runs the editor into a journaled temporary file in the
workspace and registers the result as a pending version (``fidelity.export.create_pending``), so the
command line and the window's tabs make versions the same way; the window's undo commands only wrap
:func:`discard_version` / :func:`restore_version`. :func:`open_workspace` opens a workspace and finishes
what a crashed export left (sidecars, markers) on top of the corpus's own recovery. :func:`use_thumbnail`
stores an audience's chosen or generated thumbnail as the item's artwork for it (``fidelity.artwork``), not
as a version.

Files to upload (issue 16 part 6), imported from their modules (they load PyAV and OpenCV):
``versions.render.render`` makes an item or a pending version into an MP4 for a platform preset
(``versions.render.PRESETS``: vertical, square, landscape-1080, landscape-720, original), watermark and
provenance kept; ``versions.package.package`` makes one audience's folder (its clip rendered, its artwork
or thumbnail, ``summary.json``).

A whole catalogue (issue 21): ``versions.batch.run_batch`` personalises every (item, audience) pair into
Parquet tables and pending versions, resumably, on local worker processes or Ray actors (``generec batch``).

Layer: above editor, creator, fidelity and corpus; below cli and app.
"""

from __future__ import annotations

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
    use_thumbnail,
)

__all__ = [
    "TRASH_DIR",
    "clip_version",
    "discard_version",
    "make_version",
    "mcvd_version",
    "open_workspace",
    "restore_version",
    "style_version",
    "thumbnail_version",
    "use_thumbnail",
]
