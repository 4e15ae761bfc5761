"""Opening files with clear errors, and a cached demux-only index of a video's frames.

The index (every video packet's pts and keyframe flag, audio extent) is what makes frame counts
exact, variable frame rate detectable, and lets sampling decide between seeking and one sequential
decode (DESIGN §7) without decoding anything. Demuxing is cheap next to decoding.
"""

from __future__ import annotations

import functools
import itertools
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.error
import numpy as np

from generec_desktop.media.geometry import sample_aspect
from generec_desktop.media.tolerance import DamageLog, FrameClock, PacketTimer, decode_tolerant, demux_tolerant
from generec_desktop.media.types import MediaError

__all__ = ["VideoIndex", "audio_stream", "open_input", "scan", "video_stream"]


def _name(path: Path) -> str:
    return path.name or str(path)


def open_input(path: str | os.PathLike[str]) -> av.container.InputContainer:
    """Open ``path`` for reading, turning every failure into a :class:`MediaError`."""
    p = Path(path)
    try:
        if not p.exists():
            if p.is_symlink():
                raise MediaError(f"{p} is a broken symbolic link (or a loop of links); choose a video file.")
            raise MediaError(f"{p} does not exist; check the path.")
        if not p.is_file():
            raise MediaError(f"{p} is not a file; choose a video file.")
        if p.stat().st_size == 0:
            raise MediaError(f"{_name(p)} is empty (0 bytes); choose a complete video file.")
    except OSError as exc:  # permission denied, a loop of links, a vanished network share
        raise MediaError(f"{p} cannot be read ({_why(exc)}); check the path.") from exc
    try:
        return av.open(str(p), mode="r", metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError, OSError) as exc:
        raise MediaError(f"{_name(p)} is not a readable video file, or it is truncated ({_why(exc)}).") from exc


def _why(exc: BaseException) -> str:
    return str(getattr(exc, "strerror", None) or exc).strip().rstrip(".") or type(exc).__name__


def audio_stream(container: av.container.InputContainer) -> av.audio.stream.AudioStream | None:
    """The first audio stream there is a decoder for (a damaged header can name an unknown codec,
    which PyAV gives no codec context: that audio is left out, as players leave it out)."""
    return next((s for s in container.streams.audio if s.codec_context is not None), None)


def video_stream(container: av.container.InputContainer, path: Path) -> av.video.stream.VideoStream:
    """The main video stream (not an attached cover picture), or :class:`MediaError`."""
    unknown = False
    for stream in container.streams.video:
        if stream.codec_context is None:  # an unknown codec (e.g. a damaged sample description)
            unknown = True
            continue
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    if unknown:
        raise MediaError(f"{_name(path)} has a video stream in a codec that cannot be decoded (unknown or "
                         "damaged codec header); choose another file or convert it.")
    kinds = sorted({s.type for s in container.streams})
    has = f"it has only {', '.join(kinds)} streams" if kinds else "it has no streams"
    raise MediaError(f"{_name(path)} has no video stream ({has}); choose a video file.")


