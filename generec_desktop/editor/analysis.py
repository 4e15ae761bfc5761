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
import threading
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

#: 2: samples are scaled in their stored pixel format before conversion to RGB, HSV copies halved first
#: 3: samples in display geometry (a non-square sample aspect ratio resampled, a mirroring matrix applied)
#: 4: gates judged relative to the video, cross-fade samples gated as "dissolve" (issue 22)
#: 5: dark frames with detail (a star field) are not "black" / "under-exposed"
ANALYSIS_VERSION = 5
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
    """``np.savez`` through a journaled temporary file in the same folder, then rename (never a half-written
    entry, and a crash leaves nothing the workspace's recovery does not know is ours)."""
    from generec_desktop.safefiles import atomic_writer

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_writer(path) as fh:
        np.savez(fh, **arrays)


def _save(path: Path, a: VideoAnalysis) -> None:
    _write_npz(path, encoder_id=np.array(a.encoder_id), rate=np.array(a.rate), video_end=np.array(a.video_end),
               failed=np.array(a.failed, dtype=str), **{k: getattr(a, k) for k in _ARRAYS})


def _pictures_path(analysis_path: Path) -> Path:
    return analysis_path.with_name(analysis_path.stem + "-pictures.npz")


def save_pictures(analysis_path: Path, images: list[np.ndarray], quality: int = 90) -> None:
    """The samples as JPEGs (one file: concatenated bytes + offsets), so a later run shows chosen
    frames without decoding the video again (~30 kB per 448-px frame)."""
    _write_pictures(analysis_path, [_jpeg(im, quality) for im in images])


def _write_pictures(analysis_path: Path, blobs: list[np.ndarray]) -> None:
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


def _reference_stream(path: Path, index: Any, targets: np.ndarray, cancel: CancelToken | None = None, *,
                      start: int = 0, stop: int | None = None,
                      single_thread: bool = False) -> Iterator[tuple[int, float, Any]]:
    """``(position, timestamp, av frame)`` of the reference frame nearest each of ``targets`` (seconds), in order.

    ``start`` (a keyframe position) and ``stop`` decode only frames ``start..stop`` (``stop`` included, so a
    target just before it can still pick it); ``single_thread`` when other decoders share the cores.
    """
    import av.error

    from generec_desktop import media
    from generec_desktop.media._index import _why, open_input, video_stream
    from generec_desktop.media.tolerance import DamageLog, decode_tolerant, demux_tolerant

    times = index.times
    last = -1
    n_decoded = 0
    log = DamageLog()  # the media layer's tolerance: damaged packets skipped, timestamps repaired
    clock = index.clock(after=start - 1)
    with open_input(path) as container:
        stream = video_stream(container, path)
        if index.seekable:  # frames are placed by timestamp, so skipped B-frames leave no gap
            stream.codec_context.skip_frame = "BIDIR"
        prev: tuple[int, Any] | None = None
        ti = 0
        try:
            if start > 0:
                container.seek(int(index.pts[start]), stream=stream, backward=True, any_frame=False)
        except av.error.FFmpegError as exc:
            raise media.MediaError(f"{path.name} is damaged or truncated ({_why(exc)}); re-export it.") from exc
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
    got = [media.Frame(pos, t, to_rgb(frame, max_side, sar=index.sar)) for pos, t, frame in stream]
    if _too_sparse(len(got), len(targets), len(index.times)):
        return media.sample_frames(p, rate=rate, max_side=max_side, progress=progress, cancel=cancel)
    report(progress, 1.0, f"Sampled {len(got)} frames")
    return got


#: a run of GOPs shorter than this (frames) is not worth its own decoder (a seek and a keyframe decoded twice)
MIN_RUN_FRAMES = 60


def _parts(index: Any, workers: int, min_frames: int | None = None) -> list[tuple[int, int | None]]:
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


def _workers() -> int:
    """Decoders to run side by side: one per core this process may use (each decodes a run of GOPs
    single-threaded), at most 8."""
    try:
        cores = len(os.sched_getaffinity(0))  # respects taskset/cpusets, unlike os.cpu_count()
    except (AttributeError, OSError):  # not on every platform
        cores = os.cpu_count() or 1
    return max(1, min(8, cores))


_CV_LOCK = threading.Lock()
_CV_USERS = [0, 0]  # analyses running, OpenCV's thread count before the first of them


@contextlib.contextmanager
def _opencv_single_thread() -> Iterator[None]:
    """OpenCV on one thread per call while our own threads keep the cores busy: its thread pool only adds
    overhead on frames this small (measured 0.42 vs 0.21 CPU-ms to grey and resize a 448-px frame).
    Counted, so that overlapping analyses restore OpenCV's setting only when the last one ends."""
    import cv2

    with _CV_LOCK:
        if _CV_USERS[0] == 0:
            _CV_USERS[1] = cv2.getNumThreads()
            cv2.setNumThreads(1)
        _CV_USERS[0] += 1
    try:
        yield
    finally:
        with _CV_LOCK:
            _CV_USERS[0] -= 1
            if _CV_USERS[0] == 0:
                cv2.setNumThreads(_CV_USERS[1])


def _jpeg(image: np.ndarray, quality: int = 90) -> np.ndarray:
    import cv2

    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return buf.ravel() if ok else np.zeros(0, np.uint8)


