"""The audiences panel and the edits of audiences built from examples.

The panel is a tree: each segment ("Segment 2: travel · beach", numbered from 1 as people count) with
its users under it (shown by their external id or name), then the audiences built from examples
("people who like these"), then users outside any segment. Beside each segment and example audience a
strip of the 3–4 covers it likes most (a segment's characteristic items, an example audience's examples),
composed off the GUI thread from the cached covers.

:class:`AudienceEditor` makes, renames and removes audiences from examples and adds or removes their
examples (from the library's selected items, chosen image/video files or a folder, or files dropped on
the panel): the embedding runs as a background job with progress and Cancel, and every edit lands on
the window's undo stack (:class:`~generec_desktop.app.commands.AudienceCommand`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QTreeWidgetItemIterator,
    QVBoxLayout,
    QWidget,
)

#: One cover of a strip is this many pixels square; a strip holds up to STRIP_COUNT of them.
STRIP_SIDE = 30
STRIP_COUNT = 4
STRIP_GAP = 2
ID_ROLE = Qt.ItemDataRole.UserRole
KIND_ROLE = Qt.ItemDataRole.UserRole + 1
TEXT_ROLE = Qt.ItemDataRole.UserRole + 2  # what the entry says (an entry with a row widget shows no text)
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".3gp", ".wmv", ".flv",
                  ".ogv"}
EXAMPLE_FILTER = ("Images and videos (" + " ".join(f"*{s}" for s in sorted(IMAGE_SUFFIXES | VIDEO_SUFFIXES))
                  + ");;All files (*)")


def strip_width(count: int = STRIP_COUNT) -> int:
    return count * STRIP_SIDE + (count - 1) * STRIP_GAP


def compose_strip(images: list[np.ndarray], *, side: int = STRIP_SIDE, count: int = STRIP_COUNT) -> np.ndarray:
    """Up to ``count`` pictures side by side as one RGB strip of ``side``-pixel squares (centre crops), with
    ``STRIP_GAP`` pixels of white between them. Pure numpy + OpenCV: it runs in a worker thread."""
    import cv2

    shown = images[:count]
    out = np.full((side, strip_width(max(1, len(shown))), 3), 255, np.uint8)
    for k, img in enumerate(shown):
        h, w = img.shape[:2]
        s = min(h, w)
        crop = img[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
        x = k * (side + STRIP_GAP)
        out[:, x:x + side] = cv2.resize(np.ascontiguousarray(crop[..., :3]), (side, side),
                                        interpolation=cv2.INTER_AREA)
    return out


def load_strips(ws: Any, profiles: Any, cancel: Any = None) -> dict[str, np.ndarray]:
    """Cover strips (RGB arrays) per audience id: a segment's characteristic items' covers, an example
    audience's example pictures. Reads the cached covers with PIL's draft mode; meant for a worker."""
    from PIL import Image

    from generec_desktop.jobs import check_cancel
    from generec_desktop.profiles.examples import example_cover_paths

    def read(path: Path) -> np.ndarray | None:
        try:
            with Image.open(path) as im:
                im.draft("RGB", (STRIP_SIDE * 2, STRIP_SIDE * 2))
                return np.asarray(im.convert("RGB"))
        except (OSError, ValueError, SyntaxError):
            return None

    out: dict[str, np.ndarray] = {}
    for seg in profiles.segments:
        check_cancel(cancel)
        paths = []
        for iid in list(seg.top_item_ids)[:STRIP_COUNT]:
            try:
                p = ws.cover_path(ws.item(int(iid)))
            except Exception:  # an item gone since the profiles were built, or a refused path
                p = None
            if p is not None and p.is_file():
                paths.append(p)
        imgs = [im for p in paths if (im := read(p)) is not None]
        if imgs:
            out[seg.audience_id] = compose_strip(imgs)
    for prof in profiles.examples:
        check_cancel(cancel)
        imgs = [im for p in example_cover_paths(ws, prof.audience, STRIP_COUNT) if (im := read(p)) is not None]
        if imgs:
            out[prof.audience.audience_id] = compose_strip(imgs)
    return out


def dropped_paths(mime: Any) -> list[str]:
    """Local image and video files and folders in a drag's data."""
    urls = mime.urls() if mime.hasUrls() else []
    out = []
    for u in urls:
        if not u.isLocalFile():
            continue
        p = Path(u.toLocalFile())
        if p.is_dir() or p.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES:
            out.append(str(p))
    return out


