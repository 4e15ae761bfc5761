"""A video with no real choice says so above the Thumbnails columns and the Clips timeline."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt


def _one_scene_video(path):
    import cv2
    import skimage.data
    from mediagen import make_video

    rng = np.random.default_rng(0)
    base = cv2.resize(skimage.data.coffee(), (160, 96), interpolation=cv2.INTER_AREA).astype(np.float32)
    frames = [np.clip(base + rng.normal(0, 3, base.shape), 0, 255).astype(np.uint8) for _ in range(100)]
    return make_video(path, width=160, height=96, frames=frames)


def test_one_scene_video_shows_a_notice_above_the_columns(qtbot, make_window, demo_workspace, tmp_path):
    from generec_desktop.corpus import Workspace

    with Workspace.open(demo_workspace) as ws:
        item = ws.import_media([_one_scene_video(tmp_path / "IMG_0001.mp4")]).items[0]
    window = make_window()
    assert window.open_workspace(demo_workspace)
    qtbot.waitUntil(lambda: window.profiles is not None and not window.jobs.running(), timeout=60000)
    window.library.select_item(item.id)
    qtbot.waitUntil(lambda: window.current_item_id == item.id and not window.jobs.running(), timeout=60000)
    window.audiences.select_ids(["segment:0", "segment:1"])
    thumbs = window.tab_widget("Thumbnails")
    assert not thumbs.choice_notice.isVisibleTo(thumbs)  # nothing computed yet: nothing to say
    with qtbot.waitSignal(window.personal.updated, timeout=120000):
        qtbot.mouseClick(thumbs.compute_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.jobs.running(), timeout=60000)
    assert thumbs.choice_notice.isVisibleTo(thumbs)
    assert thumbs.choice_notice.text().startswith("One scene: every audience gets the same frame")
    # it sits above the columns: before the scroll area in the tab's layout
    layout = thumbs.layout()
    order = [layout.itemAt(i).widget() for i in range(layout.count())]
    assert order.index(thumbs.choice_notice) < order.index(thumbs.grid_host.parentWidget().parentWidget())
    result = window.personal.get(item.id)
    assert len({a.thumbnail.timestamp for a in result.audiences}) == 1
    clips = window.tab_widget("Clips")
    assert clips.choice_notice.isVisibleTo(clips)
    assert clips.choice_notice.text().startswith("One scene: every audience gets the same clip")
    # another video with a real choice clears the notice
    window.library.select_item(window.library.item_ids()[0])
    qtbot.waitUntil(lambda: window.current_item_id != item.id and not window.jobs.running(), timeout=60000)
    assert not thumbs.choice_notice.isVisibleTo(thumbs)
