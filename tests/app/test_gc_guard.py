"""Cycles holding Qt objects are collected on the GUI thread, never by a worker that happens to allocate."""

from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtWidgets import QWidget


class _Cycle:
    """A reference cycle that holds a widget, as a closed panel caught in a lambda does."""

    def __init__(self) -> None:
        self.me = self
        self.widget = QWidget()


def test_a_cycle_dropped_while_a_worker_allocates_is_collected_on_the_gui_thread(qtbot, make_window):
    window = make_window()
    assert not gc.isenabled()  # the window turned automatic collection off
    collected_in: list[int] = []
    cycle = _Cycle()
    weakref.finalize(cycle, lambda: collected_in.append(threading.get_ident()))
    del cycle

    def allocate(progress, cancel):
        kept = []
        for i in range(200_000):  # hundreds of times generation 0's threshold: Python alone would collect here
            kept.append([i])
            if i % 20_000 == 0:
                threading.Event().wait(0.02)
        return len(kept)

    window.jobs.submit("allocate", allocate)
    qtbot.waitUntil(lambda: bool(collected_in), timeout=30000)
    qtbot.waitUntil(lambda: not window.jobs.running(), timeout=30000)
    assert collected_in == [threading.main_thread().ident]


def test_uninstall_gives_collection_back_as_it_was(qapp):
    from generec_desktop.app import gc_guard

    gc_guard.uninstall()
    assert gc.isenabled()
    guard = gc_guard.install()
    assert gc_guard.install() is guard  # idempotent: a second window shares it
    assert not gc.isenabled()
    gc_guard.uninstall()
    assert gc.isenabled() and gc_guard.installed() is None
    gc.disable()
    try:
        gc_guard.install()
        gc_guard.uninstall()
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()