def _streamed_analysis(path: Path, encoder: Any, rate: float, gates: QualityGates | None, batch_size: int,
                       progress: Progress | None, cancel: CancelToken | None,
                       jpegs: bool = False) -> tuple[Any, ...] | None:
    """Decode runs of GOPs in parallel threads that also convert, gate and JPEG-encode each sample, while
    this thread encodes the samples in batches as they arrive.

    Why: decoding only reference frames is a serial chain within a GOP, so one decoder keeps about one
    core busy; independent GOP runs decode side by side, and PyAV (decode, swscale) and OpenCV release
    the GIL. The per-sample work sits beside its decoder so that every core does both. Returns
    ``(images, times, embeddings, quality, content values, jpeg blobs or None)``, or None when reference
    frames are too sparse.
    """
    import queue

    from generec_desktop.editor.quality import detect_faces, frame_measures, judge
    from generec_desktop.editor.shots import content_value, detect_hsv, dissolve_samples
    from generec_desktop.media.decode import to_rgb
    from generec_desktop.media.prefetch import prefetched, put_until_stopped

    gates = gates or QualityGates()
    index, targets = _targets(path, rate)
    times_all = index.times
    cores = _workers()
    parts = _parts(index, cores)
    results: queue.Queue[Any] = queue.Queue(maxsize=4 * batch_size)
    stop = threading.Event()
    done = object()

    def offer(item: Any) -> bool:
        return put_until_stopped(results, item, stop)

    def work(lo: int, hi: int | None) -> None:
        try:
            mine = targets[(targets >= times_all[lo]) & (targets < (times_all[hi] if hi is not None else np.inf))]
            frames = _reference_stream(path, index, mine, cancel, start=lo, stop=hi, single_thread=len(parts) > 1)
            if len(parts) == 1 and cores > 1:
                # one GOP run (e.g. a single keyframe): decode on a thread of its own, a few frames ahead
                frames = prefetched(frames, 8)
            with contextlib.closing(frames):
                for position, t, frame in frames:
                    if stop.is_set():
                        return
                    image = to_rgb(frame, SAMPLE_MAX_SIDE, threads=1, sar=index.sar)
                    item = (position, t, image, frame_measures(image, gates.dark_level, gates.bright_level),
                            len(detect_faces(image)) if gates.require_face else 0, detect_hsv(image),
                            _jpeg(image) if jpegs else None)
                    if not offer(item):
                        return
            offer(done)
        except BaseException as exc:  # handed to the analysing thread, which re-raises it
            offer(exc)

    threads = [threading.Thread(target=work, args=part, name="generec-decode", daemon=True) for part in parts]
    got: dict[int, tuple[Any, ...]] = {}
    embs: dict[int, np.ndarray] = {}
    batch: list[tuple[Any, ...]] = []

    def flush() -> None:
        if batch:
            for item, e in zip(batch, encoder.encode_images([it[2] for it in batch], batch_size=batch_size)):
                embs[item[0]] = e
            batch.clear()

    try:
        with _opencv_single_thread():
            for th in threads:
                th.start()
            running = len(threads)
            while running:
                item = results.get()
                if item is done:
                    running -= 1
                    continue
                if isinstance(item, BaseException):
                    raise item
                if item[0] in got:  # both runs next to a boundary picked its keyframe
                    continue
                got[item[0]] = item
                batch.append(item)
                # a full batch, or a smaller one when nothing else is waiting: less is left for the end
                if len(batch) >= batch_size or (len(batch) >= min(8, batch_size) and results.empty()):
                    check_cancel(cancel)
                    flush()
                    report(progress, min(1.0, len(got) / max(len(targets), 1)), f"Analysed {len(got)} frames")
            flush()
    finally:
        stop.set()
        for th in threads:
            th.join()
    if _too_sparse(len(got), len(targets), len(index.times)):
        return None
    order = sorted(got)
    items = [got[p] for p in order]
    quality = judge([it[3] for it in items], gates, [it[4] for it in items] if gates.require_face else None)
    values = [content_value(a[5], b[5]) for a, b in itertools.pairwise(items)]
    emb = np.stack([embs[p] for p in order]) if order else np.zeros((0, int(encoder.dim)), np.float32)
    failed = _with_dissolves(quality.failed, dissolve_samples([it[5] for it in items]))
    return ([it[2] for it in items], np.array([it[1] for it in items], np.float64), emb.astype(np.float32),
            failed, np.array(values, np.float64), [it[6] for it in items] if jpegs else None)


def _with_dissolves(failed: tuple[str, ...], dissolve: np.ndarray) -> tuple[str, ...]:
    """Samples inside a cross-fade (double exposures) fail the "dissolve" gate, unless another gate failed."""
    return tuple("dissolve" if (d and not f) else f for f, d in zip(failed, dissolve))


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
    streamed = _streamed_analysis(Path(path), encoder, rate, gates, batch_size, steps["decode"], cancel,
                                  jpegs=target is not None and keep_images) if fast else None
    blobs = None
    if streamed is not None:
        images, times, emb, failed, values, blobs = streamed
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
        from generec_desktop.editor.shots import detect_hsv, dissolve_samples

        failed = _with_dissolves(measure_quality(images, gates).failed,
                                 dissolve_samples([detect_hsv(im) for im in images]))
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
    with contextlib.suppress(Exception):  # probe's duration, without its decode of the first frame
        from generec_desktop.media._index import scan

        info_end = float(scan(path).end_time) + float(ft[0])
    report(steps["shots"], 1.0, f"{cuts.after.size} shot cuts")
    result = VideoAnalysis(
        sample_times=times, embeddings=emb, encoder_id=encoder.id, rate=float(rate), failed=failed,
        cut_after=cuts.after.astype(np.int64), cut_times=np.asarray(cuts.times, np.float64),
        cut_ends=np.asarray(ends, np.float64), frame_times=ft, video_end=info_end,
        images=images if keep_images else None, cache_path=target,
    )
    if target is not None:
        if keep_images:
            if blobs is not None:  # encoded by the decoder threads
                _write_pictures(target, blobs)
            else:
                save_pictures(target, images)
        _save(target, result)
    return result
