"""The one adapter between the job contract (generec_desktop.jobs) and Qt.

A job is any callable ``fn(*, progress, cancel) -> result``. :class:`JobManager` runs it on a
``QThreadPool`` thread; progress, results and errors come back to the GUI thread as queued signals.
Errors become a one-sentence message (the traceback goes to the log, never into the window).
"""

from __future__ import annotations

import itertools
import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from generec_desktop.app.qtfix import emit
from generec_desktop.jobs import Cancelled, CancelToken, GenerecError

log = logging.getLogger(__name__)

JobFn = Callable[..., Any]

#: how much lower than the window a job thread runs (Unix niceness steps; Linux only, where each thread has
#: its own). On two cores, jobs that keep both busy made the window wait for a CPU. The longest start-up stall
#: while jobs ran (``benchmarks/bench_startup.py`` on the demo, A/B interleaved, quiet machine) was over 50 ms in
#: 7 of 12 runs at the window's priority (24-83 ms), in 4 of 6 at +5 (41-86 ms) and in 1 of 12 at +10 (28-52
#: ms); start-up settled as fast (1.4-1.7 s). A job loses nothing while the window is idle. Child-process jobs
#: (:mod:`.process_jobs`) keep the window's priority, see there why.
JOB_NICENESS = 10


def thread_niceness() -> int | None:
    """The calling thread's niceness (Linux), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    except OSError:
        return None


def lower_thread_priority(target: int | None) -> bool:
    """Run the calling thread at niceness ``target`` or lower (Linux); threads it starts inherit it (the
    analysis's decoders). Returns whether it runs there now."""
    now = thread_niceness()
    if target is None or now is None:
        return False
    if now >= target:  # already (a pool thread reused, or started by a lowered thread)
        return True
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), min(19, target))
    except OSError:  # a sandbox that forbids it: run as before
        return False
    return True


def user_message(exc: BaseException) -> str:
    """A message fit for a dialog: our own errors verbatim, machine faults (full disk, read-only folder,
    locked or damaged database) as one plain sentence, anything else summarised."""
    from generec_desktop.faults import describe_fault

    if isinstance(exc, GenerecError):
        return str(exc) or type(exc).__name__
    fault = describe_fault(exc)
    if fault is not None:
        return fault
    if isinstance(exc, OSError | ValueError):
        return str(exc) or type(exc).__name__
    return f"Unexpected error ({type(exc).__name__}): {exc}. Details are in the log."


@dataclass
class Job:
    """One background job as the GUI sees it."""

    job_id: int
    title: str
    cancel: CancelToken = field(default_factory=CancelToken)
    fraction: float = 0.0
    message: str = ""
    state: str = "queued"  # queued | running | done | failed | cancelled
    started: float = 0.0
    result: Any = None
    error: str | None = None


class _Signals(QObject):
    progress = Signal(int, float, str)
    done = Signal(int, object)
    failed = Signal(int, str)
    cancelled = Signal(int)


class _Runnable(QRunnable):
    def __init__(self, job: Job, fn: JobFn, signals: _Signals, niceness: int | None = None) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._job, self._fn, self._signals, self._niceness = job, fn, signals, niceness
        self._last_emit = 0.0

    def _progress(self, fraction: float, message: str = "") -> None:
        # Throttle to ~30 updates/s so a chatty job cannot flood the GUI thread's event queue.
        now = time.monotonic()
        if now - self._last_emit >= 0.033 or fraction >= 1.0:
            self._last_emit = now
            emit(self._signals.progress, self._job.job_id, float(fraction), str(message))

    def run(self) -> None:
        lower_thread_priority(self._niceness)  # the window first (see JOB_NICENESS)
        job = self._job
        if job.cancel.cancelled:  # cancelled while queued (Cancel All, Quit): do not start it at all
            self._signals.cancelled.emit(job.job_id)
            return
        try:
            result = self._fn(progress=self._progress, cancel=job.cancel)
        except Cancelled:
            emit(self._signals.cancelled, job.job_id)
        except BaseException as exc:
            log.error("job %r failed:\n%s", job.title, traceback.format_exc())
            emit(self._signals.failed, job.job_id, user_message(exc))
        else:
            if job.cancel.cancelled:
                emit(self._signals.cancelled, job.job_id)
            else:
                emit(self._signals.done, job.job_id, result)


