"""Artwork in the window on material the demo does not contain: a 640×360 PyAV video of three real photos
and three audiences from example pictures. "Use personalised/generated thumbnail" stores artwork (a job),
undo puts the earlier one back, the library shows it, the Export tab's rank preview uses it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import examplemedia


@pytest.fixture(scope="module")
def scenes_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from generec_desktop.corpus import Workspace
    from generec_desktop.profiles.examples import add_audience

    base = tmp_path_factory.mktemp("artwork-window")
    video = examplemedia.write_scenes_video(base / "scenes.mp4", ("astronaut", "coffee", "rocket"),
                                            size=(640, 360), fps=8)
    root = base / "W"
    with Workspace.create(root) as ws:
        ws.import_media(video)
        for name, photo in (("Cats", "chelsea"), ("Coffee lovers", "coffee"), ("Space fans", "rocket")):
            add_audience(ws, name, examplemedia.write_photos(base / name, (photo,)))
    return root


@pytest.fixture
def scenes_window(make_window, scenes_master, tmp_path, qtbot):
    import shutil

    root = tmp_path / "W"
    shutil.copytree(scenes_master, root)
    window = make_window()
    assert window.open_workspace(root)
    qtbot.waitUntil(lambda: window.profiles is not None and not window.jobs.running(), timeout=60000)
    window.library.list.setCurrentRow(0)
    qtbot.waitUntil(lambda: not window.jobs.running(), timeout=60000)
    return window


def _storing(job) -> bool:
    return job.title.startswith("Store artwork")


def test_artwork_from_the_thumbnails_tab_with_undo_library_and_rank_preview(qtbot, scenes_window):
    from generec_desktop.fidelity import artwork as art

    w = scenes_window
    ws = w.workspace
    thumbs = w.tab_widget("Thumbnails")
    w.audiences.select_ids(["examples:1", "examples:2"])
    with qtbot.waitSignal(w.personal.updated, timeout=120000):
        qtbot.mouseClick(thumbs.compute_button, Qt.MouseButton.LeftButton)
    item_id = w.current_item_id
    assert "No artwork" in thumbs.artwork_labels["examples:1"].text()
    with qtbot.waitSignal(w.jobs.job_finished, timeout=60000, check_params_cb=_storing) as done:
        qtbot.mouseClick(thumbs.use_buttons["examples:1"], Qt.MouseButton.LeftButton)
    assert done.args[0].state == "done", w.last_error
    first = art.artwork_for(ws, item_id, "examples:1")
    assert first is not None and first.generator == "personalize" and (first.width, first.height) == (640, 360)
    assert first.audience_label == "Cats" and art.verify(ws, first).ok
    assert "Artwork stored" in thumbs.artwork_labels["examples:1"].text()
    assert "No artwork" in thumbs.artwork_labels["examples:2"].text()
    entry = w.library.list.item(w.library.item_ids().index(item_id))
    assert "artwork ×1" in entry.text() and "<img" in entry.toolTip() and "Cats" in entry.toolTip()
    # the generated one replaces it; undo brings the personalised frame back (its file from the trash)
    assert "examples:1" in thumbs.use_generated_buttons
    with qtbot.waitSignal(w.jobs.job_finished, timeout=60000, check_params_cb=_storing) as done:
        qtbot.mouseClick(thumbs.use_generated_buttons["examples:1"], Qt.MouseButton.LeftButton)
    assert done.args[0].state == "done", w.last_error
    second = art.artwork_for(ws, item_id, "examples:1")
    assert second is not None and second.generator == "personalize:generated" and second.path != first.path
    assert not (ws.root / first.path).exists()  # retired to the trash, not deleted
    w.undo_stack.undo()
    back = art.artwork_for(ws, item_id, "examples:1")
    assert back is not None and back.path == first.path and art.verify(ws, back).ok
    w.undo_stack.undo()
    assert art.artwork_for(ws, item_id, "examples:1") is None
    assert "artwork" not in w.library.list.item(w.library.item_ids().index(item_id)).text()
    w.undo_stack.redo()
    assert art.artwork_for(ws, item_id, "examples:1").path == first.path
    # the Export tab's rank preview of this item scores Cats with its artwork, the others with the cover
    export = w.tab_widget("Export")
    with qtbot.waitSignal(w.jobs.job_finished, timeout=60000,
                          check_params_cb=lambda job: job.title.startswith("Rank item")) as ranked:
        qtbot.mouseClick(export.rank_item_button, Qt.MouseButton.LeftButton)
    assert ranked.args[0].state == "done", w.last_error
    head = export.rank.topLevelItem(0)
    methods = {head.child(i).text(0): head.child(i).text(5) for i in range(head.childCount())}
    assert methods["Cats"].startswith("its artwork") and not methods["Space fans"].startswith("its artwork")