@dataclass(frozen=True)
class VideoIndex:
    """Presentation-ordered timing of every video frame, from demuxing only (timestamps repaired
    by the tolerance policy, :mod:`generec_desktop.media.tolerance`)."""

    time_base: Fraction
    pts: np.ndarray  # int64, sorted distinct presentation timestamps, one per frame
    durations: np.ndarray  # int64, display duration of each frame (next pts - pts; last from packet)
    keyframe_positions: np.ndarray  # int64, sorted positions (into pts) of keyframes; [0] when not seekable
    header_frames: int  # frame count from the container header (0 when absent)
    audio_span: tuple[float, float] | None  # audio start/end on the video timeline, seconds
    warnings: tuple[str, ...] = ()  # what the demux repaired or found damaged (DamageLog.warnings)
    seekable: bool = True  # False: positions depend on reading from the start (joined or unstamped data)
    step: int = 1  # one nominal frame in time_base units (for generated timestamps and joins)
    prefer_dts: bool = False  # the decoder outputs wrong pts (AVI packed B-frames): place frames by dts
    sar: Fraction = Fraction(1)  # sample (pixel) aspect ratio: frames are shown stretched by it (geometry)

    @property
    def origin(self) -> int:
        """pts of the first frame: timestamps are measured from it."""
        return int(self.pts[0])

    @property
    def times(self) -> np.ndarray:
        """Presentation time of each frame in seconds from the first frame."""
        tb = self.time_base
        return (self.pts - self.origin).astype(np.float64) * tb.numerator / tb.denominator

    @property
    def end_time(self) -> float:
        return float((int(self.pts[-1]) + int(self.durations[-1]) - self.origin) * self.time_base)

    def seconds(self, pts: int) -> float:
        return float((pts - self.origin) * self.time_base)

    def clock(self, *, after: int = -1) -> FrameClock:
        """A :class:`FrameClock` placing this file's decoded frames on the index."""
        return FrameClock(self.pts, by_order=not self.seekable, prefer_dts=self.prefer_dts, after=after)

    def timer(self, log: DamageLog | None = None) -> PacketTimer:
        """A :class:`PacketTimer` repairing this file's packet timestamps as the index did."""
        return PacketTimer(float(self.time_base), self.step, log)


def scan(path: str | os.PathLike[str]) -> VideoIndex:
    """Demux ``path`` once (cached by path, size and mtime) and index its video frames."""
    p = Path(path)
    try:
        p = p.resolve()
        if not p.is_file():
            open_input(p)  # raises the right MediaError
        st = p.stat()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a loop of symbolic links (Python < 3.13)
        raise MediaError(f"{path} cannot be read ({_why(exc)}); check the path.") from exc
    return _scan_cached(str(p), st.st_size, st.st_mtime_ns)


#: audio packets kept from the end of the file and test-decoded for a damaged tail
_AUDIO_TAIL = 3


@functools.lru_cache(maxsize=64)
def _scan_cached(path: str, size: int, mtime_ns: int) -> VideoIndex:
    p = Path(path)
    log = DamageLog()
    with open_input(p) as container:
        vs = video_stream(container, p)
        audio = audio_stream(container)
        streams = [vs] + ([audio] if audio is not None else [])
        tb = vs.time_base or Fraction(1, 90000)
        step = _default_duration(vs, tb)
        timer = PacketTimer(float(tb), step, log)
        reordered = False
        pts_list: list[int] = []
        key_pts: list[int] = []
        last_dur = 0
        a_start: int | None = None
        a_end: int | None = None
        head: list[av.Packet] = []
        tail: list[av.Packet] = []
        for packet in demux_tolerant(container, streams, log):
            if packet.stream.index == vs.index:
                timer.fix(packet)
                ts = int(packet.pts)
                reordered = reordered or (packet.dts is not None and packet.dts != ts)
                pts_list.append(ts)
                last_dur = int(packet.duration or 0)
                if packet.is_keyframe:
                    key_pts.append(ts)
            elif packet.pts is not None:
                a_start = packet.pts if a_start is None else min(a_start, packet.pts)
                end = packet.pts + (packet.duration or 0)
                a_end = end if a_end is None else max(a_end, end)
                if len(head) < _AUDIO_TAIL:
                    head.append(packet)
                else:
                    tail = [*tail[1 - _AUDIO_TAIL:], packet]
        header = int(vs.frames or 0)
        if not pts_list:
            raise MediaError(f"{p.name} contains no video frames; choose a complete video file.")
        all_pts = np.array(pts_list, dtype=np.int64)
        pts = np.unique(all_pts)
        log.duplicates = len(all_pts) - len(pts)
        log.header_frames, log.frames = header, len(pts)
        durations = np.empty_like(pts)
        durations[:-1] = np.diff(pts)
        if len(pts) > 1 and last_dur < np.median(durations[:-1]) / 4:  # absent or implausible
            last_dur = int(np.median(durations[:-1]))
        elif last_dur <= 0:
            last_dur = step
        durations[-1] = last_dur
        seekable = timer.repaired == 0
        key_positions = np.searchsorted(pts, np.array(sorted(set(key_pts)), dtype=np.int64))
        if not seekable or len(key_positions) == 0 or key_positions[0] != 0:
            key_positions = np.concatenate([[0], key_positions if seekable else []]).astype(np.int64)
        origin_s = float(pts[0] * tb)
        if origin_s < -1e-9:
            log.negative_start = origin_s
        end_s = float((int(pts[-1]) + last_dur - int(pts[0])) * tb)
        if (header and len(all_pts) < header) or log.demux_error:
            log.truncated_at = end_s
        audio_span = None
        if audio is not None and a_start is not None and a_end is not None:
            atb = audio.time_base or Fraction(1, audio.rate or 1)
            if audio.start_time is not None:  # encoder priming before it is skipped on decode
                a_start = max(a_start, audio.start_time)
            trimmed = _decodable_audio_end(audio, head, tail, log)
            a_end = a_end if trimmed is None else trimmed
            audio_span = (float(a_start * atb) - origin_s, float(a_end * atb) - origin_s)
            if trimmed is not None:
                log.audio_end = audio_span[1]
        prefer_dts = reordered and container.format.name == "avi" and _pts_go_back(p, vs.index)
        return VideoIndex(tb, pts, durations, key_positions.astype(np.int64), header, audio_span,
                          log.warnings(), seekable, step, prefer_dts, sample_aspect(vs))