class JobManager(QObject):
    """Runs jobs in the background and tells the GUI about them through signals."""

    job_added = Signal(object)  # Job
    job_changed = Signal(object)  # Job
    job_finished = Signal(object)  # Job (done, failed or cancelled)

    def __init__(self, parent: QObject | None = None, max_threads: int = 2) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        gui = thread_niceness()  # made on the GUI thread: jobs run JOB_NICENESS below it
        self._niceness = None if gui is None else min(19, gui + JOB_NICENESS)
        self._ids = itertools.count(1)
        self._jobs: dict[int, Job] = {}
        self._callbacks: dict[int, tuple[Callable[[Any], None] | None, Callable[[str], None] | None]] = {}
        self._signals = _Signals()
        self._signals.progress.connect(self._on_progress)
        self._signals.done.connect(self._on_done)
        self._signals.failed.connect(self._on_failed)
        self._signals.cancelled.connect(self._on_cancelled)

    def submit(
        self,
        title: str,
        fn: JobFn,
        *,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> Job:
        """Start ``fn(progress=..., cancel=...)`` in the background; callbacks run on the GUI thread."""
        job = Job(next(self._ids), title, started=time.monotonic(), state="running")
        self._jobs[job.job_id] = job
        self._callbacks[job.job_id] = (on_done, on_error)
        emit(self.job_added, job)
        self._pool.start(_Runnable(job, fn, self._signals, self._niceness))
        return job

    def cancel(self, job_id: int) -> None:
        """Ask a job to stop at its next check."""
        job = self._jobs.get(job_id)
        if job is not None:
            job.cancel.cancel()
            job.message = "Cancelling…"
            emit(self.job_changed, job)

    def cancel_all(self) -> None:
        for job in list(self._jobs.values()):
            if job.state == "running":
                job.cancel.cancel()

    def running(self) -> list[Job]:
        return [j for j in self._jobs.values() if j.state == "running"]

    def wait(self, msecs: int = -1) -> bool:
        """Block until every job finished (used at shutdown and in tests)."""
        return self._pool.waitForDone(msecs)

    def busy_threads(self) -> int:
        """Worker threads still running a job (a cancelled job runs until its next cancel check)."""
        return int(self._pool.activeThreadCount())

    @Slot(int, float, str)
    def _on_progress(self, job_id: int, fraction: float, message: str) -> None:
        job = self._jobs.get(job_id)
        if job is None or job.state != "running":
            return
        job.fraction, job.message = fraction, message or job.message
        emit(self.job_changed, job)

    def _finish(self, job_id: int, state: str) -> Job | None:
        job = self._jobs.pop(job_id, None)
        if job is not None:
            job.state = state
            emit(self.job_finished, job)
        return job

    @Slot(int, object)
    def _on_done(self, job_id: int, result: object) -> None:
        on_done, _ = self._callbacks.pop(job_id, (None, None))
        job = self._jobs.get(job_id)
        if job is not None:
            job.result, job.fraction = result, 1.0
        self._finish(job_id, "done")
        if on_done is not None:
            on_done(result)

    @Slot(int, str)
    def _on_failed(self, job_id: int, message: str) -> None:
        _, on_error = self._callbacks.pop(job_id, (None, None))
        job = self._jobs.get(job_id)
        if job is not None:
            job.error = message
        self._finish(job_id, "failed")
        if on_error is not None:
            on_error(message)

    @Slot(int)
    def _on_cancelled(self, job_id: int) -> None:
        self._callbacks.pop(job_id, None)
        self._finish(job_id, "cancelled")
