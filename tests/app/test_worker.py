"""The one worker adapter: progress reaches the GUI thread, cancel stops a job, errors become messages."""

from __future__ import annotations

import time

from generec_desktop.jobs import GenerecError, check_cancel


def _slow_job(progress, cancel):
    for i in range(200):
        check_cancel(cancel)
        progress(i / 200, f"step {i}")
        time.sleep(0.01)
    return "finished"


def test_job_runs_and_reports(qtbot, make_window):
    window = make_window()
    results = []

    def quick(progress, cancel):
        progress(0.5, "half")
        return 42

    with qtbot.waitSignal(window.jobs.job_finished, timeout=5000) as blocker:
        window.jobs.submit("quick", quick, on_done=results.append)
    assert blocker.args[0].state == "done"
    assert results == [42]


def test_cancel_stops_a_running_job(qtbot, make_window):
    window = make_window()
    job = window.jobs.submit("slow", _slow_job)
    qtbot.waitUntil(lambda: window.jobs_panel.rows() and job.fraction > 0.02, timeout=5000)
    row = window.jobs_panel.rows()[0]
    with qtbot.waitSignal(window.jobs.job_finished, timeout=5000) as blocker:
        row.cancel_button.click()
    assert blocker.args[0].state == "cancelled"
    assert window.jobs_panel.rows() == []


def test_error_becomes_a_message_not_a_traceback(qtbot, make_window):
    window = make_window()
    errors = []

    def bad(progress, cancel):
        raise GenerecError("The file is not a video.")

    def crash(progress, cancel):
        raise ZeroDivisionError("division by zero")

    with qtbot.waitSignal(window.jobs.job_finished, timeout=5000):
        window.jobs.submit("bad", bad, on_error=errors.append)
    with qtbot.waitSignal(window.jobs.job_finished, timeout=5000):
        window.jobs.submit("crash", crash, on_error=errors.append)
    assert errors[0] == "The file is not a video."
    assert "ZeroDivisionError" in errors[1] and "Traceback" not in errors[1]


def test_jobs_run_below_the_window_and_so_do_the_threads_they_start(qtbot, make_window):
    """On two cores a job that keeps both busy must not make the window wait for a CPU (JOB_NICENESS)."""
    import os
    import sys
    import threading

    import pytest

    from generec_desktop.app.worker import JOB_NICENESS

    if not sys.platform.startswith("linux"):
        pytest.skip("thread niceness is per thread only on Linux; elsewhere jobs run at the window's priority")
    window = make_window()

    def nice_of_this_thread() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    def job(progress, cancel):
        inner = []
        t = threading.Thread(target=lambda: inner.append(nice_of_this_thread()))
        t.start()
        t.join()
        return nice_of_this_thread(), inner[0]

    results = []
    with qtbot.waitSignal(window.jobs.job_finished, timeout=5000):
        window.jobs.submit("nice", job, on_done=results.append)
    gui = nice_of_this_thread()
    expected = min(19, gui + JOB_NICENESS)
    assert results == [(expected, expected)]
    with qtbot.waitSignal(window.jobs.job_finished, timeout=5000):  # a reused pool thread is not lowered twice
        window.jobs.submit("nice again", job, on_done=results.append)
    assert results[-1] == (expected, expected)
    assert gui == nice_of_this_thread()  # the window's own thread is untouched
