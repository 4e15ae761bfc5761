"""Read the video and image libraries' shared objects into memory before the window's jobs load them.

Python holds the GIL while it ``dlopen``s an extension module, and a ``dlopen`` from a cold disk reads the
library's pages as it relocates them: so the first ``import av`` or ``import cv2`` on a job thread froze the
window for that long (issue 17; ``benchmarks/bench_startup.py --cold``: longest stall while a job ran 69-121 ms,
"Style previews"; py-spy showed the GUI thread waiting on one ``create_module`` of PyAV for 98 ms and of OpenCV
for 81 ms). ``ctypes.CDLL`` keeps the GIL too (measured: its gaps overlap the load). Reading the files first with
``os.sendfile`` to ``/dev/null`` releases the GIL and fills the page cache without copying: 283 MB (PyAV, OpenCV,
Pillow and their bundled libraries) in 0.16-0.24 s from a dropped cache, 0.011 s when cached. With it, a worker
thread importing the three after a dropped cache held a 1 ms ticker up for at most 16-25 ms instead of 83-94 ms.

:func:`start` runs the read on a daemon thread and puts a finder first on ``sys.meta_path`` that makes an import
of those packages on a worker thread wait until the read is done (at most ``WAIT_S``): a job that starts before
the read ends then loads warm libraries instead of reading them under the GIL. The GUI thread never waits (a read
of every file can take longer than its own cold load would). No Qt here.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import importlib.util
import logging
import os
import sys
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: top-level packages the window's jobs import, and the folders beside them (auditwheel's ``<dist>.libs``) with
#: the shared libraries they link; a folder a build does not have is skipped
PACKAGES: dict[str, tuple[str, ...]] = {
    "av": ("av.libs", "pyav.libs"),
    "cv2": ("opencv_python_headless.libs", "opencv_python.libs", "opencv_contrib_python*.libs"),
    "PIL": ("pillow.libs", "Pillow.libs"),
}
WAIT_S = 3.0  # an import waits at most this long for the read (a slow disk: then it reads as before)

_reader: _Reader | None = None


def library_files(names: Iterable[str] = PACKAGES) -> list[Path]:
    """The shared objects of the installed packages ``names`` and of the libraries bundled beside them."""
    files: list[Path] = []
    for name in names:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is None or not spec.submodule_search_locations:
            continue
        root = Path(next(iter(spec.submodule_search_locations)))
        for folder, _dirs, names_ in os.walk(root):
            files += [Path(folder, n) for n in names_ if n.endswith((".so", ".pyd", ".dylib")) or ".so." in n]
        for pattern in PACKAGES.get(name, ()):
            for libs in root.parent.glob(pattern):
                files += [p for p in libs.iterdir() if p.is_file()]
    return files


def read_into_cache(files: Sequence[Path]) -> int:
    """Read ``files`` through the page cache without copying them (GIL released); returns the bytes read."""
    total = 0
    try:
        sink = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return 0
    try:
        for path in files:
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                continue
            try:
                size, offset = os.fstat(fd).st_size, 0
                while offset < size:
                    try:
                        sent = os.sendfile(sink, fd, offset, size - offset)
                    except OSError:  # a platform whose sendfile cannot write to /dev/null: read it plainly
                        with open(fd, "rb", closefd=False) as f:
                            f.seek(offset)
                            while chunk := f.read(1 << 20):
                                offset += len(chunk)
                        break
                    if sent <= 0:
                        break
                    offset += sent
                total += offset
            finally:
                os.close(fd)
    finally:
        os.close(sink)
    return total


class _Reader(importlib.abc.MetaPathFinder):
    """The read's thread, and the finder that makes imports of :data:`PACKAGES` wait for it."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = frozenset(names)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, name="preload-libraries", daemon=True)

    def _run(self) -> None:
        try:
            read_into_cache(library_files(self.names))
        except Exception:  # never in the way of the app: its imports then simply read the files themselves
            log.debug("preloading the libraries failed", exc_info=True)
        finally:
            self.done.set()
            self._remove()

    def _remove(self) -> None:
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        # the GUI thread never waits: a read of all the files can take longer than its own cold load would
        if (not self.done.is_set() and fullname.partition(".")[0] in self.names
                and threading.current_thread() not in (self.thread, threading.main_thread())):
            self.done.wait(WAIT_S)
        return None  # the normal finders find it


def start(names: Sequence[str] = tuple(PACKAGES)) -> _Reader | None:
    """Start reading the packages' libraries (once per process; None where it runs already or is off:
    ``GENEREC_PRELOAD=0``)."""
    global _reader
    if _reader is not None or os.environ.get("GENEREC_PRELOAD", "1") == "0":
        return None
    names = [n for n in names if n not in sys.modules]
    if not names:
        return None
    _reader = _Reader(names)
    sys.meta_path.insert(0, _reader)
    _reader.thread.start()
    return _reader

