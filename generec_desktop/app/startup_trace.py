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
exit from there).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QElapsedTimer, QEvent, QObject, QTimer

TICK_MS = 5
SETTLE_S = 1.5  # no job for this long: the window has finished opening
LIMIT_S = 600.0


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
        window.jobs.job_added.connect(lambda job: self.doc["jobs"].append(job.title))
        # the GUI thread's share of opening: the synchronous open_workspace, or (the menus, start-up) the
        # request that starts the worker plus showing its result
        self.doc["gui_s"] = {}
        for name in ("open_workspace", "request_open_workspace", "_workspace_ready"):
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
                self.doc["gui_s"].setdefault(name, []).append(took)
                if name == "open_workspace":
                    self.doc["open_workspace_s"].append(took)
                elif name == "_workspace_ready" and self._depth == 0:  # not inside open_workspace
                    self.doc["open_workspace_s"].append(took + self.doc["gui_s"].get("request_open_workspace",
                                                                                     [0.0])[-1])

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
        self.doc["running_at_quit"] = [j.title for j in self.window.jobs.running()]
        self.doc["quit_at"] = time.time()
        self.out.write_text(json.dumps(self.doc), encoding="utf-8")
        self._ticker.stop()
        self.window.close()


def install(window: Any) -> StartupTrace | None:
    """Start tracing ``window`` when ``GENEREC_TRACE_STARTUP`` names an output file."""
    out = os.environ.get("GENEREC_TRACE_STARTUP")
    return StartupTrace(window, Path(out)) if out else None
