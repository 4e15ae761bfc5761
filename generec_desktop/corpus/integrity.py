"""Integrity and repair of a workspace: what its catalogue references, the integrity check, the refusal
of a lost catalogue at open, and crash recovery (the file-level work is in :mod:`.recovery`).

:class:`~generec_desktop.corpus.workspace.Workspace` delegates ``check_integrity`` and ``recover`` here.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from sqlalchemy import select, text

from generec_desktop import safefiles
from generec_desktop.corpus import migrations, recovery
from generec_desktop.corpus.database import DB_NAME, WorkspaceReadOnlyError, public_url
from generec_desktop.corpus.errors import CorpusError, WorkspaceError
from generec_desktop.corpus.records import IntegrityReport
from generec_desktop.corpus.schema import Item
from generec_desktop.jobs import CancelToken, Progress, check_cancel, report
from generec_desktop.safefiles import file_sha256

if TYPE_CHECKING:
    from generec_desktop.corpus.workspace import Workspace

__all__ = ["ORPHAN_GRACE_S", "check_integrity", "guard_lost_catalogue", "recover", "referenced", "server_problems"]

#: an unreferenced file younger than this is left alone by recovery (another process may be about to commit it)
ORPHAN_GRACE_S = 300.0
_ORIGINAL_NAME = re.compile(r"[0-9a-f]{64}(\.[A-Za-z0-9]+)?")
log = logging.getLogger("generec")


def referenced(ws: Workspace) -> set[str]:
    """Every workspace-relative path a row references: items' files and covers, artwork and its sidecars."""
    with ws.read_session() as s:
        refs = set(s.scalars(select(Item.stored_path)))
        refs.update(p for p in s.scalars(select(Item.cover_path)) if p)
        # artwork (m005; declared in fidelity/artwork.py, which the corpus may not import): each file and
        # its provenance sidecar
        for (p,) in s.execute(text("SELECT path FROM artwork")):
            refs.update((str(p), f"{p}{recovery.ARTWORK_SIDECAR_SUFFIX}"))
    return refs


def check_integrity(ws: Workspace, *, verify_hashes: bool = True, progress: Progress | None = None,
                    cancel: CancelToken | None = None) -> IntegrityReport:
    """Check the database (``PRAGMA integrity_check``, foreign keys), every item's file (present,
    inside the workspace, right sha256) and cover, and report orphans, leftover temporary files
    (``pending/`` and ``provenance/`` included) and symbolic links. Changes nothing."""
    db_errors: list[str] = []
    if ws.engine.dialect.name == "sqlite":
        with ws._reading().connect() as conn:
            rows = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check")]
            if rows != ["ok"]:
                db_errors.extend(str(r) for r in rows)
            fk = list(conn.exec_driver_sql("PRAGMA foreign_key_check"))
            db_errors.extend(f"foreign key: {tuple(r)}" for r in fk)
    else:
        db_errors.extend(server_problems(ws))
    items = ws.items()
    missing: list[str] = []
    mismatches: list[str] = []
    missing_covers: list[str] = []
    unsafe: list[str] = []
    for i, it in enumerate(items):
        check_cancel(cancel)
        try:
            path = ws.media_path(it)
        except CorpusError:
            unsafe.append(it.stored_path)
        else:
            if not path.is_file():
                missing.append(it.stored_path)
            elif verify_hashes and file_sha256(path) != it.sha256:
                mismatches.append(it.stored_path)
        if it.cover_path:
            try:
                cover = ws.cover_path(it)
            except CorpusError:
                unsafe.append(it.cover_path)
            else:
                if cover is None or not cover.is_file():
                    missing_covers.append(it.cover_path)
        report(progress, 0.95 * (i + 1) / max(1, len(items)), f"Checked {it.stored_path}")
    refs = {it.stored_path for it in items} | {it.cover_path for it in items if it.cover_path}
    orphans, temps, links = recovery.leftovers(ws.root, refs)
    report(progress, 1.0, "Integrity check done")
    return IntegrityReport(
        checked_items=len(items), missing_files=missing, hash_mismatches=mismatches,
        missing_covers=missing_covers, orphan_files=orphans, temp_files=temps, database_errors=db_errors,
        unsafe_paths=sorted(set(unsafe) | set(links)),
    )


def server_problems(ws: Workspace) -> list[str]:
    """The PostgreSQL counterpart of SQLite's ``integrity_check``/``foreign_key_check``, as far as a
    client can go: the server enforces foreign keys and checks pages itself (``pg_amcheck`` on the
    server goes deeper), so this checks that the corpus's tables and schema version are all there."""
    from sqlalchemy import inspect

    with ws._reading().connect() as conn:
        tables = set(inspect(conn).get_table_names())
        have = migrations.current_version(conn)
    missing = sorted(set(recovery.CORE_TABLES) - tables)
    out = [f"tables {', '.join(missing)} are missing from {public_url(ws.db_url)}"] if missing else []
    if have != migrations.latest_version():
        out.append(f"schema version {have}, expected {migrations.latest_version()}")
    return out


def recover(ws: Workspace, *, grace_s: float = ORPHAN_GRACE_S) -> recovery.RecoveryReport:
    """Undo what a crash left half-done (run at every open); see :mod:`.recovery`.

    Removes only what a dead GeneRec process journaled as its own (temporary files anywhere in the
    workspace, and files it renamed in before their row committed); moves every other unreferenced
    file of ``media/``, ``versions/``, ``covers/`` (and stray temporary names) older than ``grace_s``
    to ``quarantine/<stamp>/``, and touches nothing through a symbolic link.
    """
    if ws.read_only:
        raise WorkspaceReadOnlyError(f"{ws.root} is read-only; recovery needs to write. Make it writable.")
    rep = recovery.recover(ws.root, referenced(ws), grace_s=grace_s)
    if rep.changed or rep.left:
        log.info("%s", rep.summary())
    return rep


def guard_lost_catalogue(ws: Workspace) -> None:
    """Refuse a catalogue with no items over a ``media/`` that holds originals (a replaced or emptied
    database, or a server URL that names the wrong database: recovery would otherwise quarantine every
    original); the app's own crashed first import (journaled by a dead process) does not count."""
    with ws.read_session() as s:
        if s.scalar(select(Item.id).limit(1)) is not None:
            return
    ours = {e.rel for j in safefiles.dead_journals(ws.root) for e in safefiles.read_journal(j)}
    originals = [p for p in recovery.walk_files(ws.media_dir)
                 if _ORIGINAL_NAME.fullmatch(p.name) and p.relative_to(ws.root).as_posix() not in ours]
    if originals and ws.db_path is None:
        raise WorkspaceError(f"The database {public_url(ws.db_url)} lists no items, but media/ of {ws.root} "
                             f"holds {len(originals)} original(s): is it the wrong database (check the "
                             "\"database\" URL in workspace.json), or was it emptied (restore it with "
                             "pg_restore from your dump)? Nothing was changed.")
    if originals:
        raise WorkspaceError(f"The catalogue {DB_NAME} of {ws.root} lists no items, but media/ holds "
                             f"{len(originals)} original(s): the database was replaced or emptied; "
                             + recovery.restore_hint(ws.root))
