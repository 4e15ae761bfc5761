"""Sound for the preview: a file's audio played from a time on, and the clock the picture follows.

Qt-free (the preview's decoder thread drives it). Samples come from the media layer's own decoder
(:func:`generec_desktop.media.read_audio`, sample-exact on the video timeline, damaged packets as
silence) in short chunks decoded ahead on a thread; they go out through miniaudio (a small library
that bundles its own backends: PulseAudio/PipeWire and ALSA on Linux, WASAPI, Core Audio). QtMultimedia's
QAudioSink would need PySide6-Addons (about 150 MB more); miniaudio is under 1 MB and needs no Qt.

The clock is the audio itself: :meth:`AudioPlayback.now` is the media time being heard, from the frames
the device has taken minus what is still queued in its buffer, interpolated between callbacks. A gap in
decoding (underrun) plays silence without moving the clock, so the picture waits instead of drifting.
Without a device (a server, offscreen tests) :func:`open_playback` raises :class:`AudioUnavailable` with
one sentence and the preview plays the picture on a wall clock (:class:`WallClock`).

``GENEREC_AUDIO=off`` disables sound; ``GENEREC_AUDIO=null`` plays into miniaudio's null device (a timer
that consumes samples in real time: what the A/V benchmark and the tests use where there is no sound card).
"""

from __future__ import annotations

import collections
import importlib
import os
import threading
import time
from pathlib import Path
from typing import Any, Protocol

import numpy as np

CHUNK_S = 1.0  # seconds decoded per read_audio call
AHEAD_CHUNKS = 3  # decoded ahead of the device
PERIOD_MS = 20  # device callback period: the clock's granularity


class Clock(Protocol):
    """Media seconds now (what the picture should show)."""

    def now(self) -> float: ...


class WallClock:
    """Media time from the system's monotonic clock: ``start`` now, advancing at ``speed`` (negative: back)."""

    def __init__(self, start: float, speed: float = 1.0) -> None:
        self.start, self.speed = float(start), float(speed)
        self._t0 = time.monotonic()

    def now(self) -> float:
        return self.start + (time.monotonic() - self._t0) * self.speed


class AudioUnavailable(Exception):
    """No sound: the message says why in one sentence (no device, no library, disabled)."""


def downmix(samples: np.ndarray) -> np.ndarray:
    """(channels, n) float32 to at most two channels: 5.1/7.1 by the ITU-R BS.775 coefficients
    (centre and surrounds at -3 dB into left and right), mono and stereo as they are."""
    ch = samples.shape[0]
    if ch <= 2:
        return samples
    k = np.float32(0.7071)
    left, right = samples[0].copy(), samples[1].copy()
    if ch >= 3:
        left += k * samples[2]
        right += k * samples[2]
    # channel 3 is the LFE in 5.1/7.1: left out, as downmixes usually do
    rest = samples[4:]
    for i, s in enumerate(rest):
        if i % 2 == 0:
            left += k * s
        else:
            right += k * s
    out = np.stack([left, right])
    peak = float(np.abs(out).max(initial=0.0))
    return out / peak if peak > 1.0 else out


class _Chunks:
    """Decodes [start, …) of a file's audio in CHUNK_S pieces on a thread, AHEAD_CHUNKS ahead."""

    def __init__(self, path: Path, start: float, end: float | None) -> None:
        self.path, self.start, self.end = path, start, end
        self._queue: collections.deque[np.ndarray] = collections.deque()
        self._cond = threading.Condition()
        self._closed = False
        self.finished = False  # no more audio after what is queued
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, name="preview-audio-decode", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from generec_desktop import media

        t = self.start
        try:
            while True:
                with self._cond:
                    while len(self._queue) >= AHEAD_CHUNKS and not self._closed:
                        self._cond.wait()
                    if self._closed:
                        return
                stop = t + CHUNK_S if self.end is None else min(self.end, t + CHUNK_S)
                got = media.read_audio(media.AudioSource(self.path, t, stop))
                if got is None:
                    break
                samples = downmix(got[0])
                if samples.shape[1] == 0:
                    break
                with self._cond:
                    self._queue.append(np.ascontiguousarray(samples.T))  # (n, ch) interleaved for the device
                    self._cond.notify_all()
                t = stop
                if self.end is not None and t >= self.end - 1e-9:
                    break
        except Exception as exc:  # a damaged tail: play what decoded
            self.error = str(exc)
        finally:
            with self._cond:
                self.finished = True
                self._cond.notify_all()

    def pop(self) -> np.ndarray | None:
        with self._cond:
            if not self._queue:
                return None
            chunk = self._queue.popleft()
            self._cond.notify_all()
            return chunk

    def wait_first(self, timeout: float) -> None:
        with self._cond:
            self._cond.wait_for(lambda: bool(self._queue) or self.finished, timeout)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout=5)


def _no_sound_card() -> bool:
    """Linux without a sound card (ALSA would print a page of errors on the terminal trying one)."""
    cards = Path("/proc/asound/cards")
    if not Path("/proc").is_dir():
        return False
    try:
        return "no soundcards" in cards.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return True


def _backends(miniaudio: Any, mode: str) -> list[Any]:
    if mode == "null":
        return [miniaudio.Backend.NULL]
    # no JACK: without a JACK server it prints its failure on the terminal; PipeWire serves JACK users
    # through its PulseAudio interface anyway
    names = ["WASAPI", "DSOUND", "WINMM", "COREAUDIO", "PULSEAUDIO", "ALSA", "SNDIO", "AUDIO4", "OSS"]
    if _no_sound_card():
        names.remove("ALSA")  # a PulseAudio/PipeWire server may still play (over the network, a USB card)
    return [getattr(miniaudio.Backend, n) for n in names if hasattr(miniaudio.Backend, n)]


