"""Preview: frame-accurate scrubbing and playback of a video with its sound, decoded off the GUI thread.

Frames come from the media layer (PyAV) on a background thread, because frame-exact stepping needs
our own frame index; only the latest scrub request is decoded, so dragging the slider never queues
work. Playback at 1× plays the sound (:mod:`generec_desktop.app.audio`) and the picture follows the
audio clock (a frame is shown when the sound reaches its timestamp; a frame that is late by more than
two frame intervals is dropped rather than shown late); without an audio device it follows the wall
clock and a note says so. Scrubbing, stepping and shuttling faster or backwards are silent.

Editor keys (while the preview has focus; the window's own preview: whenever its tab shows):
Space play/pause, J/K/L shuttle back/stop/forward (press again: 2×, 4×, 8×), ←/→ one frame,
Home/End first/last frame, I/O mark the in/out point (a range other tabs use), Alt+X clear them,
M mute. A click on the scrubber jumps there (and drags from there).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import shiboken6
from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QKeySequence, QPainter, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProxyStyle,
    QPushButton,
    QSizePolicy,
    QSlider,
    QStyle,
    QStyleOptionSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from generec_desktop.app.qtfix import emit

PREVIEW_MAX_SIDE = 960
# A frame that reaches the GUI thread this late (sound clock minus its time) is not painted: showing it would
# put the picture behind the sound; the next one is due within a frame interval anyway (players such as mpv
# drop late frames the same way).
LATE_DROP_S = 0.035
# Frames leave the decoder this much before their time: the hop to the GUI thread and the paint take about
# that long (the A/V benchmark's mean drift was -6.5 ms without it, on 2 busy cores).
PRESENT_AHEAD_S = 0.006
SHUTTLE_SPEEDS = (1.0, 2.0, 4.0, 8.0)

#: The preview's keys, for Help ▸ Keyboard Shortcuts (key, what it does).
PLAYER_KEYS = (
    ("Space", "Play / pause"),
    ("J", "Play backwards (again: 2×, 4×, 8×)"),
    ("K", "Stop"),
    ("L", "Play forwards (again: 2×, 4×, 8×)"),
    ("← / →", "One frame back / forward"),
    ("Home / End", "First / last frame"),
    ("I / O", "Mark the in / out point (in Clips: the selected clip's start / end)"),
    ("Alt+X", "Clear the in and out points"),
    ("M", "Mute / unmute"),
    ("Click on the scrubber", "Jump there (drag to scrub, silently)"),
)


def to_qimage(rgb: np.ndarray) -> QImage:
    """An RGB uint8 array as a QImage that owns a copy of the pixels."""
    rgb = np.ascontiguousarray(rgb)
    h, w, _ = rgb.shape
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def format_time(seconds: float) -> str:
    minutes, sec = divmod(max(0.0, seconds), 60.0)
    return f"{int(minutes):02d}:{sec:06.3f}"


class _FrameSource(QObject):
    """Background decoder: the newest scrub request wins; playback streams frames on a clock."""

    frame_ready = Signal(int, object)  # frame index, QImage
    playback_stopped = Signal(int)  # the playback's number (play()'s ``run``)
    failed = Signal(str)
    audio_note = Signal(str)  # "" when sound plays, else why not

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Condition()
        self._request: tuple[Path, int] | None = None
        self._play: tuple[Path, int, float, bool, int, Any] | None = None
        self._stop_play = threading.Event()
        self._closed = False
        self.clock: Any = None  # the running playback's clock (audio or wall), None when stopped
        self.dropped = 0  # frames of the playbacks so far not shown because they were late
        self.gain: Any = lambda: 1.0  # read by the audio callback
        self._thread = threading.Thread(target=self._loop, name="preview-decoder", daemon=True)
        self._thread.start()

    def request(self, path: Path, index: int) -> None:
        with self._lock:
            self._stop_play.set()
            self._request = (path, index)
            self._lock.notify()

    def play(self, path: Path, index: int, speed: float = 1.0, sound: bool = True, run: int = 0,
             clock: Any = None) -> None:
        """Stream from frame ``index``; ``clock`` (``now()``: media seconds) paces it instead of its own
        (the compare player's original follows the version's clock; then there is no sound)."""
        with self._lock:
            self._stop_play.set()  # a running playback ends first
            self._request = None
            self._play = (path, index, speed, sound, run, clock)
            self._lock.notify()

    def stop(self) -> None:
        with self._lock:
            self._play = None  # a playback asked for but not started yet does not start
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
                if play is not None:
                    self._stop_play.clear()
            try:
                if request is not None:
                    self._decode_one(*request)
                elif play is not None:
                    self._stream(*play)
            except Exception as exc:  # a broken file must not kill the preview thread
                emit(self.failed, str(exc))

    def _decode_one(self, path: Path, index: int) -> None:
        from generec_desktop import media

        times = media.frame_times(path)
        index = int(np.clip(index, 0, len(times) - 1))
        frame = media.sample_frames(path, timestamps=[float(times[index])], max_side=PREVIEW_MAX_SIDE)[0]
        emit(self.frame_ready, frame.index, to_qimage(frame.image))

    def _stream(self, path: Path, index: int, speed: float, sound: bool, run: int, clock: Any) -> None:
        from generec_desktop import media
        from generec_desktop.app.audio import AudioPlayback, AudioUnavailable, WallClock

        times = media.frame_times(path)
        index = int(np.clip(index, 0, len(times) - 1))
        start = float(times[index])
        audio = None
        if speed == 1.0 and sound and clock is None:
            try:
                audio = AudioPlayback(path, start, gain=lambda: self.gain())
            except AudioUnavailable as exc:
                emit(self.audio_note, str(exc))
            except Exception as exc:  # a damaged sound track: play the picture
                emit(self.audio_note, f"Cannot play the sound ({exc}): the picture plays without it.")
            else:
                emit(self.audio_note, "")
        self.clock = clock or (audio if audio is not None else WallClock(start, speed))
        try:
            if speed > 0:
                self._forward(path, times, start, speed)
            else:
                self._backward(path, times, index)
        finally:
            self.clock = None
            if audio is not None:
                audio.close()
            emit(self.playback_stopped, run)

    def _wait_until(self, t: float, speed: float) -> bool:
        """Wait until the clock reaches media time ``t``; False when playback was stopped meanwhile."""
        clock = self.clock
        while True:
            delay = (t - clock.now()) / abs(speed)
            if delay <= 0.0005:
                return not self._stop_play.is_set()
            if self._stop_play.wait(min(delay, 0.01)):
                return False

    def _forward(self, path: Path, times: np.ndarray, start: float, speed: float) -> None:
        from generec_desktop import media

        step = float(np.median(np.diff(times))) if len(times) > 1 else 0.04
        last_index = len(times) - 1
        for frame in media.iter_frames(path, start=start, max_side=PREVIEW_MAX_SIDE):
            if self._stop_play.is_set() or self._closed:
                return
            begin = getattr(self.clock, "begin", None)
            if begin is not None:  # the sound begins with the first frame
                begin()
            if not self._wait_until(frame.timestamp - PRESENT_AHEAD_S * speed, speed):
                return
            late = self.clock.now() - frame.timestamp
            if late > step * speed and frame.index < last_index:
                self.dropped += 1
                continue  # decoding fell behind: drop this frame rather than show it late
            emit(self.frame_ready, frame.index, to_qimage(frame.image))

    def _backward(self, path: Path, times: np.ndarray, index: int) -> None:
        """Reverse shuttle: show the frame the clock is at, as often as seeking allows (no sound)."""
        from generec_desktop import media

        shown = index
        while not self._stop_play.is_set() and not self._closed:
            t = self.clock.now()
            target = int(np.clip(np.searchsorted(times, t + 1e-6, side="right") - 1, 0, len(times) - 1))
            if target != shown:
                frame = media.sample_frames(path, timestamps=[float(times[target])], max_side=PREVIEW_MAX_SIDE)[0]
                if self._stop_play.is_set():
                    return
                emit(self.frame_ready, frame.index, to_qimage(frame.image))
                shown = target
            if target == 0:
                return
            self._stop_play.wait(0.005)


class _AbsoluteClickStyle(QProxyStyle):
    """A left click on the scrubber jumps to that point (Qt's own behaviour for the middle button)."""

    def styleHint(self, hint: QStyle.StyleHint, option: Any = None, widget: Any = None,
                  returnData: Any = None) -> int:
        if hint == QStyle.StyleHint.SH_Slider_AbsoluteSetButtons:
            return int(Qt.MouseButton.LeftButton.value | Qt.MouseButton.MiddleButton.value)
        return super().styleHint(hint, option, widget, returnData)


class SeekSlider(QSlider):
    """The scrubber: click-to-seek, with the in/out range drawn over the groove."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self._style = _AbsoluteClickStyle()
        self._style.setParent(self)
        self.setStyle(self._style)
        self.marks: tuple[int | None, int | None] = (None, None)  # in / out as slider values

    def set_marks(self, first: int | None, last: int | None) -> None:
        self.marks = (first, last)
        self.update()

    def x_of(self, value: int) -> int:
        """The x (widget coordinates) of the handle's centre at ``value``."""
        opt = QStyleOptionSlider()
        self.initStyleOption(opt)
        groove = self.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt,
                                             QStyle.SubControl.SC_SliderGroove, self)
        handle = self.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt,
                                             QStyle.SubControl.SC_SliderHandle, self)
        span = groove.width() - handle.width()
        pos = QStyle.sliderPositionFromValue(self.minimum(), self.maximum(), value, span)
        return groove.x() + pos + handle.width() // 2

    def paintEvent(self, event: Any) -> None:
        first, last = self.marks
        if first is not None or last is not None:
            p = QPainter(self)
            x0 = self.x_of(first if first is not None else self.minimum())
            x1 = self.x_of(last if last is not None else self.maximum())
            p.fillRect(QRectF(x0, 1, max(2, x1 - x0), self.height() - 2), QColor(255, 193, 7, 110))
            p.setPen(QColor("#ff8f00"))
            for x, mark in ((x0, first), (x1, last)):
                if mark is not None:
                    p.drawLine(x, 0, x, self.height())
            p.end()
        super().paintEvent(event)


