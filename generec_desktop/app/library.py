"""The library panel: the workspace's items with their covers; drop video files here to import them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi"}
KIND_LABEL = {"human": "original", "ai_edited": "AI-edited", "ai_created": "AI-created"}


def item_caption(item: Any, artwork: int = 0) -> str:
    """Two-line caption: title, then kind and duration (and "artwork ×N" when N audiences have artwork)."""
    title = getattr(item, "title", None) or getattr(item, "original_name", None) or f"item {item.id}"
    kind = KIND_LABEL.get(getattr(item, "kind", "human"), getattr(item, "kind", ""))
    duration = getattr(item, "duration", None) or 0.0
    badge = "⚠ " if getattr(item, "warnings", ()) else ""  # first, so a narrow library still shows it
    repaired = " · repaired" if badge else ""
    art = f"artwork ×{artwork} · " if artwork else ""  # first on its line: a narrow library still shows it
    return f"{badge}{title}\n{art}{kind} · {duration:.1f} s{repaired}"


def item_tooltip(item: Any, artwork: list[tuple[str, Path]] | None = None) -> str:
    """Id, kind and hash; for a file that needed repairs on reading, what was repaired; the artwork stored
    per audience as a strip of small pictures with their audience (rich text)."""
    import html

    tip = f"#{item.id} · {getattr(item, 'kind', '')} · sha256 {str(getattr(item, 'sha256', ''))[:12]}…"
    warnings = getattr(item, "warnings", ())
    if warnings:
        tip += "\nThe file is damaged; GeneRec reads what can be decoded:\n" + "\n".join(f"• {w}" for w in warnings)
    if not artwork:
        return tip
    cells = "".join(f"<td align='center'><img src='{QUrl.fromLocalFile(str(p)).toString()}' width='96'><br>"
                    f"{html.escape(label)}</td>" for label, p in artwork)
    return (html.escape(tip).replace("\n", "<br>") + f"<br><b>Artwork for {len(artwork)} audience(s):</b>"
            f"<table><tr>{cells}</tr></table>")


class LibraryPanel(QWidget):
    """Lists items; emits ``item_selected(item_id)`` and ``files_dropped(paths)``."""

    item_selected = Signal(int)
    files_dropped = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter items…")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        self.list = QListWidget()
        self.list.setObjectName("library")
        self.list.setIconSize(QSize(112, 63))
        self.list.setUniformItemSizes(True)
        self.list.setSpacing(2)
        self.list.setToolTip("Drop video files here to import them; Ctrl-click selects several (e.g. as the "
                             "examples of a new audience)")
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.currentItemChanged.connect(self._current_changed)
        layout.addWidget(self.filter)
        layout.addWidget(self.list, 1)
        self._items: dict[int, Any] = {}
        self.artwork: dict[int, list[tuple[str, Path]]] = {}

    def set_items(self, items: list[Any], covers: dict[int, Any],
                  artwork: dict[int, list[tuple[str, Path]]] | None = None) -> None:
        """Replace the list, keeping the selection when the item still exists. ``artwork``: per item id,
        (audience label, file) of its stored artwork (shown as "artwork ×N" and a strip in the tooltip)."""
        artwork = artwork or {}
        self.artwork = artwork
        current = self.current_item_id()
        self.list.blockSignals(True)
        self.list.clear()
        self._items = {it.id: it for it in items}
        for it in items:
            entry = QListWidgetItem(item_caption(it, len(artwork.get(it.id, ()))))
            entry.setData(Qt.ItemDataRole.UserRole, it.id)
            cover = covers.get(it.id)
            if isinstance(cover, QImage):  # read and scaled in a worker (MainWindow.request_open_workspace)
                entry.setIcon(QIcon(QPixmap.fromImage(cover)))
            elif cover is not None and Path(cover).exists():
                pix = QPixmap(str(cover))
                if not pix.isNull():
                    entry.setIcon(QIcon(pix.scaled(self.list.iconSize(), Qt.AspectRatioMode.KeepAspectRatio,
                                                   Qt.TransformationMode.SmoothTransformation)))
            entry.setToolTip(item_tooltip(it, artwork.get(it.id)))
            self.list.addItem(entry)
        self.list.blockSignals(False)
        self._apply_filter(self.filter.text())
        if current is not None and current in self._items:
            self.select_item(current)

    def item(self, item_id: int) -> Any:
        """The record of a listed item (as the list was filled), or None."""
        return self._items.get(item_id)

    def item_ids(self) -> list[int]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def selected_item_ids(self) -> list[int]:
        """The items selected in the list (Ctrl/Shift-click), in list order."""
        return [int(self.list.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(self.list.count())
                if self.list.item(i).isSelected()]

    def current_item_id(self) -> int | None:
        entry = self.list.currentItem()
        return None if entry is None else int(entry.data(Qt.ItemDataRole.UserRole))

    def select_item(self, item_id: int) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).data(Qt.ItemDataRole.UserRole) == item_id:
                self.list.setCurrentRow(i)
                return

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        for i in range(self.list.count()):
            entry = self.list.item(i)
            entry.setHidden(bool(needle) and needle not in entry.text().lower())

    def _current_changed(self, current: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if current is not None:
            self.item_selected.emit(int(current.data(Qt.ItemDataRole.UserRole)))

    # Drag & drop import -------------------------------------------------------------------------
    @staticmethod
    def _video_paths(event: QDragEnterEvent | QDropEvent) -> list[str]:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        return [u.toLocalFile() for u in urls if u.isLocalFile()
                and Path(u.toLocalFile()).suffix.lower() in VIDEO_SUFFIXES]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._video_paths(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = self._video_paths(event)
        if paths:
            event.acceptProposedAction()
            self.files_dropped.emit(paths)
