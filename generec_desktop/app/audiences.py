"""The audiences panel: segments and individual users, searchable and multi-select."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class AudiencesPanel(QWidget):
    """Lists a ProfileSet's audiences; emits ``audiences_changed(ids)`` when the selection changes."""

    audiences_changed = Signal(list)
    build_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.profiles: Any = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search audiences (label, user id)…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._apply_filter)
        self.list = QListWidget()
        self.list.setObjectName("audiences")
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setToolTip("Ctrl-click to compare several audiences side by side")
        self.list.itemSelectionChanged.connect(self._selection_changed)
        self.status = QLabel("No workspace open.")
        self.status.setWordWrap(True)
        self.build_button = QPushButton("Build profiles")
        self.build_button.setToolTip("Compute User_Hist, train the recommender and cluster users into segments")
        self.build_button.clicked.connect(self.build_requested)
        self.build_button.setEnabled(False)
        buttons = QHBoxLayout()
        self.clear_button = QPushButton("Clear selection")
        self.clear_button.clicked.connect(self.list.clearSelection)
        buttons.addWidget(self.build_button)
        buttons.addWidget(self.clear_button)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)

    def set_profiles(self, profiles: Any, *, max_users: int = 5000) -> None:
        """Show a ProfileSet (``None``: none built yet)."""
        self.profiles = profiles
        self.list.blockSignals(True)
        self.list.clear()
        self.build_button.setEnabled(True)
        if profiles is None:
            self.status.setText("No audience profiles yet: import interactions, then Build profiles.")
            self.list.blockSignals(False)
            return
        audiences = profiles.audiences(users=True)
        n_users = 0
        for aud in audiences:
            if aud.kind == "user":
                n_users += 1
                if n_users > max_users:
                    continue
                text = f"User {aud.label}"
            else:
                text = f"Segment {aud.segment_index + 1}: {aud.label}  ({aud.size} users)"
            entry = QListWidgetItem(text)
            entry.setData(Qt.ItemDataRole.UserRole, aud.id)
            if aud.kind == "segment":
                font = entry.font()
                font.setBold(True)
                entry.setFont(font)
            self.list.addItem(entry)
        self.list.blockSignals(False)
        self.status.setText(f"{len(profiles.segments)} segments · {len(profiles.user_ids)} users "
                            f"· encoder {profiles.encoder_id}")
        self._apply_filter(self.search.text())

    def selected_ids(self) -> list[str]:
        return [e.data(Qt.ItemDataRole.UserRole) for e in self.list.selectedItems()]

    def select_ids(self, ids: list[str]) -> None:
        wanted = set(ids)
        self.list.blockSignals(True)
        self.list.clearSelection()
        for i in range(self.list.count()):
            entry = self.list.item(i)
            if entry.data(Qt.ItemDataRole.UserRole) in wanted:
                entry.setSelected(True)
        self.list.blockSignals(False)
        self._selection_changed()

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        for i in range(self.list.count()):
            entry = self.list.item(i)
            hay = f"{entry.text()} {entry.data(Qt.ItemDataRole.UserRole)}".lower()
            entry.setHidden(bool(needle) and needle not in hay)

    def _selection_changed(self) -> None:
        self.audiences_changed.emit(self.selected_ids())
