"""Jobs for tests/app/test_process_jobs.py to run in a child process (module-level, so they pickle by name;
no Qt or pytest imports: the child imports this module)."""

from __future__ import annotations

import os
import time

from generec_desktop.jobs import GenerecError, check_cancel


def where(progress=None, cancel=None):
    """The child's process id, whether it has Qt loaded, and its nice value."""
    import sys

    progress(0.5, "half way")
    return os.getpid(), "PySide6" in sys.modules, os.getpriority(os.PRIO_PROCESS, 0)


def slow(n, progress=None, cancel=None):
    for i in range(n):
        check_cancel(cancel)
        progress(i / n, f"step {i}")
        time.sleep(0.02)
    return "finished"


def stubborn(progress=None, cancel=None):
    """Ignores its cancel token (a job stuck in C code)."""
    time.sleep(60)
    return "never"


def refuses(progress=None, cancel=None):
    raise GenerecError("That file is not a video; choose an MP4.")


def dies(progress=None, cancel=None):
    os._exit(9)


def env(name, progress=None, cancel=None):
    return os.environ.get(name)
