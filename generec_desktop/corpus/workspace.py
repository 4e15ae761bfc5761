"""The workspace: a folder with a database, content-addressed media, covers and exported versions.

:class:`Workspace` is the front: it opens, checks, migrates and recovers the folder, hands out sessions,
paths and queries, and delegates the rest to one module per job (public methods keep their names):

* :mod:`.importer` — ``import_media`` (video files into ``media/``), ``add_users``, ``add_interactions``;
* :mod:`.versions` — ``add_version`` (a finished video into ``versions/``: the atomic export primitive);
* :mod:`.integrity` — ``check_integrity``, ``recover`` and the refusal of a lost catalogue at open;
* :mod:`.files` — the managed-file helpers they share (copy while hashing, read-only, clean-up).

File safety rules, all enforced by these modules (and :mod:`.recovery`):

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

import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from generec_desktop import safefiles
from generec_desktop.corpus import importer, integrity, migrations, recovery, versions
from generec_desktop.corpus.database import (
    DB_NAME,
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
from generec_desktop.corpus.errors import CorpusError, WorkspaceError
from generec_desktop.corpus.integrity import ORPHAN_GRACE_S
from generec_desktop.corpus.records import (
    ImportResult,
    IntegrityReport,
    InteractionInfo,
    ItemInfo,
    LineageInfo,
    UserInfo,
)
from generec_desktop.corpus.schema import ITEM_KINDS, Interaction, Item, Lineage, User
from generec_desktop.jobs import CancelToken, Progress
from generec_desktop.safefiles import TEMP_PREFIX, file_sha256, temp_path

if TYPE_CHECKING:
    import numpy as np

__all__ = ["DB_NAME", "ORPHAN_GRACE_S", "TEMP_PREFIX", "Workspace", "WorkspaceLockedError",
           "WorkspaceReadOnlyError", "file_sha256"]

WORKSPACE_FORMAT = "generec-workspace"
WORKSPACE_VERSION = 1
log = logging.getLogger("generec")


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
                integrity.guard_lost_catalogue(self)
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

    # ---- what comes in (corpus/importer.py)

    def add_users(self, users: Iterable[str | Mapping[str, Any]]) -> list[UserInfo]:
        """Add users (external ids or ``{"external_id", "name"}`` mappings) in bulk, existing ones kept; every
        given user in input order (:func:`.importer.add_users`)."""
        return importer.add_users(self, users)

    def add_interactions(self, rows: Iterable[Sequence[Any] | Mapping[str, Any]]) -> int:
        """Add interactions in bulk, in one transaction; how many (:func:`.importer.add_interactions`)."""
        return importer.add_interactions(self, rows)

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
        """Import video files as ``human`` items, a job (:func:`.importer.import_media`): all validated before
        anything is written, each copied content-addressed into ``media/`` and committed on its own."""
        return importer.import_media(self, paths, owner=owner, licence=licence, title=title, progress=progress,
                                     cancel=cancel)

    # ---- atomic export primitive (corpus/versions.py)

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
        """Add a finished video as a new item in ``versions/``: verify → fsync → rename → commit, all or
        nothing (:func:`.versions.add_version`)."""
        return versions.add_version(
            self, src_tmp_file, kind=kind, parent_id=parent_id, verify=verify, operation=operation, title=title,
            owner=owner, author=author, licence=licence, target_profile=target_profile, generator=generator,
            params=params, fidelity=fidelity, watermark_payload=watermark_payload, external_id=external_id,
            cover=cover, cancel=cancel)

    # ---- integrity and recovery (corpus/integrity.py)

    def check_integrity(self, *, verify_hashes: bool = True, progress: Progress | None = None,
                        cancel: CancelToken | None = None) -> IntegrityReport:
        """Check the database, every item's file and cover, and report orphans, temporary files and links;
        changes nothing (:func:`.integrity.check_integrity`)."""
        return integrity.check_integrity(self, verify_hashes=verify_hashes, progress=progress, cancel=cancel)

    def recover(self, *, grace_s: float = ORPHAN_GRACE_S) -> recovery.RecoveryReport:
        """Undo what a crash left half-done (run at every open; :func:`.integrity.recover`)."""
        return integrity.recover(self, grace_s=grace_s)

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
