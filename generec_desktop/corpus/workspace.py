"""The workspace: a folder with a database, content-addressed media, covers and exported versions.

File safety rules, all enforced here (and in :mod:`.recovery`):

* every file is written under a journaled temporary name (:func:`generec_desktop.safefiles.temp_path`)
  in its destination folder, fsynced, made read-only, and renamed into place *inside* the database
  transaction that adds its row, just before the commit (the rename is journaled too); any failure
  removes what this call created;
* after a hard crash, :meth:`Workspace.recover` (run at every open) removes exactly what the dead
  process journaled; any other file no row references is moved to ``quarantine/``, never deleted;
* a missing, empty or damaged database over a workspace that holds files is refused at open, and a
  read-only folder opens read-only (listing, viewing and checking work; writing says why it cannot).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import stat
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from generec_desktop import safefiles
from generec_desktop.corpus import migrations, recovery
from generec_desktop.corpus.cover import choose_cover, write_jpeg
from generec_desktop.corpus.database import (
    READ_ONLY_OPTION,
    WorkspaceLockedError,
    WorkspaceReadOnlyError,
    is_server_url,
    make_engine,
    public_url,
    server_url,
    stored_url,
    writable,
)
from generec_desktop.corpus.errors import CorpusError, VerificationError, WorkspaceError
from generec_desktop.corpus.records import (
    ImportedFile,
    ImportResult,
    IntegrityReport,
    InteractionInfo,
    ItemInfo,
    LineageInfo,
    UserInfo,
)
from generec_desktop.corpus.schema import ITEM_KINDS, Interaction, Item, Lineage, User
from generec_desktop.jobs import CancelToken, Progress, check_cancel, report, sub_progress
from generec_desktop.safefiles import TEMP_PREFIX, file_sha256, record_final_target, temp_path

if TYPE_CHECKING:
    import numpy as np

    from generec_desktop.media import MediaInfo

__all__ = ["TEMP_PREFIX", "Workspace", "WorkspaceLockedError", "WorkspaceReadOnlyError", "file_sha256"]

WORKSPACE_FORMAT = "generec-workspace"
WORKSPACE_VERSION = 1
DB_NAME = "generec.sqlite"
ORPHAN_GRACE_S = 300.0
_CHUNK = 1 << 20
_BATCH = 5000
_ORIGINAL_NAME = re.compile(r"[0-9a-f]{64}(\.[A-Za-z0-9]+)?")
log = logging.getLogger("generec")


# --------------------------------------------------------------------------- file helpers

def _temp_name(suffix: str = "") -> str:
    """A temporary file name (not journaled: prefer :func:`generec_desktop.safefiles.temp_path`)."""
    return safefiles.temp_name(suffix)


_fsync_dir = safefiles.fsync_dir
_fsync_file = safefiles.fsync_file


def _unlink(path: Path) -> None:
    """Remove a (possibly read-only) file if present."""
    try:
        path.unlink()
    except FileNotFoundError:
        return
    except PermissionError:  # Windows refuses to delete read-only files
        os.chmod(path, stat.S_IWRITE)
        path.unlink(missing_ok=True)


def _make_read_only(path: Path) -> None:
    os.chmod(path, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)


def _copy_hashing(src: Path, dst: Path, cancel: CancelToken | None,
                  progress: Progress | None = None) -> tuple[str, int]:
    """Copy ``src`` to a new file ``dst`` while hashing it; fsync; return (sha256, size).

    Hand-written because shutil.copyfile cannot hash on the way, and reading a large video twice
    (hash, then copy) costs a second full read.
    """
    digest = hashlib.sha256()
    size, total = 0, max(1, src.stat().st_size)
    with open(src, "rb") as fin, open(dst, "xb") as fout:
        while chunk := fin.read(_CHUNK):
            check_cancel(cancel)
            digest.update(chunk)
            fout.write(chunk)
            size += len(chunk)
            report(progress, size / total, "Copying")
        fout.flush()
        os.fsync(fout.fileno())
    return digest.hexdigest(), size


def _check_input_file(path: Path) -> None:
    if not path.exists():
        raise CorpusError(f"{path} does not exist; check the path.")
    if path.is_dir():
        raise CorpusError(f"{path} is a folder, not a video file; give the video files inside it.")
    if not path.is_file():
        raise CorpusError(f"{path} is not a regular file; give a video file.")


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


# --------------------------------------------------------------------------- workspace

class Workspace:
    """A workspace folder (see docs/ARCHITECTURE.md, corpus). Use :meth:`create`, :meth:`open`
    or :meth:`open_or_create`; close with :meth:`close` (or use it as a context manager)."""

    def __init__(self, root: Path, *, db_url: str | None = None, read_only: bool | None = None) -> None:
        """Open an existing workspace folder (prefer :meth:`open`); checks, migrates and recovers.

        A SQLite database that is missing, empty or damaged while the folder holds files is refused
        (:class:`WorkspaceError`, nothing changed). ``read_only`` (default: when the folder or the
        database cannot be written) opens it for listing, viewing and checking only.
        """
        self.root = Path(root).resolve()
        self.media_dir = self.root / "media"
        self.covers_dir = self.root / "covers"
        self.versions_dir = self.root / "versions"
        self.cache_dir = self.root / "cache"
        self.models_dir = self.root / "models"
        self.db_path: Path | None = self.root / DB_NAME
        self.db_url = f"sqlite:///{self.root / DB_NAME}"
        if is_server_url(db_url):  # a shared corpus on PostgreSQL: no database file here
            self.db_path, self.db_url = None, server_url(str(db_url))
        elif db_url:  # an SQLite file elsewhere: checked, backed up and recovered like the default one
            database = make_url(db_url).database
            self.db_path = Path(database).resolve() if database and database != ":memory:" else None
            self.db_url = db_url
        self.last_recovery: recovery.RecoveryReport = recovery.RecoveryReport()
        if self.db_path is not None:
            recovery.guard_database(self.root, self.db_path)
            if read_only is None:
                read_only = not writable(self.root, self.db_path)
        elif read_only is None:  # a server database: the folder decides (its files cannot be written)
            read_only = not writable(self.root, self.root / "workspace.json")
        self.read_only = bool(read_only)
        if self.read_only and self.db_path is None:
            self.engine = make_engine(self.db_url, read_only=True)
        elif self.read_only:
            if not self.db_path.is_file():
                raise WorkspaceReadOnlyError(f"{self.root} is read-only and has no catalogue yet; open it "
                                             "from a folder you can write to.")
            url = f"sqlite:///file:{self.db_path.as_posix()}?mode=ro&uri=true"
            shm = self.db_path.with_name(self.db_path.name + "-shm")
            if not os.access(self.db_path.parent, os.W_OK) and not shm.exists():
                url += "&immutable=1"  # no WAL index can be made in a read-only folder: read the file as is
            self.engine = make_engine(url, read_only=True)
        else:
            for d in (self.media_dir, self.covers_dir, self.versions_dir, self.cache_dir, self.models_dir):
                d.mkdir(exist_ok=True)
            self.engine = make_engine(self.db_url)
        self._journaling = False
        try:
            self._migrate()
            self._sessions = sessionmaker(self.engine, expire_on_commit=False)
            self._read_sessions = sessionmaker(self.engine.execution_options(**{READ_ONLY_OPTION: True}),
                                               expire_on_commit=False)
            if not self.read_only:
                self._guard_lost_catalogue()
                safefiles.open_journal(self.root)
                self._journaling = True
                self.last_recovery = self.recover()
        except BaseException:
            self.close()
            raise

    def _reading(self) -> Engine:
        """The engine for reads that must never wait for (or take) the write lock."""
        return self.engine.execution_options(**{READ_ONLY_OPTION: True})

    def _require_writable(self) -> None:
        if self.read_only:
            raise WorkspaceReadOnlyError(f"{self.root} is read-only (folder or disk permissions); listing, viewing "
                                         "and checking work, but this changes it: make it writable or copy it.")

    def _migrate(self) -> None:
        with self._reading().connect() as conn:
            have = migrations.current_version(conn)
        if have == migrations.latest_version():
            return
        if have > migrations.latest_version():
            migrations.migrate(self.engine)  # raises SchemaVersionError, changes nothing
        if self.read_only:
            raise WorkspaceReadOnlyError(f"{self.root} was made by an older GeneRec Desktop and must be upgraded, "
                                         "but it is read-only; make it writable (or copy it) and open it again.")
        if have > 0 and self.db_path is not None:
            recovery.backup_database(self.db_path, self.root, reason=f"before-schema-{have}-to-"
                                     f"{migrations.latest_version()}")
        elif have > 0:  # PostgreSQL: the whole upgrade is one transaction (DDL included), so a failure
            # changes nothing; a copy beforehand is the server's job (pg_dump), not a file in backups/
            log.info("Upgrading the shared corpus %s from schema %d to %d in one transaction.",
                     public_url(self.db_url), have, migrations.latest_version())
        migrations.migrate(self.engine)

    def _guard_lost_catalogue(self) -> None:
        """Refuse a catalogue with no items over a ``media/`` that holds originals (a replaced or emptied
        database, or a server URL that names the wrong database: recovery would otherwise quarantine every
        original); the app's own crashed first import (journaled by a dead process) does not count."""
        with self.read_session() as s:
            if s.scalar(select(Item.id).limit(1)) is not None:
                return
        ours = {e.rel for j in safefiles.dead_journals(self.root) for e in safefiles.read_journal(j)}
        originals = [p for p in recovery.walk_files(self.media_dir)
                     if _ORIGINAL_NAME.fullmatch(p.name) and p.relative_to(self.root).as_posix() not in ours]
        if originals and self.db_path is None:
            raise WorkspaceError(f"The database {public_url(self.db_url)} lists no items, but media/ of {self.root} "
                                 f"holds {len(originals)} original(s): is it the wrong database (check the "
                                 "\"database\" URL in workspace.json), or was it emptied (restore it with "
                                 "pg_restore from your dump)? Nothing was changed.")
        if originals:
            raise WorkspaceError(f"The catalogue {DB_NAME} of {self.root} lists no items, but media/ holds "
                                 f"{len(originals)} original(s): the database was replaced or emptied; "
                                 + recovery.restore_hint(self.root))

    # ---- lifecycle

    @classmethod
    def create(cls, path: str | os.PathLike[str], *, db_url: str | None = None) -> Workspace:
        """Make a new workspace in ``path`` (absent or an empty folder)."""
        root = Path(path)
        if root.exists() and not root.is_dir():
            raise WorkspaceError(f"{root} is a file; give a folder for the new workspace.")
        if (root / "workspace.json").exists():
            raise WorkspaceError(f"{root} is already a workspace; open it instead.")
        if root.exists() and any(root.iterdir()):
            raise WorkspaceError(f"{root} is not empty; give a new or empty folder for the workspace.")
        meta: dict[str, Any] = {"format": WORKSPACE_FORMAT, "version": WORKSPACE_VERSION,
                                "created": datetime.now(UTC).isoformat(timespec="seconds")}
        if is_server_url(db_url):
            # Recorded so that every later open (CLI, window) finds the shared corpus; the password is
            # never written to the folder (give it with PGPASSWORD or ~/.pgpass, as every libpq client).
            meta["database"] = stored_url(str(db_url))
        root.mkdir(parents=True, exist_ok=True)
        safefiles.atomic_write_json(root / "workspace.json", meta)
        return cls(root, db_url=db_url)

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, db_url: str | None = None) -> Workspace:
        """Open an existing workspace; :class:`WorkspaceError` if ``path`` is not one."""
        root = Path(path)
        meta_path = root / "workspace.json"
        if not root.is_dir():
            raise WorkspaceError(f"{root} does not exist or is not a folder; give a workspace folder.")
        if not meta_path.is_file():
            raise WorkspaceError(f"{root} is not a GeneRec workspace (no workspace.json); create one first.")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise WorkspaceError(f"{meta_path} is unreadable; restore it from a backup.") from exc
        if not isinstance(meta, dict) or meta.get("format") != WORKSPACE_FORMAT:
            raise WorkspaceError(f"{meta_path} does not describe a GeneRec workspace.")
        version = meta.get("version", 0)
        if isinstance(version, bool) or not isinstance(version, int):
            raise WorkspaceError(f"{meta_path} gives the version {version!r}, which is not a whole number; "
                                 f"set \"version\": {WORKSPACE_VERSION} (this GeneRec Desktop's) or restore the file.")
        if version > WORKSPACE_VERSION:
            raise WorkspaceError(f"{root} was made by a newer GeneRec Desktop; upgrade to open it.")
        if db_url is None and meta.get("database") is not None:
            stored = meta["database"]
            if not isinstance(stored, str) or not is_server_url(stored):
                raise WorkspaceError(f"{meta_path} names the database {stored!r}, which is not a PostgreSQL URL; "
                                     "fix it (postgresql://USER@HOST:5432/DATABASE) or remove the key.")
            db_url = stored
        return cls(root, db_url=db_url)

    @classmethod
    def open_or_create(cls, path: str | os.PathLike[str], *, db_url: str | None = None) -> Workspace:
        """Open ``path`` if it is a workspace, else create one there."""
        if (Path(path) / "workspace.json").exists():
            return cls.open(path, db_url=db_url)
        return cls.create(path, db_url=db_url)

    def close(self) -> None:
        """Checkpoint the write-ahead log, release database connections and this process's journal."""
        engine = getattr(self, "engine", None)
        if engine is not None:
            if not self.read_only and engine.dialect.name == "sqlite":
                try:  # on the raw connection: no transaction (a checkpoint cannot run inside one)
                    raw = engine.raw_connection()
                    try:
                        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    finally:
                        raw.close()
                except Exception as exc:  # another reader may hold the log; a later close checkpoints
                    log.debug("WAL checkpoint skipped: %s", exc)
            engine.dispose()
        if getattr(self, "_journaling", False):
            self._journaling = False
            safefiles.release_journal(self.root)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: commit on success, rollback on error (holds the write lock).

        On a read-only workspace it is a read session: reads work, and a write fails with the database's
        "readonly" error, which the CLI and the window turn into one plain sentence."""
        if self.read_only:
            with self._read_sessions.begin() as s:
                yield s
            return
        with self._sessions.begin() as s:
            yield s

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for reading only: never waits for writers (SQLite WAL); do not write in it."""
        with self._read_sessions.begin() as s:
            yield s

    def schema_version(self) -> int:
        """The schema version of the database."""
        with self._reading().connect() as conn:
            return migrations.current_version(conn)

    # ---- paths

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def _resolve_item(self, item: ItemInfo | int) -> ItemInfo:
        return self.item(item) if isinstance(item, int) else item

    def media_path(self, item: ItemInfo | int) -> Path:
        """Absolute path of an item's video file; :class:`CorpusError` if the catalogue's path would
        leave the workspace (``..``, absolute, a symbolic link inside a managed folder)."""
        it = self._resolve_item(item)
        return recovery.contained(self.root, it.stored_path, what=f"file of item {it.id}",
                                  allowed=("media", "versions"))

    def cover_path(self, item: ItemInfo | int) -> Path | None:
        """Absolute path of an item's cover JPEG, if it has one (contained like :meth:`media_path`)."""
        it = self._resolve_item(item)
        if it.cover_path is None:
            return None
        return recovery.contained(self.root, it.cover_path, what=f"cover of item {it.id}", allowed=("covers",))

    def temp_file(self, suffix: str = ".mp4") -> Path:
        """A fresh temporary path in ``versions/`` to write an export into before :meth:`add_version`."""
        return temp_path(self.versions_dir, suffix)

    # ---- queries

    def items(self, kind: str | None = None) -> list[ItemInfo]:
        """All items (of one ``kind`` if given), oldest first."""
        if kind is not None and kind not in ITEM_KINDS:
            raise CorpusError(f"Unknown item kind {kind!r}; use one of {', '.join(ITEM_KINDS)}.")
        stmt = select(Item).order_by(Item.id)
        if kind is not None:
            stmt = stmt.where(Item.kind == kind)
        with self.read_session() as s:
            return [ItemInfo.from_row(r) for r in s.scalars(stmt)]

    def item(self, item_id: int) -> ItemInfo:
        """One item; :class:`CorpusError` if there is none with that id."""
        with self.read_session() as s:
            row = s.get(Item, item_id)
            if row is None:
                raise CorpusError(f"There is no item {item_id} in this workspace; list them with `generec items`.")
            return ItemInfo.from_row(row)

    def users(self) -> list[UserInfo]:
        """All users, by id."""
        with self.read_session() as s:
            return [UserInfo(u.id, u.external_id, u.name, u.created_at)
                    for u in s.scalars(select(User).order_by(User.id))]

    def interactions(self, *, user_id: int | None = None, item_id: int | None = None) -> list[InteractionInfo]:
        """Interactions, optionally of one user and/or one item, by id."""
        stmt = select(Interaction).order_by(Interaction.id)
        if user_id is not None:
            stmt = stmt.where(Interaction.user_id == user_id)
        if item_id is not None:
            stmt = stmt.where(Interaction.item_id == item_id)
        with self.read_session() as s:
            return [InteractionInfo(r.id, r.user_id, r.item_id, r.timestamp, r.weight) for r in s.scalars(stmt)]

    def lineage(self, item_id: int) -> list[LineageInfo]:
        """The lineage edges whose child is ``item_id``."""
        with self.read_session() as s:
            rows = s.scalars(select(Lineage).where(Lineage.child_id == item_id).order_by(Lineage.id))
            return [LineageInfo(r.id, r.child_id, r.parent_id, r.operation, r.params_json, r.created_at)
                    for r in rows]

    # ---- bulk helpers

    def add_users(self, users: Iterable[str | Mapping[str, Any]]) -> list[UserInfo]:
        """Add users given as external ids or ``{"external_id", "name"}`` mappings, in bulk.

        Users that already exist (same external id) are kept as they are. Returns every given user
        in input order (duplicates collapsed).
        """
        self._require_writable()
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
        with self.session() as s:
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

    def add_interactions(self, rows: Iterable[Sequence[Any] | Mapping[str, Any]]) -> int:
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

        self._require_writable()
        users: dict[str, int] = {}
        items: dict[str, int] = {}
        count = 0
        try:
            with self.session() as s:
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

    # ---- import

    def import_media(
        self,
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

        self._require_writable()
        start = time.perf_counter()
        if isinstance(paths, str | os.PathLike):
            paths = [paths]
        files = [Path(p) for p in paths]
        if not files:
            raise CorpusError("No files to import; give one or more video files.")
        infos = []
        for i, path in enumerate(files):
            check_cancel(cancel)
            _check_input_file(path)
            infos.append(probe(path))
            report(progress, 0.05 * (i + 1) / len(files), f"Checked {path.name}")
        done: list[ImportedFile] = []
        for i, (path, info) in enumerate(zip(files, infos)):
            check_cancel(cancel)
            sub = sub_progress(progress, 0.05 + 0.95 * i / len(files), 0.05 + 0.95 * (i + 1) / len(files))
            done.append(self._import_one(path, info, owner=owner, licence=licence,
                                         title=title, progress=sub, cancel=cancel))
        report(progress, 1.0, f"Imported {len(files)} file(s)")
        return ImportResult(done, time.perf_counter() - start)

    def _find_original(self, s: Session, sha: str) -> Item | None:
        return s.scalars(select(Item).where(Item.sha256 == sha, Item.kind == "human")
                         .order_by(Item.id).limit(1)).first()

    def _import_one(self, path: Path, info: MediaInfo, *, owner: str | None, licence: str | None,
                    title: str | None, progress: Progress | None, cancel: CancelToken | None) -> ImportedFile:
        suffix = path.suffix.lower() or "." + info.container.split(",")[0]
        tmp = temp_path(self.media_dir, suffix)
        created: list[Path] = []
        try:
            sha, size = _copy_hashing(path, tmp, cancel, sub_progress(progress, 0.0, 0.5))
            with self.read_session() as s:
                existing = self._find_original(s, sha)
                if existing is not None:
                    return ImportedFile(path, ItemInfo.from_row(existing), new=False)
            check_cancel(cancel)
            report(progress, 0.55, "Choosing a cover")
            cover_rel = f"covers/{sha}.jpg"
            cover = self.root / cover_rel
            if not cover.exists():
                write_jpeg(choose_cover(tmp, info.duration, info.has_cover), cover)
                created.append(cover)
            check_cancel(cancel)
            final = self.media_dir / sha[:2] / f"{sha}{suffix}"
            _make_read_only(tmp)
            with self.session() as s:
                row = Item(
                    kind="human", sha256=sha, stored_path=self._rel(final), original_name=path.name,
                    title=title or path.stem, duration=info.duration, width=info.width,
                    height=info.height, fps=info.fps, frame_count=info.frame_count, file_size=size,
                    has_audio=info.has_audio, cover_path=cover_rel, owner=owner, author=owner,
                    licence=licence, created_at=datetime.now(UTC),
                    media_warnings_json=list(getattr(info, "warnings", ())) or None,
                )
                s.add(row)
                s.flush()
                final.parent.mkdir(exist_ok=True)
                os.utime(tmp)  # recover()'s grace period counts from the rename
                record_final_target(tmp, final)
                os.replace(tmp, final)
                created.append(final)
                _fsync_dir(final.parent)
                result = ItemInfo.from_row(row)
            report(progress, 1.0, f"Imported {path.name}")
            return ImportedFile(path, result, new=True)
        except IntegrityError:
            # Another process imported the same bytes between our lookup and our commit: its row
            # references the same (identical) files, so keep them and return its item.
            self._cleanup(created)
            with self.session() as s:
                existing = self._find_original(s, sha)
                if existing is None:
                    raise
                return ImportedFile(path, ItemInfo.from_row(existing), new=False)
        except BaseException:
            self._cleanup(created)
            raise
        finally:
            _unlink(tmp)

    def _cleanup(self, created: list[Path]) -> None:
        """Remove files this call created, except any that a committed row references."""
        if not created:
            return
        try:
            refs = self._referenced()
        except Exception:  # the database itself failed: never delete what might be referenced
            refs = {self._rel(p) for p in created}
        for p in created:
            if self._rel(p) not in refs:
                _unlink(p)

    # ---- atomic export primitive

    def add_version(
        self,
        src_tmp_file: str | os.PathLike[str],
        *,
        kind: str,
        parent_id: int | None = None,
        verify: Callable[[Path], bool | None] | None = None,
        operation: str = "export",
        title: str | None = None,
        owner: str | None = None,
        author: str | None = None,
        licence: str | None = None,
        target_profile: str | None = None,
        generator: str | None = None,
        params: dict[str, Any] | None = None,
        fidelity: dict[str, Any] | None = None,
        watermark_payload: str | None = None,
        external_id: str | None = None,
        cover: np.ndarray | str | os.PathLike[str] | None = None,
        cancel: CancelToken | None = None,
    ) -> ItemInfo:
        """Add a finished video as a new item in ``versions/``: verify → fsync → rename → commit.

        ``src_tmp_file`` should come from :meth:`temp_file` (then it is moved in on success and
        deleted on failure); a file elsewhere is copied and left untouched. ``verify(path)`` sees the
        final bytes; returning ``False`` or raising rejects the version and nothing is added.
        ``cover`` is an RGB array or an image file (a personalised thumbnail); default: chosen from
        the video. A crash at any moment leaves the whole version (file + row + lineage) or nothing.
        ``cancel`` is honoured up to the final rename + commit, which is never interrupted.
        """
        from generec_desktop.media import probe

        self._require_writable()
        if kind not in ITEM_KINDS:
            raise CorpusError(f"Unknown item kind {kind!r}; use one of {', '.join(ITEM_KINDS)}.")
        if kind == "ai_edited" and parent_id is None:
            raise CorpusError("An ai_edited version needs the parent_id of the item it edits.")
        if parent_id is not None:
            self.item(parent_id)  # raises if missing
        src = Path(src_tmp_file)
        _check_input_file(src)
        owned = src.resolve().parent == self.versions_dir and src.name.startswith(TEMP_PREFIX)
        created: list[Path] = []
        tmp = src if owned else self.temp_file(src.suffix.lower() or ".mp4")
        try:
            if owned:
                sha, size = file_sha256(src), src.stat().st_size
            else:
                sha, size = _copy_hashing(src, tmp, None)
            info = probe(tmp)
            check_cancel(cancel)
            if verify is not None:
                _make_read_only(tmp)  # verify must not change what we hashed
                if verify(tmp) is False:
                    raise VerificationError(f"Verification rejected {src.name}; nothing was exported.")
                if file_sha256(tmp) != sha:
                    raise VerificationError(f"{src.name} changed during verification; nothing was exported.")
            _fsync_file(tmp)
            cover_rel = self._write_version_cover(sha, tmp, info, cover, created)
            suffix = tmp.suffix or ".mp4"
            final = self.versions_dir / f"{sha}{suffix}"
            rel = self._rel(final)
            _make_read_only(tmp)
            check_cancel(cancel)
            with self.session() as s:
                row = Item(
                    kind=kind, parent_id=parent_id, sha256=sha, stored_path=rel,
                    original_name=src.name if not owned else None, title=title, duration=info.duration,
                    width=info.width, height=info.height, fps=info.fps, frame_count=info.frame_count,
                    file_size=size, has_audio=info.has_audio, cover_path=cover_rel, owner=owner,
                    author=author, licence=licence, target_profile=target_profile, generator=generator,
                    params_json=params, fidelity_json=fidelity, watermark_payload=watermark_payload,
                    created_at=datetime.now(UTC), external_id=external_id,
                    media_warnings_json=list(getattr(info, "warnings", ())) or None,
                )
                s.add(row)
                s.flush()
                if parent_id is not None:
                    s.add(Lineage(child_id=row.id, parent_id=parent_id, operation=operation,
                                  params_json=params, created_at=datetime.now(UTC)))
                shared = s.scalar(select(Item.id).where(Item.stored_path == rel, Item.id != row.id).limit(1))
                s.flush()
                if shared is None or not final.exists():
                    os.utime(tmp)
                    record_final_target(tmp, final)
                    os.replace(tmp, final)
                    created.append(final)
                    _fsync_dir(self.versions_dir)
                result = ItemInfo.from_row(row)
            return result
        except IntegrityError as exc:
            self._cleanup(created)
            raise CorpusError(f"The external id {external_id!r} is already used by another item; "
                              "give a new one.") from exc
        except BaseException:
            self._cleanup(created)
            raise
        finally:
            if owned or tmp != src:
                _unlink(tmp)

    def _write_version_cover(self, sha: str, video: Path, info: MediaInfo,
                             cover: np.ndarray | str | os.PathLike[str] | None, created: list[Path]) -> str:
        import numpy as np

        if cover is None:
            rel = f"covers/{sha}.jpg"
            if not (self.root / rel).exists():
                write_jpeg(choose_cover(video, info.duration, info.has_cover), self.root / rel)
                created.append(self.root / rel)
            return rel
        if isinstance(cover, str | os.PathLike):
            from PIL import Image, UnidentifiedImageError

            try:
                with Image.open(cover) as im:
                    image = np.asarray(im.convert("RGB"))
            except (OSError, UnidentifiedImageError) as exc:
                raise CorpusError(f"The cover {cover} is not a readable image.") from exc
        else:
            image = np.asarray(cover)
            if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
                raise CorpusError("A cover array must be (H, W, 3) uint8 RGB.")
        tag = hashlib.sha256(image.tobytes()).hexdigest()[:12]
        rel = f"covers/{sha}-{tag}.jpg"
        if not (self.root / rel).exists():
            write_jpeg(image, self.root / rel)
            created.append(self.root / rel)
        return rel

    # ---- integrity and recovery

    def _referenced(self) -> set[str]:
        with self.read_session() as s:
            refs = set(s.scalars(select(Item.stored_path)))
            refs.update(p for p in s.scalars(select(Item.cover_path)) if p)
            # artwork (m005; declared in fidelity/artwork.py, which the corpus may not import): each file and
            # its provenance sidecar
            for (p,) in s.execute(text("SELECT path FROM artwork")):
                refs.update((str(p), f"{p}{recovery.ARTWORK_SIDECAR_SUFFIX}"))
        return refs

    def check_integrity(self, *, verify_hashes: bool = True, progress: Progress | None = None,
                        cancel: CancelToken | None = None) -> IntegrityReport:
        """Check the database (``PRAGMA integrity_check``, foreign keys), every item's file (present,
        inside the workspace, right sha256) and cover, and report orphans, leftover temporary files
        (``pending/`` and ``provenance/`` included) and symbolic links. Changes nothing."""
        db_errors: list[str] = []
        if self.engine.dialect.name == "sqlite":
            with self._reading().connect() as conn:
                rows = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check")]
                if rows != ["ok"]:
                    db_errors.extend(str(r) for r in rows)
                fk = list(conn.exec_driver_sql("PRAGMA foreign_key_check"))
                db_errors.extend(f"foreign key: {tuple(r)}" for r in fk)
        else:
            db_errors.extend(self._server_problems())
        items = self.items()
        missing: list[str] = []
        mismatches: list[str] = []
        missing_covers: list[str] = []
        unsafe: list[str] = []
        for i, it in enumerate(items):
            check_cancel(cancel)
            try:
                path = self.media_path(it)
            except CorpusError:
                unsafe.append(it.stored_path)
            else:
                if not path.is_file():
                    missing.append(it.stored_path)
                elif verify_hashes and file_sha256(path) != it.sha256:
                    mismatches.append(it.stored_path)
            if it.cover_path:
                try:
                    cover = self.cover_path(it)
                except CorpusError:
                    unsafe.append(it.cover_path)
                else:
                    if cover is None or not cover.is_file():
                        missing_covers.append(it.cover_path)
            report(progress, 0.95 * (i + 1) / max(1, len(items)), f"Checked {it.stored_path}")
        refs = {it.stored_path for it in items} | {it.cover_path for it in items if it.cover_path}
        orphans, temps, links = recovery.leftovers(self.root, refs)
        report(progress, 1.0, "Integrity check done")
        return IntegrityReport(
            checked_items=len(items), missing_files=missing, hash_mismatches=mismatches,
            missing_covers=missing_covers, orphan_files=orphans, temp_files=temps, database_errors=db_errors,
            unsafe_paths=sorted(set(unsafe) | set(links)),
        )

    def _server_problems(self) -> list[str]:
        """The PostgreSQL counterpart of SQLite's ``integrity_check``/``foreign_key_check``, as far as a
        client can go: the server enforces foreign keys and checks pages itself (``pg_amcheck`` on the
        server goes deeper), so this checks that the corpus's tables and schema version are all there."""
        from sqlalchemy import inspect

        with self._reading().connect() as conn:
            tables = set(inspect(conn).get_table_names())
            have = migrations.current_version(conn)
        missing = sorted(set(recovery.CORE_TABLES) - tables)
        out = [f"tables {', '.join(missing)} are missing from {public_url(self.db_url)}"] if missing else []
        if have != migrations.latest_version():
            out.append(f"schema version {have}, expected {migrations.latest_version()}")
        return out

    def recover(self, *, grace_s: float = ORPHAN_GRACE_S) -> recovery.RecoveryReport:
        """Undo what a crash left half-done (run at every open); see :mod:`.recovery`.

        Removes only what a dead GeneRec process journaled as its own (temporary files anywhere in the
        workspace, and files it renamed in before their row committed); moves every other unreferenced
        file of ``media/``, ``versions/``, ``covers/`` (and stray temporary names) older than ``grace_s``
        to ``quarantine/<stamp>/``, and touches nothing through a symbolic link.
        """
        if self.read_only:
            raise WorkspaceReadOnlyError(f"{self.root} is read-only; recovery needs to write. Make it writable.")
        rep = recovery.recover(self.root, self._referenced(), grace_s=grace_s)
        if rep.changed or rep.left:
            log.info("%s", rep.summary())
        return rep

    def backup(self, *, reason: str = "manual") -> Path:
        """An online, consistent copy of the database in ``backups/`` (SQLite backup API)."""
        if self.db_path is None:
            raise WorkspaceError(f"The catalogue is on the PostgreSQL server {public_url(self.db_url)}: back it up "
                                 "there with pg_dump (e.g. `pg_dump -Fc -f corpus.dump DATABASE`); nothing was done.")
        return recovery.backup_database(self.db_path, self.root, reason=reason)

    # ---- internal: used by tests to run SQL directly
    def _execute(self, sql: str) -> list[tuple[Any, ...]]:
        with self.engine.begin() as conn:
            result = conn.execute(text(sql))
            return [tuple(r) for r in result] if result.returns_rows else []
