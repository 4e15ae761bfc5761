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


def test_a_full_collection_waits_for_enough_new_long_lived_objects(qapp):
    """Python's own rule: the oldest generation is collected only when a quarter more objects reached it
    since the last time - a full collection of a big heap (~280 ms with torch imported) stalls the window."""
    from generec_desktop.app import gc_guard

    gc_guard.uninstall()
    guard = gc_guard.install()
    try:
        guard.long_lived_total = 10**9  # a heap far bigger than anything the loop below adds
        kept = []
        for _ in range(300):  # young collections by the hundred: generation 2's count passes its threshold
            kept.append([[i] for i in range(gc.get_threshold()[0] + 1)])
            guard.collect_due()
        assert guard.collections[0] > 100 and guard.collections[1] > 10
        assert guard.collections[2] == 0
        assert guard.long_lived_pending > 0  # the promoted lists are counted
        guard.long_lived_total = 1  # now a quarter of the old heap has been added: the next due one is full
        for _ in range(50):
            kept.append([[i] for i in range(gc.get_threshold()[0] + 1)])
            if guard.collect_due() == 2:
                break
        assert guard.collections[2] == 1 and guard.long_lived_pending == 0
    finally:
        gc_guard.uninstall()
