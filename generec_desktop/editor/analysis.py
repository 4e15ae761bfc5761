"""One pass over a video that every personalisation needs: samples, embeddings, quality, shot cuts.

:func:`analyze_video` decodes the video once (regular samples at ``rate`` per second, longest side
:data:`SAMPLE_MAX_SIDE`), encodes the samples once, measures their quality and finds the shot cuts
among them (refined to the exact frame). The result, minus the pictures, is cached per
(media sha256, encoder id, rate) under ``W/cache/editor/``, so personalising the same video for
more audiences later, or evaluating it, decodes nothing.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from generec_desktop.editor.errors import EditorError
from generec_desktop.editor.quality import QualityGates, measure_quality
from generec_desktop.editor.shots import ShotCuts, detect_cuts, refine_cuts
from generec_desktop.jobs import CancelToken, Progress, Steps, check_cancel, report

__all__ = ["ANALYSIS_VERSION", "DEFAULT_RATE", "SAMPLE_MAX_SIDE", "VideoAnalysis", "analyze_video"]

ANALYSIS_VERSION = 1
#: samples per second of video time (a 60 s video: 240 candidate frames)
DEFAULT_RATE = 4.0
SAMPLE_MAX_SIDE = 448


@dataclass
class VideoAnalysis:
    """What one decode + encode pass learned. ``images`` is None when it came from the cache."""

    sample_times: np.ndarray  # (N,) seconds, true frame timestamps
    embeddings: np.ndarray  # (N, d) float32 unit rows
    encoder_id: str
    rate: float
    failed: tuple[str, ...]  # quality gate each sample failed ("" = passed)
    cut_after: np.ndarray  # sample indices starting a new shot
    cut_times: np.ndarray  # where each new shot surely starts (exact when refined, else its first sample)
    cut_ends: np.ndarray  # where the previous shot surely ends (exclusive; exact when refined)
    frame_times: np.ndarray  # every frame's time (for frame-exact clip ends)
    video_end: float  # end of the last frame (seconds)
    images: list[np.ndarray] | None = None
    from_cache: bool = False
    cache_path: Path | None = None  # where it is cached (its pictures beside it), if it is

    def pictures(self, indices: list[int]) -> dict[int, np.ndarray] | None:
        """Sample pictures by index: from memory, else from the cache's JPEGs, else None."""
        if self.images is not None:
            return {i: self.images[i] for i in indices}
        return load_pictures(self.cache_path, indices) if self.cache_path is not None else None

    @property
    def passed(self) -> np.ndarray:
        return np.array([f == "" for f in self.failed], bool)


def _cache_path(cache_dir: Path, sha256: str, encoder_id: str, rate: float, mode: str) -> Path:
    import re

    safe = re.sub(r"[^A-Za-z0-9._-]", "_", encoder_id)
    return Path(cache_dir) / "editor" / sha256 / safe / f"analysis-v{ANALYSIS_VERSION}-rate{rate:g}-{mode}.npz"


_ARRAYS = ("sample_times", "embeddings", "cut_after", "cut_times", "cut_ends", "frame_times")


def _load(path: Path, encoder_id: str) -> VideoAnalysis | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["encoder_id"]) != encoder_id:
                return None
            return VideoAnalysis(encoder_id=encoder_id, rate=float(z["rate"]), video_end=float(z["video_end"]),
                                 failed=tuple(str(s) for s in z["failed"]), from_cache=True,
                                 **{k: z[k] for k in _ARRAYS})
    except (OSError, KeyError, ValueError, EOFError):
        return None  # a damaged entry is recomputed, never trusted


def _write_npz(path: Path, **arrays: Any) -> None:
    """``np.savez`` to a temporary file in the same folder, then rename (never a half-written entry)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _save(path: Path, a: VideoAnalysis) -> None:
    _write_npz(path, encoder_id=np.array(a.encoder_id), rate=np.array(a.rate), video_end=np.array(a.video_end),
               failed=np.array(a.failed, dtype=str), **{k: getattr(a, k) for k in _ARRAYS})


def _pictures_path(analysis_path: Path) -> Path:
    return analysis_path.with_name(analysis_path.stem + "-pictures.npz")


def save_pictures(analysis_path: Path, images: list[np.ndarray], quality: int = 90) -> None:
    """The samples as JPEGs (one file: concatenated bytes + offsets), so a later run shows chosen
    frames without decoding the video again (~30 kB per 448-px frame)."""
    import cv2

    blobs = []
    for im in images:
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(im, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
        blobs.append(buf.ravel() if ok else np.zeros(0, np.uint8))
    offsets = np.cumsum([0] + [b.size for b in blobs]).astype(np.int64)
    _write_npz(_pictures_path(analysis_path), data=np.concatenate(blobs) if blobs else np.zeros(0, np.uint8),
               offsets=offsets)


def load_pictures(analysis_path: Path, indices: list[int]) -> dict[int, np.ndarray] | None:
    """Sample pictures by index from :func:`save_pictures`' file (None when missing or damaged)."""
    import cv2

    try:
        with np.load(_pictures_path(analysis_path), allow_pickle=False) as z:
            data, off = z["data"], z["offsets"]
            out = {}
            for i in indices:
                im = cv2.imdecode(data[off[i]:off[i + 1]], cv2.IMREAD_COLOR)
                if im is None:
                    return None
                out[i] = cv2.cvtColor(im, cv2.COLOR_BGR2RGB)
            return out
    except (OSError, KeyError, ValueError, EOFError, IndexError):
        return None


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


