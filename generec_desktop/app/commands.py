"""Undoable edits (QUndoCommand): the tabs push these on ``window.undo_stack`` instead of editing directly."""

from __future__ import annotations

import contextlib
from typing import Any

from PySide6.QtGui import QUndoCommand

from generec_desktop.app.versions import VersionsModel, version_label


class VersionCommand(QUndoCommand):
    """An edit of one pending version. Once that version is exported it is an item of the corpus: its
    history ends there. Undoing or redoing the command then changes nothing, says so
    (``VersionsModel.history_ended``) and makes the command obsolete, so QUndoStack drops it and the next
    undo reaches the edit before it."""

    def __init__(self, text: str, model: VersionsModel, pv: Any) -> None:
        super().__init__(text)
        self.model, self.pv = model, pv

    def ended(self) -> bool:
        """True (and the command obsolete) when the version was exported since this command was pushed."""
        item_id = self.model.exported_item(self.pv)
        if item_id is None:
            return False
        self.setObsolete(True)
        self.model.history_ended.emit(self.pv.id, item_id)
        return True


class AddVersionCommand(VersionCommand):
    """A new pending version (the output of an edit); undo moves it to the trash, redo brings it back."""

    def __init__(self, model: VersionsModel, pv: Any, text: str | None = None) -> None:
        super().__init__(text or f"Create {pv.operation} version", model, pv)

    def redo(self) -> None:
        if not self.ended():
            self.model.add(self.pv)

    def undo(self) -> None:
        if not self.ended():
            self.model.remove(self.pv.id)


class RemoveVersionCommand(VersionCommand):
    """Discard a pending version; undo restores it (with its files)."""

    def __init__(self, model: VersionsModel, pv: Any) -> None:
        super().__init__(f"Discard {version_label(pv)}", model, pv)

    def redo(self) -> None:
        if not self.ended():
            self.model.remove(self.pv.id)

    def undo(self) -> None:
        if not self.ended():
            self.model.add(self.pv)


class SetValueCommand(QUndoCommand):
    """A reversible setting change in a tab (e.g. a clip's range): ``apply(value)`` sets it."""

    def __init__(self, text: str, apply: Any, old: Any, new: Any, merge_id: int = -1) -> None:
        super().__init__(text)
        self.apply, self.old, self.new, self._merge_id = apply, old, new, merge_id

    def id(self) -> int:
        return self._merge_id

    def mergeWith(self, other: QUndoCommand) -> bool:
        if isinstance(other, SetValueCommand) and other.id() == self.id() and self.id() != -1:
            self.new = other.new
            return True
        return False

    def redo(self) -> None:
        self.apply(self.new)

    def undo(self) -> None:
        self.apply(self.old)


class AudienceCommand(QUndoCommand):
    """An edit of an audience from examples (new, rename, remove, add or remove examples), undone by putting
    back the audience's rows as they were (``before``; None: it did not exist) and redone with ``after``.

    ``applied=True``: the edit already ran (in a background job, where the embedding happens), so the
    first ``redo`` (QUndoStack.push calls it) does nothing. Restoring rows is a few inserts, no embedding.
    """

    def __init__(self, window: Any, text: str, before: Any, after: Any, *, on_change: Any = None,
                 applied: bool = True) -> None:
        super().__init__(text)
        self.window, self.before, self.after = window, before, after
        self.on_change = on_change
        self.workspace = window.workspace
        self._skip = applied

    def _put(self, snapshot: Any, other: Any) -> None:
        from generec_desktop.jobs import GenerecError
        from generec_desktop.profiles import examples

        if self.window.workspace is not self.workspace:
            self.window.show_error("Cannot undo", "That edit belongs to a workspace that is no longer open.")
            return
        try:
            if snapshot is not None:
                examples.restore_audience(self.workspace, snapshot)
            elif other is not None:
                with contextlib.suppress(examples.UnknownAudienceError):  # already gone: nothing to undo
                    examples.remove_audience(self.workspace, int(other.audience["id"]))
        except GenerecError as exc:
            self.window.show_error("Cannot undo" if snapshot is self.before else "Cannot redo", str(exc))
        if self.on_change is not None:
            self.on_change()

    def redo(self) -> None:
        if self._skip:
            self._skip = False
            return
        self._put(self.after, self.before)

    def undo(self) -> None:
        self._put(self.before, self.after)


class ArtworkCommand(QUndoCommand):
    """Artwork stored for (item, audience) (``fidelity.artwork.store``, already run in a job): undo puts the
    pair's earlier artwork back (or none), redo the new one (``fidelity.artwork.put_back``; files come back
    from the workspace's artwork trash, nothing is re-encoded)."""

    def __init__(self, window: Any, text: str, before: Any, after: Any, *, on_change: Any = None) -> None:
        super().__init__(text)
        self.window, self.before, self.after = window, before, after
        self.workspace = window.workspace
        self.item_id, self.audience_id = after.item_id, after.audience_id
        self.on_change = on_change
        self._skip = True

    def _put(self, row: Any, what: str) -> None:
        from generec_desktop.fidelity.artwork import put_back
        from generec_desktop.jobs import GenerecError

        if self.window.workspace is not self.workspace:
            self.window.show_error(f"Cannot {what}", "That artwork belongs to a workspace that is no longer open.")
            return
        try:
            put_back(self.workspace, self.item_id, self.audience_id, row)
        except GenerecError as exc:
            self.window.show_error(f"Cannot {what}", str(exc))
        if self.on_change is not None:
            self.on_change()

    def redo(self) -> None:
        if self._skip:
            self._skip = False
            return
        self._put(self.after, "redo")

    def undo(self) -> None:
        self._put(self.before, "undo")
