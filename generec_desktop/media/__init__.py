"""The media layer: probe, sample, decode, cut, encode and transform videos (PyAV + OpenCV).

Public API (contract in docs/ARCHITECTURE.md). Frames are (H, W, 3) uint8 RGB arrays with the
display rotation applied; timestamps are seconds from the first video frame.

- ``probe(path) -> MediaInfo``; ``read_cover(path) -> ndarray | None``
- ``sample_frames(path, *, rate=None, timestamps=None, max_side=None, progress, cancel) -> list[Frame]``
- ``iter_frames(path, *, start=0.0, end=None, max_side=None)``; ``decode_range(path, start, end)``
- ``frame_times(path) -> ndarray``: every frame's presentation time (demux only, cached)
- ``sample_reference_frames(path, rate, *, max_side=None, loop_filter=True, progress, cancel) -> list[Frame]``:
  about ``rate`` frames per second decoding only I/P frames (``loop_filter=False``: without the deblocking
  filter); ``iter_reference_frames(path, index, targets, ...)`` and the run splitting beside it in ``media.reference``
- ``cut(path, start, end, out_path, *, crf=18, preset="veryfast", progress, cancel) -> MediaInfo``
- ``encode_frames(frames, out_path, fps, *, audio_from=None, crf=23, preset, metadata, ...)``
- ``transform_video(src, dst, fn, *, start=0.0, end=None, crf=23, preset, metadata, ...)``
- ``VideoWriter(out_path, fps, *, audio_from, crf, preset, metadata, time_base, odd="exact")``
- ``read_audio(AudioSource) -> (samples (ch, n) float32, rate, layout) | None``
- ``rgb_to_yuv420p(rgb) -> (3H/2, W) planes`` (as ``VideoWriter.write`` converts); ``AudioFormat`` (writer's AAC)
- ``MediaError``, ``MediaInfo``, ``Frame``, ``AudioSource``

Damaged files are read by one tolerance policy (``media.tolerance``) and what it repaired is in
``MediaInfo.warnings``; only a file with no decodable video frame raises :class:`MediaError`.

PyAV and OpenCV are imported on first use of a function (PEP 562 lazy attributes), so importing
this package stays cheap for ``generec --version`` and the window's start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from generec_desktop.media.types import AudioFormat, AudioSource, Frame, MediaError, MediaInfo

if TYPE_CHECKING:
    from generec_desktop.media.decode import decode_range, frame_times, head_lumas, iter_frames, sample_frames
    from generec_desktop.media.encode import (
        VideoWriter,
        cut,
        encode_frames,
        read_audio,
        rgb_to_yuv420p,
        transform_video,
    )
    from generec_desktop.media.probing import probe, read_cover
    from generec_desktop.media.reference import iter_reference_frames, sample_reference_frames

__all__ = [
    "AudioFormat",
    "AudioSource",
    "Frame",
    "MediaError",
    "MediaInfo",
    "VideoWriter",
    "cut",
    "decode_range",
    "encode_frames",
    "frame_times",
    "head_lumas",
    "iter_frames",
    "iter_reference_frames",
    "probe",
    "read_audio",
    "read_cover",
    "rgb_to_yuv420p",
    "sample_frames",
    "sample_reference_frames",
    "transform_video",
]

_LAZY = {
    "probe": "probing", "read_cover": "probing",
    "sample_frames": "decode", "iter_frames": "decode", "decode_range": "decode",
    "VideoWriter": "encode", "cut": "encode", "encode_frames": "encode", "read_audio": "encode",
    "transform_video": "encode", "rgb_to_yuv420p": "encode",
    "frame_times": "decode", "head_lumas": "decode",
    "sample_reference_frames": "reference", "iter_reference_frames": "reference",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