def _reference_stream(path: Path, index: Any, targets: np.ndarray,
                      cancel: CancelToken | None = None) -> Iterator[tuple[int, float, Any]]:
    """``(position, timestamp, av frame)`` of the reference frame nearest each of ``targets`` (seconds), in order."""
    import av.error

    from generec_desktop import media
    from generec_desktop.media._index import _why, open_input, video_stream

    times = index.times
    last = -1
    n_decoded = 0
    with open_input(path) as container:
        stream = video_stream(container, path)
        stream.codec_context.skip_frame = "BIDIR"
        prev: tuple[int, Any] | None = None
        ti = 0
        try:
            packets = container.demux(stream)
            first = next(packets, None)
            # a serial chain of reference frames gains nothing from frame threads (measured 0.82 s, 1.05 cores
            # busy, at 1080p30) but halves with slice threads when frames have several slices (0.43 s); the
            # threading must be chosen before the first decode
            slices = _slices_per_frame(stream, first) if first is not None else 1
            stream.thread_type = "SLICE" if slices > 1 else "AUTO"
            for packet in itertools.chain([first] if first is not None else [], packets):
                for frame in packet.decode():
                    if frame.pts is None:
                        continue
                    position = int(np.searchsorted(index.pts, frame.pts))
                    t = float(times[min(position, len(times) - 1)])
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
        except av.error.FFmpegError as exc:
            raise media.MediaError(f"{path.name} is damaged or truncated ({_why(exc)}); re-export it.") from exc
        if prev is not None and ti < len(targets) and prev[0] > last:
            yield prev[0], float(times[prev[0]]), prev[1]


def _targets(path: Path, rate: float) -> tuple[Any, np.ndarray]:
    """The video's index (cached demux) and the sample times k/rate."""
    from generec_desktop.media._index import scan

    index = scan(path)
    return index, np.arange(0.0, index.end_time - 1e-6, 1.0 / rate)


def _too_sparse(kept: int, n_targets: int, n_frames: int) -> bool:
    """Reference frames too sparse for the rate (or a codec that ignores skip_frame oddly)."""
    return kept < max(2, 0.5 * n_targets) and n_frames > kept


def sample_reference_frames(path: str | os.PathLike[str], rate: float, *, max_side: int | None = SAMPLE_MAX_SIDE,
                            progress: Progress | None = None, cancel: CancelToken | None = None) -> list[Any]:
    """About ``rate`` frames per second, decoding only the reference (I and P) frames.

    Thumbnail candidates and Eq. 2 windows do not need frames at exact k/rate times, only true
    timestamps. With ``skip_frame="BIDIR"`` the decoder skips B-frames (measured on x264 1080p30:
    29 % of frames decoded in 46 % of the decode-all time) and for each target time k/rate we keep
    the nearest decoded frame. x264 puts an I-frame on scene cuts, so first frames of shots are
    among them. Falls back to :func:`media.sample_frames` (exact times) when reference frames are
    too sparse. This belongs in the media layer (proposed ``sample_frames(..., nearest_reference=True)``);
    it uses media's own opening, indexing and RGB conversion so errors and rotation match.
    """
    from generec_desktop import media
    from generec_desktop.media.decode import to_rgb

    p = Path(path)
    index, targets = _targets(p, rate)
    stream = _reference_stream(p, index, targets, cancel)
    got = [media.Frame(pos, t, to_rgb(frame, max_side)) for pos, t, frame in stream]
    if _too_sparse(len(got), len(targets), len(index.times)):
        return media.sample_frames(p, rate=rate, max_side=max_side, progress=progress, cancel=cancel)
    report(progress, 1.0, f"Sampled {len(got)} frames")
    return got


_END = object()


