"""Where profiles live: the tables of migrations ``_m002_profiles`` and ``_m004_example_audiences``, and
the thumbnail-embedding cache.

The tables are declared here with SQLAlchemy Core (their creation is the frozen migration in
``generec_desktop/corpus/migrations.py``); a test checks that both agree.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

from generec_desktop.jobs import CancelToken, Progress, check_cancel, report

if TYPE_CHECKING:
    from generec_desktop.corpus import ItemInfo, Workspace
    from generec_desktop.encoders.base import Encoder

metadata = MetaData()

profile_users = Table(
    "profile_users", metadata,
    Column("encoder_id", String(256), primary_key=True),
    Column("user_id", Integer, primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("n_likes", Integer, nullable=False),
    Column("dim", Integer, nullable=False),
    Column("vector", LargeBinary, nullable=False),
    Column("segment_index", Integer),
    Column("updated_at", DateTime, nullable=False),
)

profile_segments = Table(
    "profile_segments", metadata,
    Column("id", Integer, primary_key=True),
    Column("encoder_id", String(256), nullable=False),
    Column("segment_index", Integer, nullable=False),
    Column("label", String(512), nullable=False),
    Column("size", Integer, nullable=False),
    Column("dim", Integer, nullable=False),
    Column("vector", LargeBinary, nullable=False),
    Column("top_items_json", JSON),
    Column("built_at", DateTime, nullable=False),
    # as in the migration (they had drifted: only the migration had it)
    UniqueConstraint("encoder_id", "segment_index", name="uq_profile_segments_encoder_index"),
)

recommender_runs = Table(
    "recommender_runs", metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", DateTime, nullable=False),
    Column("encoder_id", String(256), nullable=False),
    Column("path", String(512), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("n_users", Integer, nullable=False),
    Column("n_items", Integer, nullable=False),
    Column("n_interactions", Integer, nullable=False),
    Column("params_json", JSON),
    Column("metrics_json", JSON),
)

# m004: audiences built from examples ("people who like these"); see profiles/examples.py
audiences = Table(
    "audiences", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(256), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

audience_examples = Table(
    "audience_examples", metadata,
    Column("id", Integer, primary_key=True),
    # the foreign keys are the migration's (items is the corpus's table, declared here only as a name)
    Column("audience_id", Integer, ForeignKey("audiences.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # "item" | "image" | "video" | "text"
    Column("item_id", Integer),
    Column("path", String(1024)),
    Column("sha256", String(64)),
    Column("added_at", DateTime, nullable=False),
    Column("description", String(1024)),  # m006: the words of a "text" example
)

audience_example_vectors = Table(
    "audience_example_vectors", metadata,
    Column("example_id", Integer, ForeignKey("audience_examples.id", ondelete="CASCADE"), primary_key=True),
    Column("encoder_id", String(256), primary_key=True),
    Column("dim", Integer, nullable=False),
    Column("vector", LargeBinary, nullable=False),
)


def to_blob(vector: np.ndarray) -> bytes:
    """float32 little-endian bytes (portable across SQLite and PostgreSQL ``bytea``)."""
    return np.ascontiguousarray(vector, dtype="<f4").tobytes()


def from_blob(blob: bytes, dim: int) -> np.ndarray:
    """The inverse of :func:`to_blob`."""
    return np.frombuffer(blob, dtype="<f4", count=dim).astype(np.float32)


def slug(text: str) -> str:
    """A file-name-safe form of an encoder id (``open_clip:ViT-B-32:ab12`` -> ``open_clip-ViT-B-32-ab12``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "encoder"


def fingerprint(pairs: np.ndarray) -> str:
    """A stable hash of a user's sorted ``(item_id, weight)`` likes: equal means "unchanged"."""
    return hashlib.sha1(np.ascontiguousarray(pairs, dtype="<f8").tobytes()).hexdigest()


def _thumbnail(ws: Workspace, item: ItemInfo) -> np.ndarray:
    """The item's thumbnail as shown today: its cover image, else its attached picture, else the frame at 1 s."""
    from generec_desktop import media

    cover = ws.cover_path(item)
    if cover is not None and cover.exists():
        from PIL import Image

        with Image.open(cover) as im:
            return np.asarray(im.convert("RGB"))
    path = ws.media_path(item)
    pic = media.read_cover(path)
    if pic is not None:
        return pic
    t = min(1.0, (item.duration or 0.0) / 2)
    frames = media.sample_frames(path, timestamps=[t], max_side=512)
    if not frames:
        raise media.MediaError(f"Item {item.id} has no decodable frame for a thumbnail; re-import it.")
    return frames[0].image


def item_thumbnail(ws: Workspace, item: ItemInfo) -> np.ndarray:
    """The item's thumbnail as shown today (cover, attached picture, else the frame at 1 s), RGB uint8."""
    return _thumbnail(ws, item)


def get_encoder(name: str, ws: Workspace | None = None) -> Encoder:
    """``generec_desktop.encoders.get_encoder`` (imported lazily: it is heavy for the CLI start-up)."""
    try:
        from generec_desktop.encoders import get_encoder as _get
    except ImportError:
        from generec_desktop.encoders.registry import get_encoder as _get
    return _get(name, workspace_root=ws.root if ws is not None else None)


def thumbnail_embeddings(
    ws: Workspace,
    encoder: Encoder,
    items: list[ItemInfo],
    *,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """``f(t_i)`` of each item's current thumbnail, shape (len(items), encoder.dim), cached on disk.

    The cache ``W/cache/profiles/thumbs-<encoder>.npz`` is keyed by the item's media sha256 and
    cover path, so a changed cover is re-encoded; it is written to a temp file and renamed.
    """
    cache_path = Path(ws.cache_dir) / "profiles" / f"thumbs-{slug(encoder.id)}.npz"
    cached: dict[str, np.ndarray] = {}
    if cache_path.exists():
        try:
            with np.load(cache_path, allow_pickle=False) as z:
                cached = dict(zip(z["keys"].tolist(), z["vectors"]))
        except (OSError, ValueError, KeyError):
            cached = {}  # a damaged cache is rebuilt, never trusted
    keys = [f"{it.sha256}|{it.cover_path or ''}" for it in items]
    missing = [k for k, key in enumerate(keys) if key not in cached]
    out = np.zeros((len(items), encoder.dim), np.float32)
    batch = 16
    for start in range(0, len(missing), batch):
        check_cancel(cancel)
        idx = missing[start:start + batch]
        vecs = encoder.encode_images([_thumbnail(ws, items[k]) for k in idx])
        for k, v in zip(idx, vecs):
            cached[keys[k]] = np.asarray(v, np.float32)
        report(progress, (start + len(idx)) / max(1, len(missing)), f"Encoded {start + len(idx)} thumbnails")
    for k, key in enumerate(keys):
        out[k] = cached[key]
    if missing:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_path.with_name(cache_path.stem + ".tmp.npz")
        np.savez(tmp, keys=np.array(list(cached), dtype=str), vectors=np.stack(list(cached.values())))
        tmp.replace(cache_path)
    report(progress, 1.0, "Thumbnails encoded")
    return out


def frame_timestamps(duration: float, n: int) -> list[float]:
    """``n`` times spread evenly over a video (the centres of ``n`` equal parts), in seconds."""
    return [float((k + 0.5) * duration / n) for k in range(n)] if duration > 0 and n > 0 else []


def frame_embeddings(
    ws: Workspace,
    encoder: Encoder,
    items: list[ItemInfo],
    per_item: int,
    *,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Features of ``per_item`` frames spread over each item's video: ``(features (n, dim), item row (n,))``.

    Goes through the encoders' embedding cache (``encode_video``), so a second training decodes
    nothing. Items whose media is missing or unreadable contribute no frames (the cover still
    represents them): augmentation is best-effort and must not block training.
    """
    from generec_desktop.encoders import encode_video
    from generec_desktop.jobs import Cancelled, GenerecError

    feats: list[np.ndarray] = []
    rows: list[np.ndarray] = []
    for k, it in enumerate(items):
        check_cancel(cancel)
        times = frame_timestamps(float(it.duration or 0.0), per_item)
        path = ws.media_path(it)
        if not times or not Path(path).is_file():
            continue
        try:
            fe = encode_video(encoder, path, sha256=it.sha256, timestamps=times, cache_dir=ws.cache_dir,
                              cancel=cancel)
        except Cancelled:
            raise
        except GenerecError:
            continue
        if fe.embeddings.shape[0]:
            feats.append(np.asarray(fe.embeddings, np.float32))
            rows.append(np.full(fe.embeddings.shape[0], k, np.int64))
        report(progress, (k + 1) / max(1, len(items)), f"Frame features of {k + 1} of {len(items)} videos")
    if not feats:
        return np.zeros((0, encoder.dim), np.float32), np.zeros(0, np.int64)
    return np.concatenate(feats), np.concatenate(rows)
