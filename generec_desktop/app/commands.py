"""Undoable edits (QUndoCommand): the tabs push these on ``window.undo_stack`` instead of editing directly."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QUndoCommand

from generec_desktop.app.versions import VersionsModel, version_label


class AddVersionCommand(QUndoCommand):
    """A new pending version (the output of an edit); undo moves it to the trash, redo brings it back."""

    def __init__(self, model: VersionsModel, pv: Any, text: str | None = None) -> None:
        super().__init__(text or f"Create {pv.operation} version")
        self.model, self.pv = model, pv

    def redo(self) -> None:
        self.model.add(self.pv)

    def undo(self) -> None:
        self.model.remove(self.pv.id)


class RemoveVersionCommand(QUndoCommand):
    """Discard a pending version; undo restores it (with its files)."""

    def __init__(self, model: VersionsModel, pv: Any) -> None:
        super().__init__(f"Discard {version_label(pv)}")
        self.model, self.pv = model, pv

    def redo(self) -> None:
        self.model.remove(self.pv.id)

    def undo(self) -> None:
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
