"""The compare player: the original and the version on the same moment (seek, step, play), side by side,
wipe and toggle; the style tab's finished job offers it."""

from __future__ import annotations

import mediagen
import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt


def barcode(pixmap) -> int:
    image = pixmap.toImage().convertToFormat(pixmap.toImage().Format.Format_RGB888)
    w, h = image.width(), image.height()
    arr = np.frombuffer(image.constBits(), np.uint8, count=image.bytesPerLine() * h).reshape(h, -1)[:, : 3 * w]
    return mediagen.read_barcode(arr.reshape(h, w, 3))


@pytest.fixture
def clip_pair(tmp_path, monkeypatch):
    from generec_desktop.corpus import Workspace
    from generec_desktop.versions import clip_version
    from generec_desktop.versions.compare import compare_pair

    monkeypatch.setenv("GENEREC_AUDIO", "off")
    video = mediagen.make_video(tmp_path / "barcodes.mp4", width=160, height=96, n_frames=100, fps=25, audio=True)
    with Workspace.create(tmp_path / "W") as ws:
        item = ws.import_media([video]).items[0]
        pv = clip_version(ws, item.id, 1.0, 3.0)
        return compare_pair(ws, pv)


def test_original_and_version_stay_on_the_same_moment(qtbot, clip_pair):
    from generec_desktop.app.compare import ComparePlayer

    player = ComparePlayer()
    qtbot.addWidget(player)
    player.resize(900, 500)
    player.show()
    qtbot.waitExposed(player)
    player.set_pair(clip_pair)
    qtbot.waitUntil(lambda: len(player.times_b) > 0, timeout=10000)  # frame times are read off the GUI thread
    assert player.slider.maximum() == 49  # the version's 2 s at 25 fps
    for k in (0, 17, 49):
        player.slider.setValue(k)
        qtbot.waitUntil(lambda k=k: player.shown.get("b") == k and player.shown.get("a") == k + 25, timeout=10000)
        # the pictures themselves: the barcode each frame carries is the original's frame number
        assert barcode(player.canvas.a) == barcode(player.canvas.b) == k + 25
    assert "original at 00:02.960" in player.time_label.text()

    player.set_mode("wipe")  # same shape: a wipe is offered, dragged on the picture
    assert player.canvas.mode == "wipe" and player.mode_buttons["wipe"].isEnabled()
    qtbot.mouseClick(player.canvas, Qt.MouseButton.LeftButton, pos=QPoint(player.canvas.width() // 4,
                                                                           player.canvas.height() // 2))
    assert 0.0 < player.canvas.wipe < 0.5
    player.toggle_side()  # T: one picture at a time, the original first
    assert player.canvas.mode == "toggle" and player.canvas.showing_b is False
    qtbot.keyClick(player.canvas, Qt.Key.Key_T)
    assert player.canvas.showing_b is True

    player.slider.setValue(0)
    player.play()
    qtbot.waitUntil(lambda: player.shown.get("b", 0) > 10 and player.shown.get("a", 0) > 35, timeout=20000)
    player.pause()
    assert not player.playing
    player.close_sources()


def test_a_finished_style_offers_play_and_compare(qtbot, demo_window):
    window = demo_window
    style = window.tab_widget("Style")
    window.show_tab("Style")
    style.select_style("noir")
    with qtbot.waitSignal(window.jobs.job_finished, timeout=120000) as done:
        style.apply_style()
    qtbot.waitUntil(lambda: not window.jobs.running(), timeout=60000)
    assert done.args[0].state == "done", window.last_error
    item = window.workspace.item(window.current_item_id)
    name = item.title.split(": ")[0]
    assert window.last_notification == f"Noir style of {name} is ready"
    assert not style.result_bar.isHidden() and name in style.result_bar.text.text()
    style.result_bar.play_button.click()  # Play: the player on the version alone, playing
    qtbot.waitUntil(lambda: getattr(window, "compare_dialog", None) is not None
                    and window.compare_dialog.isVisible(), timeout=20000)
    player = window.compare_dialog.player
    assert player.canvas.mode == "toggle" and player.canvas.showing_b and player.playing
    assert player.pair.offset == 0.0 and player.pair.original == window.workspace.media_path(item)
    window.compare_dialog.close()
    assert not player.playing
