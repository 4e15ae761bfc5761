"""Personalise a whole catalogue: every (item, audience) pair, resumable, on local processes or Ray (issue 21).

:func:`run_batch` is the one core function (``generec batch`` is its CLI). Per item, one analysis pass
(decode + encode, through the workspace's analysis cache) serves every audience through the (audiences ×
samples) score matrix of :func:`generec_desktop.editor.personalize.personalize`; the chosen thumbnail of
each audience and its Eq. 2 clip are written once per distinct frame / clip range under
``DIR/media/<item id>/``, and the pairs go into Parquet tables under ``DIR``:

```
DIR/batch.json        the batch's settings (workspace, encoder, what, sampling and clip parameters); a rerun
                      with other settings is refused (finished pairs would no longer match them)
DIR/journal.jsonl     one line per finished item (its part file, ok/failed audiences, versions, worker stats),
                      appended and fsynced after the part file is in place; a torn last line is ignored
DIR/parts/*.parquet   each finished item's rows (written atomically before its journal line)
DIR/pairs.parquet     every finished pair, the latest result per (item, audience), sorted (PAIR_COLUMNS)
DIR/versions.parquet  the pending versions each pair's thumbnail / clip is (item, audience, kind, version_id)
DIR/items.parquet     per item and run: seconds, worker pid and host, peak memory, analysis from the cache
DIR/media/<item>/     thumb-<sample>.jpg, clip-<start ms>-<end ms>.mp4
```

Into the corpus (``versions=True``, the default): each distinct thumbnail and clip of an item becomes one
*pending* version (``W/pending/<id>/``, operation ``thumbnail`` / ``clip`` with the params ``clip_version``
records, so ``generec check`` / ``export`` judge them as any other), tagged with the batch's id and the
output's key; nothing is exported (an uploader checks and exports what they want). ``artwork`` goes through
:func:`store_artwork`, the one hook for the artwork store (``versions.use_thumbnail``).

Resuming: a pair is finished when the journal says it is ``ok``; a rerun computes only the other pairs
(new audiences, new items, failed pairs). The pending versions of a batch are found again by their tags, so
a crash between a version and its journal line never makes a second one. Faults: a worker that dies
(SIGKILL, out of memory) loses only its item, which is given to a fresh worker (at most
:data:`MAX_ATTEMPTS` times, then its pairs fail with an error row); a bad video fails its own pairs with an
error row and the rest go on. Cancel: no new item starts; what finished is kept and the tables are written.

Engines: ``local`` (processes of this machine, one analysis per core: each worker pinned to one core,
one encoder per worker) and ``ray`` (the same :func:`process_item` in Ray actors, one encoder per actor;
``ray.init()`` starts a small local cluster, ``address`` joins one). A cluster needs every node to have
this package installed (same version, ``pip install generec-desktop[ray]``) and to see the workspace and
``DIR`` at the same paths (a shared filesystem: NFS, a mounted object store); the driver writes the
tables, the journal and the corpus, the workers read the media and write only under ``DIR/media``.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generec_desktop.jobs import Cancelled, CancelToken, GenerecError, Progress, check_cancel, report
from generec_desktop.profiles.audience_id import AudienceId

if TYPE_CHECKING:
    from generec_desktop.corpus import ItemInfo, Workspace
    from generec_desktop.editor.personalize.pipeline import Target

__all__ = [
    "BATCH_FORMAT",
    "ENGINES",
    "MAX_ATTEMPTS",
    "PAIR_COLUMNS",
    "WHAT",
    "BatchCancelled",
    "BatchError",
    "BatchResult",
    "BatchSettings",
    "ItemJob",
    "ItemOutcome",
    "artwork_available",
    "process_item",
    "read_pairs",
    "run_batch",
    "select_audiences",
    "select_items",
    "store_artwork",
]

BATCH_FORMAT = "generec-batch"
WHAT = ("thumbnails", "clips", "artwork")
ENGINES = ("local", "ray")
#: tries of one item when its worker dies under it (SIGKILL, out of memory); then its pairs fail
MAX_ATTEMPTS = 3
#: the columns of ``pairs.parquet``, in order
PAIR_COLUMNS = (
    "item_id", "item_external_id", "audience_id", "audience_label", "status", "error",
    "thumbnail_time", "thumbnail_score", "thumbnail_path", "clip_start", "clip_end", "clip_score", "clip_path",
    "artwork_path", "choice", "clip_choice", "encoder_id", "parameters",
)
_VERSION_COLUMNS = ("item_id", "audience_id", "kind", "version_id", "key")
_ITEM_COLUMNS = ("item_id", "run", "engine", "status", "pairs", "seconds", "pid", "host", "max_rss_mb",
                 "analysis_from_cache", "attempts")
_TEMP_PREFIX = ".tmp-"


class BatchError(GenerecError):
    """A batch cannot start (bad selection, a folder holding another batch, a missing engine)."""


class BatchCancelled(Cancelled):
    """Cancelled: what finished is kept in the tables (``result``); the same call again finishes the rest."""

    def __init__(self, result: BatchResult) -> None:
        self.result = result
        super().__init__(f"Cancelled; {result.pairs_done} pairs finished in this run are kept in {result.out} "
                         f"({result.pairs_finished} of {result.pairs_total} in all); run the same command again "
                         "to finish the rest.")


# ----------------------------------------------------------------------------------------------- artwork hook


def artwork_available() -> None:
    """Raise :class:`BatchError` unless the artwork store (``fidelity.artwork``) can be loaded."""
    try:
        from generec_desktop.fidelity import artwork  # noqa: F401
    except ImportError as exc:  # pragma: no cover - part of the package; kept as the driver's guard
        raise BatchError(f"Artwork storage cannot be loaded ({exc}); use --what thumbnails,clips.") from exc


def store_artwork(ws: Workspace, item_id: int, audience_id: str, audience_label: str, frame: Path, *,
                  timestamp: float | None, score: float | None, params: dict[str, Any]) -> str:
    """The one hook for ``--what artwork``: the (item, audience) pair's chosen frame (the JPEG ``frame``)
    stored as its artwork through the same use case as the window and ``personalize --artwork``
    (``versions.use_thumbnail``: the frame decoded again at full resolution, still-marked, read back),
    replacing an earlier one; returns the stored file's path. :class:`ArtworkError` (a video too small for
    the still mark, a picture too flat to carry it) is the caller's to record."""
    from types import SimpleNamespace

    import numpy as np
    from PIL import Image

    from generec_desktop.versions.workflow import use_thumbnail

    with Image.open(frame) as im:
        shown = np.asarray(im.convert("RGB"))
    thumb = SimpleNamespace(image=shown, kind="selected", timestamp=timestamp,
                            score=0.0 if score is None else float(score))
    res = use_thumbnail(ws, int(item_id), audience_id, thumb, label=audience_label,
                        encoder_id=params.get("encoder_id"))
    return str(ws.root / res.row.path)


