"""Compare a version with its original: a synchronised player (side by side, wipe or toggle), the bar a
tab shows when its job finished (Play, Compare), and the window's notifications in words.

The pair comes from :func:`generec_desktop.versions.compare.compare_pair` (computed in a job: a creation's
reference needs the profiles), as ``generec compare`` prints it. Both pictures are decoded by the
preview's background decoder (:class:`generec_desktop.app.preview._FrameSource`), one each; when playing,
the version plays with its sound and the original follows the version's clock (shifted by the pair's
offset), so the two stay on the same moment of the video.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import shiboken6
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QKeySequence, QPainter, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from generec_desktop.app.preview import SeekSlider, _FrameSource, format_time

MODES = ("side", "wipe", "toggle")


class _Follow:
    """The original's clock: the version's running clock plus the offset (frozen at ``start`` until it runs)."""

    def __init__(self, source: _FrameSource, offset: float, start: float) -> None:
        self.source, self.offset, self.start = source, offset, start

    def now(self) -> float:
        clock = self.source.clock
        return self.start if clock is None else clock.now() + self.offset


class CompareCanvas(QWidget):
    """Paints the two pictures: side by side, a wipe (drag the divider) or one of them (toggle)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.a = QPixmap()
        self.b = QPixmap()
        self.labels = ("Original", "Version")
        self.mode = "side"
        self.showing_b = True  # toggle mode: which picture
        self.wipe = 0.5
        self.crop: tuple[float, float, float, float] | None = None  # the version's window on the original
        self.setMinimumSize(480, 220)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_image(self, which: str, image: QImage) -> None:
        if which == "a":
            self.a = QPixmap.fromImage(image)
        else:
            self.b = QPixmap.fromImage(image)
        self.update()

    @staticmethod
    def fit(pixmap: QPixmap, box: QRectF) -> QRectF:
        if pixmap.isNull() or pixmap.width() == 0:
            return QRectF(box)
        scale = min(box.width() / pixmap.width(), box.height() / pixmap.height())
        w, h = pixmap.width() * scale, pixmap.height() * scale
        return QRectF(box.x() + (box.width() - w) / 2, box.y() + (box.height() - h) / 2, w, h)

    def same_shape(self) -> bool:
        """Whether the two pictures have the same aspect ratio (a wipe needs it)."""
        if self.a.isNull() or self.b.isNull():
            return True
        ra, rb = self.a.width() / self.a.height(), self.b.width() / self.b.height()
        return abs(ra - rb) / ra < 0.02

    def _caption(self, p: QPainter, rect: QRectF, text: str) -> None:
        metrics = p.fontMetrics()
        text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, int(rect.width()) - 12)
        w = metrics.horizontalAdvance(text) + 12
        box = QRectF(rect.x() + 6, rect.y() + 6, w, metrics.height() + 6)
        p.fillRect(box, QColor(0, 0, 0, 160))
        p.setPen(QColor("#fff"))
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def paintEvent(self, event: Any) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        p.fillRect(self.rect(), QColor("#111"))
        full = QRectF(self.rect())
        placeholder = "—"
        if self.mode == "side":
            half = full.width() / 2
            for k, (pix, label) in enumerate(((self.a, self.labels[0]), (self.b, self.labels[1]))):
                box = QRectF(full.x() + k * half + 2, full.y(), half - 4, full.height())
                if pix.isNull():
                    p.setPen(QColor("#aaa"))
                    p.drawText(box, Qt.AlignmentFlag.AlignCenter, placeholder if k else "no original")
                    self._caption(p, box, label)
                else:
                    picture = self.fit(pix, box)
                    p.drawPixmap(picture, pix, QRectF(pix.rect()))
                    if k == 0 and self.crop is not None:  # where the reframed version was cut from
                        x, y, cw, ch = self.crop
                        p.setPen(QColor("#ffd54f"))
                        p.drawRect(QRectF(picture.x() + x * picture.width(), picture.y() + y * picture.height(),
                                          cw * picture.width() - 1, ch * picture.height() - 1))
                    self._caption(p, picture, label)
        elif self.mode == "wipe":
            target = self.fit(self.a if not self.a.isNull() else self.b, full)
            if not self.a.isNull():
                p.drawPixmap(target, self.a, QRectF(self.a.rect()))
            if not self.b.isNull():
                x = target.x() + target.width() * self.wipe
                p.save()
                p.setClipRect(QRectF(x, target.y(), target.right() - x, target.height()))
                p.drawPixmap(target, self.b, QRectF(self.b.rect()))
                p.restore()
                p.setPen(QColor("#ffd54f"))
                p.drawLine(QPointF(x, target.y()), QPointF(x, target.bottom()))
            self._caption(p, target, f"{self.labels[0]}  |  {self.labels[1]}  — drag to wipe")
        else:
            pix, label = (self.b, self.labels[1]) if self.showing_b else (self.a, self.labels[0])
            if not pix.isNull():
                box = self.fit(pix, full)
                p.drawPixmap(box, pix, QRectF(pix.rect()))
                self._caption(p, box, label + "  (T: toggle)")
        p.end()

    def _drag_wipe(self, event: Any) -> None:
        target = self.fit(self.a if not self.a.isNull() else self.b, QRectF(self.rect()))
        if target.width() > 0:
            self.wipe = float(np.clip((event.position().x() - target.x()) / target.width(), 0.0, 1.0))
            self.update()

    def mousePressEvent(self, event: Any) -> None:
        if self.mode == "wipe":
            self._drag_wipe(event)

    def mouseMoveEvent(self, event: Any) -> None:
        if self.mode == "wipe" and event.buttons() & Qt.MouseButton.LeftButton:
            self._drag_wipe(event)


