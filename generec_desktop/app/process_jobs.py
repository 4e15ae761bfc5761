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
that calls it: progress comes back through a pipe, a cancel is sent to the child (its token then reads as
cancelled), an error comes back as the same exception (its message is what the window shows), and a child
that dies (killed, out of memory) gives one clear error. A child is a fresh interpreter (``sys.executable``,
the window's ``sys.path``) talking over two pipes — not ``multiprocessing``'s spawn, which would import the
window's ``__main__`` script (and with it Qt) again in every child, and run it when it has no main guard —,
kept for the next job, so only the first job pays for its start and imports. Children run at the window's
priority (a nicer one slows its job on a busy machine: with it, the Revise tab's test revision ran past its
180 s limit at a load of 11, where other programs took the CPU); the window's job threads run lower
(:data:`generec_desktop.app.worker.JOB_NICENESS`: measured on a quiet machine, they no longer make the window
wait for a CPU, which a child on its own core does not either). Children end with
the window (Quit kills them, ``atexit`` too, and each watches its parent). A cancelled job whose child does
not answer within ``CANCEL_GRACE_S`` is ended by killing the child.
``GENEREC_JOB_PROCESSES=0`` runs jobs on the calling thread instead (for a debugger, or a platform without
processes).

No Qt here: the children import this module.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import logging
import os
import pickle
import queue
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from generec_desktop.jobs import Cancelled, CancelToken, GenerecError, Progress, check_cancel, report

log = logging.getLogger(__name__)

CANCEL_GRACE_S = 1.0  # how long a cancelled job's child has to stop before it is killed
PROGRESS_EVERY_S = 0.05  # the child sends at most 20 progress messages a second
IDLE_KEPT = 2  # children kept for the next job (the window runs at most two jobs at once)

# the child's first lines: the window's sys.path first, then this module (so it imports the same code)
_BOOT = ("import sys\n"
         "from multiprocessing.connection import Connection\n"
         "rc, wc = Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False)\n"
         "sys.path[:] = rc.recv()\n"
         "from generec_desktop.app.process_jobs import _serve\n"
         "_serve(rc, wc, int(sys.argv[3]))\n")

_idle: list[_Child] = []
_busy: set[_Child] = set()
_lock = threading.Lock()
_job_ids = itertools.count(1)


class _Child:
    """One child process serving jobs one at a time over a pair of pipes."""

    def __init__(self) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        try:
            self.proc = subprocess.Popen([sys.executable, "-c", _BOOT, str(to_child_r), str(from_child_w),
                                          str(os.getpid())], pass_fds=(to_child_r, from_child_w),
                                         stdin=subprocess.DEVNULL)
        except BaseException:
            for fd in (to_child_r, to_child_w, from_child_r, from_child_w):
                os.close(fd)
            raise
        os.close(to_child_r)
        os.close(from_child_w)
        self.send_conn = Connection(to_child_w, readable=False)
        self.recv_conn = Connection(from_child_r, writable=False)
        self.send_conn.send(list(sys.path))

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(2)
        for conn in (self.send_conn, self.recv_conn):
            with contextlib.suppress(OSError):
                conn.close()


def _take() -> _Child:
    with _lock:
        while _idle:
            child = _idle.pop()
            if child.alive():
                _busy.add(child)
                return child
            child.kill()
    child = _Child()
    with _lock:
        _busy.add(child)
    return child


def _give_back(child: _Child) -> None:
    with _lock:
        _busy.discard(child)
        if len(_idle) < IDLE_KEPT and child.alive():
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
        with contextlib.suppress(OSError):
            child.proc.kill()


atexit.register(shutdown)


def run_in_process(fn: Callable[..., Any], /, *args: Any, progress: Progress | None = None,
                   cancel: CancelToken | None = None, **kwargs: Any) -> Any:
    """``fn(*args, progress=, cancel=, **kwargs)`` in a child process (see the module docstring)."""
    if os.environ.get("GENEREC_JOB_PROCESSES", "1") == "0" or getattr(sys, "frozen", False):
        # (a frozen app's executable is not a Python interpreter that could run the child's first lines)
        return fn(*args, progress=progress, cancel=cancel, **kwargs)
    check_cancel(cancel)
    child = _take()
    reusable = False
    job_id = next(_job_ids)
    try:
        # the job sees the window's environment and folder as they are now (as on a worker thread), not as
        # they were when the child started
        child.send_conn.send(("job", job_id, fn, args, kwargs, dict(os.environ), os.getcwd()))
        cancelled_at: float | None = None
        while True:
            if cancel is not None and cancel.cancelled and cancelled_at is None:
                cancelled_at = time.monotonic()
                with contextlib.suppress(OSError):
                    child.send_conn.send(("cancel", job_id))
            if cancelled_at is not None and time.monotonic() - cancelled_at > CANCEL_GRACE_S:
                raise Cancelled()  # the child did not stop in time: it is killed below
            try:
                message = child.recv_conn.recv() if child.recv_conn.poll(0.05) else None
            except (EOFError, OSError):
                message = None
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.proc.wait(1)
            if message is None:
                if not child.alive():
                    if cancel is not None and cancel.cancelled:
                        raise Cancelled()  # ended by shutdown() or the grace period
                    code = child.proc.returncode
                    raise GenerecError(f"The job's process ended unexpectedly (exit code {code}: killed, or out "
                                       "of memory?); nothing it was writing was kept. Try again.")
                continue
            kind, got_id, payload = message
            if got_id != job_id:
                continue
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


class _JobCancel(CancelToken):
    """A job's cancel token in the child: set when the window sends ("cancel", its id)."""

    def __init__(self, job_id: int, cancelled_ids: set[int]) -> None:
        super().__init__()
        self._id, self._ids = job_id, cancelled_ids

    def cancel(self) -> None:
        self._ids.add(self._id)

    @property
    def cancelled(self) -> bool:
        return self._id in self._ids

    def raise_if_cancelled(self) -> None:
        if self._id in self._ids:
            raise Cancelled()


def _watch_parent(parent_pid: int) -> None:
    """End this child when the window's process is gone (it may have ended without running atexit)."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent_pid:
            os._exit(0)


def _serve(rc: Connection, wc: Connection, parent_pid: int) -> None:
    """The child's loop: run each job sent, answer with its progress and its outcome."""
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="watch-parent", daemon=True).start()
    jobs: queue.Queue[tuple[Any, ...] | None] = queue.Queue()
    cancelled_ids: set[int] = set()
    send_lock = threading.Lock()

    def read() -> None:
        while True:
            try:
                message = rc.recv()
            except (EOFError, OSError):
                jobs.put(None)
                return
            if message[0] == "cancel":
                cancelled_ids.add(int(message[1]))
            else:
                jobs.put(message)

    def send(message: tuple[Any, ...]) -> None:
        with send_lock:
            wc.send(message)

    threading.Thread(target=read, name="read-jobs", daemon=True).start()
    while True:
        job = jobs.get()
        if job is None:
            return
        _, job_id, fn, args, kwargs, env, cwd = job
        if env != os.environ:
            os.environ.clear()
            os.environ.update(env)
        with contextlib.suppress(OSError):
            os.chdir(cwd)
        token = _JobCancel(job_id, cancelled_ids)

        def progress(fraction: float, message: str = "", last: list[float] = [0.0],  # noqa: B006
                     job_id: int = job_id) -> None:
            now = time.monotonic()  # ``last``: this job's last send (a new list per job's function)
            if now - last[0] >= PROGRESS_EVERY_S or fraction >= 1.0:
                last[0] = now
                send(("progress", job_id, (float(fraction), str(message))))

        try:
            result = fn(*args, progress=progress, cancel=token, **kwargs)
            reply: tuple[Any, ...] = ("cancelled", job_id, None) if token.cancelled else ("done", job_id, result)
        except Cancelled:
            reply = ("cancelled", job_id, None)
        except BaseException as exc:
            reply = ("error", job_id, (_portable(exc), traceback.format_exc()))
        try:
            send(reply)
        except Exception as exc:  # a result that cannot be pickled
            send(("error", job_id, (GenerecError(f"The job's result could not be handed back ({exc})."),
                                    traceback.format_exc())))
        cancelled_ids.discard(job_id)