def _streamed_analysis(path: Path, encoder: Any, rate: float, gates: QualityGates | None, batch_size: int,
                       progress: Progress | None, cancel: CancelToken | None) -> tuple[Any, ...] | None:
    """Decode in one thread while this one converts, encodes, gates and compares the frames already decoded.

    Why: decoding only reference frames is a serial chain that keeps one core busy (measured: 0.86 s of
    CPU in 0.82 s at 1080p30), so the rest of the analysis runs on the other core at the same time;
    PyAV releases the GIL while it decodes and scales, OpenCV while it computes. Returns
    ``(images, times, embeddings, quality, content values)``, or None when reference frames are too sparse.
    """
    from generec_desktop.editor.quality import FrameQuality
    from generec_desktop.editor.shots import content_value, detect_hsv
    from generec_desktop.media.decode import to_rgb
    from generec_desktop.media.prefetch import prefetched

    images: list[np.ndarray] = []
    times: list[float] = []
    embs: list[np.ndarray] = []
    quals: list[FrameQuality] = []
    values: list[float] = []
    prev_hsv: np.ndarray | None = None
    batch: list[np.ndarray] = []
    index, targets = _targets(path, rate)

    def flush() -> None:
        nonlocal prev_hsv
        if not batch:
            return
        embs.append(encoder.encode_images(batch, batch_size=batch_size))
        quals.append(measure_quality(batch, gates))
        for im in batch:
            hsv = detect_hsv(im)
            if prev_hsv is not None:
                values.append(content_value(prev_hsv, hsv))
            prev_hsv = hsv
        batch.clear()

    with contextlib.closing(prefetched(_reference_stream(path, index, targets, cancel), 2 * batch_size)) as stream:
        for _position, t, frame in stream:
            image = to_rgb(frame, SAMPLE_MAX_SIDE, threads=1)  # the decoder thread has the other core
            images.append(image)
            times.append(t)
            batch.append(image)
            if len(batch) >= batch_size:
                check_cancel(cancel)
                flush()
                report(progress, min(1.0, len(images) / max(len(targets), 1)), f"Analysed {len(images)} frames")
        flush()
    if _too_sparse(len(images), len(targets), len(index.times)):
        return None
    emb = np.concatenate(embs) if embs else np.zeros((0, int(encoder.dim)), np.float32)
    return images, np.array(times, np.float64), emb, FrameQuality.concat(quals), np.array(values, np.float64)


def analyze_video(
    path: str | os.PathLike[str],
    encoder,
    *,
    sha256: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    rate: float = DEFAULT_RATE,
    gates: QualityGates | None = None,
    refine: bool = False,
    fast: bool = True,
    keep_images: bool = True,
    batch_size: int = 32,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> VideoAnalysis:
    """Sample, encode, gate and cut-detect ``path`` (cached when ``sha256`` and ``cache_dir`` are given).

    On a cache hit nothing is decoded and ``images`` is None; otherwise ``images`` holds the samples
    when ``keep_images``.
    """
    from generec_desktop import media

    if not rate > 0:
        raise EditorError(f"The sampling rate must be positive, got {rate}.")
    mode = ("ref" if fast else "exact") + ("-refined" if refine else "")
    target = _cache_path(Path(cache_dir), sha256, encoder.id, rate, mode) if (sha256 and cache_dir) else None
    if target is not None and target.is_file():
        hit = _load(target, encoder.id)
        if hit is not None:
            hit.cache_path = target
            report(progress, 1.0, "Analysis loaded from the cache")
            return hit
    steps = Steps(progress, {"decode": 4.5, "shots": 0.5})
    streamed = _streamed_analysis(Path(path), encoder, rate, gates, batch_size, steps["decode"], cancel) \
        if fast else None
    if streamed is not None:
        images, times, emb, quality, values = streamed
        if not images:
            raise EditorError(f"{Path(path).name} has no frames to personalise.")
        cuts: ShotCuts = detect_cuts(None, times, values=values)
    else:
        frames = media.sample_frames(path, rate=rate, max_side=SAMPLE_MAX_SIDE, progress=steps["decode"],
                                     cancel=cancel)
        if not frames:
            raise EditorError(f"{Path(path).name} has no frames to personalise.")
        images = [f.image for f in frames]
        times = np.array([f.timestamp for f in frames], np.float64)
        emb = np.empty((len(images), int(encoder.dim)), np.float32)
        for start in range(0, len(images), batch_size):
            check_cancel(cancel)
            chunk = images[start:start + batch_size]
            emb[start:start + len(chunk)] = encoder.encode_images(chunk, batch_size=batch_size)
        quality = measure_quality(images, gates)
        cuts = detect_cuts(images, times)
    if refine and cuts.after.size:
        cuts = refine_cuts(path, cuts, times, cancel=cancel)
    ft = media.frame_times(path)
    if cuts.refined:
        ends = np.asarray(cuts.times, np.float64)
    else:  # the frame right after the old shot's last sample: never a frame of the new shot
        last = times[np.maximum(cuts.after - 1, 0)]
        nxt = np.searchsorted(ft, last + 1e-6)
        ends = np.where(nxt < len(ft), ft[np.minimum(nxt, len(ft) - 1)], last)
    info_end = float(ft[-1] + (ft[-1] - ft[-2] if len(ft) > 1 else 1.0 / rate))
    with contextlib.suppress(Exception):
        info_end = float(media.probe(path).duration) + float(ft[0])
    report(steps["shots"], 1.0, f"{cuts.after.size} shot cuts")
    result = VideoAnalysis(
        sample_times=times, embeddings=emb, encoder_id=encoder.id, rate=float(rate), failed=quality.failed,
        cut_after=cuts.after.astype(np.int64), cut_times=np.asarray(cuts.times, np.float64),
        cut_ends=np.asarray(ends, np.float64), frame_times=ft, video_end=info_end,
        images=images if keep_images else None, cache_path=target,
    )
    if target is not None:
        if keep_images:
            save_pictures(target, images)
        _save(target, result)
    return result
