"""``generec corpus export``: the item corpus in the formats recommenders read (issue 18, part 3).

* ``recbole``: RecBole's *atomic files* (https://recbole.io/docs/user_guide/data/atomic_files.html): one
  tab-separated table per file, a header row of ``name:type`` (``token``, ``token_seq``, ``float``,
  ``float_seq``), sequences separated by single spaces. ``<name>.inter`` (user, item, weight as the rating,
  epoch-seconds timestamp), ``<name>.item`` (kind, generator, parent, target audience, external id, title,
  duration and the item's **visual features**: the workspace encoder's embedding of its cover/thumbnail,
  :func:`generec_desktop.profiles.store.thumbnail_embeddings`, as a ``float_seq``), ``<name>.user``
  (external id, segment). RecBole finds the files as ``data_path/<name>/<name>.inter``, so ``<name>``
  defaults to the output folder's name: ``data_path`` = the folder's parent, ``dataset`` = its name.
* ``parquet``: ``items``, ``users``, ``interactions``, ``lineage``, ``artwork`` (m005), ``audiences`` (example
  audiences of m004 and the segments of ``profile_segments``, each with its vector) and
  ``audience_examples``; typed Arrow schemas (timestamps in UTC, vectors as ``list<float32>``, JSON
  columns as JSON text), so pandas, Polars, DuckDB or Spark read them as they are.

Both write ``generec-handoff.json`` (what was exported, with which encoder, each file's sha256). The
folder is built beside its destination under a journaled temporary name and renamed into place when
complete: a reader never sees half an export; an existing folder is replaced only with ``force`` and
only when an earlier hand-off made it (its manifest says so), never a folder of someone else's.

Why a package of its own (layer ``versions | evaluation | handoff``): it needs the corpus, the encoders
and the profiles' thumbnail embeddings and segments, so it cannot live in ``corpus`` (a lower layer).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from generec_desktop.jobs import CancelToken, GenerecError, Progress, Steps, check_cancel, report
from generec_desktop.safefiles import fsync_file

if TYPE_CHECKING:
    from generec_desktop.corpus import ItemInfo, Workspace

__all__ = ["FORMATS", "MANIFEST_NAME", "HandoffError", "HandoffResult", "export_corpus", "read_atomic_header"]

FORMATS = ("recbole", "parquet")
MANIFEST_NAME = "generec-handoff.json"
MANIFEST_FORMAT = "generec-handoff/1"
_TOKEN_BAD = re.compile(r"[\t\r\n]+")
_SEQ_BAD = re.compile(r"\s+")


class HandoffError(GenerecError):
    """The export cannot be made as asked (bad format, an existing folder, nothing to export)."""


@dataclass(frozen=True)
class HandoffResult:
    """What :func:`export_corpus` wrote."""

    folder: Path
    format: str
    dataset: str
    encoder_id: str
    dim: int
    rows: dict[str, int] = field(default_factory=dict)  # file name -> data rows
    seconds: float = 0.0

    def summary(self) -> str:
        """A few human lines."""
        files = ", ".join(f"{name} ({n:,} rows)" for name, n in self.rows.items())
        return (f"Exported the corpus as {self.format} to {self.folder} in {self.seconds:.1f} s: {files}. "
                f"Visual features: {self.encoder_id} ({self.dim} dimensions).")


# --------------------------------------------------------------------------- reading the corpus

@dataclass
class _Corpus:
    items: list[ItemInfo]
    visual: np.ndarray  # (n_items, dim) float32, rows as items
    encoder_id: str
    users: list[dict[str, Any]]
    interactions: list[dict[str, Any]]
    lineage: list[dict[str, Any]]
    artwork: list[dict[str, Any]]
    audiences: list[dict[str, Any]]
    examples: list[dict[str, Any]]


def _default_encoder(ws: Workspace) -> str:
    """The workspace's encoder (that of its audiences: :func:`profiles.examples.workspace_encoder_id`),
    else the built-in one."""
    from generec_desktop.profiles.examples import workspace_encoder_id

    return workspace_encoder_id(ws) or "builtin"


def _utc(value: datetime | None) -> datetime | None:
    """Naive UTC (as the m002/m004/m005 tables store it) or aware, as aware UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _vector(blob: bytes | memoryview, dim: int) -> list[float]:
    from generec_desktop.profiles.store import from_blob

    return [float(x) for x in from_blob(bytes(blob), int(dim))]