#: frames decoded to learn whether a decoder's pts can be trusted (AVI only: cheap, and rare)
_PTS_CHECK_FRAMES = 24


def _pts_go_back(path: Path, index: int) -> bool:
    """Whether the first frames decoded come out with pts going back while their dts do not: AVI
    files with packed B-frames (DivX/Xvid), whose pts the demuxer can only guess."""
    log = DamageLog()
    with open_input(path) as container:
        stream = container.streams[index]
        pts: list[int] = []
        dts: list[int] = []
        for frame in decode_tolerant(container, stream, log):
            if frame.pts is not None and frame.dts is not None:
                pts.append(frame.pts)
                dts.append(frame.dts)
            if len(pts) >= _PTS_CHECK_FRAMES:
                break
    def back(values: list[int]) -> int:
        return sum(b <= a for a, b in itertools.pairwise(values))

    return back(pts) > back(dts)


def _decodable_audio_end(audio: av.audio.stream.AudioStream, head: list[av.Packet], tail: list[av.Packet],
                         log: DamageLog) -> int | None:
    """Test-decode the first and last few audio packets (cheap: a handful of packets): damaged ones are
    counted in ``log``; returns where the audio ends when its tail does not decode (else ``None``).

    A failure only counts when a later packet decodes, so a decoder that needs earlier packets (a cold
    start in the tail) is not mistaken for damage.
    """
    ctx = audio.codec_context
    ok = []
    for packet in head + tail:
        try:
            ctx.decode(packet)
            ok.append(True)
        except av.error.FFmpegError:
            ok.append(False)
    if True not in ok:
        return None
    last_good = len(ok) - 1 - ok[::-1].index(True)
    log.audio_undecodable += ok[:last_good].count(False) + len(ok) - 1 - last_good
    if last_good == len(ok) - 1 or last_good < len(head):
        return None
    good = tail[last_good - len(head)]
    return int(good.pts) + int(good.duration or 0)

def _default_duration(vs: av.video.stream.VideoStream, tb: Fraction) -> int:
    rate = vs.average_rate or vs.guessed_rate or vs.base_rate or Fraction(25)
    return max(1, round(1 / (Fraction(rate) * tb)))
