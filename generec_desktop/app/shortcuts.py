"""Help ▸ Keyboard Shortcuts: every shortcut of the window's actions, the player's keys, the compare player's."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from generec_desktop.app.preview import PLAYER_KEYS

COMPARE_KEYS = (("Space", "Play / pause both, in step"), ("T", "Toggle between the original and the version"),
                ("← / →", "One frame back / forward"), ("Drag on the picture (Wipe)", "Move the divider"))
TIMELINE_KEYS = (("Drag a clip's end", "Trim it (snaps to shot cuts; Ctrl+Z undoes)"),
                 ("Shift while dragging", "Trim without snapping"), ("Click the timeline", "Jump there"))


def window_shortcuts(window: Any) -> list[tuple[str, str]]:
    """(key, action) for each of the window's actions that has a shortcut, in menu order, once each."""
    seen: set[tuple[str, str]] = set()
    rows = []
    for action in window.findChildren(QAction):
        key = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        text = action.text().replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip(".…")
        if key and text and (key, text) not in seen:
            seen.add((key, text))
            rows.append((key, text))
    return rows


class ShortcutsDialog(QDialog):
    """A searchable-by-eye list, grouped: Window, Player, Compare, Clips timeline."""

    def __init__(self, window: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent or window)
        self.setWindowTitle("Keyboard shortcuts")
        self.tree = QTreeWidget()
        self.tree.setObjectName("shortcutList")
        self.tree.setHeaderLabels(["Key", "Does"])
        self.tree.setColumnWidth(0, 200)
        for title, rows in (("Window", window_shortcuts(window)), ("Player (Preview, Clips, Checks)", PLAYER_KEYS),
                            ("Compare player", COMPARE_KEYS), ("Clips timeline", TIMELINE_KEYS)):
            group = QTreeWidgetItem([title, ""])
            for key, text in rows:
                group.addChild(QTreeWidgetItem([key, text]))
            self.tree.addTopLevelItem(group)
            group.setExpanded(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree)
        layout.addWidget(buttons)
        self.resize(620, 640)

    def keys(self) -> list[str]:
        """Every listed key (for tests)."""
        out: list[str] = []
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            if group is not None:
                out += [child.text(0) for k in range(group.childCount()) if (child := group.child(k)) is not None]
        return out


def show_shortcuts(window: Any) -> ShortcutsDialog:
    dialog = ShortcutsDialog(window)
    dialog.setModal(False)
    dialog.show()
    window.shortcuts_dialog = dialog
    return dialog
