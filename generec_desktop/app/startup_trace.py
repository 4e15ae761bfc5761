"""Start-up timing of the real app, for ``benchmarks/bench_startup.py`` (off unless asked for).

``GENEREC_TRACE_STARTUP=<file.json> generec-desktop --demo`` runs the app as a user would and writes, once the
workspace is open and no job has run for a moment, one JSON object with wall-clock times (``time.time()``, so
the benchmark can subtract the moment it started the process): ``first_paint`` (the window's first paint
event), ``responsive`` (a 0 ms timer posted when the window is shown fires: the event loop serves input),
``open_workspace_s`` (each call's seconds on the GUI thread), ``stall_ms`` / ``stall_job_ms`` (the longest gap
between the ticks of a 5 ms timer, minus 5 ms: over the whole run / while a job ran) and the jobs seen. With
``GENEREC_TRACE_TABS=1`` it then shows every tab in turn (their loading runs too). With
``GENEREC_TRACE_QUIT=1`` it finally starts the thumbnails job for the first item and audiences and quits
the window while that job runs; ``quit_at`` is when Quit was asked for (the benchmark measures the process's
exit from there). With ``GENEREC_TRACE_STALLS=1`` a sampler thread also records what the GUI thread was doing
during each stall longer than ``STALL_SAMPLE_MS`` (``stalls``: its length, the job running, and the stacks
seen every 2 ms, most frequent first), to find what holds the event loop up.
"""

from __future__ import annotations

import collections
import json
import os
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from PySide6.QtCore import QElapsedTimer, QEvent, QObject, QTimer

TICK_MS = 5
SETTLE_S = 1.5  # no job for this long: the window has finished opening
LIMIT_S = 600.0
#: MainWindow's steps of showing an opened workspace after ``_workspace_ready`` (each its own event-loop turn)
STEPS = ("_show_opened_tabs", "_show_opened_item")
STALL_SAMPLE_MS = 25  # stalls longer than this are sampled (GENEREC_TRACE_STALLS=1)


class StallSampler:
    """A thread that samples the GUI thread's stack while its ticks are late (see the module docstring)."""

    def __init__(self, running: Any) -> None:
        self.beat = time.monotonic()  # set by the GUI thread's ticker
        self.stalls: list[dict[str, Any]] = []
        self._running = running  # () -> title of a running job, or ""
        self._main = threading.main_thread().ident
        self._native = threading.main_thread().native_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="stall-sampler", daemon=True)
        self._thread.start()

    @staticmethod
    def _stack(frame: Any) -> str:
        entries = traceback.extract_stack(frame)
        ours = [f for f in entries if "generec_desktop" in f.filename and "startup_trace" not in f.filename]
        inner = entries[-4:]
        parts = [f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in ours[-6:]]
        parts += ["…"] + [f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in inner if f not in ours]
        return " > ".join(parts)

    def _schedstat(self) -> tuple[int, int]:
        """The GUI thread's nanoseconds on a CPU and waiting for one (Linux; zeros elsewhere)."""
        try:
            with open(f"/proc/self/task/{self._native}/schedstat", encoding="ascii") as f:
                run, wait, _ = f.read().split()
            return int(run), int(wait)
        except (OSError, ValueError):
            return 0, 0

    def _loop(self) -> None:
        samples: collections.Counter[str] = collections.Counter()
        began, job, at_start = None, "", (0, 0)
        last = self._schedstat()
        holders: collections.Counter[str] = collections.Counter()
        me = threading.get_ident()
        woke = time.monotonic()
        while not self._stop.wait(0.002):
            slept, woke = time.monotonic() - woke, time.monotonic()
            if slept > 0.025:  # this thread too was held up: whoever let go of the GIL just now is the suspect
                for ident, frame in sys._current_frames().items():
                    if ident not in (me, self._main):
                        holders[f"{round(slept * 1000)} ms late: " + self._stack(frame)] += 1
            beat = self.beat
            age = time.monotonic() - beat
            if age * 1000 >= STALL_SAMPLE_MS:
                if began is None:
                    began, job, at_start = beat, self._running(), last
                main_frame = sys._current_frames().get(self._main or 0)
                if main_frame is not None:
                    samples[self._stack(main_frame)] += 1
                continue
            now = self._schedstat()
            if began is not None:
                ms = (beat - began) * 1000
                run, wait = ((now[0] - at_start[0]) / 1e6, (now[1] - at_start[1]) / 1e6)
                # on a CPU: the GUI thread's own work; waiting for a CPU: the machine's load; the rest it slept
                # (the GIL held by a worker, a lock, I/O)
                self.stalls.append({"ms": round(ms, 1), "job": job, "cpu_ms": round(run, 1),
                                    "runqueue_ms": round(wait, 1), "blocked_ms": round(max(0.0, ms - run - wait), 1),
                                    "stacks": samples.most_common(6), "holders": holders.most_common(6)})
                samples, began = collections.Counter(), None
            holders = collections.Counter()  # kept only while a stall lasts
            last = now

    def close(self) -> list[dict[str, Any]]:
        """The stalls seen, longest first; a stall that ended just now (this call's own tick) included."""
        self.beat = time.monotonic()
        time.sleep(0.02)  # the sampler notices the fresh beat and records the stall it was in
        self._stop.set()
        self._thread.join(1)
        return sorted(self.stalls, key=lambda s: -s["ms"])[:40]


