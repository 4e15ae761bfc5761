"""What a workspace does at open and on demand so that nothing is ever lost (issue 13).

* :func:`guard_database` refuses a missing, empty, foreign or damaged SQLite database over a workspace
  that holds files, *before* anything is created or changed, with a message that says how to restore.
* :func:`recover` undoes what a crash left, and can destroy nothing the app did not write: it deletes
  only what a dead process's journal (:mod:`generec_desktop.safefiles`) lists; every other
  unreferenced file in ``media/``, ``versions/``, ``covers/`` or ``artwork/`` is moved to ``quarantine/`` (never
  deleted), and nothing is followed through a symbolic link.
* :func:`contained` resolves a path read from the database and refuses one that leaves the workspace.
* :func:`backup_database` makes an online copy with SQLite's backup API.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from generec_desktop.corpus.errors import CorpusError, WorkspaceError
from generec_desktop.safefiles import (
    JOURNAL_DIR,
    TEMP_PREFIX,
    dead_journals,
    live_journal_paths,
    read_journal,
    temp_path,
)

__all__ = [
    "ARTWORK_SIDECAR_SUFFIX",
    "MANAGED_DIRS",
    "QUARANTINE_DIR",
    "RecoveryReport",
    "backup_database",
    "contained",
    "guard_database",
    "recover",
]

#: The folders whose files the database references; a file in them without a row is an orphan
#: (``artwork/``: the artwork table's files and their ``.artwork.json`` sidecars).
MANAGED_DIRS = ("media", "versions", "covers", "artwork")
#: The provenance sidecar beside each artwork file (``artwork/<sha256>.jpg.artwork.json``).
ARTWORK_SIDECAR_SUFFIX = ".artwork.json"
#: Folders where the app stages work: only their temporary names are the recovery's business.
STAGING_DIRS = ("pending", "provenance")
QUARANTINE_DIR = "quarantine"
BACKUP_DIR = "backups"
SQLITE_HEADER = b"SQLite format 3\x00"
#: The tables every workspace database has (migration 1).
CORE_TABLES = ("items", "users", "interactions", "lineage", "schema_version")


@dataclass
class RecoveryReport:
    """What :func:`recover` did: ``removed`` (the app's own leftovers), ``quarantined`` (moved to
    ``quarantine/<stamp>/``, original relative path kept), ``left`` (reported, untouched, with why)."""

    removed: list[str] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    quarantine_folder: str | None = None

    @property
    def changed(self) -> bool:
        return bool(self.removed or self.quarantined)

    def summary(self) -> str:
        """A few human lines."""
        if not (self.removed or self.quarantined or self.left):
            return "Nothing to recover."
        lines = []
        if self.removed:
            lines.append(f"Removed {len(self.removed)} leftover temporary file(s) of crashed GeneRec processes.")
        if self.quarantined:
            lines.append(f"Moved {len(self.quarantined)} file(s) that no item references to "
                         f"{self.quarantine_folder} (nothing was deleted): " + ", ".join(self.quarantined[:5])
                         + (" ..." if len(self.quarantined) > 5 else "")
                         + ". Its README.txt says how to bring them back or import them.")
        if self.left:
            lines.append(f"Left {len(self.left)} file(s) in place: " + "; ".join(self.left[:5])
                         + (" ..." if len(self.left) > 5 else ""))
        return "\n".join(lines)


# --------------------------------------------------------------------------- the database at open

def walk_files(folder: Path) -> Iterator[Path]:
    """Files and links under ``folder`` (itself followed if it is a link), never following links below."""
    if not folder.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        base = Path(dirpath)
        for name in filenames:
            yield base / name
        for name in dirnames:
            if (base / name).is_symlink():
                yield base / name


def content_files(root: Path, limit: int = 100_000) -> int:
    """How many files the workspace's managed and staging folders hold (counted up to ``limit``)."""
    n = 0
    for d in (*MANAGED_DIRS, "pending"):
        for _ in walk_files(root / d):
            n += 1
            if n >= limit:
                return n
    return n


def restore_hint(root: Path) -> str:
    backups = sorted((root / BACKUP_DIR).glob("*.sqlite")) if (root / BACKUP_DIR).is_dir() else []
    how = (f"copy the newest backup ({backups[-1].relative_to(root).as_posix()}) to generec.sqlite"
           if backups else "restore generec.sqlite from your backup")
    return (f"{how}, or run `generec workspace rebuild {root}` to re-create the catalogue from the files "
            "(nothing is deleted). Nothing was changed.")


