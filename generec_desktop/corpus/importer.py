"""What comes into a workspace's library: video files (content-addressed copies in ``media/`` with a
cover, one committed row each), users and interactions in bulk.

:class:`~generec_desktop.corpus.workspace.Workspace` delegates ``import_media``, ``add_users`` and
``add_interactions`` here; the file safety rules are the workspace's (see its module docstring).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from generec_desktop.corpus import files
from generec_desktop.corpus.cover import choose_cover, write_jpeg
from generec_desktop.corpus.errors import CorpusError
from generec_desktop.corpus.records import ImportedFile, ImportResult, ItemInfo, UserInfo
from generec_desktop.corpus.schema import Interaction, Item, User
from generec_desktop.jobs import CancelToken, Progress, check_cancel, report, sub_progress
from generec_desktop.safefiles import temp_path

if TYPE_CHECKING:
    from generec_desktop.corpus.workspace import Workspace
    from generec_desktop.media import MediaInfo

__all__ = ["add_interactions", "add_users", "find_original", "import_media"]

_BATCH = 5000


def _check_text(value: str, what: str) -> None:
    """Refuse control characters (NUL above all) in ids and names: they are invisible, truncate in C
    libraries and other tools, and make two different ids look the same."""
    bad = next((c for c in value if ord(c) < 32 or ord(c) == 127), None)
    if bad is not None:
        raise CorpusError(f"The {what} {value!r} contains the control character {bad!r} (code {ord(bad)}); "
                          "fix the input file and import it again. Nothing was added.")


def _as_utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise CorpusError("Interaction timestamps must be timezone-aware datetimes or epoch seconds.")
        return value
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise CorpusError(f"Interaction timestamp {value!r} is neither a datetime nor epoch seconds.") from exc


def import_media(
    ws: Workspace,
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    owner: str | None = None,
    licence: str | None = None,
    title: str | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> ImportResult:
    """Import video files as ``human`` items (a job: progress + cancel).

    Every file is validated first (exists, is a file, probes as a video), so bad input raises
    before anything is written. Each file is then copied content-addressed into ``media/`` and
    committed on its own; re-importing the same content is a no-op returning the existing item.
    """
    from generec_desktop.media import probe

    ws._require_writable()
    start = time.perf_counter()
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    sources = [Path(p) for p in paths]
    if not sources:
        raise CorpusError("No files to import; give one or more video files.")
    infos = []
    for i, path in enumerate(sources):
        check_cancel(cancel)
        files.check_input_file(path)
        infos.append(probe(path))
        report(progress, 0.05 * (i + 1) / len(sources), f"Checked {path.name}")
    done: list[ImportedFile] = []
    for i, (path, info) in enumerate(zip(sources, infos)):
        check_cancel(cancel)
        sub = sub_progress(progress, 0.05 + 0.95 * i / len(sources), 0.05 + 0.95 * (i + 1) / len(sources))
        done.append(_import_one(ws, path, info, owner=owner, licence=licence, title=title, progress=sub,
                                cancel=cancel))
    report(progress, 1.0, f"Imported {len(sources)} file(s)")
    return ImportResult(done, time.perf_counter() - start)


def find_original(s: Session, sha: str) -> Item | None:
    """The first original (``human`` item) with content ``sha``, if any."""
    return s.scalars(select(Item).where(Item.sha256 == sha, Item.kind == "human")
                     .order_by(Item.id).limit(1)).first()


def _import_one(ws: Workspace, path: Path, info: MediaInfo, *, owner: str | None, licence: str | None,
                title: str | None, progress: Progress | None, cancel: CancelToken | None) -> ImportedFile:
    suffix = path.suffix.lower() or "." + info.container.split(",")[0]
    tmp = temp_path(ws.media_dir, suffix)
    created: list[Path] = []
    try:
        sha, size = files.copy_hashing(path, tmp, cancel, sub_progress(progress, 0.0, 0.5))
        with ws.read_session() as s:
            existing = find_original(s, sha)
            if existing is not None:
                return ImportedFile(path, ItemInfo.from_row(existing), new=False)
        check_cancel(cancel)
        report(progress, 0.55, "Choosing a cover")
        cover_rel = f"covers/{sha}.jpg"
        cover = ws.root / cover_rel
        if not cover.exists():
            write_jpeg(choose_cover(tmp, info.duration, info.has_cover), cover)
            created.append(cover)
        check_cancel(cancel)
        final = ws.media_dir / sha[:2] / f"{sha}{suffix}"
        files.make_read_only(tmp)
        with ws.session() as s:
            row = Item(
                kind="human", sha256=sha, stored_path=ws._rel(final), original_name=path.name,
                title=title or path.stem, duration=info.duration, width=info.width,
                height=info.height, fps=info.fps, frame_count=info.frame_count, file_size=size,
                has_audio=info.has_audio, cover_path=cover_rel, owner=owner, author=owner,
                licence=licence, created_at=datetime.now(UTC),
                media_warnings_json=list(getattr(info, "warnings", ())) or None,
            )
            s.add(row)
            s.flush()
            final.parent.mkdir(exist_ok=True)
            files.place_before_commit(tmp, final, created)
            result = ItemInfo.from_row(row)
        report(progress, 1.0, f"Imported {path.name}")
        return ImportedFile(path, result, new=True)
    except IntegrityError:
        # Another process imported the same bytes between our lookup and our commit: its row
        # references the same (identical) files, so keep them and return its item.
        files.cleanup(ws, created)
        with ws.session() as s:
            existing = find_original(s, sha)
            if existing is None:
                raise
            return ImportedFile(path, ItemInfo.from_row(existing), new=False)
    except BaseException:
        files.cleanup(ws, created)
        raise
    finally:
        files.unlink(tmp)


def add_users(ws: Workspace, users: Iterable[str | Mapping[str, Any]]) -> list[UserInfo]:
    """Add users given as external ids or ``{"external_id", "name"}`` mappings, in bulk.

    Users that already exist (same external id) are kept as they are. Returns every given user
    in input order (duplicates collapsed).
    """
    ws._require_writable()
    wanted: dict[str, str | None] = {}
    for u in users:
        if isinstance(u, str):
            ext, name = u, None
        else:
            if "external_id" not in u:
                raise CorpusError("Each user needs an 'external_id'.")
            ext, name = str(u["external_id"]), u.get("name")
        if not ext:
            raise CorpusError("A user's external id must not be empty.")
        _check_text(ext, "user id")
        if name is not None:
            _check_text(str(name), "user name")
        wanted.setdefault(ext, name)
    keys = list(wanted)
    with ws.session() as s:
        found: dict[str, User] = {}
        for i in range(0, len(keys), 500):
            for row in s.scalars(select(User).where(User.external_id.in_(keys[i:i + 500]))):
                found[row.external_id] = row
        now = datetime.now(UTC)
        new = [{"external_id": k, "name": wanted[k], "created_at": now} for k in keys if k not in found]
        for i in range(0, len(new), _BATCH):
            s.execute(insert(User), new[i:i + _BATCH])
        result: dict[str, UserInfo] = {}
        for i in range(0, len(keys), 500):
            for row in s.scalars(select(User).where(User.external_id.in_(keys[i:i + 500]))):
                result[row.external_id] = UserInfo(row.id, row.external_id, row.name, row.created_at)
    return [result[k] for k in keys]


def add_interactions(ws: Workspace, rows: Iterable[Sequence[Any] | Mapping[str, Any]]) -> int:
    """Add interactions in bulk, in one transaction; return how many.

    A row is ``(user_id, item_id[, timestamp[, weight]])`` or a mapping with ``user_id`` or
    ``user_external_id``, ``item_id`` or ``item_external_id``, optional ``timestamp``
    (aware datetime or epoch seconds) and ``weight`` (default 1.0).
    """
    def _lookup(s: Session, model: type[User] | type[Item], ext: str, cache: dict[str, int]) -> int:
        if ext not in cache:
            _check_text(ext, "user id" if model is User else "item id")
            found = s.scalar(select(model.id).where(model.external_id == ext))
            if found is None:
                what = "user" if model is User else "item"
                raise CorpusError(f"No {what} with external id {ext!r}; add it before its interactions.")
            cache[ext] = found
        return cache[ext]

    ws._require_writable()
    users: dict[str, int] = {}
    items: dict[str, int] = {}
    count = 0
    try:
        with ws.session() as s:
            batch: list[dict[str, Any]] = []
            for row in rows:
                if isinstance(row, Mapping):
                    uid = row.get("user_id")
                    if uid is None:
                        uid = _lookup(s, User, str(row["user_external_id"]), users)
                    iid = row.get("item_id")
                    if iid is None:
                        iid = _lookup(s, Item, str(row["item_external_id"]), items)
                    ts, weight = row.get("timestamp"), row.get("weight", 1.0)
                else:
                    uid, iid = row[0], row[1]
                    ts = row[2] if len(row) > 2 else None
                    weight = row[3] if len(row) > 3 else 1.0
                batch.append({"user_id": int(uid), "item_id": int(iid), "timestamp": _as_utc(ts),
                              "weight": float(1.0 if weight is None else weight)})
                if len(batch) >= _BATCH:
                    s.execute(insert(Interaction), batch)
                    count += len(batch)
                    batch = []
            if batch:
                s.execute(insert(Interaction), batch)
                count += len(batch)
    except KeyError as exc:
        raise CorpusError(f"An interaction row lacks {exc.args[0]!r}.") from exc
    except IntegrityError as exc:
        raise CorpusError("An interaction refers to a user or item that does not exist; "
                          "add users and items first.") from exc
    return count