class StartupTrace(QObject):
    """Watches one window from ``show()`` on; see the module docstring."""

    def __init__(self, window: Any, out: Path) -> None:
        super().__init__(window)
        self.window, self.out = window, out
        self.doc: dict[str, Any] = {"pid": os.getpid(), "shown": time.time(), "first_paint": None,
                                    "responsive": None, "open_workspace_s": [], "stall_ms": 0.0,
                                    "stall_job_ms": 0.0, "stall_job_title": "", "jobs": [], "tabs": []}
        self._clock = QElapsedTimer()
        self._clock.start()
        self._last = 0
        self._quiet_since: float | None = None
        self._phase = "opening"
        window.installEventFilter(self)
        QTimer.singleShot(0, self._responsive)
        self._ticker = QTimer(self)
        self._ticker.setInterval(TICK_MS)
        self._ticker.timeout.connect(self._tick)
        self._ticker.start()
        self._sampler = None
        if os.environ.get("GENEREC_TRACE_STALLS") == "1":
            self._sampler = StallSampler(lambda: (r[0].title if (r := self.window.jobs.running()) else ""))
        window.jobs.job_added.connect(lambda job: self.doc["jobs"].append(job.title))
        # the GUI thread's share of opening: the synchronous open_workspace, or (the menus, start-up) the
        # request that starts the worker plus showing its result, in its steps (each one turn of the event loop)
        self.doc["gui_s"] = {}
        self.doc["open_workspace_step_s"] = []  # the longest single step of each opening
        for name in ("open_workspace", "request_open_workspace", "_workspace_ready", *STEPS):
            if hasattr(window, name):
                setattr(window, name, self._timed(name, getattr(window, name)))

    def _timed(self, name: str, fn: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._depth = getattr(self, "_depth", 0) + 1
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                took = time.perf_counter() - t0
                self._depth -= 1
                doc = self.doc
                doc["gui_s"].setdefault(name, []).append(took)
                if name == "open_workspace":
                    doc["open_workspace_s"].append(took)
                    doc["open_workspace_step_s"].append(took)
                elif name == "_workspace_ready" and self._depth == 0:  # not inside open_workspace
                    doc["open_workspace_s"].append(took + doc["gui_s"].get("request_open_workspace", [0.0])[-1])
                    doc["open_workspace_step_s"].append(took)
                elif name in STEPS and self._depth == 0 and doc["open_workspace_s"]:  # a later step
                    doc["open_workspace_s"][-1] += took
                    doc["open_workspace_step_s"][-1] = max(doc["open_workspace_step_s"][-1], took)

        return timed

    def eventFilter(self, obj: Any, event: Any) -> bool:
        if event.type() == QEvent.Type.Paint and self.doc["first_paint"] is None:
            self.doc["first_paint"] = time.time()
        return False

    def _responsive(self) -> None:
        self.doc["responsive"] = time.time()

    def _tick(self) -> None:
        now = self._clock.elapsed()
        gap = max(0, now - self._last - TICK_MS)
        self._last = now
        if self._sampler is not None:
            self._sampler.beat = time.monotonic()
        self.doc["stall_ms"] = max(self.doc["stall_ms"], gap)
        running = self.window.jobs.running()
        if running and gap > self.doc["stall_job_ms"]:
            self.doc["stall_job_ms"], self.doc["stall_job_title"] = gap, running[0].title
        if self._phase != "opening" or self.window.workspace is None:
            self._quiet_since = None
            return
        if running:
            self._quiet_since = None
        elif self._quiet_since is None:
            self._quiet_since = time.monotonic()
        elif time.monotonic() - self._quiet_since >= SETTLE_S:
            self._opened()
        if now / 1000 > LIMIT_S:
            self._opened()

    def _opened(self) -> None:
        self._phase = "tabs"
        self.doc["settled"] = time.time()
        self.doc["settled_minus_quiet"] = time.time() - SETTLE_S
        if os.environ.get("GENEREC_TRACE_TABS") == "1":
            self._show_tab(0)
        else:
            self._finish()

    def _show_tab(self, index: int) -> None:
        tabs = self.window.tabs
        if index >= tabs.count():
            self._wait_jobs_then(self._finish)
            return
        tabs.setCurrentIndex(index)
        self.doc["tabs"].append(tabs.tabText(index))
        QTimer.singleShot(300, lambda: self._show_tab(index + 1))

    def _wait_jobs_then(self, fn: Any) -> None:
        if self.window.jobs.running():
            QTimer.singleShot(100, lambda: self._wait_jobs_then(fn))
        else:
            fn()

    def _finish(self) -> None:
        self._phase = "done"
        if os.environ.get("GENEREC_TRACE_QUIT") == "1" and self._start_job():
            QTimer.singleShot(1500, self._quit)
        else:
            self._quit()

    def _start_job(self) -> bool:
        """The thumbnails job for the current item and up to three audiences (a long, cancellable job)."""
        w = self.window
        if w.profiles is None or w.current_item_id is None:
            return False
        ids = [a.id for a in w.profiles.audiences(users=False)][:3]
        if not ids:
            return False
        w.audiences.select_ids(ids)
        from generec_desktop.app.tabs._personal import start_personalize

        job = start_personalize(w.tab_widget("Thumbnails"))
        self.doc["quit_job"] = job.title if job is not None else None
        return job is not None

    def _quit(self) -> None:
        if self._sampler is not None:
            self.doc["stalls"] = self._sampler.close()
        self.doc["running_at_quit"] = [j.title for j in self.window.jobs.running()]
        self.doc["quit_at"] = time.time()
        self.out.write_text(json.dumps(self.doc), encoding="utf-8")
        self._ticker.stop()
        self.window.close()


def install(window: Any) -> StartupTrace | None:
    """Start tracing ``window`` when ``GENEREC_TRACE_STARTUP`` names an output file."""
    out = os.environ.get("GENEREC_TRACE_STARTUP")
    return StartupTrace(window, Path(out)) if out else None
