"""Preview: frame-accurate scrubbing and playback of a video, decoded off the GUI thread.

Qt's multimedia module is not part of PySide6-Essentials, and frame-exact stepping needs our own
frame index anyway, so frames come from the media layer (PyAV) on a background thread; only the
latest scrub request is decoded, so dragging the slider never queues work.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QImage, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

PREVIEW_MAX_SIDE = 960


def to_qimage(rgb: np.ndarray) -> QImage:
    """An RGB uint8 array as a QImage that owns a copy of the pixels."""
    rgb = np.ascontiguousarray(rgb)
    h, w, _ = rgb.shape
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def format_time(seconds: float) -> str:
    minutes, sec = divmod(max(0.0, seconds), 60.0)
    return f"{int(minutes):02d}:{sec:06.3f}"


class _FrameSource(QObject):
    """Background decoder: the newest scrub request wins; playback streams frames at their pace."""

    frame_ready = Signal(int, object)  # frame index, QImage
    playback_stopped = Signal()
    failed = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Condition()
        self._request: tuple[Path, int] | None = None
        self._play: tuple[Path, int] | None = None
        self._stop_play = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="preview-decoder", daemon=True)
        self._thread.start()

    def request(self, path: Path, index: int) -> None:
        with self._lock:
            self._stop_play.set()
            self._request = (path, index)
            self._lock.notify()

    def play(self, path: Path, index: int) -> None:
        with self._lock:
            self._stop_play.clear()
            self._request = None
            self._play = (path, index)
            self._lock.notify()

    def stop(self) -> None:
        self._stop_play.set()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._stop_play.set()
            self._lock.notify()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while True:
            with self._lock:
                while self._request is None and self._play is None and not self._closed:
                    self._lock.wait()
                if self._closed:
                    return
                request, play = self._request, self._play
                self._request, self._play = None, None
            try:
                if request is not None:
                    self._decode_one(*request)
                elif play is not None:
                    self._stream(*play)
            except Exception as exc:  # a broken file must not kill the preview thread
                self.failed.emit(str(exc))

    def _decode_one(self, path: Path, index: int) -> None:
        from generec_desktop import media

        times = media.frame_times(path)
        index = int(np.clip(index, 0, len(times) - 1))
        frame = media.sample_frames(path, timestamps=[float(times[index])], max_side=PREVIEW_MAX_SIDE)[0]
        self.frame_ready.emit(frame.index, to_qimage(frame.image))

    def _stream(self, path: Path, index: int) -> None:
        from generec_desktop import media

        times = media.frame_times(path)
        start = float(times[min(index, len(times) - 1)])
        t0 = time.monotonic()
        for frame in media.iter_frames(path, start=start, max_side=PREVIEW_MAX_SIDE):
            if self._stop_play.is_set() or self._closed:
                break
            delay = (frame.timestamp - start) - (time.monotonic() - t0)
            if delay > 0 and self._stop_play.wait(delay):
                break
            self.frame_ready.emit(frame.index, to_qimage(frame.image))
        self.playback_stopped.emit()


class PreviewWidget(QWidget):
    """Shows one video: a frame, a slider over frame indices, play/pause and frame stepping."""

    frame_shown = Signal(int, float)  # index, timestamp

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path: Path | None = None
        self.times = np.zeros(0)
        self.current_index = 0
        self.playing = False
        self._source = _FrameSource()
        self._source.frame_ready.connect(self._on_frame)
        self._source.playback_stopped.connect(self._on_playback_stopped)
        self._source.failed.connect(self._on_failed)

        self.view = QLabel("No video selected")
        self.view.setObjectName("previewView")
        self.view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.view.setMinimumSize(320, 180)
        self.view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.view.setStyleSheet("background:#111; color:#bbb;")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setEnabled(False)
        self.slider.valueChanged.connect(self._on_slider)
        self.play_button = QPushButton("Play")
        self.play_button.setEnabled(False)
        self.play_button.clicked.connect(self.toggle_play)
        self.prev_button = QPushButton("◀ Frame")
        self.next_button = QPushButton("Frame ▶")
        self.prev_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        self.time_label = QLabel("--:--")
        self.time_label.setMinimumWidth(260)
        controls = QHBoxLayout()
        for w in (self.play_button, self.prev_button, self.next_button):
            controls.addWidget(w)
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.time_label)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addLayout(controls)
        QShortcut(QKeySequence(Qt.Key.Key_Space), self, self.toggle_play)
        QShortcut(QKeySequence(Qt.Key.Key_Left), self, lambda: self.step(-1))
        QShortcut(QKeySequence(Qt.Key.Key_Right), self, lambda: self.step(1))
        self._pixmap: QPixmap | None = None

    def set_video(self, path: Path | None) -> None:
        """Show ``path`` from its first frame (``None`` clears the preview)."""
        self.pause()
        self.path = path
        if path is None:
            self.times = np.zeros(0)
            self.view.setText("No video selected")
            self.slider.setEnabled(False)
            self.play_button.setEnabled(False)
            return
        from generec_desktop import media

        try:
            self.times = media.frame_times(path)
        except Exception as exc:
            self._on_failed(str(exc))
            return
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(self.times) - 1))
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self.slider.setEnabled(True)
        self.play_button.setEnabled(True)
        self.seek(0)

    def seek(self, index: int) -> None:
        """Show frame ``index`` exactly (decoded in the background)."""
        if self.path is None or not len(self.times):
            return
        index = int(np.clip(index, 0, len(self.times) - 1))
        self.current_index = index
        self._update_label(index)
        self._source.request(self.path, index)

    def seek_time(self, seconds: float) -> None:
        """Show the frame displayed at ``seconds``."""
        if len(self.times):
            pos = np.searchsorted(self.times, seconds + 1e-6, side="right") - 1
            self.seek(int(np.clip(pos, 0, len(self.times) - 1)))
            self.slider.blockSignals(True)
            self.slider.setValue(self.current_index)
            self.slider.blockSignals(False)

    def step(self, delta: int) -> None:
        self.pause()
        self.slider.setValue(self.current_index + delta)

    def toggle_play(self) -> None:
        if self.playing:
            self.pause()
        elif self.path is not None:
            start = 0 if self.current_index >= len(self.times) - 1 else self.current_index
            self.playing = True
            self.play_button.setText("Pause")
            self._source.play(self.path, start)

    def pause(self) -> None:
        if self.playing:
            self._source.stop()
        self.playing = False
        self.play_button.setText("Play")

    def close_source(self) -> None:
        self._source.close()

    def _on_slider(self, value: int) -> None:
        if self.playing:
            self.pause()
        self.seek(value)

    def _update_label(self, index: int) -> None:
        if len(self.times):
            self.time_label.setText(f"{format_time(float(self.times[index]))} / {format_time(float(self.times[-1]))}"
                                    f" · frame {index + 1}/{len(self.times)}")

    def _on_frame(self, index: int, image: QImage) -> None:
        self._pixmap = QPixmap.fromImage(image)
        self._rescale()
        if self.playing:
            self.current_index = index
            self.slider.blockSignals(True)
            self.slider.setValue(index)
            self.slider.blockSignals(False)
            self._update_label(index)
        if len(self.times):
            self.frame_shown.emit(index, float(self.times[min(index, len(self.times) - 1)]))

    def _on_playback_stopped(self) -> None:
        self.playing = False
        self.play_button.setText("Play")

    def _on_failed(self, message: str) -> None:
        self.view.setText(f"Cannot show this video: {message}")

    def _rescale(self) -> None:
        if self._pixmap is not None:
            self.view.setPixmap(self._pixmap.scaled(self.view.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                                    Qt.TransformationMode.SmoothTransformation))

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)
        self._rescale()
