"""Reference frames: about ``rate`` frames per second of a video decoding only its I and P frames.

Personalisation needs samples with true timestamps, not frames at exact k/rate times; decoding only the
reference frames (``skip_frame="BIDIR"``) and keeping the one nearest each target time does that in
about half the decode time (x264 1080p30: 29 % of the frames decoded in 46 % of the decode-all time),
and x264 puts an I-frame on scene cuts, so the first frames of shots are among them. The pieces are
public so that a caller can decode runs of GOPs side by side (:func:`split_at_keyframes`,
:func:`decoder_workers`), as ``editor.personalize.analysis`` does:

- ``sample_targets(path, rate) -> (index, times)``: the cached demux index and the target times k/rate
- ``iter_reference_frames(path, index, targets, cancel, *, start=0, stop=None, single_thread=False,``
  ``loop_filter=True) -> (position, timestamp, av.VideoFrame)`` of the reference frame nearest each target, in
  order (``loop_filter=False``: without the codec's deblocking filter, for small samples)
- ``sample_reference_frames(path, rate, *, max_side, loop_filter, progress, cancel) -> list[Frame]`` (falls back to
  :func:`media.sample_frames` when reference frames are too sparse: :func:`too_sparse`)

Damage is handled by the media layer's one tolerance policy (``media.tolerance``).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from generec_desktop.jobs import CancelToken, Progress, check_cancel, report
from generec_desktop.media._index import VideoIndex, scan
from generec_desktop.media.types import Frame, MediaError

__all__ = [
    "MIN_RUN_FRAMES",
    "VideoIndex",
    "decoder_workers",
    "iter_reference_frames",
    "sample_reference_frames",
    "sample_targets",
    "scan",
    "split_at_keyframes",
    "too_sparse",
]


def _slices_per_frame(stream: Any, packet: Any) -> int:
    """VCL NAL units (slices) in ``packet`` of an MP4/MOV H.264 ``stream``; 1 when it cannot tell.

    Hand-parsed (length-prefixed NAL units, RFC 6184 "AVC" format) because PyAV exposes no slice count
    and FFmpeg's frame threading cannot overlap a chain of P-frames, while slice threading can when the
    encoder wrote several slices per frame (x264 with sliced threads, as PyAV's writer does by default).
    """
    extradata = bytes(stream.codec_context.extradata or b"")
    if stream.codec_context.name != "h264" or len(extradata) < 5 or extradata[0] != 1:
        return 1
    size = (extradata[4] & 3) + 1
    data, i, slices = bytes(packet), 0, 0
    while i + size <= len(data):
        n = int.from_bytes(data[i:i + size], "big")
        if i + size < len(data) and data[i + size] & 0x1F in (1, 5):
            slices += 1
        i += size + n
    return max(1, slices)


def iter_reference_frames(path: Path, index: VideoIndex, targets: np.ndarray, cancel: CancelToken | None = None,
                          *, start: int = 0, stop: int | None = None, single_thread: bool = False,
                          loop_filter: bool = True) -> Iterator[tuple[int, float, Any]]:
    """``(position, timestamp, av frame)`` of the reference frame nearest each of ``targets`` (seconds), in order.

    ``start`` (a keyframe position) and ``stop`` decode only frames ``start..stop`` (``stop`` included, so a
    target just before it can still pick it); ``single_thread`` when other decoders share the cores.
    ``loop_filter=False`` skips the codec's in-loop deblocking filter (FFmpeg's ``skip_loop_filter``; H.264
    and HEVC honour it): a quarter less decoding (x264 1080p30, I and P frames: 1.37-1.53 s -> 1.06-1.09 s)
    for pictures that differ by 0.2-0.9 grey levels on average once shrunk to 448 px (x264 CRF 18-33; 1.9 at
    CRF 38, 190 kbit/s), less than a JPEG quality-90 copy of them differs (1.8-2.1). For samples that are
    judged and shown small, never for a picture that is stored or exported.
    """
    import av.error

    from generec_desktop.media._index import _why, open_input, video_stream
    from generec_desktop.media.tolerance import DamageLog, decode_tolerant, demux_tolerant

    times = index.times
    last = -1
    n_decoded = 0
    log = DamageLog()  # the media layer's tolerance: damaged packets skipped, timestamps repaired
    clock = index.clock(after=start - 1)
    with open_input(path) as container:
        stream = video_stream(container, path)
        if not loop_filter:  # before the first decode opens the codec
            stream.codec_context.options = {**dict(stream.codec_context.options or {}), "skip_loop_filter": "all"}
        if index.seekable:  # frames are placed by timestamp, so skipped B-frames leave no gap
            stream.codec_context.skip_frame = "BIDIR"
        prev: tuple[int, Any] | None = None
        ti = 0
        try:
            if start > 0:
                container.seek(int(index.pts[start]), stream=stream, backward=True, any_frame=False)
        except av.error.FFmpegError as exc:
            raise MediaError(f"{path.name} is damaged or truncated ({_why(exc)}); re-export it.") from exc
        packets = demux_tolerant(container, [stream], log)
        first = next(packets, None)
        if single_thread:
            stream.thread_count = 1
        else:
            # a serial chain of reference frames gains nothing from frame threads (measured 0.82 s, 1.05
            # cores busy, at 1080p30) but halves with slice threads when frames have several slices
            # (0.43 s); the threading must be chosen before the first decode
            slices = _slices_per_frame(stream, first) if first is not None else 1
            stream.thread_type = "SLICE" if slices > 1 else "AUTO"
        chained = itertools.chain([first] if first is not None else [], packets)
        for frame in decode_tolerant(container, stream, log, index.timer(log), chained):
            position = clock.position(frame)
            if position is None or position < start:
                continue
            t = float(times[position])
            n_decoded += 1
            # every target passed by this frame goes to the nearer of the previous frame and this one
            while ti < len(targets) and targets[ti] <= t + 1e-6:
                pick = (prev if prev is not None and abs(targets[ti] - times[prev[0]]) < abs(t - targets[ti])
                        else (position, frame))
                if pick[0] > last:
                    last = pick[0]
                    yield pick[0], float(times[pick[0]]), pick[1]
                ti += 1
            prev = (position, frame)
            if n_decoded % 32 == 0:
                check_cancel(cancel)
            if stop is not None and position >= stop:
                return
        if prev is not None and ti < len(targets) and prev[0] > last:
            yield prev[0], float(times[prev[0]]), prev[1]



def sample_targets(path: Path, rate: float) -> tuple[VideoIndex, np.ndarray]:
    """The video's index (cached demux) and the sample times k/rate."""
    index = scan(path)
    return index, np.arange(0.0, index.end_time - 1e-6, 1.0 / rate)



