"""Heavy jobs in a child process, so that they never hold up the window (issue 17: the longest event-loop
stall while any job runs <= 50 ms).

A job on one of the window's worker threads still shares the window's interpreter: whenever it runs Python
code or a C extension that keeps the GIL (PyTorch's import alone keeps it for up to 0.46 s at a time, measured
in benchmarks/bench_startup.py's stall sampler; numpy, PyAV and the encoders for tens to hundreds of ms), the
GUI thread waits. Measured on the demo workspace at a load of about 10 on two cores (a 5 ms ticker thread
standing in for the GUI thread): personalising three items on a worker thread gave 15–23 gaps over 50 ms per
item, the longest 0.61 s; the same personalisation in a child process gave none, the longest gap 27 ms —
no worse than the ticker alone (49 ms).

:func:`run_in_process` runs a picklable module-level function ``fn(*args, progress=, cancel=, **kwargs)`` (the
job contract of :mod:`generec_desktop.jobs`) in a child process and returns its result, from the worker thread
that calls it: progress comes back through a pipe, the cancel token is shared (a ``multiprocessing`` Event),
an error comes back as the same exception (its message is what the window shows), and a child that dies
(killed, out of memory) gives one clear error. Children are started with ``spawn`` (no copy of the window's
Qt state), ``CHILD_NICE`` nicer than the window, and kept for the next job, so only the first job pays for
their start and imports; they end with
the window (daemonic, and each watches its parent). A cancelled job whose child does not answer within
``CANCEL_GRACE_S`` is ended by killing the child. ``GENEREC_JOB_PROCESSES=0`` runs jobs on the calling
thread instead (for a debugger, or a platform without processes).

No Qt here: the children import this module.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import pickle
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from generec_desktop.jobs import Cancelled, CancelToken, GenerecError, Progress, check_cancel, report

log = logging.getLogger(__name__)

CANCEL_GRACE_S = 1.0  # how long a cancelled job's child has to stop before it is killed
PROGRESS_EVERY_S = 0.05  # the child sends at most 20 progress messages a second
IDLE_KEPT = 2  # children kept for the next job (the window runs at most two jobs at once)
CHILD_NICE = 5  # children run this much nicer than the window: on a busy machine the GUI thread gets a core first

_CTX = mp.get_context("spawn")
_idle: list[_Child] = []
_busy: set[_Child] = set()
_lock = threading.Lock()


class _SharedCancel(CancelToken):
    """The child's view of the parent's cancel token: a flag shared through a ``multiprocessing`` Event."""

    def __init__(self, event: Any) -> None:
        super().__init__()
        self._shared = event

    def cancel(self) -> None:
        self._shared.set()

    @property
    def cancelled(self) -> bool:
        return bool(self._shared.is_set())

    def raise_if_cancelled(self) -> None:
        if self._shared.is_set():
            raise Cancelled()


class _Child:
    """One child process serving jobs one at a time over a pipe."""

    def __init__(self) -> None:
        self.conn, child_end = _CTX.Pipe()
        self.cancel = _CTX.Event()
        self.proc = _CTX.Process(target=_serve, args=(child_end, self.cancel, os.getpid()), daemon=True,
                                 name="generec-job")
        self.proc.start()
        child_end.close()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.join(2)
        self.conn.close()


def _take() -> _Child:
    with _lock:
        while _idle:
            child = _idle.pop()
            if child.proc.is_alive():
                _busy.add(child)
                return child
    child = _Child()
    with _lock:
        _busy.add(child)
    return child


def _give_back(child: _Child) -> None:
    with _lock:
        _busy.discard(child)
        if len(_idle) < IDLE_KEPT and child.proc.is_alive():
            _idle.append(child)
            return
    child.kill()


def shutdown() -> None:
    """Quit: end every child now, idle or running a job (whose cancel the window asked for already; its
    writes are journaled like any cancelled job's). The jobs waiting on them end as cancelled."""
    with _lock:
        children = [*_idle, *_busy]
        _idle.clear()
    for child in children:
        child.proc.kill()


def run_in_process(fn: Callable[..., Any], /, *args: Any, progress: Progress | None = None,
                   cancel: CancelToken | None = None, **kwargs: Any) -> Any:
    """``fn(*args, progress=, cancel=, **kwargs)`` in a child process (see the module docstring)."""
    if os.environ.get("GENEREC_JOB_PROCESSES", "1") == "0":
        return fn(*args, progress=progress, cancel=cancel, **kwargs)
    check_cancel(cancel)
    child = _take()
    reusable = False
    try:
        child.cancel.clear()
        # the job sees the window's environment and folder as they are now (as on a worker thread), not as
        # they were when the child started
        child.conn.send((fn, args, kwargs, dict(os.environ), os.getcwd()))
        cancelled_at: float | None = None
        while True:
            if cancel is not None and cancel.cancelled and cancelled_at is None:
                child.cancel.set()
                cancelled_at = time.monotonic()
            if cancelled_at is not None and time.monotonic() - cancelled_at > CANCEL_GRACE_S:
                raise Cancelled()  # the child did not stop in time: it is killed below
            try:
                ready = child.conn.poll(0.05)
                message = child.conn.recv() if ready else None
            except (EOFError, OSError):
                message, ready = None, False
                child.proc.join(1)
            if message is None:
                if not child.proc.is_alive():
                    if cancel is not None and cancel.cancelled:
                        raise Cancelled()  # ended by shutdown() or the grace period
                    code = child.proc.exitcode
                    raise GenerecError(f"The job's process ended unexpectedly (exit code {code}: killed, or out "
                                       "of memory?); nothing it was writing was kept. Try again.")
                continue
            kind, payload = message
            if kind == "progress":
                report(progress, *payload)
                continue
            reusable = True
            if kind == "done":
                return payload
            if kind == "cancelled":
                raise Cancelled()
            exc, text = payload
            log.error("job in a child process failed:\n%s", text)
            raise exc
    finally:
        if reusable:
            _give_back(child)
        else:
            with _lock:
                _busy.discard(child)
            child.kill()


# ------------------------------------------------------------------------------------------ the child's side


def _watch_parent(parent_pid: int) -> None:
    """End this child when the window's process is gone (it may have ended without running atexit)."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent_pid:
            os._exit(0)


def _serve(conn: Any, event: Any, parent_pid: int) -> None:
    with contextlib.suppress(OSError, AttributeError):
        # the window's threads stay at its priority: a nicer *thread* holding the GIL and waiting for a core
        # would keep the GUI thread waiting too (the A/B runs showed no gain from it); a child shares no GIL
        os.nice(CHILD_NICE)
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="watch-parent", daemon=True).start()
    token = _SharedCancel(event)
    while True:
        try:
            fn, args, kwargs, env, cwd = conn.recv()
        except (EOFError, OSError):
            return
        if env != os.environ:
            os.environ.clear()
            os.environ.update(env)
        with contextlib.suppress(OSError):
            os.chdir(cwd)

        def progress(fraction: float, message: str = "", last: list[float] = [0.0]) -> None:  # noqa: B006
            now = time.monotonic()  # ``last``: this job's last send (a new list per job's function)
            if now - last[0] >= PROGRESS_EVERY_S or fraction >= 1.0:
                last[0] = now
                conn.send(("progress", (float(fraction), str(message))))

        try:
            result = fn(*args, progress=progress, cancel=token, **kwargs)
            reply: tuple[str, Any] = ("cancelled", None) if token.cancelled else ("done", result)
        except Cancelled:
            reply = ("cancelled", None)
        except BaseException as exc:
            reply = ("error", (_portable(exc), traceback.format_exc()))
        try:
            conn.send(reply)
        except Exception as exc:  # a result that cannot be pickled
            conn.send(("error", (GenerecError(f"The job's result could not be handed back ({exc})."),
                                 traceback.format_exc())))


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling (the window then shows its own message), else a GenerecError with
    its text (a GenerecError keeps its message; anything else keeps its type's name too)."""
    try:
        back = pickle.loads(pickle.dumps(exc))
        if isinstance(back, BaseException) and str(back) == str(exc):
            return exc
    except Exception:
        pass
    if isinstance(exc, GenerecError):
        return GenerecError(str(exc))
    return GenerecError(f"Unexpected error ({type(exc).__name__}): {exc}. Details are in the log.")