def _read(ws: Workspace, encoder: str | None, progress: Progress | None, cancel: CancelToken | None) -> _Corpus:
    from sqlalchemy import select

    from generec_desktop.corpus.schema import Lineage
    from generec_desktop.fidelity import artwork as t
    from generec_desktop.profiles import store
    from generec_desktop.profiles.examples import audience_vector

    steps = Steps(progress, {"rows": 1, "visual": 8, "audiences": 1})
    items = ws.items()
    if not items:
        raise HandoffError(f"{ws.root} has no items yet; import videos first (`generec import W FILE...`).")
    users_by_id = {u.id: u for u in ws.users()}
    enc = store.get_encoder(encoder or _default_encoder(ws), ws)
    with ws.read_session() as s:
        pu = store.profile_users
        user_segment = {int(r.user_id): r.segment_index for r in s.execute(
            select(pu.c.user_id, pu.c.segment_index).where(pu.c.encoder_id == enc.id))}
        users = [{"id": u.id, "external_id": u.external_id, "name": u.name, "created_at": _utc(u.created_at),
                  "segment": None if user_segment.get(u.id) is None else f"segment:{user_segment[u.id]}"}
                 for u in users_by_id.values()]
        lineage = [{"id": r.id, "child_id": r.child_id, "parent_id": r.parent_id, "operation": r.operation,
                    "params_json": r.params_json, "created_at": _utc(r.created_at)}
                   for r in s.scalars(select(Lineage).order_by(Lineage.id))]
    interactions = [{"id": r.id, "user_id": r.user_id, "user_external_id": users_by_id[r.user_id].external_id,
                     "item_id": r.item_id, "timestamp": _utc(r.timestamp), "weight": float(r.weight)}
                    for r in ws.interactions()]
    report(steps["rows"], 1.0, f"{len(items):,} items, {len(interactions):,} interactions")
    check_cancel(cancel)
    visual = store.thumbnail_embeddings(ws, enc, items, progress=steps["visual"], cancel=cancel)
    check_cancel(cancel)
    with ws.read_session() as s:
        artwork = [{**dict(r._mapping), "created_at": _utc(r.created_at)}
                   for r in s.execute(select(t.artwork).order_by(t.artwork.c.id))]
        names = {int(r.id): r for r in s.execute(select(store.audiences).order_by(store.audiences.c.id))}
        ex = store.audience_examples
        vec = store.audience_example_vectors
        example_rows = s.execute(
            select(ex, vec.c.dim, vec.c.vector).outerjoin(
                vec, (vec.c.example_id == ex.c.id) & (vec.c.encoder_id == enc.id)).order_by(ex.c.id)).all()
        ps = store.profile_segments
        segments = s.execute(select(ps).where(ps.c.encoder_id == enc.id).order_by(ps.c.segment_index)).all()
    examples: list[dict[str, Any]] = []
    members: dict[int, list[tuple[np.ndarray, str]]] = {}
    for r in example_rows:
        vector = None if r.vector is None else _vector(r.vector, r.dim)
        examples.append({"id": r.id, "audience_id": f"examples:{r.audience_id}", "kind": r.kind,
                         "item_id": r.item_id, "path": r.path, "sha256": r.sha256, "added_at": _utc(r.added_at),
                         "description": r.description,
                         "encoder_id": enc.id if vector is not None else None, "vector": vector})
        members.setdefault(int(r.audience_id), [])
        if vector is not None:
            members[int(r.audience_id)].append((np.asarray(vector, np.float32), str(r.kind)))
    audiences: list[dict[str, Any]] = []
    for aid, a in names.items():
        vs = members.get(aid, [])
        # the audience's vector exactly as the app uses it (Eq. 1 User_Hist of the examples; pictures
        # and words half each): profiles.examples.audience_vector
        centre = audience_vector([v for v, _ in vs], [k for _, k in vs]) if vs else None
        audiences.append({"audience_id": f"examples:{aid}", "kind": "examples", "label": a.name,
                          "size": len(vs), "encoder_id": enc.id if vs else None,
                          "vector": [float(x) for x in centre] if centre is not None else None,
                          "top_items": None, "created_at": _utc(a.created_at), "updated_at": _utc(a.updated_at)})
    for r in segments:
        audiences.append({"audience_id": f"segment:{r.segment_index}", "kind": "segment", "label": r.label,
                          "size": int(r.size), "encoder_id": enc.id, "vector": _vector(r.vector, r.dim),
                          "top_items": [int(x) for x in (r.top_items_json or [])],
                          "created_at": _utc(r.built_at), "updated_at": _utc(r.built_at)})
    report(steps["audiences"], 1.0, f"{len(audiences)} audiences, {len(artwork)} artwork")
    return _Corpus(items, np.asarray(visual, np.float32), enc.id, users, interactions, lineage, artwork,
                   audiences, examples)