# ------------------------------------------------------------------------- jobs of the window run in a child


def mcvd_version_at(root: str, which: str, audience: str, checkpoint: Any, *, item_id: int | None = None,
                    progress: Progress | None = None, cancel: CancelToken | None = None,
                    **kwargs: Any) -> Any:
    """The Revise tab's MCVD revision or creation (``versions.mcvd_version``) on the workspace at ``root``,
    for :func:`run_in_process`: the engine (PyTorch, diffusers) is imported in the child."""
    import importlib

    import torch

    from generec_desktop.corpus import Workspace
    from generec_desktop.versions import mcvd_version

    # as `generec revise` / `create` do (cli/mcvd.py): one torch thread, a small model on a busy machine spins
    # less. The Revise tab's test revision in a child: 105 s with the default threads (~1 s a denoising step),
    # 17 s with one (12-14 s on a window thread, which paid no start-up)
    torch.set_num_threads(1)
    module, func = {"revise": ("generec_desktop.mcvd.revise", "revise_item"),
                    "create": ("generec_desktop.creator.create", "create_video")}[which]
    engine = getattr(importlib.import_module(module), func)
    with Workspace.open(root) as ws:
        return mcvd_version(ws, which, audience, checkpoint, engine, item_id=item_id, progress=progress,
                            cancel=cancel, **kwargs)


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
