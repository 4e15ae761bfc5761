"""Heavy jobs run in a child process (app/process_jobs.py): the result, progress, cancel, errors and a dead
child come back as the job contract says, and the window's personalisation goes through it."""

from __future__ import annotations

import os
import threading

import pytest
from process_job_funcs import dies, env, refuses, slow, stubborn, where

from generec_desktop.app import process_jobs
from generec_desktop.jobs import Cancelled, CancelToken, GenerecError


@pytest.fixture(autouse=True)
def _in_processes(monkeypatch):
    monkeypatch.delenv("GENEREC_JOB_PROCESSES", raising=False)


def test_a_job_runs_in_another_process_without_qt_and_reports_progress():
    seen = []
    pid, has_qt, _nice = process_jobs.run_in_process(where, progress=lambda f, m: seen.append((f, m)))
    assert pid != os.getpid() and not has_qt
    assert (0.5, "half way") in seen
    pid2, _, _ = process_jobs.run_in_process(where, progress=lambda f, m: None)
    assert pid2 == pid  # the child is kept for the next job


def test_a_kept_child_sees_the_environment_as_it_is_now(monkeypatch):
    monkeypatch.setenv("GENEREC_TEST_VALUE", "one")
    assert process_jobs.run_in_process(env, "GENEREC_TEST_VALUE") == "one"
    monkeypatch.setenv("GENEREC_TEST_VALUE", "two")
    assert process_jobs.run_in_process(env, "GENEREC_TEST_VALUE") == "two"


def test_cancel_stops_the_job_and_a_stuck_one_is_killed():
    token = CancelToken()
    threading.Timer(0.5, token.cancel).start()
    with pytest.raises(Cancelled):
        process_jobs.run_in_process(slow, 500, progress=lambda f, m: None, cancel=token)
    token = CancelToken()
    threading.Timer(0.5, token.cancel).start()
    with pytest.raises(Cancelled):  # ignores the token: killed after CANCEL_GRACE_S
        process_jobs.run_in_process(stubborn, progress=lambda f, m: None, cancel=token)
    assert process_jobs.run_in_process(slow, 3, progress=lambda f, m: None) == "finished"  # still works after


def test_an_error_keeps_its_message_and_a_dead_child_gives_one_clear_error():
    with pytest.raises(GenerecError, match="not a video; choose an MP4"):
        process_jobs.run_in_process(refuses)
    with pytest.raises(GenerecError, match="process ended unexpectedly") as info:
        process_jobs.run_in_process(dies)
    assert "\n" not in str(info.value)
    assert process_jobs.run_in_process(slow, 2) == "finished"


def test_the_window_personalises_in_a_child_process(qtbot, demo_window, monkeypatch):
    from PySide6.QtCore import Qt

    calls = []
    real = process_jobs.run_in_process

    def recording(fn, *args, **kwargs):
        calls.append(fn.__module__ + "." + fn.__name__)
        return real(fn, *args, **kwargs)

    monkeypatch.setattr(process_jobs, "run_in_process", recording)
    window = demo_window
    window.audiences.select_ids(["segment:0", "segment:1"])
    thumbs = window.tab_widget("Thumbnails")
    with qtbot.waitSignal(window.personal.updated, timeout=180000):
        qtbot.mouseClick(thumbs.compute_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.jobs.running(), timeout=60000)
    assert calls == ["generec_desktop.editor.personalize.pipeline.personalize"]
    result = window.personal.get(window.current_item_id)
    assert [a.audience_id for a in result.audiences] == ["segment:0", "segment:1"]
    assert result.audiences[0].thumbnail is not None and result.audiences[0].thumbnail.image is not None


def test_shutdown_ends_a_running_child_and_its_job_ends_as_cancelled(monkeypatch):
    monkeypatch.setattr(process_jobs, "CANCEL_GRACE_S", 600.0)  # so only the kill can end it
    token = CancelToken()
    out = []

    def run():
        try:
            process_jobs.run_in_process(stubborn, cancel=token)
        except Cancelled:
            out.append("cancelled")
        except Exception as exc:  # pragma: no cover - shown by the assertion
            out.append(repr(exc))

    worker = threading.Thread(target=run)
    worker.start()
    import time

    deadline = time.monotonic() + 60
    while not process_jobs._busy and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process_jobs._busy, "the job never started"
    token.cancel()  # what Quit does first
    process_jobs.shutdown()
    worker.join(120)
    assert not worker.is_alive() and out == ["cancelled"]