def too_sparse(kept: int, n_targets: int, n_frames: int) -> bool:
    """Reference frames too sparse for the rate (or a codec that ignores skip_frame oddly)."""
    return kept < max(2, 0.5 * n_targets) and n_frames > kept



def sample_reference_frames(path: str | os.PathLike[str], rate: float, *, max_side: int | None = None,
                            loop_filter: bool = True, progress: Progress | None = None,
                            cancel: CancelToken | None = None) -> list[Any]:
    """About ``rate`` frames per second, decoding only the reference (I and P) frames.

    Thumbnail candidates and Eq. 2 windows do not need frames at exact k/rate times, only true
    timestamps. With ``skip_frame="BIDIR"`` the decoder skips B-frames (measured on x264 1080p30:
    29 % of frames decoded in 46 % of the decode-all time) and for each target time k/rate we keep
    the nearest decoded frame. x264 puts an I-frame on scene cuts, so first frames of shots are
    among them. Falls back to :func:`media.sample_frames` (exact times) when reference frames are
    too sparse. ``max_side=None``: full size. ``loop_filter``: see :func:`iter_reference_frames`.
    """
    from generec_desktop.media.decode import sample_frames, to_rgb

    p = Path(path)
    index, targets = sample_targets(p, rate)
    stream = iter_reference_frames(p, index, targets, cancel, loop_filter=loop_filter)
    got = [Frame(pos, t, to_rgb(frame, max_side, sar=index.sar)) for pos, t, frame in stream]
    if too_sparse(len(got), len(targets), len(index.times)):
        return sample_frames(p, rate=rate, max_side=max_side, progress=progress, cancel=cancel)
    report(progress, 1.0, f"Sampled {len(got)} frames")
    return got



#: a run of GOPs shorter than this (frames) is not worth its own decoder (a seek and a keyframe decoded twice)
MIN_RUN_FRAMES = 60


def split_at_keyframes(index: VideoIndex, workers: int, min_frames: int | None = None) -> list[tuple[int, int | None]]:
    """Split the frames at keyframes into up to ``workers`` runs of about equal length, ``(start, stop)``
    positions (the last ``stop`` None); runs shorter than ``min_frames`` are not worth a decoder."""
    n = len(index.pts)
    min_frames = MIN_RUN_FRAMES if min_frames is None else min_frames
    keys = np.asarray(index.keyframe_positions, np.int64)
    starts = {0}
    if workers > 1 and len(keys) > 1:
        for k in range(1, workers):
            starts.add(int(keys[np.argmin(np.abs(keys - n * k / workers))]))
    cuts = sorted(starts)
    kept = [0]
    for c in cuts[1:]:
        if c - kept[-1] >= min_frames and n - c >= min_frames:
            kept.append(c)
    return [(lo, hi) for lo, hi in zip(kept, [*kept[1:], None])]


def decoder_workers() -> int:
    """Decoders to run side by side: one per core this process may use (each decodes a run of GOPs
    single-threaded), at most 8."""
    try:
        cores = len(os.sched_getaffinity(0))  # respects taskset/cpusets, unlike os.cpu_count()
    except (AttributeError, OSError):  # not on every platform
        cores = os.cpu_count() or 1
    return max(1, min(8, cores))