# ----------------------------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class BatchSettings:
    """What every pair of a batch is computed with (a rerun into the same folder must match)."""

    encoder_id: str
    what: tuple[str, ...] = ("thumbnails", "clips")
    rate: float = 4.0
    clip_frames: int = 8
    min_clip: float = 1.0
    max_clip: float = 60.0
    diversity: float | str = "auto"

    def parameters(self) -> dict[str, Any]:
        return {"what": list(self.what), "rate": self.rate, "clip_frames": self.clip_frames,
                "min_clip": self.min_clip, "max_clip": self.max_clip, "diversity": self.diversity}

    def parameters_json(self) -> str:
        return json.dumps(self.parameters(), sort_keys=True)


@dataclass(frozen=True)
class ItemJob:
    """One unit of work: an item and the indices (into the batch's targets) of the audiences it still needs."""

    item_id: int
    external_id: str | None
    audiences: tuple[int, ...]


@dataclass
class ItemOutcome:
    """What a worker returns for one item: its rows (one per audience), or cancelled."""

    item_id: int
    rows: list[dict[str, Any]]
    seconds: float
    pid: int
    host: str
    max_rss_mb: float
    from_cache: bool = False
    error: str | None = None
    cancelled: bool = False


@dataclass
class BatchResult:
    """What one :func:`run_batch` call did (counts of this run and of the whole batch folder)."""

    out: Path
    batch_id: str
    engine: str
    workers: int
    items_total: int
    pairs_total: int
    pairs_skipped: int  # finished by an earlier run
    pairs_done: int     # finished (ok or failed) by this run
    pairs_failed: int   # of this run
    items_done: int
    items_failed: int
    pairs_finished: int  # ok pairs in the folder now
    versions_created: int
    worker_restarts: int
    seconds: float
    tables: dict[str, Path] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # one line per failed item


# ----------------------------------------------------------------------------------------------- selection


def select_items(ws: Workspace, spec: str) -> list[ItemInfo]:
    """``all`` (every item the uploader imported, kind ``human``), ``ID,ID,...`` (ids or external ids) or a
    query: ``kind:KIND`` or a pattern matched without case against external ids, titles and file names
    (``*``/``?`` wildcards, else a substring)."""
    from generec_desktop.editor.personalize.errors import EditorError
    from generec_desktop.editor.personalize.pipeline import resolve_item

    text = " ".join(str(spec).split())
    if text.casefold() in ("", "all"):
        items = ws.items(kind="human")
        if not items:
            raise BatchError("This workspace has no items; import videos first (`generec import W FILES`).")
        return items
    tokens = [t.strip() for t in text.split(",") if t.strip()]
    try:
        found = [resolve_item(ws, int(t) if t.isdigit() else t) for t in tokens]
    except EditorError:
        if len(tokens) > 1:
            raise
        found = _query_items(ws, text)
    seen: set[int] = set()
    out = [it for it in found if not (it.id in seen or seen.add(it.id))]  # type: ignore[func-returns-value]
    return out


def _query_items(ws: Workspace, query: str) -> list[ItemInfo]:
    kind, sep, rest = query.partition(":")
    if sep and kind.casefold() == "kind":
        items = ws.items(kind=rest.strip())
    else:
        q = query.casefold()
        pattern = q if any(c in q for c in "*?[") else f"*{q}*"
        items = [it for it in ws.items()
                 if any(fnmatch.fnmatchcase(str(v).casefold(), pattern)
                        for v in (it.external_id, it.title, it.original_name) if v)]
    if not items:
        raise BatchError(f"No item matches {query!r}; give all, ids (3,4 or demo-007) or a pattern like 'demo-0*'.")
    return items


def select_audiences(ws: Workspace, spec: str, *, encoder_id: str | None = None) -> tuple[str, list[Target]]:
    """``all`` (segments, audiences from examples, users), ``segments``, ``examples``, ``users`` or a
    comma-separated list of ids / names -> (the encoder id of the profiles, targets in its space)."""
    from generec_desktop.editor.personalize.pipeline import Target
    from generec_desktop.profiles import ProfilesError, load_profiles

    try:
        profiles = load_profiles(ws, encoder_id=encoder_id)
    except ProfilesError as exc:
        raise BatchError(str(exc)) from exc
    text = " ".join(str(spec).split())
    key = text.casefold()
    if key in ("", "all"):
        auds = profiles.audiences()
    elif key in ("segments", "examples", "users"):
        kind = {"segments": "segment", "examples": "examples", "users": "user"}[key]
        auds = [a for a in profiles.audiences() if a.kind == kind]
    else:
        auds = []
        for ref in (r.strip() for r in text.split(",")):
            if ref:
                try:
                    auds.append(profiles.resolve(ref))
                except ProfilesError as exc:
                    raise BatchError(str(exc)) from exc
    seen: set[str] = set()
    targets = []
    for a in auds:
        if a.id not in seen:
            seen.add(a.id)
            targets.append(Target(a.id, a.vector.astype("float32"), a.title or a.id))
    if not targets:
        raise BatchError(f"No audience matches {spec!r} in this workspace; see `generec audiences list` and "
                         "`generec profiles list`.")
    return profiles.encoder_id, targets


