"""The window's personalisation runs the shot detector chosen in Preferences (here TransNetV2) on its worker
thread, never on the GUI thread — also when jobs run on the window's threads rather than in a child process
(GENEREC_JOB_PROCESSES=0; the child process is tests/app/test_process_jobs.py's)."""

from __future__ import annotations

import threading

import numpy as np
from PySide6.QtCore import Qt


def _two_shot_video(path):
    import cv2
    import skimage.data
    from mediagen import make_video

    a = cv2.resize(skimage.data.coffee(), (160, 96), interpolation=cv2.INTER_AREA)
    b = cv2.resize(skimage.data.astronaut(), (160, 96), interpolation=cv2.INTER_AREA)
    return make_video(path, width=160, height=96, frames=[a] * 50 + [b] * 50)


def test_shot_detection_runs_off_the_gui_thread(qtbot, make_window, demo_workspace, tmp_path, monkeypatch):
    from generec_desktop.corpus import Workspace
    from generec_desktop.editor.personalize import shotdetect

    seen: list[threading.Thread] = []

    def recorder(path, n_frames, progress, cancel):  # stands in for the network: where it is called matters
        seen.append(threading.current_thread())
        return [shotdetect.Transition(50, 50)]

    monkeypatch.setenv("GENEREC_SHOTS", "hsv")  # the preference, not the environment, asks for TransNetV2
    monkeypatch.setenv("GENEREC_JOB_PROCESSES", "0")  # the recorder stands in here, in this process
    monkeypatch.setattr(shotdetect, "_detect_transnet", recorder)
    with Workspace.open(demo_workspace) as ws:
        item = ws.import_media([_two_shot_video(tmp_path / "IMG_0002.mp4")]).items[0]
    window = make_window()
    from generec_desktop.app.widgets import PreferencesDialog

    prefs = PreferencesDialog(window.settings, window)
    qtbot.addWidget(prefs)
    prefs.shots.setCurrentIndex(prefs.shots.findData("transnetv2"))
    prefs.accept()
    assert window.open_workspace(demo_workspace)
    qtbot.waitUntil(lambda: window.profiles is not None and not window.jobs.running(), timeout=60000)
    window.library.select_item(item.id)
    qtbot.waitUntil(lambda: window.current_item_id == item.id and not window.jobs.running(), timeout=60000)
    window.audiences.select_ids(["segment:0", "segment:1"])
    thumbs = window.tab_widget("Thumbnails")
    with qtbot.waitSignal(window.personal.updated, timeout=120000):
        qtbot.mouseClick(thumbs.compute_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.jobs.running(), timeout=60000)
    assert len(seen) == 1 and seen[0] is not threading.main_thread()
    result = window.personal.get(item.id)
    assert result.shot_detector == "transnetv2"
    assert np.allclose(result.cut_times, [2.0])
