"""The media layer's one tolerance policy for damaged and oddly timed files (issue 15).

Every reader (probe, sampling, ranges, cut, transform, audio, the editor's analysis) demuxes and
decodes through these helpers, so a file is read the same way everywhere, the way ffmpeg and players
read it:

- a demux error or a file cut short ends the stream there (ffmpeg: read until the last whole
  packet); what came before is kept;
- a packet the decoder rejects is skipped and decoding goes on (``-err_detect ignore_err``);
  corrupt-flagged packets are still offered to the decoder, which often conceals the damage;
- timestamps are repaired in demux order: a missing one is generated from the previous frame
  (``-fflags +genpts``), a backwards jump of the decode timestamps (joined files, a muxer restart)
  becomes a continuation (a discontinuity, as ffmpeg treats MPEG-TS), and frames are placed on the
  index by ffmpeg's best-effort timestamp (its ``guess_correct_pts``); a frame that lands on a time
  already shown (an exact duplicate) is dropped. Times are measured from the first frame, so a
  negative start is shifted to 0 (``-avoid_negative_ts make_zero``).

What was repaired or skipped is counted in a :class:`DamageLog`, whose :meth:`DamageLog.warnings`
become :attr:`MediaInfo.warnings`. Only a file with no decodable video frame is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import av
import av.error
import numpy as np

__all__ = ["DamageLog", "FrameClock", "PacketTimer", "decode_tolerant", "demux_tolerant"]


@dataclass
class DamageLog:
    """Counts of what a read repaired or skipped (mutable while reading; see :meth:`warnings`)."""

    corrupt_packets: int = 0  # flagged by the demuxer (kept: the decoder may still decode them)
    undecodable: int = 0  # packets the video decoder rejected, skipped
    generated_timestamps: int = 0  # packets without any timestamp, given the next one
    discontinuities: int = 0  # backwards jumps of the timestamps, made continuous
    duplicates: int = 0  # frames repeating an earlier frame's timestamp, dropped
    negative_start: float | None = None  # seconds before 0 the first frame was stamped at
    demux_error: str | None = None  # why demuxing stopped early, if it did
    truncated_at: float | None = None  # seconds: the video data stops here (file cut short)
    header_frames: int = 0  # frames the container header lists (0: unknown)
    frames: int = 0  # frames present
    audio_undecodable: int = 0  # audio packets the decoder rejected, dropped (silence there)
    audio_end: float | None = None  # seconds: the decodable audio stops here (a damaged tail trimmed)

    def warnings(self) -> tuple[str, ...]:
        """One plain sentence per kind of damage, for the library's badge and ``generec probe``."""
        out: list[str] = []
        if self.truncated_at is not None:
            listed = (f" (the header lists {self.header_frames} frames, {self.frames} are present)"
                      if self.header_frames > self.frames else "")
            why = f"; {self.demux_error}" if self.demux_error else ""
            out.append(f"truncated at t = {self.truncated_at:.3f} s{listed}{why}")
        if self.corrupt_packets:
            out.append(f"{_n(self.corrupt_packets, 'corrupt packet')} (decoded as far as possible)")
        if self.undecodable:
            out.append(f"{_n(self.undecodable, 'undecodable video packet')} skipped")
        fixes = []
        if self.generated_timestamps:
            fixes.append(f"{_n(self.generated_timestamps, 'missing timestamp')} generated")
        if self.discontinuities:
            fixes.append(f"{_n(self.discontinuities, 'backwards jump')} joined")
        if self.duplicates:
            fixes.append(f"{_n(self.duplicates, 'frame')} with a duplicate timestamp dropped")
        if self.negative_start is not None:
            fixes.append(f"negative start ({self.negative_start:.3f} s) shifted to 0")
        if fixes:
            out.append("timestamps repaired: " + ", ".join(fixes))
        if self.audio_undecodable:
            tail = f", the audio ends at t = {self.audio_end:.3f} s" if self.audio_end is not None else ""
            out.append(f"audio: {_n(self.audio_undecodable, 'damaged packet')} dropped (silence there){tail}")
        return tuple(out)


def _n(k: int, noun: str) -> str:
    return f"{k} {noun}" if k == 1 else f"{k} {noun}s"


