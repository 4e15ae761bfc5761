"""A workaround for PySide6 6.12's ``Signal.emit`` reference bug (with Python 3.11).

Each ``SignalInstance.emit(...)`` called from Python drops one reference to ``True`` that it never took
(measured: ``sys.getrefcount(True)`` falls by exactly 1 per emit, connected or not, from any thread). The
window starts with about 1,800 references to ``True``; once they are gone the interpreter aborts
("Fatal Python error: bool_dealloc"). Measured before this module: playing a 60 s video in the preview (two
emits a frame) aborted the process after about 40 s, and a background job reporting progress 30 times a
second for 10 s took 545 of them (so a job of about half a minute would have ended the app).

:func:`emit` emits, then gives back the references the emit took. How many that is is measured once, on
import, with a probe signal, so on a PySide6 without the bug it gives back nothing. Use it for signals
emitted often (per frame, per progress step, per mouse move).
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal

_incref = ctypes.pythonapi.Py_IncRef
_incref.argtypes = [ctypes.py_object]
_incref.restype = None


class _Probe(QObject):
    ping = Signal()


def _measure_leak(trials: int = 3, emits: int = 32) -> int:
    """References to True one emit drops (0 on a fixed PySide6); the smallest of a few measurements, so a
    thread creating booleans meanwhile cannot make it look larger."""
    probe = _Probe()
    found = []
    for _ in range(trials):
        before = sys.getrefcount(True)
        for _ in range(emits):
            probe.ping.emit()
        after = sys.getrefcount(True)
        for _ in range(max(0, before - after)):
            _incref(True)  # give back what the measurement took
        found.append(max(0, round((before - after) / emits)))
    return min(found)


LEAK_PER_EMIT = _measure_leak()


def emit(signal: Any, *args: Any) -> None:
    """``signal.emit(*args)`` without losing a reference to True."""
    signal.emit(*args)
    for _ in range(LEAK_PER_EMIT):
        _incref(True)
