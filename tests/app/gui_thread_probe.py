"""Run in a fresh interpreter by tests/app/test_gui_thread.py: open a workspace in the real window, switch to
every tab, select every item and audience, and record each import of a heavy library made on the GUI thread.

Usage: ``python gui_thread_probe.py WORKSPACE SETTINGS.ini`` — prints one JSON line
``{"gui_thread": [{"module": ..., "stack": ...}], "anywhere": [...], "tabs": [...]}``.

Two hooks, because either alone misses a case: a ``sys.meta_path`` finder sees the first import of a module
(by ``import``, ``importlib.import_module`` or ``__import__``), and a wrapper of ``builtins.__import__`` sees an
``import torch`` statement that runs on the GUI thread after a worker already loaded torch (it would wait on
the import lock, or use torch, on the GUI thread).
"""

from __future__ import annotations

import builtins
import json
import sys
import threading
import time
import traceback
from pathlib import Path

HEAVY = ("torch", "torchvision", "diffusers", "open_clip", "sklearn", "transformers", "sentence_transformers")

MAIN = threading.main_thread()
records: list[dict[str, str]] = []
loaded_anywhere: set[str] = set()


def _heavy(name: str) -> bool:
    return name.split(".", 1)[0] in HEAVY


def _record(name: str) -> None:
    if threading.current_thread() is not MAIN:
        return
    frames = [f for f in traceback.extract_stack(limit=60)[:-2]
              if "importlib" not in f.filename and f.filename != __file__]
    if not frames or "site-packages" in frames[-1].filename or frames[-1].filename.startswith("<"):
        return  # inside a library already being imported (its entry point was recorded)
    where = f"{frames[-1].filename}:{frames[-1].lineno}"
    if any(r["module"] == name and r["where"] == where for r in records):
        return
    records.append({"module": name, "where": where, "stack": "".join(traceback.format_list(frames[-25:]))})


class _Recorder:
    """A meta path finder that finds nothing: it only notes who asks for a heavy module first."""

    @staticmethod
    def find_spec(name: str, path: object = None, target: object = None) -> None:
        if _heavy(name) and "." not in name:
            loaded_anywhere.add(name)
            _record(name)


_real_import = builtins.__import__


def _import(name: str, globals: dict | None = None, locals: object = None, fromlist: object = (),
            level: int = 0):
    # an import statement for a heavy library in code that is not itself part of one (torch importing its
    # own submodules is the same import, already recorded at its entry)
    caller = str((globals or {}).get("__name__", ""))
    if level == 0 and _heavy(name) and not _heavy(caller) and threading.current_thread() is MAIN:
        _record(name.split(".", 1)[0])
    return _real_import(name, globals, locals, fromlist, level)


def main() -> int:
    workspace, settings_file = Path(sys.argv[1]), sys.argv[2]
    for name in HEAVY:
        if name in sys.modules:
            print(json.dumps({"error": f"{name} was imported before the probe started"}))
            return 1
    sys.meta_path.insert(0, _Recorder())
    builtins.__import__ = _import

    from PySide6.QtCore import QEventLoop, QSettings
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    from generec_desktop.app.main_window import MainWindow

    window = MainWindow(settings=QSettings(settings_file, QSettings.Format.IniFormat))
    window.resize(1280, 720)
    window.show()
    pump = QEventLoop()

    def settle(seconds: float = 0.3, limit: float = 600.0) -> None:
        """Let the event loop run until no job runs (and a little longer: callbacks start new jobs)."""
        end = time.monotonic() + limit
        quiet_since = None
        while time.monotonic() < end:
            pump.processEvents()
            if window.jobs.running():
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= seconds:
                return
            time.sleep(0.005)

    settle()
    if not window.open_workspace(workspace):
        print(json.dumps({"error": f"cannot open {workspace}: {window.last_error}"}))
        return 1
    settle()
    tabs = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    items = window.library.item_ids()
    audiences = [a.id for a in window.profiles.audiences(users=False)] if window.profiles is not None else []
    style = window.tab_widget("Style")
    for item_index in range(min(2, len(items))):
        window.library.list.setCurrentRow(item_index)
        settle()
        for aud in [[], *([a] for a in audiences[:2])]:
            window.audiences.select_ids(aud)
            settle()
            for i in range(window.tabs.count()):
                window.tabs.setCurrentIndex(i)
                settle(0.1)
                if window.tabs.widget(i) is style and aud:  # the styles that learn from an audience's likes
                    for name in [s.name for s in style._styles if s.needs_references]:
                        style.select_style(name)
                        settle(0.1)
    window.close()
    app.processEvents()
    print(json.dumps({"gui_thread": records, "anywhere": sorted(loaded_anywhere), "tabs": tabs,
                      "items": len(items), "audiences": audiences}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