def _close_all(sources: tuple[_FrameSource, ...]) -> None:
    for src in sources:
        src.close()


class ComparePlayer(QWidget):
    """A version beside its original, on one scrubber (the version's frames); Play keeps both in step."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pair: Any = None
        self._play_when_ready = False
        self.times_a = np.zeros(0)
        self.times_b = np.zeros(0)
        self.index = 0
        self.playing = False
        self.shown: dict[str, int] = {}  # "a"/"b" -> frame index last painted
        self._run = 0
        self.a_source = _FrameSource()
        self.b_source = _FrameSource()
        self.a_source.frame_ready.connect(lambda i, img: self._frame("a", i, img))
        self.b_source.frame_ready.connect(lambda i, img: self._frame("b", i, img))
        self.b_source.playback_stopped.connect(self._stopped)
        # the decoders outlive this widget (they are not its children): stop them when it goes, so no frame
        # arrives for a deleted canvas (seen when a window closed with a compare open)
        sources = (self.a_source, self.b_source)
        self.destroyed.connect(lambda *_: _close_all(sources))
        self.canvas = CompareCanvas()
        self.canvas.setObjectName("compareCanvas")
        self.title = QLabel("")
        self.title.setObjectName("compareTitle")
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.note = QLabel("")
        self.note.setObjectName("compareNote")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color:#8a4b00;")
        self.slider = SeekSlider()
        self.slider.valueChanged.connect(self._on_slider)
        self.play_button = QPushButton("▶ Play")
        self.play_button.clicked.connect(self.toggle_play)
        self.time_label = QLabel("")
        self.mode_buttons: dict[str, QPushButton] = {}
        group = QButtonGroup(self)
        row = QHBoxLayout()
        row.addWidget(self.play_button)
        row.addWidget(self.time_label, 1)
        for mode, text, tip in (("side", "Side by side", "Original left, version right"),
                                ("wipe", "Wipe", "One picture, the divider shows original | version: drag it"),
                                ("toggle", "Toggle (T)", "One picture at a time: T switches")):
            b = QPushButton(text)
            b.setCheckable(True)
            b.setToolTip(tip)
            b.clicked.connect(lambda _=False, m=mode: self.set_mode(m))
            group.addButton(b)
            self.mode_buttons[mode] = b
            row.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.note)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.slider)
        layout.addLayout(row)
        QShortcut(QKeySequence(Qt.Key.Key_Space), self, self.toggle_play)
        QShortcut(QKeySequence(Qt.Key.Key_T), self, self.toggle_side)
        QShortcut(QKeySequence(Qt.Key.Key_Left), self, lambda: self.step(-1))
        QShortcut(QKeySequence(Qt.Key.Key_Right), self, lambda: self.step(1))
        self.set_mode("side")

    def set_pair(self, pair: Any) -> None:
        """Show a :class:`~generec_desktop.versions.compare.ComparePair` from its first frame. The frame times
        come from :mod:`generec_desktop.app.frame_index` (read off the GUI thread when not known yet; a
        :meth:`play` meanwhile starts once they are)."""
        from generec_desktop.app.frame_index import frame_times_cache

        self.pause()
        self.pair = pair
        self.title.setText(f"<b>{html.escape(pair.title)}</b>")
        self.note.setText(pair.note)
        self.note.setVisible(bool(pair.note))
        self.canvas.labels = (pair.original_label, pair.version_label)
        self.canvas.a, self.canvas.b = QPixmap(), QPixmap()
        self.canvas.crop = None
        self.times_a, self.times_b = np.zeros(0), np.zeros(0)
        self._play_when_ready = False
        paths = [pair.version] + ([pair.original] if pair.original is not None else [])

        def ready(got: dict[str, np.ndarray], p: Any = pair) -> None:
            self._times_ready(p, got)

        def failed(message: str) -> None:
            if shiboken6.isValid(self) and shiboken6.isValid(self.note):  # the player may be gone by then
                self.note.setText(f"Cannot read the video: {message}")
                self.note.setVisible(True)

        frame_times_cache().fetch(paths, ready, failed)

    def _times_ready(self, pair: Any, got: dict[str, np.ndarray]) -> None:
        if not (shiboken6.isValid(self) and shiboken6.isValid(self.slider)) or pair is not self.pair:
            return
        self.times_b = got[str(pair.version)]
        self.times_a = got[str(pair.original)] if pair.original is not None else np.zeros(0)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(self.times_b) - 1))
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self.seek(0)
        if self._play_when_ready:
            self.play()

    def set_mode(self, mode: str) -> None:
        if mode == "wipe" and not self.canvas.same_shape():
            mode = "side"  # a 9:16 clip of a 16:9 original: a wipe would cut unlike pictures
        self.canvas.mode = mode
        self.mode_buttons[mode].setChecked(True)
        self.canvas.update()

    def toggle_side(self) -> None:
        if self.canvas.mode != "toggle":
            self.set_mode("toggle")
            self.canvas.showing_b = False
        else:
            self.canvas.showing_b = not self.canvas.showing_b
        self.canvas.update()

    def _frame(self, which: str, index: int, image: QImage) -> None:
        if not (shiboken6.isValid(self) and shiboken6.isValid(self.canvas)):
            return  # a frame queued before the player was deleted
        self.shown[which] = index
        if which == "a" and self.pair is not None and self.pair.crop and len(self.times_a):
            from generec_desktop.versions.compare import crop_box

            self.canvas.crop = crop_box(self.pair.crop, float(self.times_a[min(index, len(self.times_a) - 1)]))
        self.canvas.set_image(which, image)
        wipe = self.mode_buttons["wipe"]
        same = self.canvas.same_shape()
        wipe.setEnabled(same)
        wipe.setToolTip("One picture, the divider shows original | version: drag it" if same else
                        "The version's shape differs from the original's: compare side by side or toggle")
        if which == "b" and self.playing:
            self.index = index
            self.slider.blockSignals(True)
            self.slider.setValue(index)
            self.slider.blockSignals(False)
            self._label()

    def original_index(self, version_index: int) -> int | None:
        """The original's frame shown with the version's frame ``version_index`` (None: no original)."""
        if self.pair is None or self.pair.original is None or not len(self.times_a) or not len(self.times_b):
            return None
        t = float(self.times_b[int(np.clip(version_index, 0, len(self.times_b) - 1))]) + self.pair.offset
        return int(np.clip(np.searchsorted(self.times_a, t + 1e-6, side="right") - 1, 0, len(self.times_a) - 1))

    def seek(self, index: int) -> None:
        if self.pair is None or not len(self.times_b):
            return
        self.index = int(np.clip(index, 0, len(self.times_b) - 1))
        self.b_source.request(self.pair.version, self.index)
        a = self.original_index(self.index)
        if a is not None:
            self.a_source.request(self.pair.original, a)
        self._label()

    def step(self, delta: int) -> None:
        self.pause()
        self.slider.setValue(self.index + delta)

    def _on_slider(self, value: int) -> None:
        if self.playing:
            self.pause()
        self.seek(value)

    def _label(self) -> None:
        if len(self.times_b):
            t = float(self.times_b[self.index])
            text = f"{format_time(t)} / {format_time(float(self.times_b[-1]))}"
            if self.pair is not None and self.pair.original is not None and self.pair.offset:
                text += f" · original at {format_time(t + self.pair.offset)}"
            self.time_label.setText(text)

    def play(self) -> None:
        if self.pair is not None and not len(self.times_b):
            self._play_when_ready = True  # the frame times are being read
            return
        if self.pair is None:
            return
        start = 0 if self.index >= len(self.times_b) - 1 else self.index
        self.playing = True
        self._run += 1
        self.play_button.setText("❚❚ Pause")
        self.b_source.play(self.pair.version, start, 1.0, True, run=self._run)
        a = self.original_index(start)
        if a is not None:
            t0 = float(self.times_b[start]) + self.pair.offset
            self.a_source.play(self.pair.original, a, 1.0, False, run=self._run,
                               clock=_Follow(self.b_source, self.pair.offset, t0))

    def pause(self) -> None:
        if self.playing:
            self.a_source.stop()
            self.b_source.stop()
        self.playing = False
        self._play_when_ready = False
        self.play_button.setText("▶ Play")

    def toggle_play(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def _stopped(self, run: int) -> None:
        if run == self._run and shiboken6.isValid(self.play_button):
            self.a_source.stop()
            self.playing = False
            self.play_button.setText("▶ Play")

    def close_sources(self) -> None:
        self.a_source.close()
        self.b_source.close()


class CompareDialog(QDialog):
    """The compare player in its own window (non-modal; one per window, reused)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare")
        self.player = ComparePlayer(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.player)
        self.resize(1100, 620)

    def done(self, result: int) -> None:
        self.player.pause()
        super().done(result)