class AudienceRow(QWidget):
    """A segment's or example audience's entry: its name on the first line (wrapping, never cut), then the
    strip of covers it likes most and its size. Transparent, so the tree's selection shows through."""

    def __init__(self, title: str, detail: str, *, italic: bool = False) -> None:
        super().__init__()
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)  # clicks select the tree's entry
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 3, 2, 3)
        layout.setSpacing(2)
        self.title = QLabel(title)
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        font = self.title.font()
        font.setBold(True)
        font.setItalic(italic)
        self.title.setFont(font)
        self.strip = QLabel()
        self.strip.setFixedSize(strip_width(), STRIP_SIDE)  # a fixed width: the sizes beside line up
        self.strip.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.detail = QLabel(detail)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        row.addWidget(self.strip)
        row.addWidget(self.detail, 1)
        layout.addWidget(self.title)
        layout.addLayout(row)
        self._has_strip = False

    def set_strip(self, pixmap: QPixmap) -> None:
        self.strip.setPixmap(pixmap)
        self._has_strip = not pixmap.isNull()

    def has_strip(self) -> bool:
        return self._has_strip

    def set_selected(self, selected: bool) -> None:
        role = "highlighted-text" if selected else "window-text"
        for label in (self.title, self.detail):
            label.setStyleSheet(f"color: palette({role});")


