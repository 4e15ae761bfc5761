"""``probe`` (what is in a file) and ``read_cover`` (its attached picture)."""

from __future__ import annotations

import os
from pathlib import Path

import av
import av.error
import numpy as np

from generec_desktop.media._index import _why, audio_stream, open_input, scan, video_stream
from generec_desktop.media.geometry import display_size, orientation_of
from generec_desktop.media.tolerance import DamageLog, decode_tolerant
from generec_desktop.media.types import MediaError, MediaInfo

__all__ = ["probe", "read_cover", "rotation_of"]


def rotation_of(frame: av.VideoFrame) -> int:
    """Clockwise degrees (0/90/180/270) to turn ``frame`` for display (its mirroring aside: see
    :func:`~generec_desktop.media.geometry.orientation_of`, which gives both)."""
    return orientation_of(frame)[0]


def _first_frame(container: av.container.InputContainer, stream: av.video.stream.VideoStream,
                 path: Path, log: DamageLog) -> av.VideoFrame:
    """The first frame that decodes (damaged packets before it are skipped, as players do)."""
    for frame in decode_tolerant(container, stream, log):
        return frame
    why = f" ({log.demux_error})" if log.demux_error else ""
    raise MediaError(f"{path.name} has no decodable video frame{why}; choose a complete video file.")


def probe(path: str | os.PathLike[str]) -> MediaInfo:
    """Describe the video at ``path``: exact frame count, timing, display size (sample aspect ratio and
    display matrix applied), audio, cover, tags.

    Raises :class:`MediaError` for missing, empty, truncated, non-video or undecodable files.
    """
    p = Path(path)
    index = scan(p)
    with open_input(p) as container:
        vs = video_stream(container, p)
        log = DamageLog()
        first = _first_frame(container, vs, p, log)
        rotation, mirrored = orientation_of(first)
        ctx = vs.codec_context
        coded_w, coded_h = first.width, first.height
        width, height = display_size(coded_w, coded_h, index.sar)  # square pixels, then turned
        if rotation in (90, 270):
            width, height = height, width
        n = len(index.pts)
        duration = index.end_time
        fps = n / duration if duration > 0 else float(vs.average_rate or vs.guessed_rate or 0)
        d = index.durations[:-1] if n > 2 else index.durations[:0]
        vfr = False
        if len(d):
            med = float(np.median(d))
            # Allow rounding jitter of a tick or two (e.g. 29.97 fps in a 1/1000 time base).
            vfr = bool(np.max(np.abs(d - med)) > max(2.0, 0.01 * med))
        audio = audio_stream(container)
        audio_duration = None
        if audio is not None and index.audio_span is not None:
            audio_duration = index.audio_span[1] - index.audio_span[0]
        has_cover = any(s.disposition & av.stream.Disposition.attached_pic for s in container.streams.video)
        bit_rate = vs.bit_rate or ctx.bit_rate or None
        return MediaInfo(
            path=p,
            container=container.format.name,
            duration=duration,
            frame_count=n,
            fps=fps,
            variable_frame_rate=vfr,
            width=width,
            height=height,
            coded_width=coded_w,
            coded_height=coded_h,
            rotation=rotation,
            mirrored=mirrored,
            sample_aspect_ratio=(index.sar.numerator, index.sar.denominator),
            video_codec=ctx.name,
            pixel_format=first.format.name,
            bit_rate=int(bit_rate) if bit_rate else None,
            has_audio=audio is not None,
            audio_codec=audio.codec_context.name if audio is not None else None,
            audio_sample_rate=int(audio.rate) if audio is not None and audio.rate else None,
            audio_channels=int(audio.channels) if audio is not None else None,
            audio_duration=audio_duration,
            has_cover=has_cover,
            metadata={str(k): str(v) for k, v in container.metadata.items()},
            warnings=index.warnings + _first_frame_warnings(log),
        )


def _first_frame_warnings(log: DamageLog) -> tuple[str, ...]:
    """Damage met before the first decodable frame (the demux counts are the index's already)."""
    return (f"{log.undecodable} undecodable packet(s) before the first frame skipped",) if log.undecodable else ()


def read_cover(path: str | os.PathLike[str]) -> np.ndarray | None:
    """The attached cover picture of ``path`` as (H, W, 3) uint8 RGB, or ``None`` if it has none."""
    p = Path(path)
    with open_input(p) as container:
        covers = [s for s in container.streams.video if s.disposition & av.stream.Disposition.attached_pic]
        if not covers:
            return None
        try:
            for frame in container.decode(covers[0]):
                return frame.to_ndarray(format="rgb24")
            for frame in covers[0].decode(None):
                return frame.to_ndarray(format="rgb24")
        except av.error.FFmpegError as exc:
            raise MediaError(f"The cover picture of {p.name} cannot be decoded ({_why(exc)}).") from exc
    return None
