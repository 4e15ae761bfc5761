"""Writing managed files of a workspace: copy while hashing, read-only, removal, input checks, and the
clean-up after a failed write, which never removes a file a committed row references.

The importer (:mod:`.importer`) and the version store (:mod:`.versions`) write through these; tests
patch ``fsync_dir`` / ``unlink`` / ``copy_hashing`` here to simulate a crash or a full disk at that step.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from generec_desktop import safefiles
from generec_desktop.corpus.errors import CorpusError
from generec_desktop.jobs import CancelToken, Progress, check_cancel, report

if TYPE_CHECKING:
    from generec_desktop.corpus.workspace import Workspace

__all__ = ["check_input_file", "cleanup", "copy_hashing", "fsync_dir", "fsync_file", "make_read_only",
           "place_before_commit", "unlink"]

_CHUNK = 1 << 20

fsync_dir = safefiles.fsync_dir
fsync_file = safefiles.fsync_file


def place_before_commit(tmp: Path, final: Path, created: list[Path]) -> None:
    """Rename the finished ``tmp`` to its content-addressed ``final`` inside the open database transaction
    (what the importer and the version export share): the rename is journaled first, so a crash before
    the commit lets recovery remove exactly this file; ``final`` joins ``created`` (a failed commit
    removes it, :func:`cleanup`), and the folder is fsynced."""
    os.utime(tmp)  # recover()'s grace period counts from the rename
    safefiles.record_final_target(tmp, final)
    os.replace(tmp, final)
    created.append(final)
    fsync_dir(final.parent)


def unlink(path: Path) -> None:
    """Remove a (possibly read-only) file if present."""
    try:
        path.unlink()
    except FileNotFoundError:
        return
    except PermissionError:  # Windows refuses to delete read-only files
        os.chmod(path, stat.S_IWRITE)
        path.unlink(missing_ok=True)


def make_read_only(path: Path) -> None:
    """Make ``path`` read-only for everyone (what is hashed stays as hashed)."""
    os.chmod(path, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)


def copy_hashing(src: Path, dst: Path, cancel: CancelToken | None,
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


def check_input_file(path: Path) -> None:
    """Refuse a path that is not an existing regular file, in one sentence that says what to give."""
    if not path.exists():
        raise CorpusError(f"{path} does not exist; check the path.")
    if path.is_dir():
        raise CorpusError(f"{path} is a folder, not a video file; give the video files inside it.")
    if not path.is_file():
        raise CorpusError(f"{path} is not a regular file; give a video file.")


def cleanup(ws: Workspace, created: list[Path]) -> None:
    """Remove files this call created, except any that a committed row references."""
    from generec_desktop.corpus.integrity import referenced

    if not created:
        return
    try:
        refs = referenced(ws)
    except Exception:  # the database itself failed: never delete what might be referenced
        refs = {ws._rel(p) for p in created}
    for p in created:
        if ws._rel(p) not in refs:
            unlink(p)