class PreviewWidget(QWidget):
    """Shows one video: a frame, a scrubber over frame indices, play/pause/shuttle, sound, in/out marks."""

    frame_shown = Signal(int, float)  # index, timestamp
    range_marked = Signal(object, object)  # in, out (seconds or None)
    video_ready = Signal(object)  # the path: its frame times are known, the scrubber works

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path: Path | None = None
        self.times = np.zeros(0)
        self.current_index = 0
        self.playing = False
        self.speed = 0.0  # 0 paused, else the shuttle speed (negative: backwards)
        self.in_point: float | None = None
        self.out_point: float | None = None
        self.audio_message = ""
        self.loading = False  # the frame times of ``path`` are being read
        self._pending_seek: float | None = None
        self._run = 0  # number of the latest playback
        self._source = _FrameSource()
        self._source.gain = self.gain
        self._source.frame_ready.connect(self._on_frame)
        self._source.playback_stopped.connect(self._on_playback_stopped)
        self._source.failed.connect(self._on_failed)
        self._source.audio_note.connect(self._on_audio_note)

        self.view = QLabel("No video selected")
        self.view.setObjectName("previewView")
        self.view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.view.setMinimumSize(320, 180)
        self.view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.view.setStyleSheet("background:#111; color:#bbb;")
        self.slider = SeekSlider()
        self.slider.setObjectName("previewScrubber")
        self.slider.setEnabled(False)
        self.slider.setToolTip("Click to jump, drag to scrub (silent); J/K/L shuttle, I/O mark a range")
        self.slider.valueChanged.connect(self._on_slider)
        self.play_button = QPushButton("Play")
        self.play_button.setEnabled(False)
        self.play_button.clicked.connect(self.toggle_play)
        # arrows with a tooltip, as editors show them: with "◀ Frame" / "Frame ▶" (80 px each) the control row
        # needed 698 px and the Preview and Clips pages a horizontal scrollbar in a 1280×720 window
        self.prev_button = QPushButton("◀")
        self.next_button = QPushButton("▶")
        for button, tip in ((self.prev_button, "One frame back (←)"), (self.next_button, "One frame forward (→)")):
            button.setToolTip(tip)
            button.setFixedWidth(button.fontMetrics().horizontalAdvance("◀") + 28)
        self.prev_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        self.speed_label = QLabel("")
        self.speed_label.setObjectName("previewSpeed")
        self.time_label = QLabel("--:--")
        # room for a position, duration and frame number without the row moving as they count (was 260 px)
        self.time_label.setMinimumWidth(self.time_label.fontMetrics().horizontalAdvance(
            "00:00.000 / 00:00.000 · frame 0000/0000") + 8)
        self.mute_button = QToolButton()
        self.mute_button.setObjectName("previewMute")
        self.mute_button.setCheckable(True)
        self.mute_button.setToolTip("Mute (M)")
        # Qt's own icons: an emoji needs a colour-emoji font the machine may not have
        sound_on = self.style().standardIcon(QStyle.StandardPixmap.SP_MediaVolume)
        sound_off = self.style().standardIcon(QStyle.StandardPixmap.SP_MediaVolumeMuted)
        self.mute_button.setIcon(sound_on)
        self.mute_button.toggled.connect(lambda on: self.mute_button.setIcon(sound_off if on else sound_on))
        self.volume = QSlider(Qt.Orientation.Horizontal)
        self.volume.setObjectName("previewVolume")
        self.volume.setRange(0, 100)
        self.volume.setValue(80)
        self.volume.setFixedWidth(90)
        self.volume.setToolTip("Volume")
        self.audio_label = QLabel("")
        self.audio_label.setObjectName("previewAudioNote")
        self.audio_label.setStyleSheet("color:#8a4b00;")
        self.audio_label.setVisible(False)
        controls = QHBoxLayout()
        # the shuttle speed right of the time, in the stretch's room: it reserves no width and moves no button
        for w in (self.play_button, self.prev_button, self.next_button, self.time_label, self.speed_label):
            controls.addWidget(w)
        controls.addStretch(1)
        controls.addWidget(self.audio_label)
        controls.addWidget(self.mute_button)
        controls.addWidget(self.volume)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.slider)  # a row of its own: the scrubber is as wide as the picture
        layout.addLayout(controls)
        keys = ((Qt.Key.Key_Space, self.toggle_play), (Qt.Key.Key_Left, lambda: self.step(-1)),
                (Qt.Key.Key_Right, lambda: self.step(1)), (Qt.Key.Key_J, self.shuttle_back),
                (Qt.Key.Key_K, self.pause), (Qt.Key.Key_L, self.shuttle_forward),
                (Qt.Key.Key_I, self.mark_in), (Qt.Key.Key_O, self.mark_out),
                (Qt.Key.Key_M, self.mute_button.toggle), (Qt.Key.Key_Home, lambda: self.go_to(0)),
                (Qt.Key.Key_End, lambda: self.go_to(len(self.times) - 1)))
        for key, slot in keys:
            QShortcut(QKeySequence(key), self, slot)
        QShortcut(QKeySequence("Alt+X"), self, self.clear_marks)
        self._pixmap: QPixmap | None = None

    # sound ------------------------------------------------------------------------------------------
    def gain(self) -> float:
        """Volume × not muted, read by the audio device's callback (acts within one period, 20 ms)."""
        return 0.0 if self.mute_button.isChecked() else self.volume.value() / 100.0

    @property
    def clock(self) -> Any:
        """The running playback's clock (``now()``: media seconds), None when paused."""
        return self._source.clock

    def _on_audio_note(self, message: str) -> None:
        self.audio_message = message
        short = ("no sound track" if "no sound track" in message else "sound switched off" if "switched off" in message
                 else "no sound output" if message else "")
        self.audio_label.setText(short)
        self.audio_label.setToolTip(message)
        self.audio_label.setVisible(bool(message))

    # video ------------------------------------------------------------------------------------------
    def set_video(self, path: Path | None) -> None:
        """Show ``path`` from its first frame (``None`` clears the preview). Its frame times are read off the
        GUI thread (:mod:`generec_desktop.app.frame_index`); until they are known the preview says "Loading…"
        and a :meth:`seek_time` or :meth:`set_marks` meanwhile applies once they are (``video_ready``)."""
        self.pause()
        self.path = path
        self.in_point = self.out_point = None
        self.slider.set_marks(None, None)
        self._pending_seek = None
        self.times = np.zeros(0)
        self.slider.setEnabled(False)
        self.play_button.setEnabled(False)
        if path is None:
            self.view.setText("No video selected")
            return
        from generec_desktop.app.frame_index import frame_times_cache

        self.loading = True

        # the reader outlives this widget: a read that ends after the widget was deleted (its window closed)
        # must not touch it
        def ready(got: dict[str, np.ndarray], p: Path = path) -> None:
            if shiboken6.isValid(self) and shiboken6.isValid(self.slider):
                self._times_ready(p, got[str(p)])

        def failed(message: str, p: Path = path) -> None:
            if shiboken6.isValid(self) and shiboken6.isValid(self.view):
                self._times_failed(p, message)

        if not frame_times_cache().fetch([path], ready, failed):
            self._pixmap = None
            self.view.setText("Loading…")
            self.time_label.setText("--:--")

    def _times_ready(self, path: Path, times: np.ndarray) -> None:
        if path != self.path or not self.loading:
            return  # another video was selected meanwhile (or this one's times came already)
        self.loading = False
        self.times = times
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(self.times) - 1))
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self.slider.setEnabled(True)
        self.play_button.setEnabled(True)
        pending, self._pending_seek = self._pending_seek, None
        self._paint_marks()
        if pending is not None:
            self.seek_time(pending)
        else:
            self.seek(0)
        emit(self.video_ready, path)

    def _times_failed(self, path: Path, message: str) -> None:
        if path == self.path and self.loading:
            self.loading = False
            self._on_failed(message)

    def seek(self, index: int) -> None:
        """Show frame ``index`` exactly (decoded in the background)."""
        if self.path is None or not len(self.times):
            return
        index = int(np.clip(index, 0, len(self.times) - 1))
        self.current_index = index
        self._update_label(index)
        self._source.request(self.path, index)

    def index_at(self, seconds: float) -> int:
        """The frame displayed at ``seconds``."""
        pos = np.searchsorted(self.times, seconds + 1e-6, side="right") - 1
        return int(np.clip(pos, 0, max(0, len(self.times) - 1)))

    def seek_time(self, seconds: float) -> None:
        """Show the frame displayed at ``seconds`` (once the frame times are known, when they are loading)."""
        if self.loading:
            self._pending_seek = seconds
        elif len(self.times):
            self.seek(self.index_at(seconds))
            self.slider.blockSignals(True)
            self.slider.setValue(self.current_index)
            self.slider.blockSignals(False)

    def go_to(self, index: int) -> None:
        self.pause()
        self.slider.setValue(int(np.clip(index, 0, max(0, len(self.times) - 1))))

    def step(self, delta: int) -> None:
        self.pause()
        self.slider.setValue(self.current_index + delta)

    def current_time(self) -> float:
        return float(self.times[self.current_index]) if len(self.times) else 0.0

    # playback ---------------------------------------------------------------------------------------
    def play(self, speed: float = 1.0) -> None:
        """Play from the current frame at ``speed`` (1: with sound; negative: backwards, silent)."""
        if self.path is None or not len(self.times):
            return
        last = len(self.times) - 1
        start = self.current_index
        if speed > 0 and start >= last:
            start = 0
        if speed < 0 and start <= 0:
            return
        self.playing, self.speed = True, float(speed)
        self.play_button.setText("Pause")
        self._show_speed()
        self._run += 1
        self._source.play(self.path, start, self.speed, run=self._run)

    def toggle_play(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play(1.0)

    def _next_speed(self, direction: int) -> float:
        if self.playing and np.sign(self.speed) == direction:
            faster = [s for s in SHUTTLE_SPEEDS if s > abs(self.speed)]
            return direction * (faster[0] if faster else SHUTTLE_SPEEDS[-1])
        return direction * SHUTTLE_SPEEDS[0]

    def shuttle_forward(self) -> None:
        """L: play forwards; pressed again while playing forwards, twice as fast (up to 8×)."""
        self.play(self._next_speed(1))

    def shuttle_back(self) -> None:
        """J: play backwards; pressed again, twice as fast (up to 8×)."""
        self.play(self._next_speed(-1))

    def pause(self) -> None:
        if self.playing:
            self._source.stop()
        self.playing, self.speed = False, 0.0
        self.play_button.setText("Play")
        self._show_speed()

    def _show_speed(self) -> None:
        if not self.playing or self.speed == 1.0:
            self.speed_label.setText("")
        else:
            self.speed_label.setText(("◀◀ " if self.speed < 0 else "▶▶ ") + f"{abs(self.speed):g}×")

    def close_source(self) -> None:
        self._source.close()

    # in / out ---------------------------------------------------------------------------------------
    def mark_in(self) -> None:
        """I: the in point at the current frame (an out point before it is cleared)."""
        if not len(self.times):
            return
        self.in_point = self.current_time()
        if self.out_point is not None and self.out_point <= self.in_point:
            self.out_point = None
        self._marks_changed()

    def mark_out(self) -> None:
        """O: the out point after the current frame (the range includes it; an in point after it is cleared)."""
        if not len(self.times):
            return
        i = self.current_index
        step = float(np.median(np.diff(self.times))) if len(self.times) > 1 else 0.04
        self.out_point = float(self.times[i + 1]) if i + 1 < len(self.times) else float(self.times[i]) + step
        if self.in_point is not None and self.in_point >= self.out_point:
            self.in_point = None
        self._marks_changed()

    def clear_marks(self) -> None:
        self.in_point = self.out_point = None
        self._marks_changed()

    def set_marks(self, in_point: float | None, out_point: float | None) -> None:
        """Show a range on the scrubber without emitting ``range_marked`` (a tab's selected clip)."""
        self.in_point, self.out_point = in_point, out_point
        self._paint_marks()

    def _paint_marks(self) -> None:
        first = None if self.in_point is None else self.index_at(self.in_point)
        last = None
        if self.out_point is not None:
            last = max(0, int(np.searchsorted(self.times, self.out_point - 1e-6, side="left")) - 1)
        self.slider.set_marks(first, last)

    def _marks_changed(self) -> None:
        self._paint_marks()
        self._update_label(self.current_index)
        emit(self.range_marked, self.in_point, self.out_point)

    # events -----------------------------------------------------------------------------------------
    def _on_slider(self, value: int) -> None:
        if self.playing:
            self.pause()
        self.seek(value)

    def _update_label(self, index: int) -> None:
        if len(self.times):
            text = (f"{format_time(float(self.times[index]))} / {format_time(float(self.times[-1]))}"
                    f" · frame {index + 1}/{len(self.times)}")
            if self.in_point is not None or self.out_point is not None:
                a = format_time(self.in_point) if self.in_point is not None else "start"
                b = format_time(self.out_point) if self.out_point is not None else "end"
                text += f" · in {a} – out {b}"
            self.time_label.setText(text)

    def _on_frame(self, index: int, image: QImage) -> None:
        clock = self._source.clock
        timed = self.playing and self.speed == 1.0 and clock is not None and 0 < index < len(self.times) - 1
        if timed and clock.now() - float(self.times[index]) > LATE_DROP_S:
            self._source.dropped += 1  # the GUI thread was held up: skip it, the next frame is on time
            return
        pixmap = QPixmap.fromImage(image)
        scaled = self._scaled(pixmap)
        # converting and scaling take a while on a busy machine: checked again just before it is shown
        if timed and clock.now() - float(self.times[index]) > LATE_DROP_S:
            self._source.dropped += 1
            return
        self._pixmap = pixmap
        self.view.setPixmap(scaled)
        if self.playing:
            self.current_index = index
        if len(self.times):
            emit(self.frame_shown, index, float(self.times[min(index, len(self.times) - 1)]))
        if self.playing:
            self.slider.blockSignals(True)
            self.slider.setValue(index)
            self.slider.blockSignals(False)
            self._update_label(index)

    def _on_playback_stopped(self, run: int) -> None:
        if run == self._run:  # not a playback that a newer one replaced
            self.playing, self.speed = False, 0.0
            self.play_button.setText("Play")
            self._show_speed()

    def _on_failed(self, message: str) -> None:
        self.view.setText(f"Cannot show this video: {message}")

    def _scaled(self, pixmap: QPixmap) -> QPixmap:
        # while playing, the fast scaler: a frame is on screen for 40 ms and the GUI thread must keep up
        mode = Qt.TransformationMode.FastTransformation if self.playing else Qt.TransformationMode.SmoothTransformation
        return pixmap.scaled(self.view.size(), Qt.AspectRatioMode.KeepAspectRatio, mode)

    def _rescale(self) -> None:
        if self._pixmap is not None:
            self.view.setPixmap(self._scaled(self._pixmap))

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._rescale()
