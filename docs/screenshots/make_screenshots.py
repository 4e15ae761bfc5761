"""Drive the real window through the main flow on a workspace and save a PNG of each tab.

Run under a virtual display, as a user would see it:
    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/screenshots/make_screenshots.py WORKSPACE [OUT_DIR]
(the demo workspace: ``generec demo create /tmp/demo`` first). Uses ``QEventLoop().processEvents()``: the
static ``QApplication.processEvents()`` leaks a reference per call under PySide6 6.12 / Python 3.11.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from PySide6.QtCore import QEventLoop, QSettings
from PySide6.QtWidgets import QApplication


def main() -> int:
    workspace = Path(sys.argv[1])
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).parent
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    pump = QEventLoop()
    from generec_desktop.app.main_window import MainWindow
    from generec_desktop.app.tabs._personal import start_personalize

    settings = QSettings(str(Path(tempfile.mkdtemp()) / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings=settings)
    w.resize(1280, 800)
    w.show()

    def wait(cond, timeout=300.0):
        t0 = time.time()
        while not cond():
            pump.processEvents()
            time.sleep(0.01)
            if time.time() - t0 > timeout:
                raise SystemExit(f"timed out waiting for {cond}")

    def idle():
        wait(lambda: not w.jobs.running())
        for _ in range(20):
            pump.processEvents()

    def shot(name):
        for _ in range(30):
            pump.processEvents()
            time.sleep(0.01)
        w.grab().save(str(out / f"{name}.png"), "PNG", 9)
        print("saved", out / f"{name}.png", flush=True)

    w.open_workspace(workspace)
    idle()
    w.library.list.setCurrentRow(int(os.environ.get("SHOT_ITEM_ROW", "0")))
    idle()
    w.audiences.select_ids(["segment:0", "segment:1", "segment:2"])
    w.preview.seek(60)
    idle()
    shot("main")
    w.show_tab("Thumbnails")
    start_personalize(w.tab_widget("Thumbnails"))
    idle()
    shot("thumbnails")
    w.show_tab("Clips")
    clips = w.tab_widget("Clips")
    shot("clips")
    clips.export_selected()
    idle()
    w.show_tab("Style")
    style = w.tab_widget("Style")
    idle()
    style.instruction.setText("make it look like a comic for segment 1, subtle")
    style.make_plan()
    idle()
    shot("style")
    style.apply_style()
    idle()
    w.show_tab("Checks")
    checks = w.tab_widget("Checks")
    checks.list.clearSelection()
    checks.run_checks()
    idle()
    checks.list.setCurrentRow(0)
    shot("checks")
    w.show_tab("Export")
    export = w.tab_widget("Export")
    export.set_checked(w.versions.ids()[:1])
    export.export_checked()
    idle()
    shot("export")
    w.show_tab("Revise")
    shot("revise")
    print("errors:", w.last_error)
    w.close()
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
