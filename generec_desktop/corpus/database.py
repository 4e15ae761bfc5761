"""The corpus database: SQLite in the workspace folder, or a shared PostgreSQL server, behind one engine.

Both behave alike for the workspace code: one writer at a time (SQLite's BEGIN IMMEDIATE, PostgreSQL's
transaction-level advisory lock), waited for with one notice and refused after :data:`LOCK_TIMEOUT_S`
with :class:`WorkspaceLockedError`; readers never wait (WAL / MVCC). URLs are normalised here
(psycopg 3 for PostgreSQL) and shown without their password.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from generec_desktop.corpus.errors import WorkspaceError

__all__ = [
    "DB_NAME",
    "LOCK_TIMEOUT_S",
    "PG_WRITE_LOCK_KEY",
    "READ_ONLY_OPTION",
    "WorkspaceLockedError",
    "WorkspaceReadOnlyError",
    "is_locked",
    "is_server_url",
    "make_engine",
    "public_url",
    "server_url",
    "stored_url",
    "wait_for_lock",
    "writable",
]

#: the SQLite catalogue's file name in the workspace folder
DB_NAME = "generec.sqlite"

#: How long a writer waits for another process's write lock before it gives up with a clear message.
LOCK_TIMEOUT_S = float(os.environ.get("GENEREC_LOCK_TIMEOUT", "30"))
#: The execution option that marks a session as reading only (no write lock taken).
READ_ONLY_OPTION = "generec_read_only"
log = logging.getLogger("generec")


class WorkspaceReadOnlyError(WorkspaceError):
    """The workspace is read-only (folder or file permissions, a read-only disk): it cannot be changed."""


class WorkspaceLockedError(WorkspaceError):
    """Another process held the database's write lock for longer than :data:`LOCK_TIMEOUT_S`."""



def is_locked(exc: BaseException) -> bool:
    msg = str(getattr(exc, "orig", exc)).lower()
    return "database is locked" in msg or "database is busy" in msg or "database table is locked" in msg


def wait_for_lock(what: Callable[[], Any], timeout: float) -> Any:
    """Run ``what`` (which may meet another process's lock), retrying with one notice until ``timeout``."""
    import sqlite3

    deadline = time.monotonic() + timeout
    warned = False
    while True:
        try:
            return what()
        except (OperationalError, sqlite3.OperationalError) as exc:
            if not is_locked(exc):
                raise
            if time.monotonic() >= deadline:
                raise WorkspaceLockedError(
                    f"Another program kept the workspace database locked for {timeout:.0f} s (another GeneRec "
                    "window or command writing to it?); let it finish or close it, then try again. "
                    "Nothing was changed.") from exc
            if not warned:
                log.warning("Waiting for another program to finish writing to the workspace database "
                            "(up to %.0f s)...", timeout)
                warned = True


def is_server_url(url: str | None) -> bool:
    """Whether ``url`` names a database server (PostgreSQL) rather than the workspace's SQLite file."""
    return bool(url) and make_url(str(url)).get_backend_name() != "sqlite"


def server_url(url: str) -> str:
    """``url`` checked and normalised for the corpus: PostgreSQL only, psycopg 3 as the driver.

    A bare ``postgresql://`` would make SQLAlchemy load psycopg2, which is not a dependency; psycopg 3
    (``postgresql+psycopg://``) is. Other server databases are refused: the schema and the write lock
    (:func:`pg_write_lock`) were made and tested for PostgreSQL only.
    """
    try:
        u = make_url(url)
    except Exception as exc:  # sqlalchemy.exc.ArgumentError: not a URL at all
        raise WorkspaceError(f"{url!r} is not a database URL; give one like "
                             "postgresql://USER@HOST:5432/DATABASE.") from exc
    if u.get_backend_name() != "postgresql":
        raise WorkspaceError(f"A shared corpus runs on PostgreSQL; {u.get_backend_name()!r} is not supported "
                             "(give postgresql://USER@HOST:5432/DATABASE, or no URL for the workspace's SQLite file).")
    if u.drivername in ("postgresql", "postgresql+psycopg2"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


def public_url(url: str) -> str:
    """``url`` without its password (for messages, logs and ``workspace.json``)."""
    return make_url(url).render_as_string(hide_password=True)


#: The key of the transaction-level advisory lock every PostgreSQL write transaction takes (one
#: corpus per database): the server's counterpart of SQLite's BEGIN IMMEDIATE (see pg_write_lock).
PG_WRITE_LOCK_KEY = int.from_bytes(hashlib.sha256(b"generec-desktop corpus writer").digest()[:8], "big",
                                   signed=True)


def pg_write_lock(conn: Any, timeout: float) -> None:
    """Take the corpus's write lock in this PostgreSQL transaction (released at commit or rollback).

    The workspace code was written for SQLite, where a write transaction holds the one write lock from
    BEGIN IMMEDIATE on: a check-then-insert (import the same bytes, add the same user, apply the
    migrations) cannot interleave with another process's. PostgreSQL's default READ COMMITTED would let
    them interleave, so every write transaction takes one advisory lock first: writers are serialised
    exactly as on SQLite, readers never wait (MVCC). Waits with one notice, then gives up after
    ``timeout`` seconds with :class:`WorkspaceLockedError`.
    """
    if conn.exec_driver_sql(f"SELECT pg_try_advisory_xact_lock({PG_WRITE_LOCK_KEY})").scalar():
        return
    log.warning("Waiting for another program to finish writing to the shared corpus (up to %.0f s)...", timeout)
    conn.exec_driver_sql(f"SET LOCAL lock_timeout = {max(1, int(timeout * 1000))}")
    try:
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK_KEY})")
    except OperationalError as exc:
        if getattr(getattr(exc, "orig", None), "sqlstate", None) != "55P03":  # lock_not_available
            raise
        raise WorkspaceLockedError(
            f"Another program kept the shared corpus locked for writing for {timeout:.0f} s (another GeneRec "
            "window or command?); let it finish, then try again. Nothing was changed.") from exc
    conn.exec_driver_sql("SET LOCAL lock_timeout = 0")


