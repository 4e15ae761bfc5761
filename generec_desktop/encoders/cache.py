"""Frame embeddings of a video, computed once per (media hash, encoder id, sampling) and cached.

Layout: ``<cache_dir>/embeddings/<sha256>/<encoder id, made file-safe>/<sampling>.npz`` holding
``timestamps`` (float64), ``embeddings`` (float32, unit rows) and ``encoder_id``. A hit neither
decodes nor encodes anything; a miss samples frames through :func:`generec_desktop.media.sample_frames`
(longest side :data:`SAMPLE_MAX_SIDE`), encodes them in batches and writes the file atomically
(temporary file in the same folder, then rename), so a crash leaves the old entry or none.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generec_desktop.encoders.base import Encoder, EncoderError
from generec_desktop.jobs import CancelToken, Progress, Steps, check_cancel, report

__all__ = ["SAMPLE_MAX_SIDE", "FrameEmbeddings", "embedding_cache_path", "encode_video", "sampling_key"]

#: frames are decoded with this longest side: enough for 224-px CLIP crops of 16:9 or 9:16 video
SAMPLE_MAX_SIDE = 448
_SHA_RE = re.compile(r"^[0-9a-f]{8,128}$")


@dataclass(frozen=True)
class FrameEmbeddings:
    """Embeddings of sampled frames: ``embeddings[i]`` is the frame shown at ``timestamps[i]``."""

    timestamps: np.ndarray  # (N,) float64 seconds
    embeddings: np.ndarray  # (N, dim) float32, L2-normalised rows
    encoder_id: str
    from_cache: bool = False


def sampling_key(rate: float | None, timestamps: Sequence[float] | None) -> str:
    """A file-safe name for a sampling request (rate, or a hash of the timestamps to the µs)."""
    if (rate is None) == (timestamps is None):
        raise EncoderError("Give exactly one of a sampling rate or a list of timestamps.")
    if rate is not None:
        if not float(rate) > 0:
            raise EncoderError(f"The sampling rate must be positive, got {rate}.")
        return f"rate{float(rate):g}_s{SAMPLE_MAX_SIDE}"
    micro = np.round(np.asarray(list(timestamps or []), dtype=np.float64) * 1e6).astype(np.int64)
    digest = hashlib.sha256(micro.tobytes()).hexdigest()[:16]
    return f"ts{len(micro)}-{digest}_s{SAMPLE_MAX_SIDE}"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def embedding_cache_path(cache_dir: Path, sha256: str, encoder_id: str, sampling: str) -> Path:
    """Where the embeddings of one (media, encoder, sampling) live."""
    return Path(cache_dir) / "embeddings" / sha256 / _safe(encoder_id) / f"{sampling}.npz"


def _load(path: Path, encoder_id: str) -> FrameEmbeddings | None:
    """The cached entry, or ``None`` when missing, unreadable or not this encoder's."""
    try:
        with np.load(path, allow_pickle=False) as data:
            ts = np.asarray(data["timestamps"], dtype=np.float64)
            emb = np.asarray(data["embeddings"], dtype=np.float32)
            stored_id = str(data["encoder_id"])
    except (OSError, KeyError, ValueError, EOFError):
        return None
    if stored_id != encoder_id or emb.ndim != 2 or emb.shape[0] != ts.shape[0]:
        return None
    return FrameEmbeddings(timestamps=ts, embeddings=emb, encoder_id=encoder_id, from_cache=True)


def _save(path: Path, result: FrameEmbeddings) -> None:
    from generec_desktop.safefiles import atomic_writer

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_writer(path) as fh:
        np.savez(fh, timestamps=result.timestamps, embeddings=result.embeddings,
                 encoder_id=np.array(result.encoder_id))


def encode_video(
    encoder: Encoder,
    path: str | os.PathLike[str],
    *,
    sha256: str,
    rate: float | None = None,
    timestamps: Sequence[float] | None = None,
    cache_dir: str | os.PathLike[str],
    batch_size: int = 32,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> FrameEmbeddings:
    """Embeddings of frames sampled at ``rate`` per second or at ``timestamps``, from the cache if there.

    ``sha256`` is the media file's content hash (the workspace's item key); the file is read only
    on a cache miss. Raises :class:`EncoderError` for a bad request, ``MediaError`` for a bad file,
    ``Cancelled`` when ``cancel`` is set (nothing is written then).
    """
    sha = str(sha256).lower()
    if not _SHA_RE.match(sha):
        raise EncoderError(f"'{sha256}' is not a sha256 hex digest; pass the media file's content hash.")
    key = sampling_key(rate, timestamps)
    # an encoder whose outputs differ slightly by backend (open_clip int8) keys its cache apart: cache_id
    target = embedding_cache_path(Path(cache_dir), sha, str(getattr(encoder, "cache_id", encoder.id)), key)
    check_cancel(cancel)
    cached = _load(target, encoder.id) if target.is_file() else None
    if cached is not None:
        report(progress, 1.0, "Embeddings loaded from the cache")
        return cached

    from generec_desktop import media

    steps = Steps(progress, {"decode": 2.0, "encode": 1.0})
    frames = media.sample_frames(
        path, rate=rate, timestamps=timestamps, max_side=SAMPLE_MAX_SIDE,
        progress=steps["decode"], cancel=cancel,
    )
    n = len(frames)
    dim = int(encoder.dim)
    emb = np.empty((n, dim), dtype=np.float32)
    batch_size = max(1, int(batch_size))
    for start in range(0, n, batch_size):
        check_cancel(cancel)
        chunk = frames[start : start + batch_size]
        emb[start : start + len(chunk)] = encoder.encode_images([f.image for f in chunk], batch_size=batch_size)
        report(steps["encode"], (start + len(chunk)) / max(n, 1), f"Encoded {start + len(chunk)}/{n} frames")
    check_cancel(cancel)
    result = FrameEmbeddings(
        timestamps=np.array([f.timestamp for f in frames], dtype=np.float64),
        embeddings=emb,
        encoder_id=encoder.id,
    )
    _save(target, result)
    report(progress, 1.0, f"Encoded {n} frames")
    return result
