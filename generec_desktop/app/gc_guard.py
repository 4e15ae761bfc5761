"""Cyclic garbage collection on the GUI thread only, while the window lives.

Python runs its cycle collector in whichever thread happens to allocate when a generation's threshold is
crossed. In this app that is often a worker (a job decoding video, a SQLAlchemy load), and a collection
there can destroy Qt objects held in reference cycles (a closed dialog's widgets, a lambda that keeps a
panel alive) away from the GUI thread, which crashes Qt: CI's stop 28 ended in a segfault with a worker
thread "Garbage-collecting" while another read a video. So while a window exists, automatic collection is
off and a timer on the GUI thread runs the same generational collections by the same thresholds (the
pattern pyqtgraph's ``GarbageCollector`` uses). Reference counting, which frees almost everything, is
untouched; only the cycle collector moves.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer

# twenty checks a second (a check that finds nothing due costs a microsecond): a young collection's time grows
# with what was allocated since the last one, and while jobs import modules at start-up that was 20,000 objects
# in 250 ms. Measured on the demo's start-up (gc callbacks): at 250 ms, young collections of 6-21 ms on the GUI
# thread; at 50 ms, 3-5 ms (the generation-1 ones 13 ms)
INTERVAL_MS = 50

_guard: GcGuard | None = None


class GcGuard(QObject):
    """Runs due cyclic collections from a GUI-thread timer; see the module docstring."""

    def __init__(self, parent: QObject, was_enabled: bool) -> None:
        super().__init__(parent)
        self.was_enabled = was_enabled
        self.collections = [0, 0, 0]
        # CPython runs a full collection only when the objects promoted into the oldest generation since the
        # last one exceed a quarter of those it held then; without that rule a full collection ran every ~100
        # young ones, and one takes ~280 ms with torch, diffusers and the app imported (583,707 objects
        # here): a stall of the window every few seconds of busy work
        self.long_lived_total = len(gc.get_objects(generation=2))
        self.long_lived_pending = 0
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.collect_due)
        self._timer.start()

    def collect_due(self) -> int | None:
        """Run the collection Python would have run by now (its thresholds and its full-collection rule);
        returns the generation collected, None when none was due."""
        counts = gc.get_count()
        thresholds = gc.get_threshold()
        if not thresholds[0] or counts[0] <= thresholds[0]:
            return None
        generation = 0
        for gen in (2, 1):
            if counts[gen] > thresholds[gen]:
                if gen == 2 and self.long_lived_pending < self.long_lived_total / 4:
                    continue
                generation = gen
                break
        young = sum(len(gc.get_objects(generation=g)) for g in range(generation + 1)) if generation == 1 else 0
        found = gc.collect(generation)
        if generation == 1:  # what survived it moved to the oldest generation
            self.long_lived_pending += max(0, young - found)
        elif generation == 2:
            self.long_lived_total = len(gc.get_objects(generation=2))
            self.long_lived_pending = 0
        self.collections[generation] += 1
        return generation

    def stop(self) -> None:
        self._timer.stop()


def install() -> GcGuard:
    """Turn automatic collection off and collect on the GUI thread instead (idempotent; needs a QApplication)."""
    global _guard
    app = QCoreApplication.instance()
    if app is None:
        raise RuntimeError("gc_guard.install needs a QApplication")
    if _guard is None:
        _guard = GcGuard(app, gc.isenabled())
        gc.disable()
    return _guard


def installed() -> GcGuard | None:
    """The guard in effect, if any."""
    return _guard


def uninstall() -> None:
    """Collect once on this (the GUI) thread and give collection back to Python, as it was before install."""
    global _guard
    guard, _guard = _guard, None
    if guard is None:
        return
    guard.stop()
    guard.deleteLater()
    gc.collect()
    if guard.was_enabled:
        gc.enable()