class AudiencesPanel(QWidget):
    """Shows a ProfileSet's audiences as a tree; emits ``audiences_changed(ids)`` when the selection changes.

    The edit signals carry an example audience's id (``"examples:2"``); ``examples_dropped(paths)`` fires
    when image/video files or folders are dropped on the panel.
    """

    audiences_changed = Signal(list)
    build_requested = Signal()
    new_requested = Signal()
    examples_dropped = Signal(list)
    rename_requested = Signal(str)
    remove_requested = Signal(str)
    add_examples_requested = Signal(str)
    remove_examples_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.profiles: Any = None
        self.setAcceptDrops(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search audiences (name, label, user id)…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._apply_filter)
        self.tree = QTreeWidget()
        self.tree.setObjectName("audiences")
        self.tree.setHeaderHidden(True)
        self.tree.setColumnCount(1)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setToolTip("Ctrl-click to compare several audiences side by side; drop images, videos or a "
                             "folder here to make an audience from examples")
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.status = QLabel("No workspace open.")
        self.status.setWordWrap(True)
        self.build_button = QPushButton("Build profiles")
        self.build_button.setToolTip("Compute User_Hist, train the recommender and cluster users into segments "
                                     "(needs interactions)")
        self.build_button.clicked.connect(self.build_requested)
        self.build_button.setEnabled(False)
        self.new_button = QPushButton("New audience from examples…")
        self.new_button.setToolTip("People who like these: pick items in the library, images, videos or a folder")
        self.new_button.clicked.connect(self.new_requested)
        self.new_button.setEnabled(False)
        self.edit_button = QToolButton()
        self.edit_button.setText("Edit")
        self.edit_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.edit_menu = QMenu(self.edit_button)
        self.rename_action = self.edit_menu.addAction("Rename…", lambda: self._emit_for(self.rename_requested))
        self.add_action = self.edit_menu.addAction("Add examples…",
                                                   lambda: self._emit_for(self.add_examples_requested))
        self.remove_examples_action = self.edit_menu.addAction(
            "Remove examples…", lambda: self._emit_for(self.remove_examples_requested))
        self.edit_menu.addSeparator()
        self.remove_action = self.edit_menu.addAction("Remove audience", lambda: self._emit_for(self.remove_requested))
        self.edit_button.setMenu(self.edit_menu)
        self.edit_button.setToolTip("Rename an audience from examples, change its examples, or remove it")
        self.clear_button = QPushButton("Clear selection")
        self.clear_button.clicked.connect(self.tree.clearSelection)
        row1 = QHBoxLayout()
        row1.addWidget(self.new_button, 1)
        row1.addWidget(self.edit_button)
        row2 = QHBoxLayout()
        row2.addWidget(self.build_button)
        row2.addWidget(self.clear_button)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.status)
        layout.addLayout(row1)
        layout.addLayout(row2)
        self._strips: dict[str, np.ndarray] = {}
        self._update_edit_state()

    # -- contents ----------------------------------------------------------------------------------
    def set_profiles(self, profiles: Any, *, max_users: int = 5000) -> None:
        """Show a ProfileSet (``None``: no audiences yet); the selection is kept where the ids remain."""
        previous = self.selected_ids()
        self.profiles = profiles
        self.tree.blockSignals(True)
        self.tree.clear()
        self.build_button.setEnabled(True)
        self.new_button.setEnabled(True)
        if profiles is None:
            self.status.setText("No audiences yet: <b>New audience from examples…</b> (images, videos or library "
                                "items people like), or import interactions, then <b>Build profiles</b>.")
            self.tree.blockSignals(False)
            self._update_edit_state()
            self._selection_changed()
            return
        # The entries are made detached and put in the tree in one call per parent: each addChild into a
        # shown tree tells the view (240 users: 11-14 ms on the GUI thread, 20-30 ms while jobs run); row
        # widgets need their entries in the tree, so they come after
        segment_items: dict[int, QTreeWidgetItem] = {}
        children: dict[int, list[QTreeWidgetItem]] = {}
        tops: list[QTreeWidgetItem] = []
        rows: list[tuple[QTreeWidgetItem, AudienceRow]] = []
        others: QTreeWidgetItem | None = None
        n_users = 0
        for aud in profiles.audiences(users=True):
            if aud.kind in ("segment", "examples"):
                if aud.kind == "segment":
                    detail = f"{aud.size} user{'s' if aud.size != 1 else ''}"
                    tip = f"{aud.title}\n{detail} · id {aud.id}\nThe covers are the items it likes most."
                else:
                    detail = f"{aud.size} example{'s' if aud.size != 1 else ''}"
                    tip = (f"{aud.name}: people who like these {aud.size} examples · id {aud.id}\n"
                           "Right-click to rename it or change its examples.")
                entry = QTreeWidgetItem()
                entry.setData(0, TEXT_ROLE, f"{aud.title}  ({detail})")
                entry.setToolTip(0, tip)
                tops.append(entry)
                rows.append((entry, AudienceRow(aud.title, detail, italic=aud.kind == "examples")))
                if aud.kind == "segment":
                    segment_items[int(aud.segment_index)] = entry
            else:
                n_users += 1
                if n_users > max_users:
                    continue
                entry = QTreeWidgetItem([aud.name or aud.label])
                entry.setData(0, TEXT_ROLE, aud.name or aud.label)
                entry.setToolTip(0, f"user {aud.name} · id {aud.id}")
                parent = segment_items.get(int(aud.segment_index if aud.segment_index is not None else -1))
                if parent is None:
                    if others is None:
                        others = QTreeWidgetItem(["Users in no segment"])
                        others.setData(0, TEXT_ROLE, "Users in no segment")
                        others.setFlags(others.flags() & ~Qt.ItemFlag.ItemIsSelectable)
                        tops.append(others)
                    parent = others
                children.setdefault(id(parent), []).append(entry)
            entry.setData(0, ID_ROLE, aud.id)
            entry.setData(0, KIND_ROLE, aud.kind)
        for top in tops:
            if id(top) in children:
                top.addChildren(children[id(top)])
        self.tree.addTopLevelItems(tops)
        for entry, row in rows:
            self.tree.setItemWidget(entry, 0, row)
        for aid, strip in self._strips.items():
            self._set_strip(aid, strip)
        self._fit_rows()
        self.tree.blockSignals(False)
        n_ex = len(profiles.examples)
        parts = [f"{len(profiles.segments)} segments"] if profiles.segments else []
        if n_ex:
            parts.append(f"{n_ex} audience{'s' if n_ex != 1 else ''} from examples")
        if len(profiles.user_ids):
            parts.append(f"{len(profiles.user_ids)} users")
        parts.append(f"encoder {profiles.encoder_id}")
        text = " · ".join(parts)
        notes = getattr(profiles, "notes", None) or []
        if notes:
            from html import escape

            text += "<br><span style='color:#8a4b00'>⚠ " + "<br>⚠ ".join(escape(n) for n in notes[:3]) + "</span>"
        self.status.setText(text)
        self._apply_filter(self.search.text())
        self.select_ids(previous, emit=False)
        self._update_edit_state()
        self._selection_changed()

    def set_strips(self, strips: dict[str, np.ndarray]) -> None:
        """Cover strips per audience id (RGB arrays from :func:`load_strips`) as the entries' icons."""
        self._strips = dict(strips)
        for aid, strip in strips.items():
            self._set_strip(aid, strip)

    def _set_strip(self, audience_id: str, strip: np.ndarray) -> None:
        from generec_desktop.app.preview import to_qimage

        row = self.row(audience_id)
        if row is not None:
            row.set_strip(QPixmap.fromImage(to_qimage(strip)))

    def row(self, audience_id: str) -> AudienceRow | None:
        """The row widget of a segment or example audience (None for users and unknown ids)."""
        entry = self.entry(audience_id)
        w = self.tree.itemWidget(entry, 0) if entry is not None else None
        return w if isinstance(w, AudienceRow) else None

    @staticmethod
    def entry_text(entry: QTreeWidgetItem) -> str:
        """What an entry says ("Segment 2: travel  (12 users)", "Cyclists  (3 examples)")."""
        return str(entry.data(0, TEXT_ROLE) or entry.text(0))

    def _fit_rows(self) -> None:
        """Row widgets wrap their titles: give each entry the height its widget needs at the current width."""
        width = max(120, self.tree.viewport().width() - self.tree.indentation() - 4)
        for i in range(self.tree.topLevelItemCount()):
            entry = self.tree.topLevelItem(i)
            w = self.tree.itemWidget(entry, 0)
            if w is not None:
                h = w.layout().heightForWidth(width) if w.layout().hasHeightForWidth() else w.sizeHint().height()
                entry.setSizeHint(0, QSize(width, max(h, w.sizeHint().height())))

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._fit_rows()

    def entries(self) -> list[QTreeWidgetItem]:
        """Every entry of the tree (segments, their users, example audiences), depth first."""
        out = []
        it = QTreeWidgetItemIterator(self.tree)
        while it.value() is not None:
            out.append(it.value())
            it += 1
        return out

    def entry(self, audience_id: str) -> QTreeWidgetItem | None:
        for e in self.entries():
            if e.data(0, ID_ROLE) == audience_id:
                return e
        return None

    # -- selection ---------------------------------------------------------------------------------
    def selected_ids(self) -> list[str]:
        return [e.data(0, ID_ROLE) for e in self.tree.selectedItems() if e.data(0, ID_ROLE)]

    def select_ids(self, ids: list[str], *, emit: bool = True) -> None:
        wanted = set(ids)
        self.tree.blockSignals(True)
        self.tree.clearSelection()
        for e in self.entries():
            if e.data(0, ID_ROLE) in wanted:
                e.setSelected(True)
                parent = e.parent()
                if parent is not None:
                    parent.setExpanded(True)
        self.tree.blockSignals(False)
        if emit:
            self._selection_changed()

    def selected_example_audience(self) -> str | None:
        """The id of the one selected audience from examples (the one the Edit menu acts on)."""
        from generec_desktop.profiles.audience_id import AudienceId

        ids = [i for i in self.selected_ids() if getattr(AudienceId.parse(i), "kind", "") == "examples"]
        return ids[0] if len(ids) == 1 else None

    def _emit_for(self, signal: Any) -> None:
        aid = self.selected_example_audience()
        if aid is not None:
            signal.emit(aid)

    def _update_edit_state(self) -> None:
        ok = self.selected_example_audience() is not None
        self.edit_button.setEnabled(ok)
        for a in (self.rename_action, self.add_action, self.remove_examples_action, self.remove_action):
            a.setEnabled(ok)

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            any_child = False
            for j in range(top.childCount()):
                child = top.child(j)
                hit = not needle or needle in f"{self.entry_text(child)} {child.data(0, ID_ROLE)}".lower()
                child.setHidden(not hit)
                any_child = any_child or hit
            own = not needle or needle in f"{self.entry_text(top)} {top.data(0, ID_ROLE)}".lower()
            top.setHidden(not (own or any_child))
            if needle and any_child and not own:
                top.setExpanded(True)

    def _selection_changed(self) -> None:
        for i in range(self.tree.topLevelItemCount()):
            entry = self.tree.topLevelItem(i)
            w = self.tree.itemWidget(entry, 0)
            if isinstance(w, AudienceRow):
                w.set_selected(entry.isSelected())
        self._update_edit_state()
        self.audiences_changed.emit(self.selected_ids())

    def _context_menu(self, pos: Any) -> None:
        entry = self.tree.itemAt(pos)
        menu = QMenu(self)
        menu.addAction("New audience from examples…", self.new_requested.emit)
        if entry is not None and entry.data(0, KIND_ROLE) == "examples":
            if not entry.isSelected():
                self.select_ids([entry.data(0, ID_ROLE)])
            aid = str(entry.data(0, ID_ROLE))
            menu.addSeparator()
            menu.addAction("Rename…", lambda: self.rename_requested.emit(aid))
            menu.addAction("Add examples…", lambda: self.add_examples_requested.emit(aid))
            menu.addAction("Remove examples…", lambda: self.remove_examples_requested.emit(aid))
            menu.addAction("Remove audience", lambda: self.remove_requested.emit(aid))
        menu.popup(self.tree.viewport().mapToGlobal(pos))

    # -- drag & drop -------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: Any) -> None:
        if dropped_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = dropped_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.examples_dropped.emit(paths)


