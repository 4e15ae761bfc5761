"""The job contract shared by the CLI, the GUI and the tests (DESIGN §3).

Every long operation is a plain function
``run_x(inputs..., *, progress: Progress | None = None, cancel: CancelToken | None = None) -> XResult``.
It calls ``progress(fraction, message)`` often and checks ``cancel`` between units of work, raising
:class:`Cancelled`. Sub-steps get a slice of the progress range through :func:`sub_progress` or
:class:`Steps`. Nothing here knows about Qt: the GUI wraps a job in its one worker adapter.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TypeVar

__all__ = [
    "CancelToken",
    "Cancelled",
    "GenerecError",
    "Progress",
    "Steps",
    "TimedSteps",
    "check_cancel",
    "eta_text",
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


#: A job this young shows no estimate (its first steps say little about the rest).
ETA_AFTER_S = 3.0


def eta_text(elapsed: float, fraction: float) -> str:
    """"about 40 s left" from the time so far and the fraction done (constant speed assumed); "" while the
    job is young, barely started or done. The window's jobs panel and the command line's bar both show it."""
    if elapsed < ETA_AFTER_S or not 0.02 <= fraction < 1.0:
        return ""
    left = elapsed * (1.0 - fraction) / fraction
    if left < 10:
        return "a few seconds left"
    if left < 60:
        return f"about {round(left / 5.0) * 5} s left"
    if left < 3600:
        minutes = round(left / 60.0)
        return f"about {minutes} min left"
    return f"about {left / 3600.0:.1f} h left"


class TimedSteps:
    """Sub-steps whose progress is the share of the *time* a job has taken of its expected total.

    ``parts`` maps a name to ``(units, seconds_per_unit)``: how many units of work it has (denoising steps,
    frames) and a guess of one unit's cost (only the guesses' ratios matter). Parts run one after the other;
    ``self[name]`` is the part's progress callback (its fraction of units done). The speed is measured in the
    parts listed in ``calibrate`` (default all) from a part's first report on — so set-up and a slow first
    unit do not count — and rescales the guesses of all the work left. Once measured, the reported fraction
    is ``elapsed / (elapsed + time left)``, so a constant-speed estimate from it (:func:`eta_text`, what the
    jobs panel and the command line show) is the measured one. Before that it stays under
    ``UNMEASURED_FRACTION`` (no estimate is shown). The fraction never goes back; it is 1 when every part is.
    """

    #: The fraction reported until a speed is measured: "barely started", so :func:`eta_text` says nothing.
    UNMEASURED_FRACTION = 0.01

    def __init__(self, progress: Progress | None, parts: Mapping[str, tuple[float, float]], *,
                 calibrate: Iterable[str] | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._progress = progress
        self._clock = clock
        self._t0 = clock()
        self._last = self._t0
        self._units = {k: max(0.0, float(u)) for k, (u, _) in parts.items()}
        self._guess = {k: max(0.0, float(g)) for k, (_, g) in parts.items()}
        self._done = dict.fromkeys(parts, 0.0)
        self._first: dict[str, tuple[float, float]] = {}  # part -> (time, units done) at its first report
        self._calibrate = set(parts if calibrate is None else calibrate)
        self._fraction = 0.0
        self._slices: dict[str, Progress | None] = {
            k: (None if progress is None else self._part(k)) for k in parts}

    def __getitem__(self, name: str) -> Progress | None:
        return self._slices[name]

    def _part(self, name: str) -> Progress:
        def _report(fraction: float, message: str = "") -> None:
            self._last = self._clock()
            self._done[name] = self._units[name] * min(1.0, max(0.0, float(fraction)))
            self._first.setdefault(name, (self._last, self._done[name]))
            report(self._progress, self.fraction(), message)

        return _report

    def _scale(self) -> float | None:
        """Measured seconds per guessed second, or None before any speed is measured."""
        spent = guessed = 0.0
        for k in self._calibrate:
            if k in self._first:
                t, d = self._first[k]
                if self._done[k] > d:
                    # a later part's first report ends the earlier one (parts run one after the other)
                    end = min([self._first[j][0] for j in self._first if self._first[j][0] > t] + [self._last])
                    spent += end - t
                    guessed += (self._done[k] - d) * self._guess[k]
        return spent / guessed if guessed > 0 and spent > 0 else None

    def seconds_left(self) -> float | None:
        """Expected seconds of the work not done yet at the speed measured so far (None: not measured yet)."""
        scale = self._scale()
        left = sum((self._units[k] - self._done[k]) * self._guess[k] for k in self._units)
        if left <= 0:
            return 0.0
        return None if scale is None else scale * left

    def fraction(self) -> float:
        """Share of the expected total time spent so far (never decreasing)."""
        left = self.seconds_left()
        elapsed = self._last - self._t0
        if left is None:
            f = self.UNMEASURED_FRACTION / 2
        else:
            f = 1.0 if left <= 0 else elapsed / (elapsed + left) if elapsed > 0 else 0.0
        self._fraction = max(self._fraction, min(1.0, f))
        return self._fraction
