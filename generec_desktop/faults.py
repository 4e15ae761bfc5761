"""Faults of the machine (full disk, read-only folder, locked or damaged database) as one plain sentence.

The CLI's dispatcher and the window's worker adapter both call :func:`describe_fault` on an exception
that is not a :class:`~generec_desktop.jobs.GenerecError`, so a user sees what happened and what to do,
never a traceback. Base level: no heavy imports (SQLAlchemy's and sqlite3's errors are recognised by
their class names and messages).
"""

from __future__ import annotations

import errno

from generec_desktop.safefiles import is_disk_full

__all__ = ["describe_fault"]

_DB_ERRORS = ("OperationalError", "DatabaseError", "IntegrityError", "ProgrammingError", "InterfaceError",
              "InternalError", "NotSupportedError", "DataError")


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in out:
        out.append(cur)
        cur = getattr(cur, "orig", None) or cur.__cause__ or cur.__context__
    return out


def describe_fault(exc: BaseException) -> str | None:
    """One sentence for a fault of the machine or the database, or None when ``exc`` is not one."""
    chain = _chain(exc)
    text = " ".join(str(e) for e in chain).lower()
    if is_disk_full(exc):
        return ("The disk is full (or your quota is used up); free some space on the drive that holds the "
                "workspace or output and run it again. Nothing was half-written.")
    for e in chain:
        if isinstance(e, OSError) and e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            where = f" ({e.filename})" if e.filename else ""
            return (f"GeneRec may not write there{where}: the folder or disk is read-only or not yours; "
                    "make it writable or choose another folder. Nothing was changed.")
    is_db = any(type(e).__name__ in _DB_ERRORS for e in chain)
    if not is_db:
        return None
    if "readonly database" in text or "read-only" in text or "unable to open database file" in text:
        return ("The workspace's database cannot be written (a read-only folder or disk?); listing, viewing and "
                "checking work, but this command changes it: make the folder writable. Nothing was changed.")
    if any(k in text for k in ("connection refused", "could not connect", "connection failed",
                               "server closed the connection", "no such file or directory\n\tis the server",
                               "connection timeout expired", "terminating connection")):
        return ("The workspace's database server (PostgreSQL) cannot be reached or dropped the connection; check "
                "that it runs and that the \"database\" URL in workspace.json is right, then try again. "
                "Nothing was changed.")
    if "database is locked" in text or "database is busy" in text:
        return ("Another program is writing to the workspace's database (another GeneRec window or command?); "
                "let it finish, then try again. Nothing was changed.")
    if "malformed" in text or "not a database" in text or "disk i/o error" in text or "corrupt" in text:
        return ("The workspace's database is damaged; run `generec workspace check W` and restore it from "
                "backups/ or with `generec workspace rebuild W`. Nothing more was written.")
    first = str(chain[-1]).strip().splitlines()[0] if str(chain[-1]).strip() else type(chain[-1]).__name__
    return f"The workspace's database refused the operation ({first[:200]}); nothing was changed."