def guard_database(root: Path, db_path: Path) -> None:
    """Refuse (:class:`WorkspaceError`) a database that is missing, empty, foreign or damaged while the
    workspace holds files; a new workspace (no files yet) may start with no database. Read-only."""
    exists = db_path.is_file()
    size = db_path.stat().st_size if exists else 0
    if size == 0:
        n = content_files(root)
        if n:
            state = "missing" if not exists else "empty (0 bytes)"
            raise WorkspaceError(f"The catalogue {db_path.name} of {root} is {state}, but the workspace holds "
                                 f"{n} file(s); {restore_hint(root)}")
        return
    with open(db_path, "rb") as fh:
        header = fh.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise WorkspaceError(f"{db_path} is not an SQLite database (damaged or replaced); {restore_hint(root)}")
    problems = quick_check(db_path)
    if problems:
        raise WorkspaceError(f"The catalogue {db_path} is damaged ({problems[0]}); {restore_hint(root)}")


def _connect_ro(db_path: Path) -> sqlite3.Connection:
    uri = f"file:{db_path.as_posix()}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=5)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        # a read-only folder cannot hold the WAL index (-shm): read the file as it is
        conn.close()
        conn = sqlite3.connect(f"{uri}&immutable=1", uri=True, timeout=5)
    return conn


def quick_check(db_path: Path) -> list[str]:
    """``PRAGMA quick_check`` and the core tables of a workspace database; the problems found (empty: fine)."""
    try:
        conn = _connect_ro(db_path)
    except (sqlite3.Error, ValueError) as exc:  # ValueError: SQLite's own message, garbled by the damage
        return [f"cannot be opened: {exc}"]
    try:
        rows = [str(r[0]) for r in conn.execute("PRAGMA quick_check")]
        if rows != ["ok"]:
            return rows[:5]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            return ["it holds no tables"]
        missing = [t for t in CORE_TABLES if t not in tables]
        if missing:
            return [f"tables {', '.join(missing)} are missing"]
        return []
    except (sqlite3.Error, ValueError) as exc:  # ValueError: text in the schema that is not UTF-8
        return [str(exc)]
    finally:
        conn.close()


def backup_database(db_path: Path, root: Path, *, reason: str = "manual") -> Path:
    """An online copy of the database in ``backups/`` (SQLite backup API: consistent while in use)."""
    folder = root / BACKUP_DIR
    folder.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    dest = folder / f"generec-{stamp}-{re.sub(r'[^a-z0-9]+', '-', reason.lower())}.sqlite"
    part = temp_path(folder, ".sqlite")
    src = _connect_ro(db_path)
    try:
        out = sqlite3.connect(part)
        try:
            src.backup(out)
        finally:
            out.close()
        os.replace(part, dest)
    finally:
        src.close()
        part.unlink(missing_ok=True)
    return dest


# --------------------------------------------------------------------------- containment

_DRIVE = re.compile(r"^[A-Za-z]:")


def contained(root: Path, rel: str, *, what: str = "file", allowed: Iterable[str] = MANAGED_DIRS) -> Path:
    """The absolute path of ``rel`` (read from the database or a workspace file), refusing one that is
    absolute, climbs out with ``..``, lies outside the managed folders, or passes a symbolic link below
    a managed folder (the managed folder itself may be a link: users move big folders to other disks)."""
    bad = (not rel or "\x00" in rel or "\\" in rel or rel.startswith("/") or _DRIVE.match(rel) is not None)
    parts = PurePosixPath(rel).parts if not bad else ()
    if bad or not parts or ".." in parts or "." in parts or parts[0] not in tuple(allowed) or len(parts) < 2:
        raise CorpusError(f"The {what} path {rel!r} in the catalogue points outside the workspace's managed "
                          "folders; GeneRec will not read it (run `generec workspace check`).")
    cur = root / parts[0]
    for part in parts[1:]:
        cur = cur / part
        if cur.is_symlink():
            raise CorpusError(f"The {what} {rel} is a symbolic link; GeneRec does not follow links inside "
                              "the workspace (run `generec workspace repair` to quarantine it).")
    return root.joinpath(*parts)


# --------------------------------------------------------------------------- recovery

def _inside_plain(root: Path, rel: str) -> Path | None:
    """``root/rel`` when ``rel`` is a clean relative path whose folders are no links, else None."""
    parts = PurePosixPath(rel).parts
    if not parts or ".." in parts or rel.startswith("/") or "\x00" in rel:
        return None
    cur = root
    for part in parts[:-1]:
        cur = cur / part
        if cur.is_symlink():
            return None
    return root.joinpath(*parts)


def _remove_own(path: Path) -> bool:
    """Remove a temporary file or folder of ours (a link is removed as a link, never followed)."""
    try:
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)
        else:
            return False
    except FileNotFoundError:
        return False
    return True


def _quarantine(root: Path, path: Path, folder: Path) -> None:
    dest = folder / path.relative_to(root)
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.rename(path, dest)  # same folder tree: never a copy; a link moves as a link