# ------------------------------------------------------------------------------------------------ dialogs

class ExamplesDialog(QDialog):
    """Choose examples (library items, files, a folder) and, for a new audience, its name."""

    def __init__(self, parent: QWidget | None, *, title: str, ask_name: bool, library_items: Any = None,
                 initial: list[Any] | None = None, describe: Any = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(460)
        self._library_items = library_items  # callable -> list of (item id, caption)
        self._describe = describe or (lambda ref: str(ref))
        layout = QVBoxLayout(self)
        self.name = QLineEdit()
        self.name.setPlaceholderText("Name, e.g. Cyclists")
        if ask_name:
            layout.addWidget(QLabel("Who are they? People who like these:"))
            layout.addWidget(self.name)
        else:
            self.name.hide()
        self.list = QListWidget()
        self.list.setObjectName("examplesList")
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        layout.addWidget(QLabel("Examples (library items, images, videos, folders):"))
        layout.addWidget(self.list, 1)
        row = QHBoxLayout()
        self.from_library = QPushButton("Add library selection")
        self.from_library.setToolTip("The items selected in the library (Ctrl-click to select several)")
        self.from_library.clicked.connect(self.add_library_selection)
        files = QPushButton("Add files…")
        files.clicked.connect(self._ask_files)
        folder = QPushButton("Add folder…")
        folder.setToolTip("Every image and video in the folder and its sub-folders")
        folder.clicked.connect(self._ask_folder)
        drop = QPushButton("Remove from list")
        drop.clicked.connect(self._drop_selected)
        for b in (self.from_library, files, folder, drop):
            row.addWidget(b)
        layout.addLayout(row)
        self.words = QLineEdit()
        self.words.setObjectName("examplesWords")
        self.words.setPlaceholderText("…or in words, e.g. people who like skateboarding")
        self.words.setToolTip("A description needs an encoder with a text tower (Edit ▸ Models…). With examples "
                              "too, pictures and words count half each.")
        layout.addWidget(self.words)
        self.words.textChanged.connect(self._update)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._ask_name = ask_name
        self.name.textChanged.connect(self._update)
        self.add_refs(initial or [])
        self._update()

    def add_refs(self, refs: list[Any]) -> None:
        have = set(self.refs())
        for ref in refs:
            if ref in have:
                continue
            have.add(ref)
            entry = QListWidgetItem(self._describe(ref))
            entry.setData(ID_ROLE, ref)
            self.list.addItem(entry)
        self._update()

    def refs(self) -> list[Any]:
        return [self.list.item(i).data(ID_ROLE) for i in range(self.list.count())]

    def add_library_selection(self) -> None:
        if self._library_items is not None:
            self.add_refs([iid for iid, _ in self._library_items()])

    def _ask_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Example images and videos", "", EXAMPLE_FILTER)
        self.add_refs(list(paths))

    def _ask_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "A folder of example images and videos")
        if path:
            self.add_refs([path])

    def _drop_selected(self) -> None:
        for entry in self.list.selectedItems():
            self.list.takeItem(self.list.row(entry))
        self._update()

    def _update(self) -> None:
        ok = (self.list.count() > 0 or bool(self.words.text().strip())) and \
            (not self._ask_name or bool(self.name.text().strip()))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def values(self) -> tuple[str, list[Any]]:
        return self.name.text().strip(), self.refs()

    def description(self) -> str | None:
        """The words typed, or None."""
        return self.words.text().strip() or None