def audio_mode() -> str:
    """``auto`` (a real device), ``null`` (miniaudio's null device) or ``off``, from ``GENEREC_AUDIO``."""
    mode = os.environ.get("GENEREC_AUDIO", "auto").strip().lower()
    return mode if mode in ("auto", "null", "off") else "auto"


class AudioPlayback:
    """Plays ``path``'s audio from ``start`` (video-timeline seconds) and tells the time being heard.

    ``gain()`` is read at each device callback (volume × not muted), so volume and mute act at once.
    The device opens at once and plays from :meth:`begin`. ``device=False`` opens no device: :meth:`pull`
    then hands out the samples a device would get (tests).
    """

    def __init__(self, path: Path, start: float, *, gain: Any = None, end: float | None = None,
                 device: bool = True) -> None:
        mode = audio_mode()
        if mode == "off" and device:
            raise AudioUnavailable("Sound is switched off (GENEREC_AUDIO=off).")
        ma: Any = None
        if device:
            try:
                ma = importlib.import_module("miniaudio")
            except ImportError as exc:  # pragma: no cover - miniaudio is a dependency
                raise AudioUnavailable("No audio library (install miniaudio): the picture plays "
                                       "without sound.") from exc
        from generec_desktop import media

        info = media.probe(path)
        if not info.has_audio or not info.audio_sample_rate:
            raise AudioUnavailable("This video has no sound track.")
        self.rate = int(info.audio_sample_rate)
        self.channels = min(2, int(info.audio_channels or 2))
        self.start = float(start)
        self._gain = gain or (lambda: 1.0)
        self._lock = threading.Lock()
        self._delivered = 0  # media frames handed to the device (silence fill on an underrun not counted)
        self._cb_frames = 0  # _delivered after the last callback
        self._cb_time: float | None = None
        # The device's buffer, measured: frames asked for minus frames a real-time device has consumed since
        # its first callback (miniaudio's binding does not expose the period count; the null backend keeps
        # 2 periods, PulseAudio what its server asks for). The largest excess of the last 64 callbacks: a
        # callback the scheduler ran late only makes the excess smaller, and the first ones (the device filling
        # its buffer) already show the whole buffer; a median of the first few would take a second to settle
        # (the benchmark's first frames were 34 ms late with it).
        self._requested = 0
        self._t_first: float | None = None
        self._excess: collections.deque[float] = collections.deque(maxlen=64)
        self._pending: np.ndarray | None = None  # the rest of a chunk
        self._chunks = _Chunks(path, self.start, end)
        self.finished = False
        self.latency_frames = 0
        self.backend = "none"
        self._device: Any = None
        if not device:
            self._chunks.wait_first(5.0)
            return
        try:
            self._device = ma.PlaybackDevice(
                output_format=ma.SampleFormat.FLOAT32, nchannels=self.channels, sample_rate=self.rate,
                buffersize_msec=PERIOD_MS, backends=_backends(ma, mode), app_name="GeneRec Desktop")
        except Exception as exc:  # MiniaudioError: no backend, no device, device busy
            self._chunks.close()
            raise AudioUnavailable("No audio output device was found: the picture plays without sound "
                                   f"({exc}).") from exc
        self.backend = str(getattr(self._device, "backend", "?"))
        self._chunks.wait_first(2.0)
        self.started = False

    def begin(self) -> None:
        """Start the sound (the preview calls it when the first frame is ready, so both begin together)."""
        if self._device is not None and not self.started:
            generator = self._generate()
            next(generator)
            self._device.start(generator)
            self.started = True

    def _generate(self) -> Any:
        framecount = yield b""
        while True:
            framecount = yield self.pull(framecount)

    def pull(self, framecount: int) -> np.ndarray:
        """The next ``framecount`` frames (framecount, channels) for the device, gain applied; silence
        where decoding has not caught up (not counted on the clock)."""
        out = np.zeros((framecount, self.channels), np.float32)
        filled = 0
        while filled < framecount:
            if self._pending is None or not len(self._pending):
                self._pending = self._chunks.pop()
                if self._pending is None:
                    if self._chunks.finished and not self.finished:
                        self.finished = True  # the end: from here the clock runs on without audio
                    break  # underrun or end: silence, the clock waits
            take = min(framecount - filled, len(self._pending))
            out[filled:filled + take] = self._pending[:take]
            self._pending = self._pending[take:]
            filled += take
        gain = float(self._gain())
        if gain != 1.0:
            out *= gain
        if self._device is not None:
            now = time.monotonic()
            if self._t_first is None:
                self._t_first = now
            self._requested += framecount
            self._excess.append(self._requested - self.rate * (now - self._t_first))
            self.latency_frames = max(0, int(max(self._excess)))
        if filled:  # an empty callback (underrun, the end) leaves the clock where the sound stopped
            with self._lock:
                self._delivered += filled
                self._cb_frames = self._delivered
                self._cb_time = time.monotonic()
        return out

    def now(self) -> float:
        """The media time being heard (seconds on the video timeline)."""
        with self._lock:
            cb_time, cb_frames = self._cb_time, self._cb_frames
        if cb_time is None:
            return self.start
        heard = max(0.0, (cb_frames - self.latency_frames) / self.rate) + (time.monotonic() - cb_time)
        if not self.finished:  # between callbacks the device plays on, never past what it was given
            heard = min(heard, cb_frames / self.rate)
        # (after the last sample the clock runs on, so a picture longer than its sound goes on playing)
        return self.start + heard

    def close(self) -> None:
        try:
            if self._device is not None:
                self._device.close()
        finally:
            self._chunks.close()