def recover(root: Path, referenced: set[str], *, grace_s: float) -> RecoveryReport:
    """Undo what crashes left (see the module docstring). ``referenced``: the relative paths the
    database's rows name; only call it when the database is healthy."""
    rep = RecoveryReport()
    # 1. what dead processes journaled: theirs to remove
    for journal in dead_journals(root):
        for entry in read_journal(journal):
            path = _inside_plain(root, entry.rel)
            if path is None or not os.path.lexists(path):
                continue
            if entry.kind == "T" and path.name.lstrip(".").startswith(TEMP_PREFIX.lstrip(".")):
                if _remove_own(path):
                    rep.removed.append(entry.rel)
            elif entry.kind == "F" and entry.rel not in referenced and not path.is_symlink():
                try:
                    same = os.lstat(path).st_ino == entry.inode
                except FileNotFoundError:
                    continue
                if same:  # the very file the dead process renamed in before its row committed
                    path.unlink(missing_ok=True)
                    rep.removed.append(entry.rel)
        journal.unlink(missing_ok=True)
    # 2. everything else unreferenced: quarantined, never deleted
    live = live_journal_paths(root)
    now = time.time()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    qfolder = root / QUARANTINE_DIR / stamp
    for rel, path, why in _strays(root, referenced, live):
        if why:
            rep.left.append(f"{rel} ({why})")
            continue
        try:  # a link is never a write in flight (the app makes none): no grace for it
            if not path.is_symlink() and now - os.lstat(path).st_mtime < grace_s:
                continue  # may be another program's write in flight; looked at again next time
        except FileNotFoundError:
            continue
        try:
            _quarantine(root, path, qfolder)
        except OSError as exc:
            rep.left.append(f"{rel} (could not be moved to quarantine: {exc.strerror or exc})")
            continue
        rep.quarantined.append(rel)
    if rep.quarantined:
        rep.quarantine_folder = qfolder.relative_to(root).as_posix()
        _write_quarantine_note(qfolder, rep.quarantined)
    return rep


def _write_quarantine_note(folder: Path, rels: list[str]) -> None:
    from generec_desktop.safefiles import atomic_write_text

    text = ("These files were in the workspace's managed folders but no item in the catalogue referenced\n"
            "them, so GeneRec moved them here instead of deleting them. Move them back, or import them\n"
            "with `generec import`, or delete them yourself once you are sure you do not need them.\n\n"
            + "\n".join(rels) + "\n")
    atomic_write_text(folder / "README.txt", text)


def _strays(root: Path, referenced: set[str], live: set[str]) -> Iterator[tuple[str, Path, str]]:
    """(rel, path, why-left-in-place or "") for unreferenced entries the recovery should look at."""
    for d in MANAGED_DIRS:
        folder = root / d
        linked = folder.is_symlink()
        for p in walk_files(folder):
            rel = p.relative_to(root).as_posix()
            if rel in live:
                continue
            if rel in referenced and not p.is_symlink():
                continue
            if linked:
                yield rel, p, f"{d}/ is a link to another folder: not touched"
            else:
                yield rel, p, ""
    for p in root.glob(f"{TEMP_PREFIX}*"):
        rel = p.relative_to(root).as_posix()
        if rel not in live and (p.is_file() or p.is_symlink()):
            yield rel, p, ""
    for d in STAGING_DIRS:
        base = root / d
        if not base.is_dir() or base.is_symlink():
            continue
        for sub in (base, *(x for x in base.iterdir() if x.is_dir() and not x.is_symlink())):
            for p in sub.iterdir():
                rel = p.relative_to(root).as_posix()
                name = p.name[1:] if p.name.startswith("." + TEMP_PREFIX) else p.name
                if name.startswith(TEMP_PREFIX) and rel not in live:
                    yield rel, p, ""


def leftovers(root: Path, referenced: set[str]) -> tuple[list[str], list[str], list[str]]:
    """(orphans, temporaries, unsafe links) as :func:`recover` would see them now, changing nothing."""
    live = live_journal_paths(root)
    orphans, temps, unsafe = [], [], []
    for rel, p, _why in _strays(root, referenced, live):
        name = p.name[1:] if p.name.startswith("." + TEMP_PREFIX) else p.name
        if p.is_symlink():
            unsafe.append(rel)
        elif name.startswith(TEMP_PREFIX):
            temps.append(rel)
        else:
            orphans.append(rel)
    for journal in dead_journals(root):
        temps.append(journal.relative_to(root).as_posix())
    return sorted(orphans), sorted(temps), sorted(unsafe)


__all__ += ["JOURNAL_DIR", "content_files", "leftovers", "quick_check", "restore_hint", "walk_files"]