def _json_for_server(value: Any) -> str:
    """JSON text PostgreSQL accepts: NaN and infinities (which Python's json writes and SQLite keeps,
    but the server's json type refuses) become null."""
    import math

    def clean(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [clean(x) for x in v]
        return v

    return json.dumps(clean(value), default=_json_default)


def _json_default(v: Any) -> Any:
    """numpy scalars and arrays in a params/fidelity dict (SQLite's default serializer refuses them too)."""
    if hasattr(v, "tolist"):
        return v.tolist()
    raise TypeError(f"{type(v).__name__} is not JSON serialisable")


def stored_url(url: str) -> str:
    """The URL as ``workspace.json`` keeps it: normalised, and without any password."""
    return make_url(server_url(url))._replace(password=None).render_as_string(hide_password=False)


def make_server_engine(url: str, *, read_only: bool = False) -> Engine:
    """A PostgreSQL engine: psycopg 3, NaN-safe JSON, and writers serialised by :func:`pg_write_lock`."""
    options = "-c default_transaction_read_only=on" if read_only else ""
    engine = create_engine(server_url(url), pool_pre_ping=True, json_serializer=_json_for_server,
                           connect_args={"options": options, "connect_timeout": 10} if options
                           else {"connect_timeout": 10})

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if not (read_only or conn.get_execution_options().get(READ_ONLY_OPTION, False)):
            pg_write_lock(conn, LOCK_TIMEOUT_S)

    return engine


def make_engine(url: str, *, read_only: bool = False) -> Engine:
    """An engine; for SQLite: WAL, foreign keys, full sync, real transactions (DDL included), and a
    write lock that is waited for with a notice, then refused with a clear message; for PostgreSQL
    the same write lock semantics through an advisory lock (:func:`make_server_engine`)."""
    if make_url(url).get_backend_name() != "sqlite":
        return make_server_engine(url, read_only=read_only)
    # A short busy timeout per try; wait_for_lock retries up to LOCK_TIMEOUT_S and says it is waiting.
    engine = create_engine(url, connect_args={"timeout": min(1.0, LOCK_TIMEOUT_S)})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself: pysqlite's own transaction handling does not wrap DDL,
        # which would break transactional migrations (the SQLAlchemy docs' recommended recipe).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        if read_only:
            cur.execute("PRAGMA query_only=ON")
        else:
            wait_for_lock(lambda: cur.execute("PRAGMA journal_mode=WAL"), LOCK_TIMEOUT_S)
            cur.execute("PRAGMA synchronous=FULL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front (BEGIN IMMEDIATE): a deferred transaction that reads
        # and then writes fails at once with "database is locked" when another writer is active,
        # busy timeout or not. Read-only sessions stay deferred so they never wait (WAL).
        reading = read_only or conn.get_execution_options().get(READ_ONLY_OPTION, False)
        if reading:
            conn.exec_driver_sql("BEGIN")
        else:
            wait_for_lock(lambda: conn.exec_driver_sql("BEGIN IMMEDIATE"), LOCK_TIMEOUT_S)

    return engine


def writable(root: Path, db: Path) -> bool:
    """Whether this process may write the workspace folder and its database (a read-only disk: no)."""
    if not os.access(root, os.W_OK):
        return False
    if db.exists() and not os.access(db, os.W_OK):
        return False
    try:  # os.access says yes to root on a read-only mount only if the kernel does; make sure
        st = os.statvfs(root)
        return not (st.f_flag & os.ST_RDONLY)
    except (AttributeError, OSError):
        return True