# ----------------------------------------------------------------------------------------------- the worker side


class _SharedCancel(CancelToken):
    """A cancel token whose flag is shared with the parent process (a ``multiprocessing`` Event)."""

    def __init__(self, event: Any) -> None:
        super().__init__()
        self._shared = event

    def cancel(self) -> None:
        self._shared.set()

    @property
    def cancelled(self) -> bool:
        return bool(self._shared.is_set())

    def raise_if_cancelled(self) -> None:
        if self._shared.is_set():
            raise Cancelled()


@dataclass
class WorkerState:
    """What a worker keeps between items: the workspace, one encoder, the batch's targets and settings."""

    ws: Any
    encoder: Any
    targets: list[Target]
    settings: BatchSettings
    out: Path
    cancel: CancelToken | None = None


def limit_threads(core: int | None) -> None:
    """One analysis per core: pin this process to one of its cores (the analysis then decodes on one thread)
    and keep BLAS / OpenCV / torch to one thread, so N workers do not each start N threads."""
    if core is not None and hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):
            cores = sorted(os.sched_getaffinity(0))
            os.sched_setaffinity(0, {cores[core % len(cores)]})
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    with contextlib.suppress(ImportError):
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    with contextlib.suppress(ImportError):
        import cv2

        cv2.setNumThreads(1)
    import sys

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def open_worker(ws_root: str, settings: BatchSettings, targets: list[Target], out: str, *,
                core: int | None = None, cancel: CancelToken | None = None) -> WorkerState:
    """A worker's state: the workspace opened once, one encoder instance, threads limited to one core."""
    limit_threads(core)
    from generec_desktop.corpus import Workspace
    from generec_desktop.encoders import get_encoder

    ws = Workspace.open(ws_root)
    encoder = get_encoder(settings.encoder_id, workspace_root=ws.root)
    return WorkerState(ws, encoder, list(targets), settings, Path(out), cancel)


def _max_rss_mb() -> float:
    try:
        import resource

        return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024.0  # KiB on Linux
    except (ImportError, OSError):  # pragma: no cover - not on every platform
        return float("nan")


def _error_message(exc: BaseException) -> str:
    if isinstance(exc, GenerecError):
        return str(exc)
    from generec_desktop.faults import describe_fault

    fault = describe_fault(exc)
    return fault or f"Unexpected {type(exc).__name__}: {exc}"


def _rel(path: Path, out: Path) -> str:
    return path.relative_to(out).as_posix()


def process_item(state: WorkerState, job: ItemJob) -> ItemOutcome:
    """Personalise one item for ``job.audiences`` (one analysis, one score matrix) and write its distinct
    thumbnails and clips under ``out/media/<item id>/``; a failure becomes one error row per audience.
    The same function runs in a local worker process and in a Ray actor."""
    import socket

    t0 = time.perf_counter()
    targets = [state.targets[i] for i in job.audiences]
    base = {"item_id": job.item_id, "item_external_id": job.external_id, "encoder_id": state.settings.encoder_id,
            "parameters": state.settings.parameters_json()}
    try:
        rows, from_cache = _personalize_item(state, job, targets, base)
        error = None
    except Cancelled:
        return ItemOutcome(job.item_id, [], time.perf_counter() - t0, os.getpid(), socket.gethostname(),
                           _max_rss_mb(), cancelled=True)
    except Exception as exc:  # a bad video fails its own pairs; the batch goes on
        error = _error_message(exc)
        rows = [{**base, "audience_id": t.id, "audience_label": t.label, "status": "error", "error": error}
                for t in targets]
        from_cache = False
    return ItemOutcome(job.item_id, rows, time.perf_counter() - t0, os.getpid(), socket.gethostname(),
                       _max_rss_mb(), from_cache, error)


