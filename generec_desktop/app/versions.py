"""The window's list of pending versions (edits not exported yet), read by the Checks and Export tabs.

A pending version lives on disk (``W/pending/<id>/``, see :mod:`generec_desktop.fidelity.export`); this
model mirrors that folder and adds what the GUI needs: fidelity reports run this session and a trash so
that removing a version is undoable (the folder is moved aside, never deleted, until the workspace closes).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from generec_desktop.versions.workflow import TRASH_DIR  # under W/cache/: outside W/pending/

log = logging.getLogger(__name__)


class VersionsModel(QObject):
    """Pending versions of the open workspace, oldest first; ``changed`` fires on every change."""

    changed = Signal()
    report_changed = Signal(str)  # version id
    # (version id, item id): an undo or redo reached an edit of a version that was exported since; the export
    # ends that version's undo history (it is an item of the corpus now), so the command did nothing
    history_ended = Signal(str, int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.workspace: Any = None
        self._versions: dict[str, Any] = {}  # id -> PendingVersion
        self._trashed: dict[str, Any] = {}
        self.reports: dict[str, Any] = {}  # id -> FidelityReport
        self.exported: dict[str, int] = {}  # id -> item id
        # (workspace, its pending versions, their saved reports) read by a worker
        self._primed: tuple[Any, list[Any], dict[str, Any]] | None = None

    def set_workspace(self, ws: Any) -> None:
        """Load the workspace's pending versions (those not exported yet): the list :meth:`prime` was given
        for this workspace (read by the window's open job), else read now."""
        self.purge_trash()
        primed, self._primed = self._primed, None
        self.workspace = ws
        self._versions.clear()
        self.reports.clear()
        self.exported.clear()
        if ws is not None:
            mine = primed is not None and primed[0] is ws
            pending = primed[1] if mine else read_pending(ws)
            for pv in pending:
                self._versions[pv.id] = pv
            if mine:
                self.reports.update(primed[2])
        self.changed.emit()

    def prime(self, ws: Any, pending: list[Any], reports: dict[str, Any] | None = None) -> None:
        """The pending versions of ``ws`` (and the check reports saved for them) as :func:`read_pending` and
        :func:`read_saved_reports` read them in a worker: the next :meth:`set_workspace` of that workspace uses
        them instead of scanning ``W/pending/`` on the GUI thread."""
        self._primed = (ws, list(pending), dict(reports or {}))

    def versions(self) -> list[Any]:
        return list(self._versions.values())

    def ids(self) -> list[str]:
        return list(self._versions)

    def get(self, version_id: str) -> Any:
        return self._versions.get(version_id)

    def __len__(self) -> int:
        return len(self._versions)

    def _trash_root(self) -> Path:
        root = Path(self.workspace.root) / "cache" / TRASH_DIR
        root.mkdir(parents=True, exist_ok=True)
        return root

    def exported_item(self, pv: Any) -> int | None:
        """The item a version became when it was exported (this session or, by its marker, another process)."""
        if pv.id in self.exported:
            return self.exported[pv.id]
        item_id = pv.exported_item_id  # one small JSON read: pending/<id>/exported.json
        if item_id is not None:  # exported outside this window (`generec export`): it leaves the list now
            self.mark_exported(pv.id, item_id)
        return item_id

    def add(self, pv: Any) -> None:
        """Show ``pv`` (restoring its folder from the trash when it was removed before); never an exported one."""
        if pv.id in self._versions or pv.id in self.exported:
            return
        if pv.id in self._trashed:
            if (self._trash_root() / pv.id).is_dir():
                from generec_desktop.versions import restore_version

                restore_version(self.workspace, pv.id)
            self._trashed.pop(pv.id)
        self._versions[pv.id] = pv
        self.changed.emit()

    def remove(self, version_id: str) -> Any:
        """Hide a version and move its folder to the trash (undoable); returns it."""
        pv = self._versions.pop(version_id, None)
        if pv is None:
            return None
        if pv.folder.is_dir():
            from generec_desktop.versions import discard_version

            discard_version(self.workspace, pv.id)
        self._trashed[pv.id] = pv
        self.reports.pop(version_id, None)
        self.changed.emit()
        return pv

    def update(self, pv: Any) -> None:
        """Replace a shown version's record after its version.json changed (a declared licence); its
        report is dropped: the checks must run again."""
        if pv.id in self._versions:
            self._versions[pv.id] = pv
            self.reports.pop(pv.id, None)
            self.changed.emit()

    def set_report(self, version_id: str, report: Any) -> None:
        self.reports[version_id] = report
        self.report_changed.emit(version_id)

    def mark_exported(self, version_id: str, item_id: int) -> None:
        """An exported version leaves the pending list (its folder stays, marked by the export)."""
        self.exported[version_id] = item_id
        if self._versions.pop(version_id, None) is not None:
            self.changed.emit()

    def purge_trash(self) -> None:
        """Delete the folders of removed versions (when the workspace closes: undo cannot reach them)."""
        if self.workspace is None or not self._trashed:
            self._trashed.clear()
            return
        for vid in list(self._trashed):
            shutil.rmtree(self._trash_root() / vid, ignore_errors=True)
        self._trashed.clear()


def read_pending(ws: Any) -> list[Any]:
    """The workspace's pending versions not exported yet, oldest first (a scan of ``W/pending/``: call it in a
    worker where you can; :meth:`VersionsModel.prime` hands the result over)."""
    from generec_desktop.fidelity.export import list_pending

    return [pv for pv in list_pending(ws) if not (pv.folder / "exported.json").exists()]


def read_saved_reports(ws: Any, pending: list[Any]) -> dict[str, Any]:
    """The check reports saved beside pending versions that still hold (checked by `generec check`, a batch
    or an earlier session), by version id: a version checked elsewhere is shown checked, not checked again.
    Hashes each version's media: call it in a worker."""
    from generec_desktop.fidelity.export import saved_report

    out: dict[str, Any] = {}
    for pv in pending:
        try:
            rep = saved_report(ws, pv)
        except Exception as exc:  # a version that cannot be read is shown unchecked, as before
            log.info("no saved report for %s: %s", pv.id, exc)
            continue
        if rep is not None:
            out[pv.id] = rep
    return out


def version_label(pv: Any, workspace: Any = None) -> str:
    """One line describing a pending version: operation, audience, parent and key parameters."""
    params = pv.params or {}
    bits = [pv.operation]
    if params.get("style"):
        bits.append(str(params["style"]))
    if pv.target_profile:
        from generec_desktop.profiles.service import audience_title

        bits.append(f"for {audience_title(pv.target_profile)}")
    if pv.parent_id is not None:
        bits.append(f"of #{pv.parent_id}")
    if "start" in params and "end" in params and params.get("end") is not None:
        bits.append(f"{float(params['start']):.2f}–{float(params['end']):.2f} s")
    return f"{pv.title or ' '.join(bits)}  [{pv.id}]"


def ensure_versions(window: Any) -> VersionsModel:
    """The window's :class:`VersionsModel`, created by the first tab that needs it (``window.versions``)."""
    model = getattr(window, "versions", None)
    if model is None:
        model = VersionsModel(window)
        window.versions = model
        window.workspace_opened.connect(model.set_workspace)
    return model


# ------------------------------------------------------------------------------- personalisation results


class PersonalResults(QObject):
    """Per item, the last personalisation (thumbnails + clips per audience), shared by two tabs."""

    updated = Signal(int)  # item id

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.results: dict[int, Any] = {}

    def set(self, item_id: int, result: Any) -> None:
        self.results[item_id] = result
        self.updated.emit(item_id)

    def get(self, item_id: int | None) -> Any:
        return self.results.get(item_id) if item_id is not None else None

    def clear(self, *_: Any) -> None:
        """Forget every result (another workspace: its item ids name other videos) and tell the tabs,
        which would otherwise keep showing the last workspace's thumbnails."""
        had = bool(self.results)
        self.results.clear()
        if had:
            self.updated.emit(-1)


def ensure_results(window: Any) -> PersonalResults:
    """The window's :class:`PersonalResults` (``window.personal``), created on first use."""
    model = getattr(window, "personal", None)
    if model is None:
        model = PersonalResults(window)
        window.personal = model
        window.workspace_opened.connect(model.clear)
    return model
