"""The job contract shared by the CLI, the GUI and the tests (DESIGN §3).

Every long operation is a plain function
``run_x(inputs..., *, progress: Progress | None = None, cancel: CancelToken | None = None) -> XResult``.
It calls ``progress(fraction, message)`` often and checks ``cancel`` between units of work, raising
:class:`Cancelled`. Sub-steps get a slice of the progress range through :func:`sub_progress` or
:class:`Steps`. Nothing here knows about Qt: the GUI wraps a job in its one worker adapter.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

__all__ = [
    "CancelToken",
    "Cancelled",
    "GenerecError",
    "Progress",
    "Steps",
    "check_cancel",
    "iterate",
    "report",
    "sub_progress",
]

T = TypeVar("T")

#: ``progress(fraction, message)``; fraction in [0, 1], message a short human sentence.
Progress = Callable[[float, str], None]


class GenerecError(Exception):
    """Base of every error the app reports to a user as a message (never as a traceback)."""


class Cancelled(GenerecError):
    """Raised by a job that saw its :class:`CancelToken` set; the job left nothing half-done."""

    def __init__(self, message: str = "Cancelled by the user.") -> None:
        super().__init__(message)


class CancelToken:
    """A thread-safe flag a job polls between units of work."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the job to stop at its next check."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`Cancelled` if cancellation was requested."""
        if self._event.is_set():
            raise Cancelled()


def check_cancel(cancel: CancelToken | None) -> None:
    """Raise :class:`Cancelled` when ``cancel`` is set; a no-op for ``None``."""
    if cancel is not None:
        cancel.raise_if_cancelled()


def report(progress: Progress | None, fraction: float, message: str = "") -> None:
    """Call ``progress`` with ``fraction`` clamped to [0, 1]; a no-op for ``None``."""
    if progress is not None:
        progress(min(1.0, max(0.0, float(fraction))), message)


def sub_progress(progress: Progress | None, start: float, end: float) -> Progress | None:
    """Map a sub-step's [0, 1] onto ``[start, end]`` of the parent's range."""
    if progress is None:
        return None
    span = end - start

    def _sub(fraction: float, message: str = "") -> None:
        report(progress, start + span * min(1.0, max(0.0, fraction)), message)

    return _sub


class Steps:
    """Split a progress range among named sub-steps by weight.

    >>> steps = Steps(progress, {"decode": 3, "encode": 1})
    >>> run_decode(progress=steps["decode"])
    """

    def __init__(self, progress: Progress | None, weights: dict[str, float]) -> None:
        total = float(sum(weights.values())) or 1.0
        self._slices: dict[str, Progress | None] = {}
        acc = 0.0
        for name, w in weights.items():
            self._slices[name] = sub_progress(progress, acc / total, (acc + w) / total)
            acc += w

    def __getitem__(self, name: str) -> Progress | None:
        return self._slices[name]


def iterate(
    items: Iterable[T],
    total: int,
    *,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    message: str = "",
) -> Iterator[T]:
    """Yield ``items``, checking ``cancel`` before each and reporting ``i / total`` after each."""
    total = max(1, int(total))
    for i, item in enumerate(items):
        check_cancel(cancel)
        yield item
        report(progress, (i + 1) / total, message)