def open_compare(window: Any, version: Any, *, mode: str = "side", autoplay: bool = False) -> None:
    """Work out the pair in a job (a creation's reference reads the profiles), then show the player."""
    ws = window.workspace
    if ws is None:
        return

    def job(progress: Any, cancel: Any) -> Any:
        from generec_desktop import media
        from generec_desktop.versions.compare import compare_pair

        pair = compare_pair(ws, version)
        # the player's frame times, read here rather than on the GUI thread
        times = {str(p): media.frame_times(p) for p in (pair.version, pair.original) if p is not None}
        return pair, times

    def done(result: Any) -> None:
        from generec_desktop.app.frame_index import frame_times_cache

        pair, times = result
        for path, t in times.items():
            frame_times_cache().put(path, t)
        dialog = getattr(window, "compare_dialog", None)
        if dialog is None:
            dialog = window.compare_dialog = CompareDialog(window)
        dialog.player.set_pair(pair)
        dialog.player.set_mode(mode)
        if mode == "toggle":
            dialog.player.canvas.showing_b = True
        dialog.show()
        dialog.raise_()
        if autoplay:
            dialog.player.play()

    window.jobs.submit("Open the compare player", job, on_done=done,
                       on_error=lambda m: window.show_error("Cannot compare", m))


class ResultBar(QFrame):
    """What a tab's finished job made: "✔ Revision of Demo 006 for Segment 2 is ready" [Play] [Compare]."""

    def __init__(self, window: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window_ = window
        self.version: Any = None
        self.setObjectName("resultBar")
        self.setStyleSheet("#resultBar{background:#e8f5e9; border-radius:4px;} QLabel{color:#1b5e20;}")
        self.text = QLabel("")
        self.text.setObjectName("resultText")
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.play_button = QPushButton("▶ Play")
        self.play_button.setToolTip("Play the new version (with its sound)")
        self.play_button.clicked.connect(lambda: self._open("toggle", True))
        self.compare_button = QPushButton("Compare")
        self.compare_button.setToolTip("The version beside its original, in step (side by side, wipe, toggle)")
        self.compare_button.clicked.connect(lambda: self._open("side", False))
        self.checks_button = QPushButton("Check it ▸")
        self.checks_button.setToolTip("Open the Checks tab on this version")
        self.checks_button.clicked.connect(self._to_checks)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.text, 1)
        for b in (self.play_button, self.compare_button, self.checks_button):
            layout.addWidget(b)
        self.setVisible(False)

    def show_version(self, pv: Any, sentence: str) -> None:
        self.version = pv
        self.text.setText(f"✔ {html.escape(sentence)}")
        self.text.setToolTip(f"{sentence} (pending version {pv.id})")
        self.setVisible(True)

    def _open(self, mode: str, autoplay: bool) -> None:
        if self.version is not None:
            open_compare(self.window_, self.version.id, mode=mode, autoplay=autoplay)

    def _to_checks(self) -> None:
        w = self.window_
        w.show_tab("Checks")
        checks = w.tab_widget("Checks")
        if checks is not None and self.version is not None:
            for i in range(checks.list.count()):
                if checks.list.item(i).data(Qt.ItemDataRole.UserRole) == self.version.id:
                    checks.list.setCurrentRow(i)


