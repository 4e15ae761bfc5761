"""Plain data types of the media layer (no heavy imports, so the CLI and GUI start fast)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from generec_desktop.jobs import GenerecError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["AudioSource", "Frame", "MediaError", "MediaInfo"]


class MediaError(GenerecError):
    """A media file is unreadable, truncated, empty or has no video; or an encode failed."""


@dataclass(frozen=True)
class MediaInfo:
    """What :func:`~generec_desktop.media.probe` learns about a video file."""

    path: Path
    container: str
    duration: float  # seconds, of the video stream (first frame to end of last frame)
    frame_count: int  # exact: counted by demuxing every video packet
    fps: float  # average frame rate (frame_count / duration)
    variable_frame_rate: bool
    width: int  # display size: the coded picture stretched by its sample aspect ratio, then rotated
    height: int
    coded_width: int
    coded_height: int
    rotation: int  # 0, 90, 180, 270: clockwise turn applied to show the coded picture
    video_codec: str
    pixel_format: str
    bit_rate: int | None
    has_audio: bool
    audio_codec: str | None
    audio_sample_rate: int | None
    audio_channels: int | None
    audio_duration: float | None
    has_cover: bool  # an attached picture stream exists
    metadata: dict[str, str] = field(default_factory=dict)  # container tags
    # What reading it repaired or skipped (truncation, corrupt packets, timestamps, a damaged audio
    # tail), one sentence each; empty for a healthy file. A damaged file is still usable.
    warnings: tuple[str, ...] = ()
    mirrored: bool = False  # the display matrix also mirrors the picture left-right (after the rotation)
    sample_aspect_ratio: tuple[int, int] = (1, 1)  # (num, den) of a coded pixel's shape; frames are resampled

    @property
    def damaged(self) -> bool:
        """Whether reading the file needed any repair (see ``warnings``)."""
        return bool(self.warnings)


@dataclass(frozen=True)
class Frame:
    """One decoded picture with its true presentation time."""

    index: int  # index of the frame in presentation order of the whole video
    timestamp: float  # seconds, pts * time_base - start of the video stream
    image: np.ndarray  # (H, W, 3) uint8 RGB, display geometry (sample aspect, rotation, mirroring) applied


@dataclass(frozen=True)
class AudioSource:
    """The audio of ``path`` between ``start`` and ``end`` seconds (video timeline), for an encode."""

    path: Path
    start: float = 0.0
    end: float | None = None


@dataclass(frozen=True)
class AudioFormat:
    """How a writer encodes its AAC track; ``None`` fields keep the source's own value.

    ``rate``: resample to this sample rate (Hz). ``channels``: at most this many channels (more are
    downmixed by libswresample, e.g. 5.1 to stereo). ``bit_rate``: the AAC bitrate in bit/s (default
    64 kbit/s per channel). ``silence``: when the source has no audio, write a silent track as long as
    the video (stereo unless ``channels`` is 1) instead of none.
    """

    rate: int | None = None
    channels: int | None = None
    bit_rate: int | None = None
    silence: bool = False
