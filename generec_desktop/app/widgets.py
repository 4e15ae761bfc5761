"""Widgets shared by the feature tabs: image cards, a timeline strip, notices, the tab base class, preferences."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence, QPainter, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from generec_desktop.app.preview import to_qimage

STATUS_COLOURS = {"pass": "#2e7d32", "warn": "#ef8f00", "fail": "#c62828", "not_checked": "#757575"}
STATUS_ICONS = {"pass": "✔", "warn": "⚠", "fail": "✖", "not_checked": "–"}
# One colour per audience column / clip track, in selection order.
PALETTE = ("#1e88e5", "#e53935", "#43a047", "#8e24aa", "#fb8c00", "#00897b", "#6d4c41", "#3949ab")


def pixmap_from(source: Any) -> QPixmap:
    """A QPixmap from an RGB array, a QImage or an image file path (null pixmap when unreadable)."""
    if source is None:
        return QPixmap()
    if isinstance(source, np.ndarray):
        return QPixmap.fromImage(to_qimage(source))
    if isinstance(source, str | Path):
        return QPixmap(str(source))
    return QPixmap.fromImage(source)


class ElidedLabel(QLabel):
    """One line of plain text that never widens its window: cut with "…" to the width it gets, the whole
    text in its tooltip when cut. ``text()`` is the whole text."""

    def __init__(self, text: str = "", parent: QWidget | None = None, *, min_chars: int = 6,
                 mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight) -> None:
        super().__init__(parent)
        self._full, self._mode, self._min_chars, self._tip = "", mode, min_chars, ""
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(False)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setText(text)

    def text(self) -> str:  # type: ignore[override]
        return self._full

    def setText(self, text: str) -> None:  # type: ignore[override]
        self._full = str(text or "")
        self.updateGeometry()
        self._elide()

    def setToolTip(self, tip: str) -> None:  # type: ignore[override]
        self._tip = tip
        self._elide()

    def is_elided(self) -> bool:
        return super().text() != self._full

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(self._full, self._mode, max(0, self.contentsRect().width()))
        if shown != super().text():
            super().setText(shown)
        cut = shown != self._full
        full_tip = "\n".join(t for t in (self._full if cut else "", self._tip) if t)
        if super().toolTip() != full_tip:
            super().setToolTip(full_tip)

    def minimumSizeHint(self) -> QSize:
        fm = self.fontMetrics()
        m = self.contentsMargins()
        return QSize(fm.horizontalAdvance("x" * self._min_chars) + m.left() + m.right(),
                     fm.height() + m.top() + m.bottom())

    def sizeHint(self) -> QSize:
        fm = self.fontMetrics()
        m = self.contentsMargins()
        return QSize(fm.horizontalAdvance(self._full) + 4 + m.left() + m.right(), fm.height() + m.top() + m.bottom())

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._elide()


class Notice(QLabel):
    """A coloured one-paragraph message (what is unavailable and what to do), hidden when empty.

    Hidden, it keeps its place (two lines high): a notice that comes and goes as a job starts or ends does
    not move the buttons below it.
    """

    RESERVED_LINES = 2

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setOpenExternalLinks(False)
        policy = self.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.setSizePolicy(policy)
        self.setMinimumHeight(self.fontMetrics().lineSpacing() * self.RESERVED_LINES + 14)  # + padding 2×6 + 2
        self.set_text(text)

    def set_text(self, text: str, kind: str = "info") -> None:
        colours = {"info": ("#e3f2fd", "#0d47a1"), "warn": ("#fff3e0", "#8a4b00"), "error": ("#ffebee", "#b71c1c")}
        bg, fg = colours.get(kind, colours["info"])
        self.setStyleSheet(f"background:{bg}; color:{fg}; border-radius:4px; padding:6px;")
        self.setText(text)
        self.setVisible(bool(text))


class ImageCard(QFrame):
    """A picture with a title and a caption (a thumbnail candidate, a style preview, before/after)."""

    clicked = Signal()

    def __init__(self, title: str = "", parent: QWidget | None = None, *, min_height: int = 90) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel(title)
        self.title.setStyleSheet("font-weight:600;")
        self.image = QLabel("—")
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setMinimumSize(120, min_height)
        self.image.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.image.setStyleSheet("background:#1b1b1b; color:#aaa;")
        self.image.setWordWrap(True)
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet("color:#444;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.image, 1)
        layout.addWidget(self.caption)
        self._pixmap = QPixmap()

    def set_image(self, source: Any, caption: str = "", placeholder: str = "—") -> None:
        self._pixmap = pixmap_from(source)
        self.caption.setText(caption)
        if self._pixmap.isNull():
            self.image.setPixmap(QPixmap())
            self.image.setText(placeholder)
        else:
            self._rescale()

    def has_image(self) -> bool:
        return not self._pixmap.isNull()

    def _rescale(self) -> None:
        if not self._pixmap.isNull():
            self.image.setPixmap(self._pixmap.scaled(self.image.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                                     Qt.TransformationMode.SmoothTransformation))

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._rescale()

    def mousePressEvent(self, event: Any) -> None:
        self.clicked.emit()
        super().mousePressEvent(event)


class TimelineStrip(QWidget):
    """The video's duration as a bar with one track per audience showing its clip range; click to seek.

    ``tracks`` are ``(label, start, end, colour)``; ``seek_requested(seconds)`` fires on a click.
    """

    seek_requested = Signal(float)
    track_clicked = Signal(int)

    TRACK_H = 22

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.duration = 0.0
        self.tracks: list[tuple[str, float, float, str]] = []
        self.cursor: float | None = None
        self.setMinimumHeight(40)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip("Each row is an audience's clip; click to seek, click a range to select it")

    def set_tracks(self, duration: float, tracks: list[tuple[str, float, float, str]]) -> None:
        self.duration, self.tracks = max(0.0, float(duration)), list(tracks)
        self.setFixedHeight(24 + self.TRACK_H * max(1, len(self.tracks)))
        self.update()

    def set_cursor(self, seconds: float | None) -> None:
        self.cursor = seconds
        self.update()

    def _label_w(self) -> int:
        return 170

    def _x(self, t: float) -> float:
        lw = self._label_w()
        return lw + (self.width() - lw - 8) * (t / self.duration if self.duration > 0 else 0.0)

    def paintEvent(self, event: Any) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("#fafafa"))
        lw = self._label_w()
        if self.duration <= 0:
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No clips yet")
            return
        # time ruler
        p.setPen(QColor("#888"))
        step = max(1, int(self.duration // 8) or 1)
        for s in range(0, int(self.duration) + 1, step):
            x = self._x(s)
            p.drawLine(int(x), 2, int(x), 8)
            p.drawText(int(x) + 2, 16, f"{s}s")
        for row, (label, start, end, colour) in enumerate(self.tracks):
            y = 22 + row * self.TRACK_H
            p.setPen(QColor("#333"))
            p.drawText(QRectF(4, y, lw - 8, self.TRACK_H), Qt.AlignmentFlag.AlignVCenter,
                       p.fontMetrics().elidedText(label, Qt.TextElideMode.ElideRight, lw - 8))
            p.fillRect(QRectF(lw, y + 8, self.width() - lw - 8, 4), QColor("#ddd"))
            c = QColor(colour)
            x0, x1 = self._x(start), self._x(end)
            p.setPen(c.darker(130))
            p.setBrush(c)
            p.drawRoundedRect(QRectF(x0, y + 3, max(3.0, x1 - x0), self.TRACK_H - 6), 3, 3)
        if self.cursor is not None:
            p.setPen(QColor("#d50000"))
            x = self._x(self.cursor)
            p.drawLine(int(x), 0, int(x), self.height())

    def time_at(self, x: float) -> float:
        lw = self._label_w()
        frac = (x - lw) / max(1.0, self.width() - lw - 8)
        return float(np.clip(frac, 0.0, 1.0) * self.duration)

    def mousePressEvent(self, event: Any) -> None:
        pos = event.position()
        row = int((pos.y() - 22) // self.TRACK_H)
        if 0 <= row < len(self.tracks) and pos.x() < self._label_w():
            self.track_clicked.emit(row)
        elif self.duration > 0 and pos.x() >= self._label_w():
            t = self.time_at(pos.x())
            if 0 <= row < len(self.tracks) and self.tracks[row][1] <= t <= self.tracks[row][2]:
                self.track_clicked.emit(row)
            self.seek_requested.emit(t)


def add_action(window: Any, menu_title: str, text: str, slot: Any, shortcut: str | None = None,
               tip: str = "") -> QAction:
    """A window-wide action with a keyboard shortcut, listed in a menu of the menu bar (before Help).

    Tabs are built before the window's menus, so the menu is assembled once the event loop runs.
    """
    action = QAction(text, window)
    if shortcut:
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    if tip:
        action.setStatusTip(tip)
    action.triggered.connect(slot)
    window.addAction(action)
    pending = getattr(window, "_feature_actions", None)
    if pending is None:
        pending = window._feature_actions = []
        QTimer.singleShot(0, lambda: _build_feature_menus(window))
    pending.append((menu_title, action))
    return action


def _build_feature_menus(window: Any) -> None:
    bar = window.menuBar()
    help_action = next((a for a in bar.actions() if a.text().replace("&", "") == "Help"), None)
    menus: dict[str, Any] = {}
    for title, action in window._feature_actions:
        menu = menus.get(title)
        if menu is None:
            menu = menus[title] = QMenu(title, bar)
            if help_action is not None:
                bar.insertMenu(help_action, menu)
            else:
                bar.addMenu(menu)
        menu.addAction(action)
    prefs = QAction("&Preferences…", window)
    prefs.setShortcut(QKeySequence("Ctrl+,"))
    prefs.triggered.connect(lambda: PreferencesDialog(window.settings, window).exec())
    edit = next((a.menu() for a in bar.actions() if a.text().replace("&", "") == "Edit"), None)
    if edit is not None:
        edit.addSeparator()
        edit.addAction(prefs)
    window.addAction(prefs)
    keys = QAction("&Keyboard Shortcuts", window)
    keys.setShortcut(QKeySequence("Ctrl+/"))
    keys.setStatusTip("Every shortcut: the window's, the player's (J/K/L, I/O), the compare player's")
    keys.triggered.connect(lambda: _show_shortcuts(window))
    window.addAction(keys)
    help_menu = help_action.menu() if help_action is not None else None
    if help_menu is not None:
        first = help_menu.actions()
        if first:
            help_menu.insertAction(first[0], keys)
        else:
            help_menu.addAction(keys)
    window.shortcuts_action = keys


def _show_shortcuts(window: Any) -> None:
    from generec_desktop.app.shortcuts import show_shortcuts

    show_shortcuts(window)


class FeatureTab(QWidget):
    """Base of the feature tabs: a notice on top, the window's signals, helpers for background jobs."""

    def __init__(self, window: Any) -> None:
        super().__init__()
        from generec_desktop.app.versions import ensure_versions

        self.window_ = window
        self.versions = ensure_versions(window)
        self.notice = Notice()
        # job key -> Job, shared by all tabs, so a button cannot start the same job twice
        if not hasattr(window, "tab_jobs"):
            window.tab_jobs = {}
        self.running: dict[str, Any] = window.tab_jobs
        window.workspace_opened.connect(lambda ws: self.on_workspace(ws))
        window.item_changed.connect(lambda item_id: self.on_item(item_id))
        window.audiences_changed.connect(lambda ids: self.on_audiences(ids))
        window.profiles_changed.connect(lambda p: self.on_profiles(p))
        window.jobs.job_added.connect(lambda job: self.refresh())
        window.jobs.job_finished.connect(self._job_finished)

    # overridable hooks
    def on_workspace(self, ws: Any) -> None:
        self.refresh()

    def on_item(self, item_id: int) -> None:
        self.refresh()

    def on_audiences(self, ids: list[str]) -> None:
        self.refresh()

    def on_profiles(self, profiles: Any) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Update the notice and enabled state from the window's state."""

    @property
    def ws(self) -> Any:
        return self.window_.workspace

    def current_item(self) -> Any:
        w = self.window_
        if w.workspace is None or w.current_item_id is None:
            return None
        return w.item_record(w.current_item_id)

    def audience_label(self, audience_id: str) -> str:
        """What a person reads for an audience: "Segment 2: travel" (numbered from 1), "Cyclists", "u042"."""
        from generec_desktop.profiles.service import audience_title

        return audience_title(audience_id, self.window_.profiles)

    def submit(self, key: str, title: str, fn: Any, on_done: Any, error_title: str | None = None) -> Any:
        """Run ``fn(progress, cancel)`` in the background once per ``key``; errors become a message."""
        if key in self.running:
            self.window_.statusBar().showMessage(f"{title} is already running", 4000)
            return None

        def done(result: Any) -> None:
            self.running.pop(key, None)
            on_done(result)
            self.refresh()

        def failed(message: str) -> None:
            self.running.pop(key, None)
            self.refresh()
            self.window_.show_error(error_title or f"{title} failed", message)

        job = self.window_.jobs.submit(title, lambda progress, cancel: fn(progress, cancel),
                                       on_done=done, on_error=failed)
        self.running[key] = job
        self.refresh()
        return job

    def _job_finished(self, job: Any) -> None:
        for key, j in list(self.running.items()):
            if j.job_id == job.job_id:
                self.running.pop(key)
        self.refresh()

    def cancel(self, key: str) -> None:
        job = self.running.get(key)
        if job is not None:
            self.window_.jobs.cancel(job.job_id)


