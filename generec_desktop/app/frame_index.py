"""Frame times of the videos the window shows, read off the GUI thread and kept (issue 17: nothing slow on
the GUI thread).

Frame-exact scrubbing needs every frame's presentation time, which :func:`generec_desktop.media.frame_times`
gets by demuxing the whole file: a few milliseconds for a short clip on a quiet machine, hundreds for a long
one or under load, plus PyAV's import on the first call. Selecting an item used to do that on the GUI thread
(``PreviewWidget.set_video``, the compare player's ``set_pair``). Here one background thread reads them and
the GUI thread only looks them up: :meth:`FrameTimes.fetch` calls back at once for a video read before (the
cache is checked against the file's size and modification time, one ``stat``), else when the thread has read
it. :func:`frame_times_cache` is the process's one instance (the window's previews, the tabs' and the compare
player share it; the window's open job puts the first item's times in it).
"""

from __future__ import annotations

import os
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from generec_desktop.app.qtfix import emit

CACHE_MAX = 256  # videos kept (8 bytes a frame: a 10 min 30 fps video is 144 KB)

Key = tuple[int, int]  # (size, mtime_ns) of the file when it was read
Ready = Callable[[dict[str, np.ndarray]], None]
Failed = Callable[[str], None]


def _stamp(path: str) -> Key | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


class FrameTimes(QObject):
    """Per video path, its frame times; read by one background thread (see the module docstring)."""

    _read = Signal(str, object, object, str)  # path, stamp, times or None, error message

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cache: OrderedDict[str, tuple[Key | None, np.ndarray]] = OrderedDict()
        self._waiting: dict[str, list[tuple[list[str], Ready, Failed | None]]] = {}
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._read.connect(self._on_read)
        self._thread = threading.Thread(target=self._loop, name="frame-times", daemon=True)
        self._thread.start()

    # GUI thread ------------------------------------------------------------------------------------
    def get(self, path: str | os.PathLike[str]) -> np.ndarray | None:
        """The times read before, if the file has not changed since (a copy); None when not read yet."""
        key = str(path)
        hit = self._cache.get(key)
        if hit is None or hit[0] != _stamp(key):
            return None
        self._cache.move_to_end(key)
        return hit[1].copy()

    def put(self, path: str | os.PathLike[str], times: np.ndarray, stamp: Key | None = None) -> None:
        """Keep times a worker read already (the open job reads the first item's)."""
        key = str(path)
        self._cache[key] = (stamp if stamp is not None else _stamp(key), np.asarray(times, dtype=np.float64))
        self._cache.move_to_end(key)
        while len(self._cache) > CACHE_MAX:
            self._cache.popitem(last=False)

    def fetch(self, paths: Sequence[str | os.PathLike[str]], on_ready: Ready, on_error: Failed | None = None) -> bool:
        """Call ``on_ready({path: times})`` on the GUI thread once every path's times are known — now, when
        all were read before (returns True), else after the background thread read the others (False).
        A file that cannot be read calls ``on_error(message)`` instead (once)."""
        keys = [str(p) for p in paths]
        missing = [k for k in keys if self.get(k) is None]
        if not missing:
            on_ready({k: self.get(k) for k in keys})  # type: ignore[misc]
            return True
        for k in missing:
            first = k not in self._waiting
            self._waiting.setdefault(k, []).append((keys, on_ready, on_error))
            if first:
                self._queue.put(k)
        return False

    def _on_read(self, path: str, stamp: Key | None, times: np.ndarray | None, error: str) -> None:
        if times is not None:
            self.put(path, times, stamp)
        for keys, on_ready, on_error in self._waiting.pop(path, []):
            if times is None:
                if on_error is not None:
                    on_error(error)
                continue
            got = {k: self._cache[k][1].copy() for k in keys if k in self._cache}
            if len(got) == len(keys):
                on_ready(got)
            # else another path of this request is still being read: its own callback entry finishes it

    # background thread ----------------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            path = self._queue.get()
            if path is None:
                return
            stamp = _stamp(path)
            try:
                from generec_desktop import media

                times, error = media.frame_times(Path(path)), ""
            except Exception as exc:  # the preview says what is wrong with the file
                times, error = None, str(exc) or type(exc).__name__
            emit(self._read, path, stamp, times, error)


_INSTANCE: list[FrameTimes] = []


def frame_times_cache() -> FrameTimes:
    """The process's :class:`FrameTimes` (made on first use, on the GUI thread)."""
    if not _INSTANCE:
        _INSTANCE.append(FrameTimes())
    return _INSTANCE[0]
