"""Atomic file writes, hashing, and the journal of in-flight writes (base level: no heavy imports).

Every file the app writes goes to a temporary name in its destination folder, is fsynced and renamed
into place, so a reader never sees half a file. Inside an open workspace each temporary name (and each
file renamed into a content-addressed place before its database row commits) is first **recorded in
that workspace's journal**: one append-only file per process, ``W/journal/<host>-<pid>-<start>.log``.
After a crash, recovery removes exactly what a *dead* process's journal lists and nothing else, so it
can never delete a file the app did not create itself (issue 13): anything unlisted is only reported
or moved to quarantine by the corpus.

Why a journal rather than "names carry the pid": a pid is reused, a name can be copied by hand, and a
hand-placed file has no pid at all. The journal costs one buffered append per temporary file (about
10 µs); it is not fsynced, because after a power loss a lost line only turns a deletion into a
quarantine, never the other way round.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "JOURNAL_DIR",
    "TEMP_PREFIX",
    "JournalEntry",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "atomic_writer",
    "dead_journals",
    "file_sha256",
    "fsync_dir",
    "fsync_file",
    "is_disk_full",
    "live_journal_paths",
    "open_journal",
    "read_journal",
    "record_final_target",
    "release_journal",
    "temp_name",
    "temp_path",
]

TEMP_PREFIX = ".tmp-"
JOURNAL_DIR = "journal"
JOURNAL_SUFFIX = ".log"


# --------------------------------------------------------------------------- process identity

def _start_time(pid: int) -> str | None:
    """The start time of process ``pid`` in clock ticks since boot (Linux), or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:  # not Linux-like, or not readable: unknown
        return "?"
    # the command name (field 2) may hold spaces and parentheses: split after its closing ')'
    fields = stat[stat.rindex(")") + 2:].split()
    return fields[19] if len(fields) > 19 else "?"


def _host() -> str:
    name = socket.gethostname() or "host"
    return "".join(c if c.isalnum() or c in "._" else "_" for c in name)[:64]


def _process_tag() -> str:
    pid = os.getpid()
    return f"{_host()}-{pid}-{_start_time(pid) or '0'}"


def _owner_alive(tag: str) -> bool:
    """Whether the process that wrote journal ``tag`` may still run (True whenever unsure)."""
    try:
        host, pid_s, start = tag.rsplit("-", 2)
        pid = int(pid_s)
    except ValueError:
        return True  # not a name we write: never treat as dead
    if host != _host():
        return True  # another machine sharing the folder: we cannot know
    if Path("/proc/self/stat").exists():
        now = _start_time(pid)
        if now is None:
            return False
        return now in ("?", start) or start in ("?", "0")
    if os.name != "posix":  # os.kill(pid, 0) would terminate the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --------------------------------------------------------------------------- the journal

@dataclass(frozen=True)
class JournalEntry:
    """One recorded write: ``kind`` "T" (a temporary file or folder) or "F" (a file renamed into a
    final place before its row commits, with the inode it had)."""

    kind: str
    rel: str
    inode: int | None = None


class _Journal:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / JOURNAL_DIR / f"{_process_tag()}{JOURNAL_SUFFIX}"
        self.refs = 0
        self.lock = threading.Lock()
        self.listed: list[JournalEntry] = []

    def record(self, entry: JournalEntry) -> None:
        line = json.dumps({"k": entry.kind, "p": entry.rel, **({"i": entry.inode} if entry.inode else {})})
        with self.lock:
            self.path.parent.mkdir(exist_ok=True)
            # opened per record: a long-lived handle would keep a deleted journal alive
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")
            self.listed.append(entry)

    def prune(self) -> None:
        """Drop the journal file once nothing it lists as temporary is left on disk."""
        with self.lock:
            if any(e.kind == "T" and os.path.lexists(self.root / e.rel) for e in self.listed):
                return
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            self.listed.clear()


_journals: dict[Path, _Journal] = {}
_registry_lock = threading.Lock()


def open_journal(root: Path) -> None:
    """Start journaling temporary files under workspace ``root`` (reference-counted per process)."""
    root = Path(root).resolve()
    with _registry_lock:
        j = _journals.get(root)
        if j is None:
            j = _journals[root] = _Journal(root)
        j.refs += 1


def release_journal(root: Path) -> None:
    """Undo one :func:`open_journal`; the last one removes the journal if nothing is left in flight."""
    root = Path(root).resolve()
    with _registry_lock:
        j = _journals.get(root)
        if j is None:
            return
        j.refs -= 1
        if j.refs > 0:
            return
        del _journals[root]
    j.prune()