class PreferencesDialog(QDialog):
    """Encoder, shot detector and weight paths, stored in the window's QSettings (``prefs/encoder``…)."""

    KEYS = (("prefs/encoder", "Encoder", "builtin", False),
            ("prefs/encoder_weights", "Encoder weights (open_clip .pt / .safetensors)", "", True),
            ("prefs/mcvd_checkpoint", "MCVD checkpoint folder", "", True),
            ("prefs/uploader", "Uploader name (for provenance)", "", False))
    #: the shot detector personalisation uses (generec_desktop.editor.personalize.shotdetect), as `--shots`
    SHOTS = (("auto", "Automatic: fast, TransNetV2 only on rapid-cut edits"),
             ("hsv", "Fast (built-in, from the analysis's samples)"),
             ("adaptive", "PySceneDetect Adaptive (decodes every frame)"),
             ("content", "PySceneDetect Content"), ("hash", "PySceneDetect Hash"),
             ("transnetv2", "TransNetV2 (most accurate; about 30 s per minute of video)"))

    def __init__(self, settings: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.settings = settings
        form = QFormLayout(self)
        self.fields: dict[str, QLineEdit] = {}
        for key, label, default, is_path in self.KEYS:
            edit = QLineEdit(str(settings.value(key, default) or ""))
            self.fields[key] = edit
            if is_path:
                row = QHBoxLayout()
                row.addWidget(edit, 1)
                browse = QPushButton("Browse…")
                browse.clicked.connect(lambda _=False, e=edit, k=key: self._browse(e, k))
                row.addWidget(browse)
                form.addRow(label, row)
            else:
                form.addRow(label, edit)
        self.shots = QComboBox()
        for name, text in self.SHOTS:
            self.shots.addItem(text, name)
        current = str(settings.value("prefs/shots", "auto") or "auto")
        self.shots.setCurrentIndex(max(0, self.shots.findData(current)))
        self.shots.setToolTip("How shot cuts are found for thumbnails and clips (the CLI's --shots)")
        form.addRow("Shot detection", self.shots)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self, edit: QLineEdit, key: str) -> None:
        if key.endswith("checkpoint"):
            path = QFileDialog.getExistingDirectory(self, "Choose a folder")
        else:
            path, _ = QFileDialog.getOpenFileName(self, "Choose a file")
        if path:
            edit.setText(path)

    def accept(self) -> None:
        for key, edit in self.fields.items():
            self.settings.setValue(key, edit.text().strip())
        self.settings.setValue("prefs/shots", str(self.shots.currentData()))
        self.settings.sync()
        super().accept()


def setting(window: Any, key: str, default: str = "") -> str:
    """A preference from the window's QSettings as text."""
    value = window.settings.value(key, default)
    return str(value) if value is not None else default


def local_preview() -> Any:
    """A PreviewWidget for a tab whose Space/←/→ keys act only when focus is inside it.

    PreviewWidget's shortcuts are window-wide; several previews in one window would make them
    ambiguous (Qt then fires none), so the tabs' previews narrow theirs to the widget.
    """
    from PySide6.QtGui import QShortcut

    from generec_desktop.app.preview import PreviewWidget

    preview = PreviewWidget()
    for shortcut in preview.findChildren(QShortcut):
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    return preview
