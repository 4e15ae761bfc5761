"""Machine faults as one plain sentence (issue 13): the messages the CLI and the window show."""

from __future__ import annotations

import errno
import sqlite3

import pytest

from generec_desktop.faults import describe_fault


def _wrapped(msg: str) -> BaseException:
    """A database error as SQLAlchemy raises it (the sqlite3 error as ``orig``)."""
    from sqlalchemy.exc import OperationalError

    return OperationalError("INSERT INTO users ...", {}, sqlite3.OperationalError(msg))


@pytest.mark.parametrize(("exc", "words"), [
    (OSError(errno.ENOSPC, "No space left on device"), "disk is full"),
    (OSError(errno.EDQUOT, "Disk quota exceeded"), "disk is full"),
    (_wrapped("database or disk is full"), "disk is full"),
    (_wrapped("attempt to write a readonly database"), "cannot be written"),
    (_wrapped("unable to open database file"), "cannot be written"),
    (_wrapped("database is locked"), "Another program is writing"),
    (_wrapped("database disk image is malformed"), "damaged"),
    (sqlite3.DatabaseError("file is not a database"), "damaged"),
    (OSError(errno.EROFS, "Read-only file system", "/mnt/W/x"), "read-only"),
    (PermissionError(errno.EACCES, "Permission denied", "/mnt/W/x"), "read-only"),
])
def test_faults_are_one_sentence_that_says_what_to_do(exc, words):
    text = describe_fault(exc)
    assert text is not None and words in text and "\n" not in text and "Traceback" not in text


def test_a_fault_met_inside_another_error_is_still_recognised():
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise RuntimeError("encoder failed") from inner
    except RuntimeError as outer:
        assert "disk is full" in describe_fault(outer)


def test_other_errors_are_not_faults():
    assert describe_fault(KeyError("x")) is None and describe_fault(ValueError("bad")) is None
