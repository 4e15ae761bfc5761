"""PySide6 6.12's Signal.emit drops a reference to True each call; the app's emits give it back."""

from __future__ import annotations

import gc
import sys
import threading

from PySide6.QtCore import QObject, Signal


class _Source(QObject):
    frame = Signal(int, object)


def test_many_emits_keep_the_references_to_true(qtbot):
    from generec_desktop.app.qtfix import LEAK_PER_EMIT, emit

    src = _Source()
    got = []
    src.frame.connect(lambda i, o: got.append(i))
    gc.collect()  # objects of earlier tests that hold True, freed now rather than during the count
    before = sys.getrefcount(True)
    for i in range(5000):  # more than the ~1,800 references a window starts with
        emit(src.frame, i, None)
    assert got[-1] == 4999
    # each progress is two emits (the worker's, then the manager's job_changed): without the fix, -1,200
    assert abs(sys.getrefcount(True) - before) < 300  # without the fix: -5,000 (the interpreter aborts)
    print(f"references one Signal.emit drops here: {LEAK_PER_EMIT}")


def test_a_job_reporting_progress_often_does_not_drain_them(qtbot, make_window):
    window = make_window()
    gc.collect()
    before = sys.getrefcount(True)
    release = threading.Event()

    def job(progress, cancel):
        for _ in range(600):
            progress(1.0, "step")  # a finished fraction always passes the ~30 a second throttle
            release.wait(0.001)
        return "ok"

    with qtbot.waitSignal(window.jobs.job_finished, timeout=60000):
        window.jobs.submit("chatty", job)
    qtbot.waitUntil(lambda: not window.jobs.running(), timeout=10000)
    # each progress is two emits (the worker's, then the manager's job_changed): without the fix, -1,200
    assert abs(sys.getrefcount(True) - before) < 300