def _journal_for(path: Path) -> tuple[_Journal, str] | None:
    if not _journals:
        return None
    absolute = Path(os.path.abspath(path))
    with _registry_lock:
        candidates = list(_journals.values())
    for j in candidates:
        for base in (absolute, absolute.resolve()):
            try:
                return j, base.relative_to(j.root).as_posix()
            except ValueError:
                continue
    return None


def temp_name(suffix: str = "") -> str:
    """A fresh temporary file name (``.tmp-<pid>-<uuid><suffix>``); use :func:`temp_path` to journal it."""
    return f"{TEMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex}{suffix}"


def temp_path(folder: Path, suffix: str = "") -> Path:
    """A fresh temporary path in ``folder``, recorded in the journal of the workspace holding it."""
    path = Path(folder) / temp_name(suffix)
    found = _journal_for(path)
    if found is not None:
        found[0].record(JournalEntry("T", found[1]))
    return path


def record_final_target(tmp: Path, final: Path) -> None:
    """Record that ``tmp`` is about to be renamed to ``final`` before its row commits (see the module)."""
    found = _journal_for(final)
    if found is None:
        return
    j, rel = found
    j.record(JournalEntry("F", rel, os.lstat(tmp).st_ino))


def read_journal(path: Path) -> list[JournalEntry]:
    """The entries of a journal file (lines that do not parse are skipped: a torn last line)."""
    out: list[JournalEntry] = []
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return out
    for line in text.splitlines():
        try:
            d = json.loads(line)
            kind, rel = str(d["k"]), str(d["p"])
        except (ValueError, KeyError, TypeError):
            continue
        if kind in ("T", "F") and rel:
            inode = d.get("i")
            out.append(JournalEntry(kind, rel, int(inode) if isinstance(inode, int) else None))
    return out


def _journal_files(root: Path) -> Iterator[Path]:
    d = Path(root) / JOURNAL_DIR
    if not d.is_dir() or d.is_symlink():
        return
    for p in sorted(d.iterdir()):
        if p.name.endswith(JOURNAL_SUFFIX) and p.is_file() and not p.is_symlink():
            yield p


def dead_journals(root: Path) -> list[Path]:
    """Journal files under workspace ``root`` whose writing process is gone (this one never is)."""
    mine = _process_tag()
    return [p for p in _journal_files(root)
            if p.name[:-len(JOURNAL_SUFFIX)] != mine and not _owner_alive(p.name[:-len(JOURNAL_SUFFIX)])]


def live_journal_paths(root: Path) -> set[str]:
    """Relative paths that a live process (this one included) has journaled: never touch them."""
    dead = set(dead_journals(root))
    live: set[str] = set()
    for p in _journal_files(root):
        if p not in dead:
            live.update(e.rel for e in read_journal(p))
    return live


# --------------------------------------------------------------------------- writes and hashes

def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (POSIX; a no-op elsewhere)."""
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    """Flush a file's bytes to the disk."""
    fd = os.open(path, os.O_RDONLY if os.name == "posix" else os.O_RDWR)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: Path, *, record_final: bool = False) -> Iterator[Path]:
    """A journaled temporary path beside ``path`` for a library that writes to a path itself (safetensors,
    PIL, PyAV); on a clean exit it is fsynced and renamed to ``path``, on an error removed.

    ``record_final``: ``path`` is a content-addressed file written before its database row commits;
    the rename is journaled too (:func:`record_final_target`), so after a crash recovery knows an
    unreferenced file there is the app's own.
    """
    path = Path(path)
    tmp = temp_path(path.parent, path.suffix)
    try:
        yield tmp
        fsync_file(tmp)
        if record_final:
            record_final_target(tmp, path)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


@contextlib.contextmanager
def atomic_writer(path: Path, *, record_final: bool = False) -> Iterator[BinaryIO]:
    """A binary file handle whose bytes become ``path`` atomically when the block ends cleanly
    (``record_final`` as in :func:`atomic_path`)."""
    with atomic_path(path, record_final=record_final) as tmp, open(tmp, "xb") as fh:
        yield fh
        fh.flush()


def atomic_write_bytes(path: Path, data: bytes, *, record_final: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically: journaled temp file beside it, fsync, rename
    (``record_final`` as in :func:`atomic_path`)."""
    path = Path(path)
    tmp = temp_path(path.parent, path.suffix)
    try:
        with open(tmp, "xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if record_final:
            record_final_target(tmp, path)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return path


def atomic_write_text(path: Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, data: object, *, sort_keys: bool = False) -> Path:
    """Write ``data`` as indented JSON to ``path`` atomically."""
    return atomic_write_text(path, json.dumps(data, indent=2, sort_keys=sort_keys, default=str) + "\n")


def file_sha256(path: Path) -> str:
    """The sha256 of a file, hex."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (an OSError or a database error) means the disk or quota is full."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if "database or disk is full" in str(exc) or "No space left on device" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return False
