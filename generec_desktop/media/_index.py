"""Opening files with clear errors, and a cached demux-only index of a video's frames.

The index (every video packet's pts and keyframe flag, audio extent) is what makes frame counts
exact, variable frame rate detectable, and lets sampling decide between seeking and one sequential
decode (DESIGN §7) without decoding anything. Demuxing is cheap next to decoding.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.error
import numpy as np

from generec_desktop.media.types import MediaError

__all__ = ["VideoIndex", "open_input", "scan", "video_stream"]


def _name(path: Path) -> str:
    return path.name or str(path)


def open_input(path: str | os.PathLike[str]) -> av.container.InputContainer:
    """Open ``path`` for reading, turning every failure into a :class:`MediaError`."""
    p = Path(path)
    if not p.exists():
        raise MediaError(f"{p} does not exist; check the path.")
    if not p.is_file():
        raise MediaError(f"{p} is not a file; choose a video file.")
    if p.stat().st_size == 0:
        raise MediaError(f"{_name(p)} is empty (0 bytes); choose a complete video file.")
    try:
        return av.open(str(p), mode="r", metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise MediaError(f"{_name(p)} is not a readable video file, or it is truncated ({_why(exc)}).") from exc


def _why(exc: BaseException) -> str:
    return str(getattr(exc, "strerror", None) or exc).strip().rstrip(".") or type(exc).__name__


def video_stream(container: av.container.InputContainer, path: Path) -> av.video.stream.VideoStream:
    """The main video stream (not an attached cover picture), or :class:`MediaError`."""
    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    kinds = sorted({s.type for s in container.streams})
    has = f"it has only {', '.join(kinds)} streams" if kinds else "it has no streams"
    raise MediaError(f"{_name(path)} has no video stream ({has}); choose a video file.")


@dataclass(frozen=True)
class VideoIndex:
    """Presentation-ordered timing of every video frame, from demuxing only."""

    time_base: Fraction
    pts: np.ndarray  # int64, sorted presentation timestamps, one per frame
    durations: np.ndarray  # int64, display duration of each frame (next pts - pts; last from packet)
    keyframe_positions: np.ndarray  # int64, sorted positions (into pts) of keyframes
    header_frames: int  # frame count from the container header (0 when absent)
    audio_span: tuple[float, float] | None  # audio start/end on the video timeline, seconds

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


def scan(path: str | os.PathLike[str]) -> VideoIndex:
    """Demux ``path`` once (cached by path, size and mtime) and index its video frames."""
    p = Path(path).resolve()
    if not p.is_file():
        open_input(p)  # raises the right MediaError
    st = p.stat()
    return _scan_cached(str(p), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _scan_cached(path: str, size: int, mtime_ns: int) -> VideoIndex:
    p = Path(path)
    with open_input(p) as container:
        vs = video_stream(container, p)
        audio = container.streams.audio[0] if container.streams.audio else None
        streams = [vs] + ([audio] if audio is not None else [])
        tb = vs.time_base or Fraction(1, 90000)
        pts_list: list[int] = []
        key_pts: list[int] = []
        last_dur = 0
        a_start: int | None = None
        a_end: int | None = None
        try:
            for packet in container.demux(streams):
                if packet.size == 0 and packet.pts is None:
                    continue  # the flush packet PyAV yields at the end
                if packet.is_corrupt:
                    raise MediaError(f"{p.name} is damaged or truncated (corrupt packet); re-export it.")
                if packet.stream.index == vs.index:
                    ts = packet.pts if packet.pts is not None else packet.dts
                    if ts is None:
                        ts = (pts_list[-1] + max(last_dur, 1)) if pts_list else 0
                    pts_list.append(int(ts))
                    last_dur = int(packet.duration or 0)
                    if packet.is_keyframe:
                        key_pts.append(int(ts))
                elif packet.pts is not None:
                    a_start = packet.pts if a_start is None else min(a_start, packet.pts)
                    end = packet.pts + (packet.duration or 0)
                    a_end = end if a_end is None else max(a_end, end)
        except av.error.FFmpegError as exc:
            raise MediaError(f"{p.name} is damaged or truncated ({_why(exc)}); re-export it.") from exc
        header = int(vs.frames or 0)
        if not pts_list:
            raise MediaError(f"{p.name} contains no video frames; choose a complete video file.")
        if header and len(pts_list) < header:
            raise MediaError(
                f"{p.name} is truncated: the header lists {header} frames but only {len(pts_list)} "
                "are present; re-export or re-download it."
            )
        pts = np.array(sorted(pts_list), dtype=np.int64)
        if len(np.unique(pts)) != len(pts):
            raise MediaError(f"{p.name} has duplicate frame timestamps; remux it (e.g. with ffmpeg -c copy).")
        durations = np.empty_like(pts)
        durations[:-1] = np.diff(pts)
        if last_dur <= 0:
            last_dur = int(np.median(durations[:-1])) if len(pts) > 1 else _default_duration(vs, tb)
        durations[-1] = last_dur
        key_positions = np.searchsorted(pts, np.array(sorted(set(key_pts)), dtype=np.int64))
        if len(key_positions) == 0 or key_positions[0] != 0:
            key_positions = np.concatenate([[0], key_positions]).astype(np.int64)
        audio_span = None
        if audio is not None and a_start is not None and a_end is not None:
            atb = audio.time_base or Fraction(1, audio.rate or 1)
            if audio.start_time is not None:  # encoder priming before it is skipped on decode
                a_start = max(a_start, audio.start_time)
            origin_s = float(pts[0] * tb)
            audio_span = (float(a_start * atb) - origin_s, float(a_end * atb) - origin_s)
        return VideoIndex(tb, pts, durations, key_positions.astype(np.int64), header, audio_span)


def _default_duration(vs: av.video.stream.VideoStream, tb: Fraction) -> int:
    rate = vs.average_rate or vs.guessed_rate or vs.base_rate or Fraction(25)
    return max(1, round(1 / (Fraction(rate) * tb)))