TOAST_MIN_WIDTH, TOAST_MAX_WIDTH = 240, 520  # px: below the minimum a sentence is cut to a few words


class Toast(QFrame):
    """A notification over the window's top-right corner for a few seconds (it never moves the layout)."""

    closed = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("toast")
        self.setStyleSheet("#toast{background:#263238; border-radius:5px;} QLabel{color:#fff; padding:0 4px;}")
        self.label = QLabel("")
        self.label.setTextFormat(Qt.TextFormat.RichText)
        close = QPushButton("×")
        close.setFlat(True)
        close.setStyleSheet("color:#fff; font-size:14px;")
        close.setFixedWidth(24)
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 2, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)
        self.hide()

    def show_text(self, rich: str, msecs: int = 8000) -> None:
        self.label.setText(rich)
        parent = self.parentWidget()
        if parent is None:
            return
        # in the empty part of the tab bar's row, right of the last tab: it covers no button of any tab; where
        # that part is too narrow (a 1280 px window: it hid the Export tab), over the status bar's row instead,
        # which says the same sentence
        left, right, top, height = parent.width() // 2, parent.width() - 8, 8, 30
        tabs = getattr(parent, "tabs", None)
        status = parent.statusBar() if hasattr(parent, "statusBar") else None
        if tabs is not None:
            bar = tabs.tabBar()
            last = bar.tabRect(bar.count() - 1) if bar.count() else bar.rect()
            left = bar.mapTo(parent, last.topRight()).x() + 12
            right = tabs.mapTo(parent, tabs.rect().topRight()).x() - 4
            top = bar.mapTo(parent, bar.rect().topLeft()).y() - 2
            height = bar.height() + 4
        on_status = False
        if tabs is not None and right - left < TOAST_MIN_WIDTH and status is not None and status.isVisibleTo(parent):
            right = parent.width() - 8
            left, on_status = right - min(TOAST_MAX_WIDTH, parent.width() // 2), True
        width = min(TOAST_MAX_WIDTH, max(TOAST_MIN_WIDTH, right - left))
        height = max(status.height() if on_status and status is not None else height,
                     self.label.fontMetrics().height() + 8)
        self.setFixedSize(width, height)
        self.label.setText(rich)
        self.label.setToolTip(self.label.text())
        if on_status and status is not None:  # its bottom on the status bar's: never past the window's edge
            top = status.mapTo(parent, status.rect().bottomLeft()).y() + 1 - height
        self.move(right - width, top)
        self.show()
        self.raise_()
        self._timer.start(msecs)


def notify(window: Any, sentence: str) -> None:
    """Tell the person a result is ready, in words: a toast over the window, the status bar, and the
    taskbar's attention hint when the window is in the background; ``window.last_notification`` keeps it."""
    window.last_notification = sentence
    toast = getattr(window, "toast", None)
    if toast is None:
        toast = window.toast = Toast(window)
    parts = sentence.rsplit(" is ready", 1)
    rich = f"<b>{html.escape(parts[0])}</b> is ready" if len(parts) == 2 else html.escape(sentence)
    toast.show_text(rich)
    window.statusBar().showMessage(sentence, 15000)
    if not window.isActiveWindow():
        QApplication.alert(window, 0)


def announce(tab: Any, pv: Any) -> str:
    """A tab's job made ``pv``: show it in the tab's result bar and notify; returns the sentence."""
    from generec_desktop.versions.compare import result_title

    try:
        sentence = f"{result_title(tab.ws, pv)} is ready"
    except Exception:  # a record the workspace cannot describe: still say something useful
        sentence = f"{str(pv.operation).capitalize()} version is ready"
    bar = getattr(tab, "result_bar", None)
    if bar is not None:
        bar.show_version(pv, sentence)
    notify(tab.window_, sentence)
    return sentence