def _personalize_item(state: WorkerState, job: ItemJob, targets: list[Target],
                      base: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
    from PIL import Image

    from generec_desktop.editor.personalize.analysis import analyze_video
    from generec_desktop.editor.personalize.clips import export_clip
    from generec_desktop.editor.personalize.pipeline import personalize
    from generec_desktop.safefiles import atomic_path

    st, ws = state.settings, state.ws
    info = ws.item(job.item_id)
    path = ws.media_path(info)
    # The analysis goes through the workspace's cache first, so that personalize always reads the cached
    # samples: a first run, a rerun and another engine then choose from exactly the same pictures.
    first = analyze_video(path, state.encoder, sha256=info.sha256, cache_dir=ws.cache_dir, rate=st.rate,
                          cancel=state.cancel)
    from_cache = first.from_cache
    del first
    want_thumbs = "thumbnails" in st.what or "artwork" in st.what
    want_clips = "clips" in st.what
    res = personalize(ws, info, targets, thumbnails=want_thumbs, clips=want_clips, generate=False,
                      encoder=state.encoder, rate=st.rate, clip_frames=st.clip_frames, min_clip=st.min_clip,
                      max_clip=st.max_clip, diversity=st.diversity, cancel=state.cancel)
    folder = state.out / "media" / str(job.item_id)
    folder.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    thumbs: dict[int, Path] = {}
    clips: dict[tuple[float, float], Path] = {}
    times = [float(t) for t in res.sample_times]
    for a in res.audiences:
        row: dict[str, Any] = {**base, "audience_id": a.audience_id, "audience_label": a.label, "status": "ok",
                               "error": None, "choice": res.choice.kind if res.choice else None,
                               "clip_choice": res.clip_choice.kind if res.clip_choice else None}
        if a.thumbnail is not None and a.thumbnail.timestamp is not None:
            sample = times.index(float(a.thumbnail.timestamp))
            row.update(thumbnail_time=a.thumbnail.timestamp, thumbnail_score=a.thumbnail.score)
            if want_thumbs:  # the frame file: a thumbnail, and what artwork is made from
                if sample not in thumbs:
                    check_cancel(state.cancel)
                    p = folder / f"thumb-{sample:05d}.jpg"
                    if not p.is_file():
                        if a.thumbnail.image is None:  # personalize always reads the chosen frame back
                            raise GenerecError(f"The chosen frame of item {job.item_id} could not be read.")
                        with atomic_path(p) as tmp:
                            Image.fromarray(a.thumbnail.image).save(tmp, format="JPEG", quality=92)
                    thumbs[sample] = p
                row["thumbnail_path"] = _rel(thumbs[sample], state.out)
        if a.clip is not None:
            key = (round(a.clip.start, 6), round(a.clip.end, 6))
            row.update(clip_start=a.clip.start, clip_end=a.clip.end, clip_score=a.clip.score)
            if key not in clips:
                check_cancel(state.cancel)
                p = folder / f"clip-{round(a.clip.start * 1000):07d}-{round(a.clip.end * 1000):07d}.mp4"
                if not p.is_file():  # an earlier try of this item (a killed worker) may have made it
                    export_clip(path, a.clip, p, cancel=state.cancel)
                clips[key] = p
            row["clip_path"] = _rel(clips[key], state.out)
        rows.append(row)
    return rows, from_cache


# ----------------------------------------------------------------------------------------------- the folder


class _Folder:
    """The batch folder: settings, lock, journal, part files and the consolidated tables."""

    def __init__(self, out: Path, ws_root: Path, settings: BatchSettings) -> None:
        self.out = out
        self.parts = out / "parts"
        self.journal = out / "journal.jsonl"
        self._lock_fh: Any = None
        self._ws_root = ws_root
        self._settings = settings
        self.batch_id = ""

    def open(self) -> None:
        from generec_desktop.safefiles import atomic_write_json

        out = self.out
        if out.exists() and not out.is_dir():
            raise BatchError(f"{out} is a file; give a folder for the batch's tables.")
        meta_path = out / "batch.json"
        if out.is_dir() and any(out.iterdir()) and not meta_path.is_file():
            raise BatchError(f"{out} is not empty and holds no batch; give a new or empty folder (or the folder of "
                             "the batch to resume).")
        out.mkdir(parents=True, exist_ok=True)
        self._lock()
        want = {"format": BATCH_FORMAT, "version": 1, "workspace": str(self._ws_root.resolve()),
                "encoder_id": self._settings.encoder_id, "parameters": self._settings.parameters()}
        if meta_path.is_file():
            try:
                have = json.loads(meta_path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise BatchError(f"{meta_path} is unreadable; give a new folder for the batch.") from exc
            if not isinstance(have, dict) or have.get("format") != BATCH_FORMAT:
                raise BatchError(f"{meta_path} does not describe a batch; give a new folder.")
            diff = [k for k in ("workspace", "encoder_id", "parameters") if have.get(k) != want[k]]
            if diff:
                raise BatchError(f"{out} holds a batch made with another {' and '.join(diff)} "
                                 f"({_describe(have, diff)}); use the same settings to resume it or give a new --out.")
            self.batch_id = str(have.get("batch_id") or "")
        if not self.batch_id:
            self.batch_id = uuid.uuid4().hex[:12]
            atomic_write_json(meta_path, {**want, "batch_id": self.batch_id,
                                          "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        self.parts.mkdir(exist_ok=True)
        (out / "media").mkdir(exist_ok=True)
        self._clean_temps()

    def _lock(self) -> None:
        import fcntl

        fh = open(self.out / "batch.lock", "a+b")  # noqa: SIM115 - held for the whole batch
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            fh.close()
            raise BatchError(f"Another batch is writing into {self.out}; wait for it or give another --out.") from exc
        self._lock_fh = fh

    def close(self) -> None:
        if self._lock_fh is not None:
            self._lock_fh.close()
            self._lock_fh = None

    def _clean_temps(self) -> None:
        """Temporary files a killed run left (only our own names, only in our folders: we hold the lock)."""
        for folder in [self.out, self.parts, *[p for p in (self.out / "media").iterdir() if p.is_dir()]]:
            for p in folder.iterdir():
                if p.name.startswith(_TEMP_PREFIX) and p.is_file() and not p.is_symlink():
                    p.unlink()
        known = {e.get("part") for e in self.entries()}
        for p in self.parts.glob("*.parquet"):  # a part written but never journaled: its item runs again
            if p.name not in known:
                p.unlink()

    def entries(self) -> list[dict[str, Any]]:
        """The journal's entries in order (a torn or unreadable line is skipped)."""
        out: list[dict[str, Any]] = []
        try:
            text = self.journal.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return out
        for line in text.splitlines():
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if isinstance(e, dict) and isinstance(e.get("item"), int) and isinstance(e.get("part"), str):
                out.append(e)
        return out

    def finished(self) -> dict[int, set[str]]:
        """Per item, the audiences whose latest result is ok."""
        done: dict[int, set[str]] = {}
        for e in self.entries():
            s = done.setdefault(int(e["item"]), set())
            s.update(str(a) for a in e.get("ok", ()))
            s.difference_update(str(a) for a in e.get("failed", ()))
        return done

    def write_part(self, item_id: int, rows: list[dict[str, Any]]) -> str:
        name = f"item{item_id}-{uuid.uuid4().hex[:10]}.parquet"
        _write_table(self.parts / name, rows, PAIR_COLUMNS)
        return name

    def append(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, sort_keys=True, default=str) + "\n"
        with open(self.journal, "a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())

    def consolidate(self) -> dict[str, Path]:
        """Write pairs.parquet, versions.parquet and items.parquet from the journal (atomic each)."""
        import pyarrow.parquet as pq

        latest: dict[tuple[int, str], tuple[int, str]] = {}  # pair -> (entry index, part)
        entries = self.entries()
        versions: dict[tuple[int, str, str], dict[str, Any]] = {}
        stats: list[dict[str, Any]] = []
        for k, e in enumerate(entries):
            for a in [*e.get("ok", ()), *e.get("failed", ())]:
                latest[(int(e["item"]), str(a))] = (k, str(e["part"]))
            for v in e.get("versions", ()):
                versions[(int(e["item"]), str(v["audience_id"]), str(v["kind"]))] = {"item_id": int(e["item"]), **v}
            stats.append({"item_id": int(e["item"]), **(e.get("stats") or {})})
        rows: list[dict[str, Any]] = []
        for part in sorted({p for _, p in latest.values()}):
            path = self.parts / part
            if not path.is_file():
                continue
            for r in pq.read_table(path).to_pylist():
                if latest.get((int(r["item_id"]), str(r["audience_id"])), (0, ""))[1] == part:
                    rows.append(r)
        rows.sort(key=lambda r: (int(r["item_id"]), *_audience_key(str(r["audience_id"]))))
        vrows = [v for key, v in sorted(versions.items(), key=lambda kv: (kv[0][0], *_audience_key(kv[0][1]),
                                                                          kv[0][2]))
                 if (key[0], key[1]) in latest]
        return {"pairs": _write_table(self.out / "pairs.parquet", rows, PAIR_COLUMNS),
                "versions": _write_table(self.out / "versions.parquet", vrows, _VERSION_COLUMNS),
                "items": _write_table(self.out / "items.parquet", stats, _ITEM_COLUMNS)}


def _describe(have: dict[str, Any], keys: list[str]) -> str:
    return "; ".join(f"{k} {json.dumps(have.get(k), sort_keys=True)}" for k in keys)


def _audience_key(audience_id: str) -> tuple[str, int, str]:
    aid = AudienceId.parse(audience_id)
    order = {"segment": "0", "examples": "1", "user": "2"}.get(aid.kind if aid else "", "3")
    return (order, aid.number if aid is not None else -1, audience_id)


_ARROW_TYPES = {
    "item_id": "int64", "audience_id": "string", "audience_label": "string", "item_external_id": "string",
    "status": "string", "error": "string", "thumbnail_time": "float64", "thumbnail_score": "float64",
    "thumbnail_path": "string", "clip_start": "float64", "clip_end": "float64", "clip_score": "float64",
    "clip_path": "string", "artwork_path": "string", "choice": "string", "clip_choice": "string",
    "encoder_id": "string",
    "parameters": "string", "kind": "string", "version_id": "string", "key": "string", "run": "string",
    "engine": "string", "pairs": "int64", "seconds": "float64", "pid": "int64", "host": "string",
    "max_rss_mb": "float64", "analysis_from_cache": "bool", "attempts": "int64",
}


def _write_table(path: Path, rows: list[dict[str, Any]], columns: Sequence[str]) -> Path:
    """``rows`` as a Parquet file with a fixed schema (so empty and partial tables read alike); atomic."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from generec_desktop.safefiles import atomic_path

    schema = pa.schema([(c, pa.type_for_alias(_ARROW_TYPES[c])) for c in columns])
    table = pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in rows], schema=schema)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    return path


def read_pairs(out: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The rows of ``out/pairs.parquet`` (one dict per finished pair)."""
    import pyarrow.parquet as pq

    path = Path(out) / "pairs.parquet"
    if not path.is_file():
        raise BatchError(f"{out} has no pairs.parquet; run `generec batch` into it first.")
    return list(pq.read_table(path).to_pylist())


# ----------------------------------------------------------------------------------------------- engines


class _WorkerLost(Exception):
    """The worker running an item died (killed, out of memory) before it returned."""


class _LocalEngine:
    """Processes of this machine (spawned, so no thread state is inherited), one item per worker at a time."""

    def __init__(self, ws_root: Path, settings: BatchSettings, targets: list[Target], out: Path,
                 workers: int) -> None:
        import multiprocessing as mp

        self._ctx = mp.get_context("spawn")
        self.slots = workers
        self._args = (str(ws_root), settings, targets, str(out))
        self._cancel = self._ctx.Event()
        self._counter = self._ctx.Value("i", 0)
        self._pool: Any = None
        self.restarts = 0
        self._start()

    def _start(self) -> None:
        from concurrent.futures import ProcessPoolExecutor

        self._pool = ProcessPoolExecutor(max_workers=self.slots, mp_context=self._ctx, initializer=_local_init,
                                         initargs=(*self._args, self._counter, self._cancel))

    def submit(self, job: ItemJob) -> Any:
        from concurrent.futures import Future
        from concurrent.futures.process import BrokenProcessPool

        try:
            return self._pool.submit(_local_run, job)
        except BrokenProcessPool as exc:  # a worker died since the last wait: wait() sees it and restarts the pool
            lost: Future[Any] = Future()
            lost.set_exception(exc)
            return lost

    def wait(self, handles: list[Any], timeout: float) -> list[tuple[Any, ItemOutcome | _WorkerLost]]:
        from concurrent.futures import FIRST_COMPLETED
        from concurrent.futures import wait as fwait
        from concurrent.futures.process import BrokenProcessPool

        done, _ = fwait(handles, timeout=timeout, return_when=FIRST_COMPLETED)
        out: list[tuple[Any, ItemOutcome | _WorkerLost]] = []
        broken = False
        for f in done:
            try:
                out.append((f, f.result()))
            except BrokenProcessPool:
                broken = True
                out.append((f, _WorkerLost("its worker process died")))
        if broken:  # every item still in the pool is lost with it: a fresh pool takes them again
            for f in handles:
                if f not in done:
                    out.append((f, _WorkerLost("its worker process died")))
            self._pool.shutdown(wait=True, cancel_futures=True)
            self.restarts += 1
            self._start()
        return out

    def cancel(self) -> None:
        self._cancel.set()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


_LOCAL_STATE: WorkerState | None = None


def _local_init(ws_root: str, settings: BatchSettings, targets: list[Target], out: str, counter: Any,
                event: Any) -> None:
    global _LOCAL_STATE
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's: it cancels through the shared event
    with counter.get_lock():
        core = int(counter.value)
        counter.value += 1
    _LOCAL_STATE = open_worker(ws_root, settings, targets, out, core=core, cancel=_SharedCancel(event))


def _local_run(job: ItemJob) -> ItemOutcome:
    assert _LOCAL_STATE is not None, "the worker was not initialised"
    return process_item(_LOCAL_STATE, job)


class _RayEngine:
    """The same :func:`process_item` in Ray actors (one encoder each); ``address`` None starts a local cluster
    of ``workers`` CPUs, which :meth:`close` shuts down."""

    def __init__(self, ws_root: Path, settings: BatchSettings, targets: list[Target], out: Path,
                 workers: int | None, address: str | None) -> None:
        try:
            import ray
        except ImportError as exc:
            raise BatchError("The Ray engine needs Ray: pip install 'generec-desktop[ray]' (or use --engine local)."
                             ) from exc
        self._ray = ray
        self._own = not ray.is_initialized()
        if self._own:
            kw: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
            if address:
                ray.init(address=address, **kw)
            else:
                ray.init(num_cpus=workers or 2, object_store_memory=256 * 1024 * 1024, **kw)
        cpus = int(ray.cluster_resources().get("CPU", 1))  # type: ignore[no-untyped-call]
        self.slots = max(1, min(workers or cpus, cpus))
        self.restarts = 0

        @ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)
        class BatchWorker:  # one per slot; process_item is the same function the local workers run
            def __init__(self, ws_root: str, settings: BatchSettings, targets: list[Target], out: str,
                         core: int) -> None:
                self.state = open_worker(ws_root, settings, targets, out, core=core)

            def run(self, job: ItemJob) -> ItemOutcome:
                return process_item(self.state, job)

            def pid(self) -> int:
                return os.getpid()

        self._cls = BatchWorker
        self._targets_ref = ray.put(targets)
        self._args = (str(ws_root), settings, str(out))
        self._pid_refs: dict[int, Any] = {}
        self._actors: list[Any] = [self._new(k) for k in range(self.slots)]
        self._free = list(range(self.slots))
        self._slot_of: dict[Any, int] = {}

    def _new(self, k: int) -> Any:
        ws_root, settings, out = self._args
        actor = self._cls.remote(ws_root, settings, self._targets_ref, out, k)  # type: ignore[attr-defined]
        self._pid_refs[k] = actor.pid.remote()  # runs before its first item (an actor's calls are ordered)
        return actor

    def worker_pids(self) -> list[int]:
        """The actors' process ids (tests kill one)."""
        return [int(p) for p in self._ray.get([self._pid_refs[k] for k in range(len(self._actors))])]

    def submit(self, job: ItemJob) -> Any:
        k = self._free.pop(0)
        ref = self._actors[k].run.remote(job)
        self._slot_of[ref] = k
        return ref

    def wait(self, handles: list[Any], timeout: float) -> list[tuple[Any, ItemOutcome | _WorkerLost]]:
        ray = self._ray
        ready, _ = ray.wait(handles, num_returns=1, timeout=timeout)
        out: list[tuple[Any, ItemOutcome | _WorkerLost]] = []
        for ref in ready:
            k = self._slot_of.pop(ref)
            try:
                out.append((ref, ray.get(ref)))
            except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError,
                    ray.exceptions.ObjectLostError) as exc:
                out.append((ref, _WorkerLost(f"its Ray worker died ({type(exc).__name__})")))
                with contextlib.suppress(Exception):
                    ray.kill(self._actors[k])
                self._actors[k] = self._new(k)  # a fresh actor (a fresh encoder) takes the slot
                self.restarts += 1
            self._free.append(k)
        return out

    def cancel(self) -> None:  # in-flight items finish (seconds each); nothing new starts
        pass

    def close(self) -> None:
        for a in self._actors:
            with contextlib.suppress(Exception):
                self._ray.kill(a)
        self._actors = []
        if self._own:
            self._ray.shutdown()


# ----------------------------------------------------------------------------------------------- the driver


def _eta(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _existing_versions(ws: Workspace, batch_id: str) -> dict[tuple[int, str], str]:
    """The pending versions this batch made before (a crash between a version and its journal line)."""
    from generec_desktop.fidelity.export import list_pending

    out: dict[tuple[int, str], str] = {}
    for pv in list_pending(ws):
        p = pv.params or {}
        if p.get("batch") == batch_id and pv.parent_id is not None and isinstance(p.get("key"), str):
            out[(int(pv.parent_id), str(p["key"]))] = pv.id
    return out


def _make_versions(ws: Workspace, out: Path, batch_id: str, outcome: ItemOutcome, known: dict[tuple[int, str], str],
                   settings: BatchSettings) -> tuple[list[dict[str, Any]], int]:
    """One pending version per distinct thumbnail / clip of the item (found again by its key on a rerun)."""
    from generec_desktop.fidelity.export import create_pending
    from generec_desktop.profiles.service import describe_audience

    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in outcome.rows:
        if r.get("status") != "ok":
            continue
        if r.get("thumbnail_path") and "thumbnails" in settings.what:
            groups.setdefault(("thumbnail", str(r["thumbnail_path"])), []).append(r)
        if r.get("clip_path"):
            groups.setdefault(("clip", str(r["clip_path"])), []).append(r)
    made: list[dict[str, Any]] = []
    created = 0
    item = outcome.item_id
    for (kind, rel), rows in groups.items():
        key = f"{kind}:{rel}"
        vid = known.get((item, key))
        if vid is None:
            auds = [str(r["audience_id"]) for r in rows]
            first = rows[0]
            who = describe_audience(ws, auds[0]) + (f" and {len(auds) - 1} more" if len(auds) > 1 else "")
            common = {"batch": batch_id, "key": key, "audiences": auds, "encoder_id": settings.encoder_id}
            if kind == "thumbnail":
                pv = create_pending(ws, out / rel, operation="thumbnail", parent_id=item,
                                    params={**common, "timestamp": first["thumbnail_time"],
                                            "score": first["thumbnail_score"], "kind": "selected"},
                                    target_profile=auds[0] if len(auds) == 1 else None,
                                    models=[{"id": settings.encoder_id}],
                                    title=f"Thumbnail of #{item} for {who} (batch)")
            else:
                start, end = float(first["clip_start"]), float(first["clip_end"])
                pv = create_pending(ws, out / rel, operation="clip", parent_id=item,
                                    params={**common, "start": start, "end": end, "reframe": None,
                                            "score": first["clip_score"]},
                                    target_profile=auds[0] if len(auds) == 1 else None, time_offset=start,
                                    models=[{"id": settings.encoder_id}],
                                    title=f"Clip of #{item} for {who} ({start:.2f}–{end:.2f} s, batch)")
            vid = pv.id
            known[(item, key)] = vid
            created += 1
        for r in rows:
            made.append({"audience_id": str(r["audience_id"]), "kind": kind, "version_id": vid, "key": key})
    return made, created


def default_workers(engine: str) -> int:
    """Local: one worker per core this process may use; Ray's local cluster: 2 (kept small)."""
    if engine == "ray":
        return 2
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover
        return max(1, os.cpu_count() or 1)


def run_batch(
    workspace: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    items: str | Sequence[int] = "all",
    audiences: str | Sequence[Target] = "all",
    what: Sequence[str] = ("thumbnails", "clips"),
    engine: str = "local",
    workers: int | None = None,
    address: str | None = None,
    encoder: str | None = None,
    rate: float | None = None,
    clip_frames: int | None = None,
    min_clip: float = 1.0,
    max_clip: float = 60.0,
    diversity: float | str = "auto",
    versions: bool = True,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    on_engine: Callable[[Any], None] | None = None,
) -> BatchResult:
    """Personalise ``items`` for ``audiences`` into ``out`` (see the module docstring); resumable.

    ``items``: ``"all"``, ``"3,4,demo-007"`` or a query (:func:`select_items`), or item ids. ``audiences``:
    ``"all"``, ``"segments"``, ids / names (:func:`select_audiences`), or :class:`Target` s (vectors in
    ``encoder``'s space). ``what``: thumbnails, clips, artwork. ``engine``: ``local`` (``workers``
    processes, default one per core) or ``ray`` (``address`` None: a local cluster of ``workers`` CPUs,
    default 2). ``versions``: register each distinct output as a pending version. ``on_engine`` sees the
    engine once it runs (tests use it to kill a worker).
    """
    from generec_desktop.editor.personalize.analysis import DEFAULT_RATE
    from generec_desktop.editor.personalize.clips import DEFAULT_CLIP_FRAMES
    from generec_desktop.versions.workflow import open_workspace

    t0 = time.perf_counter()
    what_t = tuple(dict.fromkeys(w.strip().lower() for w in what if w.strip()))
    bad = [w for w in what_t if w not in WHAT]
    if bad or not what_t:
        raise BatchError(f"Unknown --what {', '.join(bad) or '(nothing)'}; use thumbnails, clips and/or artwork.")
    if "artwork" in what_t:
        artwork_available()
    if engine not in ENGINES:
        raise BatchError(f"Unknown engine {engine!r}; use local or ray.")
    if workers is not None and workers < 1:
        raise BatchError("--workers must be at least 1.")
    if address and engine != "ray":
        raise BatchError("--address joins a Ray cluster; give it with --engine ray.")
    try:
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise BatchError("The batch writes Parquet tables: pip install 'generec-desktop[parquet]'.") from exc
    out_dir = Path(out).absolute()
    ws = open_workspace(workspace)
    folder: _Folder | None = None
    eng: _LocalEngine | _RayEngine | None = None
    try:
        _check_out(ws.root, out_dir)
        infos = (select_items(ws, items) if isinstance(items, str)
                 else [ws.item(int(i)) for i in dict.fromkeys(items)])
        if isinstance(audiences, str):
            encoder_id, targets = select_audiences(ws, audiences, encoder_id=encoder)
        else:
            targets = list(audiences)
            if not targets:
                raise BatchError("Give at least one audience.")
            encoder_id = encoder or "builtin"
        if encoder_id is not None and not isinstance(audiences, str):
            from generec_desktop.encoders import get_encoder

            encoder_id = get_encoder(encoder_id, workspace_root=ws.root).id
        settings = BatchSettings(encoder_id, what_t, float(rate or DEFAULT_RATE),
                                 int(clip_frames or DEFAULT_CLIP_FRAMES), float(min_clip), float(max_clip), diversity)
        folder = _Folder(out_dir, ws.root, settings)
        folder.open()
        done = folder.finished()
        index = {t.id: k for k, t in enumerate(targets)}
        jobs: list[ItemJob] = []
        skipped = 0
        for it in infos:
            have = done.get(it.id, set())
            need = tuple(index[t.id] for t in targets if t.id not in have)
            skipped += len(targets) - len(need)
            if need:
                jobs.append(ItemJob(it.id, it.external_id, need))
        pairs_total = len(infos) * len(targets)
        known = _existing_versions(ws, folder.batch_id) if versions else {}
        run_id = uuid.uuid4().hex[:8]
        n_workers = workers or default_workers(engine)
        res = BatchResult(out_dir, folder.batch_id, engine, 0, len(infos), pairs_total, skipped, 0, 0, 0, 0, skipped,
                          0, 0, 0.0)
        todo_pairs = sum(len(j.audiences) for j in jobs)
        report(progress, 0.0, f"{skipped}/{pairs_total} pairs done before; {len(jobs)} items to go")
        if jobs:
            eng = (_LocalEngine(ws.root, settings, targets, out_dir, min(n_workers, len(jobs))) if engine == "local"
                   else _RayEngine(ws.root, settings, targets, out_dir, n_workers, address))
            res.workers = eng.slots
            if on_engine is not None:
                on_engine(eng)
            stopped = _drive(eng, jobs, ws, folder, settings, known, res, run_id, engine, todo_pairs, versions,
                             progress, cancel)
        else:
            stopped = False
        res.tables = folder.consolidate()
        res.pairs_finished = _finished_in(folder, infos, targets)
        res.seconds = time.perf_counter() - t0
        if stopped and res.pairs_done < todo_pairs:
            raise BatchCancelled(res)
        report(progress, 1.0, f"{res.pairs_finished}/{pairs_total} pairs done, {res.pairs_failed} failed")
        return res
    finally:
        if eng is not None:
            eng.close()
        if folder is not None:
            folder.close()
        ws.close()


def _finished_in(folder: _Folder, infos: Sequence[ItemInfo], targets: Sequence[Target]) -> int:
    done = folder.finished()
    ids = {t.id for t in targets}
    return sum(len(done.get(it.id, set()) & ids) for it in infos)


def _check_out(ws_root: Path, out: Path) -> None:
    root = ws_root.resolve()
    o = out.resolve()
    if o == root:
        raise BatchError("Give --out a folder of its own, not the workspace.")
    for sub in ("media", "versions", "covers", "pending", "cache", "provenance", "journal", "quarantine",
                "backups", "models"):
        if o == root / sub or (root / sub) in o.parents:
            raise BatchError(f"--out is inside the workspace's {sub}/ folder; give a folder of its own.")


def _drive(eng: _LocalEngine | _RayEngine, jobs: list[ItemJob], ws: Workspace, folder: _Folder,
           settings: BatchSettings, known: dict[tuple[int, str], str], res: BatchResult, run_id: str, engine: str,
           todo_pairs: int, versions: bool, progress: Progress | None, cancel: CancelToken | None) -> bool:
    """Keep ``eng.slots`` items in flight; record each outcome as it comes; give lost items to a fresh worker.
    Returns whether a cancel stopped it."""
    queue = list(jobs)
    attempts: dict[int, int] = {}
    running: dict[Any, ItemJob] = {}
    pairs_now = 0
    t_start = time.perf_counter()
    cancelled = False
    while queue or running:
        if not cancelled and cancel is not None and cancel.cancelled:
            cancelled = True
            eng.cancel()
            queue.clear()
        while queue and len(running) < eng.slots:
            job = queue.pop(0)
            attempts[job.item_id] = attempts.get(job.item_id, 0) + 1
            running[eng.submit(job)] = job
        if not running:
            break
        for handle, got in eng.wait(list(running), 0.5):
            job = running.pop(handle)
            if isinstance(got, _WorkerLost):
                if cancelled:
                    continue
                if attempts[job.item_id] < MAX_ATTEMPTS:
                    queue.insert(0, job)
                    continue
                msg = (f"The worker processing this item died {MAX_ATTEMPTS} times ({got}); the video may need more "
                       "memory than a worker has.")
                got = ItemOutcome(job.item_id, [
                    {"item_id": job.item_id, "item_external_id": job.external_id, "audience_id": eng_t.id,
                     "audience_label": eng_t.label, "status": "error", "error": msg,
                     "encoder_id": settings.encoder_id, "parameters": settings.parameters_json()}
                    for eng_t in (_targets_of(eng, job))], 0.0, 0, "", float("nan"), error=msg)
            if got.cancelled:
                continue
            _record(ws, folder, settings, known, res, run_id, engine, got, attempts[job.item_id], versions)
            pairs_now += len(got.rows)
            elapsed = time.perf_counter() - t_start
            eta = elapsed / pairs_now * (todo_pairs - pairs_now) if pairs_now else 0.0
            report(progress, pairs_now / max(1, todo_pairs),
                   f"{res.items_done}/{len(jobs)} items, {res.pairs_skipped + pairs_now}/{res.pairs_total} pairs, "
                   f"{res.pairs_failed} failed, ETA {_eta(eta)}")
    res.worker_restarts = eng.restarts
    return cancelled


def _targets_of(eng: _LocalEngine | _RayEngine, job: ItemJob) -> list[Target]:
    targets: list[Target] = eng._args[2] if isinstance(eng, _LocalEngine) else eng._ray.get(eng._targets_ref)
    return [targets[i] for i in job.audiences]


def _record(ws: Workspace, folder: _Folder, settings: BatchSettings, known: dict[tuple[int, str], str],
            res: BatchResult, run_id: str, engine: str, got: ItemOutcome, attempt: int, versions: bool) -> None:
    """Versions, then the part file, then the journal line (the pair is finished when that line is there)."""
    made: list[dict[str, Any]] = []
    if versions:
        made, created = _make_versions(ws, folder.out, folder.batch_id, got, known, settings)
        res.versions_created += created
    if "artwork" in settings.what:
        from generec_desktop.fidelity.artwork import ArtworkError

        for r in got.rows:
            if r.get("status") == "ok" and r.get("thumbnail_path"):
                try:
                    r["artwork_path"] = store_artwork(
                        ws, got.item_id, str(r["audience_id"]), str(r["audience_label"]),
                        folder.out / str(r["thumbnail_path"]), timestamp=r.get("thumbnail_time"),
                        score=r.get("thumbnail_score"), params=settings.parameters())
                except ArtworkError as exc:  # this pair's artwork only (too small, too flat): say so, go on
                    r["status"], r["error"] = "error", f"artwork not stored: {exc}"
    part = folder.write_part(got.item_id, got.rows)
    ok = [str(r["audience_id"]) for r in got.rows if r.get("status") == "ok"]
    failed = [str(r["audience_id"]) for r in got.rows if r.get("status") != "ok"]
    stats = {"run": run_id, "engine": engine, "status": "error" if got.error else "ok", "pairs": len(got.rows),
             "seconds": round(got.seconds, 4), "pid": got.pid, "host": got.host,
             "max_rss_mb": round(got.max_rss_mb, 1) if got.max_rss_mb == got.max_rss_mb else None,
             "analysis_from_cache": got.from_cache, "attempts": attempt}
    folder.append({"item": got.item_id, "part": part, "ok": ok, "failed": failed, "versions": made, "stats": stats})
    res.pairs_done += len(got.rows)
    res.pairs_failed += len(failed)
    res.items_done += 1
    if got.error:
        res.items_failed += 1
        res.errors.append(f"item {got.item_id}: {got.error}")

