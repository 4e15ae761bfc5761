"""One pass over a video that every personalisation needs: samples, embeddings, quality, shot cuts.

:func:`analyze_video` decodes the video once (regular samples at ``rate`` per second, longest side
:data:`SAMPLE_MAX_SIDE`), encodes the samples once (with a CLIP-sized encoder, a sample the built-in encoder
finds nearly the same as one just encoded takes that one's embedding: :func:`reuses_embedding`), measures
their quality and finds the shot cuts among them (refined to the exact frame). The result, minus the
pictures, is cached per (media sha256, encoder id, rate) under ``W/cache/editor/``, so personalising the
same video for more audiences later, or evaluating it, decodes nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from generec_desktop.editor.personalize.errors import EditorError
from generec_desktop.editor.personalize.quality import QualityGates, measure_quality
from generec_desktop.editor.personalize.shots import ShotCuts, detect_cuts, refine_cuts
from generec_desktop.jobs import CancelToken, Progress, Steps, check_cancel, report

__all__ = ["ANALYSIS_VERSION", "DEFAULT_RATE", "SAMPLE_MAX_SIDE", "VideoAnalysis", "analyze_video"]

#: 2: samples are scaled in their stored pixel format before conversion to RGB, HSV copies halved first
#: 3: samples in display geometry (a non-square sample aspect ratio resampled, a mirroring matrix applied)
#: 4: a chosen shot detector (:mod:`.shotdetect`), gradual transitions as spans (``cut_spans``)
#: 5: gates judged relative to the video, cross-fade samples gated as "dissolve" (issue 22)
#: 6: dark frames with detail (a star field) are not "black" / "under-exposed"
#: 7: samples decoded without the in-loop deblocking filter (``iter_reference_frames(loop_filter=False)``)
#:    and a costly encoder's near-repeated samples given the last encoded one's embedding (:func:`reuses_embedding`)
ANALYSIS_VERSION = 7
#: samples per second of video time (a 60 s video: 240 candidate frames)
DEFAULT_RATE = 4.0
#: runs of GOPs per decoder thread in the streamed analysis (balance: see ``_streamed_analysis``)
RUNS_PER_DECODER = 3
SAMPLE_MAX_SIDE = 448
#: an encoder with ``reuse_similar_frames`` (a CLIP-sized one) encodes a sample only when the built-in
#: encoder's embedding of it (~1 ms) is less similar than this to that of the last encoded sample of its
#: decoder run, or it lies more than :data:`REUSE_MAX_GAP` s after it; the others take that sample's embedding
REUSE_SIMILARITY = 0.97
REUSE_MAX_GAP = 2.0


def reuses_embedding(anchor_probe: np.ndarray, probe: np.ndarray, gap: float) -> bool:
    """Whether a sample (its built-in embedding ``probe``, ``gap`` s after the anchor) takes the embedding of
    the last encoded sample instead of its own: a costly encoder's work on near-repeats of a frame it has
    just seen buys nothing the selection can use."""
    return gap <= REUSE_MAX_GAP and float(anchor_probe @ probe) >= REUSE_SIMILARITY


@dataclass
class VideoAnalysis:
    """What one decode + encode pass learned. ``images`` is None when it came from the cache."""

    sample_times: np.ndarray  # (N,) seconds, true frame timestamps
    embeddings: np.ndarray  # (N, d) float32 unit rows
    encoder_id: str
    rate: float
    failed: tuple[str, ...]  # quality gate each sample failed ("" = passed)
    cut_after: np.ndarray  # sample indices starting a new shot
    cut_times: np.ndarray  # where each new shot surely starts (exact when refined, else its first sample;
    #                        the middle of a gradual transition, where clips snap)
    cut_ends: np.ndarray  # where the previous shot surely ends (exclusive; exact when refined)
    frame_times: np.ndarray  # every frame's time (for frame-exact clip ends)
    video_end: float  # end of the last frame (seconds)
    #: (K, 2) start and end time of each transition (equal for a hard cut), parallel to ``cut_times``
    cut_spans: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 2)))
    shot_detector: str = "hsv"  # the detector that found the cuts (:data:`.shotdetect.DETECTORS`)
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


_ARRAYS = ("sample_times", "embeddings", "cut_after", "cut_times", "cut_ends", "cut_spans", "frame_times")


def _load(path: Path, encoder_id: str) -> VideoAnalysis | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["encoder_id"]) != encoder_id:
                return None
            return VideoAnalysis(encoder_id=encoder_id, rate=float(z["rate"]), video_end=float(z["video_end"]),
                                 failed=tuple(str(s) for s in z["failed"]), from_cache=True,
                                 shot_detector=str(z["shot_detector"]),
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
               failed=np.array(a.failed, dtype=str), shot_detector=np.array(a.shot_detector),
               **{k: getattr(a, k) for k in _ARRAYS})


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

    from generec_desktop.editor.personalize.quality import detect_faces, frame_measures, judge
    from generec_desktop.editor.personalize.shots import content_value, detect_hsv, dissolve_samples
    from generec_desktop.media.decode import to_rgb
    from generec_desktop.media.prefetch import prefetched, put_until_stopped
    from generec_desktop.media.reference import (
        decoder_workers,
        iter_reference_frames,
        sample_targets,
        split_at_keyframes,
        too_sparse,
    )

    gates = gates or QualityGates()
    index, targets = sample_targets(path, rate)
    times_all = index.times
    cores = decoder_workers()
    # more runs than decoders, taken in turn from a queue: a run of GOPs that decodes faster than another
    # (less motion) leaves its core idle at the end otherwise (60 s 1080p, 8 GOPs on 2 cores: the two
    # decoders ended 0.09 s apart, all of it on the user's wait)
    parts = split_at_keyframes(index, cores * RUNS_PER_DECODER if cores > 1 else 1)
    todo: queue.SimpleQueue[tuple[int, int | None]] = queue.SimpleQueue()
    # longest runs first, so that the short ones even out the end (GOPs vary: x264 puts a keyframe at
    # each scene cut). In video order, 60 s 1080p split 225/450/225/225/450/225 frames left one decoder
    # idle for 0.10-0.23 s at the end; longest first, 0.02-0.19 s (analysis median 1.85 -> 1.73 s, 6 runs)
    n_frames = len(times_all)
    for part in sorted(parts, key=lambda p: -((n_frames if p[1] is None else p[1]) - p[0])):
        todo.put(part)
    results: queue.Queue[Any] = queue.Queue(maxsize=4 * batch_size)
    stop = threading.Event()
    done = object()

    def offer(item: Any) -> bool:
        return put_until_stopped(results, item, stop)

    def work() -> None:
        try:
            while True:
                try:
                    lo, hi = todo.get_nowait()
                except queue.Empty:
                    break
                if not run(lo, hi):
                    return
            offer(done)
        except BaseException as exc:  # handed to the analysing thread, which re-raises it
            offer(exc)

    def run(lo: int, hi: int | None) -> bool:
        mine = targets[(targets >= times_all[lo]) & (targets < (times_all[hi] if hi is not None else np.inf))]
        # without the deblocking filter: a quarter less decoding, for pictures that differ from the filtered
        # ones by less than their JPEG copy in the cache does (see iter_reference_frames); a thumbnail that is
        # used is decoded again at full resolution (versions.workflow.use_thumbnail)
        frames = iter_reference_frames(path, index, mine, cancel, start=lo, stop=hi, single_thread=len(parts) > 1,
                                       loop_filter=False)
        if len(parts) == 1 and cores > 1:
            # one GOP run (e.g. a single keyframe): decode on a thread of its own, a few frames ahead
            frames = prefetched(frames, 8)
        anchor: tuple[int, float, np.ndarray] | None = None  # the last sample of this run that is encoded
        with contextlib.closing(frames):
            for position, t, frame in frames:
                if stop.is_set():
                    return False
                image = to_rgb(frame, SAMPLE_MAX_SIDE, threads=1, sar=index.sar)
                hsv = detect_hsv(image)
                reuse = None
                if probe_encoder is not None:
                    probe = probe_encoder.encode_images([image])[0]
                    if anchor is not None and reuses_embedding(anchor[2], probe, t - anchor[1]):
                        reuse = anchor[0]
                    else:
                        anchor = (position, t, probe)
                item = (position, t, image, frame_measures(image, gates.dark_level, gates.bright_level),
                        len(detect_faces(image)) if gates.require_face else 0, hsv,
                        _jpeg(image) if jpegs else None, reuse)
                if not offer(item):
                    return False
        return True

    threads = [threading.Thread(target=work, name="generec-decode", daemon=True)
               for _ in range(min(cores, len(parts)))]
    got: dict[int, tuple[Any, ...]] = {}
    embs: dict[int, np.ndarray] = {}
    reused: dict[int, int] = {}  # sample position -> the position whose embedding it takes
    probe_encoder = None
    if getattr(encoder, "reuse_similar_frames", False):
        from generec_desktop.encoders import get_encoder

        probe_encoder = get_encoder("builtin")
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
                if item[7] is not None:
                    reused[item[0]] = item[7]
                    continue
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
    if too_sparse(len(got), len(targets), len(index.times)):
        return None
    for pos, source in reused.items():
        # the anchor was encoded, or (a keyframe both runs beside a boundary decoded) took its own anchor's
        # embedding; anchors lie earlier in the video, so this ends
        while source not in embs:
            source = reused[source]
        embs[pos] = embs[source]
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


@dataclass(frozen=True)
class _Cuts:
    after: np.ndarray
    times: np.ndarray
    spans: np.ndarray


def _detected_cuts(path: str | os.PathLike[str], detector: str, times: np.ndarray, progress: Progress | None,
                   cancel: CancelToken | None) -> _Cuts:
    """A frame-level detector's transitions placed among the samples: a new shot starts at a cut's first
    frame or a gradual transition's middle frame (where clips snap); its first sample is the first one at
    or after that time. Several transitions between two samples keep their times and share one sample."""
    from generec_desktop.editor.personalize.shotdetect import detect_shots

    found = detect_shots(path, detector, progress=progress, cancel=cancel)
    snap = found.snap_times
    first = np.searchsorted(times, snap - 1e-6)
    keep = (first > 0) & (first < len(times))
    after = np.unique(first[keep]).astype(np.int64)
    return _Cuts(after=after, times=np.asarray(snap, np.float64), spans=found.spans)


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
    shots: str | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> VideoAnalysis:
    """Sample, encode, gate and cut-detect ``path`` (cached when ``sha256`` and ``cache_dir`` are given).

    On a cache hit nothing is decoded and ``images`` is None; otherwise ``images`` holds the samples
    when ``keep_images``. ``shots``: the shot detector (:func:`.shotdetect.choose_detector`; None: the
    configured one, ``config.shot_detector()``, ``auto`` unless set). ``hsv`` works on the samples
    (``refine`` moves its cuts to the exact frame); every other detector decodes the video once more.
    """
    from generec_desktop import config, media
    from generec_desktop.editor.personalize.shotdetect import auto_upgrade, choose_detector
    from generec_desktop.media.reference import scan

    if not rate > 0:
        raise EditorError(f"The sampling rate must be positive, got {rate}.")
    requested = (shots if shots is not None else config.shot_detector()).strip().lower() or "auto"
    duration = float(scan(path).end_time)
    detector = choose_detector(requested, duration)
    # ``auto`` may move on from the free pass once its cuts are known (see shotdetect.auto_upgrade): its
    # entry is its own, whichever detector it ended with (kept in the entry's ``shot_detector``)
    mode = (("ref" if fast else "exact") + ("-refined" if refine and detector == "hsv" else "")
            + f"-{'auto' if requested == 'auto' else detector}")
    target = _cache_path(Path(cache_dir), sha256, encoder.id, rate, mode) if (sha256 and cache_dir) else None
    if target is not None and target.is_file():
        hit = _load(target, encoder.id)
        if hit is not None:
            hit.cache_path = target
            report(progress, 1.0, "Analysis loaded from the cache")
            return hit
    steps = Steps(progress, {"decode": 4.5, "shots": 0.5 if detector == "hsv" else 4.0})
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
        from generec_desktop.editor.personalize.shots import detect_hsv, dissolve_samples

        failed = _with_dissolves(measure_quality(images, gates).failed,
                                 dissolve_samples([detect_hsv(im) for im in images]))
        cuts = detect_cuts(images, times)
    ft = media.frame_times(path)
    if requested == "auto":
        detector = auto_upgrade(duration, int(cuts.after.size)) or detector
    if detector != "hsv":
        found = _detected_cuts(path, detector, times, steps["shots"], cancel)
        cut_after, cut_times, ends, spans = found.after, found.times, found.times, found.spans
    else:
        if refine and cuts.after.size:
            cuts = refine_cuts(path, cuts, times, cancel=cancel)
        if cuts.refined:
            ends = np.asarray(cuts.times, np.float64)
        else:  # the frame right after the old shot's last sample: never a frame of the new shot
            last = times[np.maximum(cuts.after - 1, 0)]
            nxt = np.searchsorted(ft, last + 1e-6)
            ends = np.where(nxt < len(ft), ft[np.minimum(nxt, len(ft) - 1)], last)
        spans = np.stack([np.asarray(cuts.times, np.float64)] * 2, 1) if cuts.after.size else np.zeros((0, 2))
        cut_after, cut_times = cuts.after, np.asarray(cuts.times, np.float64)
    info_end = float(ft[-1] + (ft[-1] - ft[-2] if len(ft) > 1 else 1.0 / rate))
    with contextlib.suppress(Exception):  # probe's duration, without its decode of the first frame
        from generec_desktop.media.reference import scan

        info_end = float(scan(path).end_time) + float(ft[0])
    report(steps["shots"], 1.0, f"{cut_times.size} shot cuts ({detector})")
    result = VideoAnalysis(
        sample_times=times, embeddings=emb, encoder_id=encoder.id, rate=float(rate), failed=failed,
        cut_after=cut_after.astype(np.int64), cut_times=cut_times,
        cut_ends=np.asarray(ends, np.float64), frame_times=ft, video_end=info_end,
        cut_spans=np.asarray(spans, np.float64).reshape(-1, 2), shot_detector=detector,
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