class PacketTimer:
    """Repairs packet timestamps in demux order, in place (the same state machine for every reader).

    Backwards decode timestamps start a new segment continuing after the previous one; packets with
    neither pts nor dts get the previous one plus a frame. Readers that seek must only do so in files
    where :attr:`repaired` stayed 0 (the index says so), because the offsets depend on all that came
    before.
    """

    #: a pts-only stream (no dts) may reorder frames; only a jump back by more than this is a join
    PTS_JUMP = 1.0

    def __init__(self, time_base: float, default_step: int, log: DamageLog | None = None) -> None:
        self.log = log if log is not None else DamageLog()
        self._tb = time_base
        self._step = max(1, int(default_step))  # one frame, for generated stamps and joins
        self._offset = 0
        self._last_dts: int | None = None
        self._max_pts: int | None = None
        self._last_dur = self._step

    @property
    def repaired(self) -> int:
        """Repairs that make positions depend on reading from the start (joins, generated stamps)."""
        return self.log.discontinuities + self.log.generated_timestamps

    def fix(self, packet: av.Packet) -> None:
        """Give ``packet`` a repaired pts and dts (in its stream's time base)."""
        pts, dts = packet.pts, packet.dts
        dur = int(packet.duration or 0) or self._last_dur
        if pts is None and dts is None:
            base = self._max_pts if self._max_pts is not None else -self._step
            pts = dts = base + self._step - self._offset
            self.log.generated_timestamps += 1
        elif pts is None:
            pts = dts
        pts += self._offset
        if dts is not None:  # decode timestamps never go back, except where files were joined
            dts += self._offset
            if self._last_dts is not None and dts < self._last_dts:
                shift = self._last_dts + self._step - dts
                self._offset += shift
                pts, dts = pts + shift, dts + shift
                self.log.discontinuities += 1
            self._last_dts = dts
        elif self._max_pts is not None and pts < self._max_pts - self.PTS_JUMP / self._tb:
            shift = self._max_pts + self._step - pts  # reordering never reaches this far back
            self._offset += shift
            pts += shift
            self.log.discontinuities += 1
        self._last_dur = dur
        self._max_pts = int(pts) if self._max_pts is None else max(self._max_pts, int(pts))
        packet.pts = int(pts)
        packet.dts = int(dts) if dts is not None else None

def demux_tolerant(container: av.container.InputContainer, streams: Iterable[av.stream.Stream],
                   log: DamageLog) -> Iterator[av.Packet]:
    """The packets of ``streams`` until the data ends or a demux error (recorded, not raised).

    The flush packets PyAV yields at the end are left out (callers flush decoders themselves).
    """
    try:
        for packet in container.demux(list(streams)):
            if packet.size == 0 and packet.pts is None and packet.dts is None:
                continue
            if packet.is_corrupt:
                log.corrupt_packets += 1
            yield packet
    except av.error.FFmpegError as exc:
        log.demux_error = _why(exc)


def _why(exc: BaseException) -> str:
    return str(getattr(exc, "strerror", None) or exc).strip().rstrip(".") or type(exc).__name__


def decode_tolerant(container: av.container.InputContainer, stream: av.video.stream.VideoStream,
                    log: DamageLog, timer: PacketTimer | None = None,
                    packets: Iterable[av.Packet] | None = None) -> Iterator[av.VideoFrame]:
    """Every frame the decoder gives from the current position: undecodable packets skipped (counted),
    timestamps repaired by ``timer``, the decoder drained at the end of the data."""
    source = packets if packets is not None else demux_tolerant(container, [stream], log)
    for packet in source:
        if timer is not None:
            timer.fix(packet)
        try:
            frames = packet.decode()
        except av.error.FFmpegError:
            log.undecodable += 1
            continue
        yield from frames
    try:
        yield from stream.codec_context.decode(None)
    except av.error.FFmpegError:
        log.undecodable += 1


class FrameClock:
    """Places decoded frames on the index: ffmpeg's best-effort timestamp, then the frame with that
    presentation time (or the next one); ``None`` for a frame at or before one already placed
    (an exact duplicate, or a decoder that reorders wrongly), which callers drop.

    ``by_order`` (files whose timestamps had to be generated) places each frame after the previous,
    since decoders output frames in presentation order.
    """

    def __init__(self, pts: np.ndarray, *, by_order: bool = False, prefer_dts: bool = False,
                 after: int = -1) -> None:
        self._pts = pts
        self._by_order = by_order
        self.last = after
        # prefer_dts: the file's decoder is known to output wrong pts (found when it was indexed)
        self._faulty_pts, self._faulty_dts = int(prefer_dts), 0
        self._last_pts: int | None = None
        self._last_dts: int | None = None

    def best_effort(self, frame: av.VideoFrame) -> int | None:
        """libavcodec's ``guess_correct_pts``: the pts, unless pts go backwards more often than dts."""
        pts, dts = frame.pts, frame.dts
        if dts is not None:
            self._faulty_dts += self._last_dts is not None and dts <= self._last_dts
            self._last_dts = dts
        if pts is not None:
            self._faulty_pts += self._last_pts is not None and pts <= self._last_pts
            self._last_pts = pts
        if self._faulty_pts > self._faulty_dts:  # pts are the unreliable ones: dts, else decode order
            return int(dts) if dts is not None else None
        return int(pts) if pts is not None else (int(dts) if dts is not None else None)

    def position(self, frame: av.VideoFrame) -> int | None:
        """The index position of ``frame``, or ``None`` to drop it."""
        n = len(self._pts)
        ts = None if self._by_order else self.best_effort(frame)
        if ts is None:
            pos = self.last + 1
        else:
            pos = int(np.searchsorted(self._pts, ts))
            if pos >= n or (pos > 0 and self._pts[pos] != ts and ts - self._pts[pos - 1] < self._pts[pos] - ts):
                pos -= 1  # between two indexed frames: the nearer one
        if pos <= self.last and ts is not None and self.last + 1 < n and (
                self.last < 0 or ts != self._pts[self.last]):
            pos = self.last + 1  # not a repeat of the frame before: the next free place (decode order)
        if pos <= self.last or pos >= n:
            return None
        self.last = pos
        return pos