# --------------------------------------------------------------------------- RecBole atomic files

def _token(value: Any) -> str:
    """A ``token`` cell: any text without tabs or line breaks (they would split the row)."""
    return "" if value is None else _TOKEN_BAD.sub(" ", str(value)).strip()


def _token_seq(value: Any) -> str:
    """A ``token_seq`` cell: words joined by single spaces (RecBole splits on ``seq_separator``)."""
    return "" if value is None else " ".join(w for w in _SEQ_BAD.split(str(value)) if w)


def _float(value: float | None) -> str:
    return "" if value is None or not math.isfinite(float(value)) else repr(float(value))


def _float_seq(vector: np.ndarray) -> str:
    # str(np.float32) is the shortest text that reads back as the same float32
    return " ".join(str(np.float32(x)) for x in vector)


def _epoch(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _write_atomic(path: Path, header: Sequence[tuple[str, str]], rows: Iterable[Sequence[str]]) -> int:
    """One atomic file: the ``name:type`` header, then tab-separated rows; returns the row count."""
    n = 0
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("\t".join(f"{name}:{kind}" for name, kind in header) + "\n")
        for row in rows:
            fh.write("\t".join(row) + "\n")
            n += 1
        fh.flush()
        os.fsync(fh.fileno())
    return n


def read_atomic_header(path: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """The ``(name, type)`` pairs of an atomic file's header (for checks and tests)."""
    with open(path, encoding="utf-8") as fh:
        head = fh.readline().rstrip("\n")
    return [tuple(cell.split(":")) for cell in head.split("\t")]  # type: ignore[misc]


def _write_recbole(c: _Corpus, folder: Path, name: str) -> dict[str, int]:
    rows: dict[str, int] = {}
    rows[f"{name}.inter"] = _write_atomic(
        folder / f"{name}.inter",
        [("user_id", "token"), ("item_id", "token"), ("rating", "float"), ("timestamp", "float")],
        ([str(r["user_id"]), str(r["item_id"]), _float(r["weight"]), _float(_epoch(r["timestamp"]))]
         for r in c.interactions))
    rows[f"{name}.item"] = _write_atomic(
        folder / f"{name}.item",
        [("item_id", "token"), ("kind", "token"), ("generator", "token"), ("parent_id", "token"),
         ("target_audience", "token"), ("external_id", "token"), ("title", "token_seq"),
         ("duration", "float"), ("visual", "float_seq")],
        ([str(it.id), it.kind, _token(it.generator or ("human" if it.kind == "human" else "")),
          _token(it.parent_id), _token(it.target_profile), _token(it.external_id),
          _token_seq(it.title or it.original_name or f"item {it.id}"), _float(it.duration),
          _float_seq(c.visual[k])] for k, it in enumerate(c.items)))
    rows[f"{name}.user"] = _write_atomic(
        folder / f"{name}.user",
        [("user_id", "token"), ("external_id", "token"), ("segment", "token")],
        ([str(u["id"]), _token(u["external_id"]), _token(u["segment"])] for u in c.users))
    return rows


# --------------------------------------------------------------------------- Parquet

def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, default=lambda v: v.tolist() if hasattr(v, "tolist") else str(v))


def _write_parquet(c: _Corpus, folder: Path, meta: dict[str, str]) -> dict[str, int]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise HandoffError("The Parquet export needs pyarrow: pip install 'generec-desktop[parquet]'.") from exc

    ts = pa.timestamp("us", tz="UTC")
    vec = pa.list_(pa.float32())
    schemas: dict[str, list[tuple[str, Any]]] = {
        "items": [("id", pa.int64()), ("kind", pa.string()), ("parent_id", pa.int64()), ("sha256", pa.string()),
                  ("stored_path", pa.string()), ("original_name", pa.string()), ("title", pa.string()),
                  ("duration", pa.float64()), ("width", pa.int32()), ("height", pa.int32()), ("fps", pa.float64()),
                  ("frame_count", pa.int64()), ("file_size", pa.int64()), ("has_audio", pa.bool_()),
                  ("cover_path", pa.string()), ("owner", pa.string()), ("author", pa.string()),
                  ("licence", pa.string()), ("target_audience", pa.string()), ("generator", pa.string()),
                  ("params_json", pa.string()), ("fidelity_json", pa.string()), ("watermark_payload", pa.string()),
                  ("created_at", ts), ("external_id", pa.string()), ("media_warnings", pa.list_(pa.string())),
                  ("visual", vec)],
        "users": [("id", pa.int64()), ("external_id", pa.string()), ("name", pa.string()), ("created_at", ts),
                  ("segment", pa.string())],
        "interactions": [("id", pa.int64()), ("user_id", pa.int64()), ("user_external_id", pa.string()),
                         ("item_id", pa.int64()), ("timestamp", ts), ("weight", pa.float64())],
        "lineage": [("id", pa.int64()), ("child_id", pa.int64()), ("parent_id", pa.int64()),
                    ("operation", pa.string()), ("params_json", pa.string()), ("created_at", ts)],
        "artwork": [("id", pa.int64()), ("item_id", pa.int64()), ("audience_id", pa.string()),
                    ("audience_label", pa.string()), ("path", pa.string()), ("sha256", pa.string()),
                    ("width", pa.int32()), ("height", pa.int32()), ("format", pa.string()), ("score", pa.float64()),
                    ("source_time", pa.float64()), ("generator", pa.string()), ("params_json", pa.string()),
                    ("provenance_json", pa.string()), ("watermark_payload", pa.string()), ("created_at", ts)],
        "audiences": [("audience_id", pa.string()), ("kind", pa.string()), ("label", pa.string()),
                      ("size", pa.int64()), ("encoder_id", pa.string()), ("vector", vec),
                      ("top_items", pa.list_(pa.int64())), ("created_at", ts), ("updated_at", ts)],
        "audience_examples": [("id", pa.int64()), ("audience_id", pa.string()), ("kind", pa.string()),
                              ("item_id", pa.int64()), ("path", pa.string()), ("sha256", pa.string()),
                              ("added_at", ts), ("description", pa.string()), ("encoder_id", pa.string()),
                              ("vector", vec)],
    }
    items = [{**{k: v for k, v in dataclasses.asdict(it).items() if k not in ("params", "fidelity", "warnings",
                                                                  "target_profile")},
              "target_audience": it.target_profile, "params_json": _json_text(it.params),
              "fidelity_json": _json_text(it.fidelity), "media_warnings": list(it.warnings),
              "created_at": _utc(it.created_at), "visual": c.visual[k].tolist()}
             for k, it in enumerate(c.items)]
    for r in c.lineage:
        r["params_json"] = _json_text(r["params_json"])
    for r in c.artwork:
        r["params_json"], r["provenance_json"] = _json_text(r["params_json"]), _json_text(r["provenance_json"])
    data = {"items": items, "users": c.users, "interactions": c.interactions, "lineage": c.lineage,
            "artwork": c.artwork, "audiences": c.audiences, "audience_examples": c.examples}
    rows: dict[str, int] = {}
    for name, cols in schemas.items():
        schema = pa.schema(cols, metadata={f"generec.{k}": v for k, v in meta.items()})
        records = data[name]
        table = pa.Table.from_pydict({col: [r.get(col) for r in records] for col, _ in cols}, schema=schema)
        path = folder / f"{name}.parquet"
        pq.write_table(table, path, compression="zstd")
        fsync_file(path)
        rows[path.name] = table.num_rows
    return rows


# --------------------------------------------------------------------------- the job

def _check_destination(out: Path, force: bool) -> None:
    if out.exists() or out.is_symlink():
        if not force:
            raise HandoffError(f"{out} already exists; give another folder, or --force to replace an earlier "
                               "export there. Nothing was written.")
        if out.is_symlink() or not out.is_dir() or not (out / MANIFEST_NAME).is_file():
            raise HandoffError(f"{out} exists and is not an earlier GeneRec export (no {MANIFEST_NAME}); it is "
                               "never replaced. Give a new folder. Nothing was written.")
    if out.parent.exists() and not out.parent.is_dir():
        raise HandoffError(f"{out.parent} is a file, not a folder; give another --out. Nothing was written.")


def export_corpus(
    ws: Workspace,
    out: str | os.PathLike[str],
    *,
    format: str = "recbole",
    name: str | None = None,
    encoder: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> HandoffResult:
    """Write the corpus into the folder ``out`` as RecBole atomic files or a Parquet set (a job).

    ``name``: RecBole's dataset name (default: the folder's name, which is where RecBole looks).
    ``encoder``: the visual features' encoder (default: the workspace's, the one its profiles use).
    """
    from generec_desktop import __version__
    from generec_desktop.safefiles import fsync_dir, temp_path

    start = time.perf_counter()
    if format not in FORMATS:
        raise HandoffError(f"Unknown format {format!r}; use one of {', '.join(FORMATS)}.")
    out = Path(out).absolute()
    dataset = name or out.name
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", dataset):
        raise HandoffError(f"{dataset!r} cannot be a dataset name (its files are <name>.inter...); use letters, "
                           "digits, '.', '_' and '-' (give --name).")
    _check_destination(out, force)
    steps = Steps(progress, {"read": 8, "write": 2})
    corpus = _read(ws, encoder, steps["read"], cancel)
    check_cancel(cancel)
    meta = {"format": MANIFEST_FORMAT, "export_format": format, "dataset": dataset,
            "encoder_id": corpus.encoder_id, "dim": str(corpus.visual.shape[1]),
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "generator": f"generec-desktop {__version__}"}
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = temp_path(out.parent)
    staging.mkdir()
    old: Path | None = None
    try:
        writer: Callable[[], dict[str, int]] = (
            (lambda: _write_recbole(corpus, staging, dataset)) if format == "recbole"
            else (lambda: _write_parquet(corpus, staging, meta)))
        rows = writer()
        from generec_desktop.safefiles import atomic_write_json, file_sha256

        atomic_write_json(staging / MANIFEST_NAME, {
            **meta, "dim": corpus.visual.shape[1], "workspace": str(ws.root),
            "ids": "user_id and item_id are the corpus's ids (users.id, items.id); external ids are columns",
            "files": {f: {"rows": n, "sha256": file_sha256(staging / f)} for f, n in rows.items()}})
        fsync_dir(staging)
        report(steps["write"], 0.9, "Written")
        check_cancel(cancel)
        if out.exists():  # --force over an earlier export (checked above): swap, then remove the old one
            old = temp_path(out.parent)
            os.replace(out, old)
        os.replace(staging, out)
        fsync_dir(out.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if old is not None and not out.exists():
            os.replace(old, out)
            old = None
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)  # the earlier export this function replaced
    report(progress, 1.0, f"Exported to {out}")
    return HandoffResult(out, format, dataset, corpus.encoder_id, int(corpus.visual.shape[1]), rows,
                         time.perf_counter() - start)