class RemoveExamplesDialog(QDialog):
    """Tick the examples to take out of an audience (at least one must stay)."""

    def __init__(self, parent: QWidget | None, audience: Any) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Remove examples from '{audience.name}'")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Tick the examples to remove (the files are not touched):"))
        self.list = QListWidget()
        for ex in audience.examples:
            entry = QListWidgetItem(ex.describe() + ("" if ex.reachable else "  (moved or deleted)"))
            entry.setFlags(entry.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            entry.setCheckState(Qt.CheckState.Unchecked)
            entry.setData(ID_ROLE, ex.id)
            self.list.addItem(entry)
        self.list.itemChanged.connect(lambda _e: self._update())
        layout.addWidget(self.list, 1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._examples = {ex.id: ex for ex in audience.examples}
        self._update()

    def checked(self) -> list[Any]:
        return [self._examples[self.list.item(i).data(ID_ROLE)] for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]

    def _update(self) -> None:
        n = len(self.checked())
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(0 < n < self.list.count())


# ------------------------------------------------------------------------------------------------ editor

class AudienceEditor(QObject):
    """The window's edits of audiences from examples: background jobs, undo commands, reloads.

    The public methods that take their input (``create(name, refs)``, ``rename(id, name)``…) run without
    a dialog; those without it (``new_from_examples()``…) ask first. ``dialog`` is the open dialog.
    """

    changed = Signal()

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.dialog: QDialog | None = None
        self._strip_gen = 0
        panel = window.audiences
        panel.new_requested.connect(lambda: self.new_from_examples())
        panel.examples_dropped.connect(lambda paths: self.new_from_examples(list(paths)))
        panel.rename_requested.connect(lambda aid: self.rename(aid))
        panel.remove_requested.connect(self.remove)
        panel.add_examples_requested.connect(lambda aid: self.add_examples(aid))
        panel.remove_examples_requested.connect(lambda aid: self.remove_examples(aid))
        window.profiles_changed.connect(self._load_strips)

    # -- helpers -----------------------------------------------------------------------------------
    def _ws(self) -> Any:
        ws = self.window.workspace
        if ws is None:
            self.window.show_error("No workspace", "Open or create a workspace first.")
        elif getattr(ws, "read_only", False):
            self.window.show_error("Read-only workspace", "This workspace is open read-only; audiences cannot be "
                                                           "changed.")
            return None
        return ws

    def _library_items(self) -> list[tuple[int, str]]:
        lib = self.window.library
        ids = lib.selected_item_ids() if hasattr(lib, "selected_item_ids") else (
            [lib.current_item_id()] if lib.current_item_id() is not None else [])
        return [(int(i), self._describe(int(i))) for i in ids]

    def _describe(self, ref: Any) -> str:
        if isinstance(ref, int):
            try:
                it = self.window.workspace.item(ref)
                return f"item #{ref}  {it.title or it.original_name or ''}".rstrip()
            except Exception:
                return f"item #{ref}"
        p = Path(str(ref))
        return f"{p.name}/  (folder: every image and video in it)" if p.is_dir() else str(p)

    def _name_of(self, audience_id: str) -> str:
        try:
            return str(self.window.profiles.audience(audience_id).name)
        except Exception:
            return audience_id

    def _examples_id(self, audience_id: str) -> int:
        from generec_desktop.profiles.examples import parse_audience_id

        num = parse_audience_id(audience_id)
        if num is None:
            raise ValueError(f"{audience_id!r} is not an audience from examples")
        return num

    def _submit(self, title: str, fn: Any, done: Any, error_title: str) -> Any:
        return self.window.jobs.submit(title, fn, on_done=done,
                                       on_error=lambda m: self.window.show_error(error_title, m))

    def _applied(self, change: Any, text: str, message: str, select: str | None = None) -> None:
        """An edit finished: put it on the undo stack (already done), reload, say what happened."""
        from generec_desktop.app.commands import AudienceCommand

        self.window.undo_stack.push(AudienceCommand(self.window, text, change.before, change.after,
                                                    on_change=self._reload, applied=True))
        self._reload(select=[select] if select else None)
        skipped = list(getattr(change, "skipped", []) or [])
        self.window.statusBar().showMessage(message + (f" ({len(skipped)} skipped)" if skipped else ""), 8000)
        if skipped:
            self.window.show_error("Some examples were skipped", "\n".join(skipped[:15])
                                   + (f"\n… and {len(skipped) - 15} more" if len(skipped) > 15 else ""))
        self.changed.emit()

    def _reload(self, select: list[str] | None = None) -> None:
        if select:
            self._pending_select = select
            self.window.profiles_changed.connect(self._select_pending)
        self.window.load_profiles()

    def _select_pending(self, _profiles: Any) -> None:
        self.window.profiles_changed.disconnect(self._select_pending)
        ids = getattr(self, "_pending_select", None) or []
        self._pending_select = None
        self.window.audiences.select_ids(ids)

    # -- edits -------------------------------------------------------------------------------------
    def new_from_examples(self, refs: list[Any] | None = None) -> ExamplesDialog | None:
        """Ask for a name and examples (prefilled with ``refs``, else the library's selected items)."""
        if self._ws() is None:
            return None
        initial = refs if refs is not None else [iid for iid, _ in self._library_items()]
        dlg = ExamplesDialog(self.window, title="New audience from examples", ask_name=True,
                             library_items=self._library_items, initial=initial, describe=self._describe)
        dlg.accepted.connect(lambda: self.create(*dlg.values(), text=dlg.description()))
        self.dialog = dlg
        dlg.open()
        return dlg

    def create(self, name: str, refs: list[Any], text: str | None = None) -> Any:
        """Make the audience ``name`` from ``refs`` and/or the description ``text`` in the background; undoable."""
        ws = self._ws()
        if ws is None:
            return None

        def job(progress: Any, cancel: Any) -> Any:
            from generec_desktop.profiles.examples import add_audience

            return add_audience(ws, name, refs or None, text=text, progress=progress, cancel=cancel)

        def done(change: Any) -> None:
            a = change.audience
            self._applied(change, f"New audience '{a.name}'",
                          f"Audience '{a.name}' made from {a.n_examples} examples", select=a.audience_id)

        what = f"{len(refs)} example(s)" + (" and words" if text and refs else "") if refs else "words"
        return self._submit(f"New audience '{name}' from {what}", job, done,
                            "Cannot make the audience")

    def rename(self, audience_id: str, new_name: str | None = None) -> Any:
        """Rename an audience from examples (asks for the name when none is given); undoable."""
        ws = self._ws()
        if ws is None:
            return None
        old = self._name_of(audience_id)
        if new_name is None:
            new_name, ok = QInputDialog.getText(self.window, "Rename audience", "New name:", text=old)
            if not ok:
                return None
        num = self._examples_id(audience_id)
        target = new_name

        def job(progress: Any, cancel: Any) -> Any:
            from generec_desktop.profiles.examples import rename_audience

            return rename_audience(ws, num, target)

        def done(change: Any) -> None:
            self._applied(change, f"Rename '{old}' to '{change.audience.name}'",
                          f"Renamed '{old}' to '{change.audience.name}'", select=audience_id)

        return self._submit(f"Rename '{old}'", job, done, "Cannot rename the audience")

    def remove(self, audience_id: str) -> Any:
        """Remove an audience from examples (its example files are never touched); undoable."""
        ws = self._ws()
        if ws is None:
            return None
        num = self._examples_id(audience_id)
        name = self._name_of(audience_id)

        def job(progress: Any, cancel: Any) -> Any:
            from generec_desktop.profiles.examples import remove_audience

            return remove_audience(ws, num)

        def done(change: Any) -> None:
            self._applied(change, f"Remove audience '{name}'", f"Removed '{name}' (Edit ▸ Undo brings it back)")

        return self._submit(f"Remove audience '{name}'", job, done, "Cannot remove the audience")

    def add_examples(self, audience_id: str, refs: list[Any] | None = None, text: str | None = None) -> Any:
        """Add examples (asks with the library's selection prefilled when ``refs`` is None); undoable."""
        ws = self._ws()
        if ws is None:
            return None
        name = self._name_of(audience_id)
        if refs is None:
            dlg = ExamplesDialog(self.window, title=f"Add examples to '{name}'", ask_name=False,
                                 library_items=self._library_items,
                                 initial=[iid for iid, _ in self._library_items()], describe=self._describe)
            dlg.accepted.connect(lambda: self.add_examples(audience_id, dlg.values()[1], text=dlg.description()))
            self.dialog = dlg
            dlg.open()
            return dlg
        num = self._examples_id(audience_id)

        def job(progress: Any, cancel: Any) -> Any:
            from generec_desktop.profiles.examples import add_examples

            return add_examples(ws, num, refs or None, text=text, progress=progress, cancel=cancel)

        def done(change: Any) -> None:
            self._applied(change, f"Add examples to '{name}'",
                          f"Added {len(change.added)} examples to '{name}'", select=audience_id)

        return self._submit(f"Add {len(refs) or 'words as'} example(s) to '{name}'", job, done,
                            "Cannot add the examples")

    def remove_examples(self, audience_id: str, refs: list[Any] | None = None) -> Any:
        """Take examples out (asks which when ``refs`` is None); undoable."""
        ws = self._ws()
        if ws is None:
            return None
        name = self._name_of(audience_id)
        num = self._examples_id(audience_id)
        if refs is None:
            from generec_desktop.profiles.examples import get_audience

            dlg = RemoveExamplesDialog(self.window, get_audience(ws, num))
            dlg.accepted.connect(lambda: self.remove_examples(audience_id, dlg.checked()))
            self.dialog = dlg
            dlg.open()
            return dlg

        def job(progress: Any, cancel: Any) -> Any:
            from generec_desktop.profiles.examples import remove_examples

            return remove_examples(ws, num, refs)

        def done(change: Any) -> None:
            self._applied(change, f"Remove examples from '{name}'",
                          f"Removed {len(change.removed)} examples from '{name}'", select=audience_id)

        return self._submit(f"Remove examples from '{name}'", job, done, "Cannot remove the examples")

    # -- cover strips ------------------------------------------------------------------------------
    def _load_strips(self, profiles: Any) -> None:
        """Compose the cover strips off the GUI thread; a newer profile set makes an older result stale."""
        ws = self.window.workspace
        self._strip_gen += 1
        gen = self._strip_gen
        if ws is None or profiles is None or not (profiles.segments or profiles.examples):
            return

        def job(progress: Any, cancel: Any) -> Any:
            return load_strips(ws, profiles, cancel)

        def done(strips: Any) -> None:
            if gen == self._strip_gen:
                self.window.audiences.set_strips(strips)

        self.window.jobs.submit("Load audience covers", job, on_done=done)
