"""The preview behaves like an editor's player: click-to-seek, J/K/L, I/O, sound with volume and mute,
a note when there is no sound output; Help lists the shortcuts; long jobs show the time left."""

from __future__ import annotations

import numpy as np
import pytest
from mediagen import make_video
from PySide6.QtCore import QPoint, Qt


@pytest.fixture
def clip(tmp_path):
    """A 4 s, 25 fps barcoded video with a 440 Hz stereo tone."""
    return make_video(tmp_path / "tone.mp4", width=96, height=64, n_frames=100, fps=25, audio=True)


@pytest.fixture
def player(make_window, clip, qtbot, monkeypatch):
    monkeypatch.setenv("GENEREC_AUDIO", "off")
    window = make_window()
    window.resize(1200, 800)
    window.show()
    qtbot.waitExposed(window)
    preview = window.preview
    preview.set_video(clip)
    qtbot.waitUntil(lambda: preview._pixmap is not None, timeout=10000)
    yield preview
    preview.pause()


def test_a_click_on_the_scrubber_jumps_there(qtbot, player):
    slider = player.slider
    assert slider.maximum() == 99
    for target in (75, 12, 90):
        x = slider.x_of(target)
        qtbot.mouseClick(slider, Qt.MouseButton.LeftButton, pos=QPoint(x, slider.height() // 2))
        # before: a click moved one page (10 frames) towards the cursor
        assert abs(slider.value() - target) <= 1, (target, slider.value())
        assert player.current_index == slider.value()
    qtbot.waitUntil(lambda: player.time_label.text().startswith("00:03.6"), timeout=5000)


def test_jkl_shuttle(qtbot, player):
    qtbot.keyClick(player.view, Qt.Key.Key_L)
    assert player.playing and player.speed == 1.0
    qtbot.waitUntil(lambda: player.current_index > 3, timeout=10000)
    qtbot.keyClick(player.view, Qt.Key.Key_L)
    assert player.speed == 2.0 and player.speed_label.text() == "▶▶ 2×"
    qtbot.keyClick(player.view, Qt.Key.Key_L)
    assert player.speed == 4.0
    qtbot.keyClick(player.view, Qt.Key.Key_K)
    assert not player.playing and player.speed == 0.0 and player.speed_label.text() == ""
    qtbot.keyClick(player.view, Qt.Key.Key_End)
    assert player.current_index == 99
    qtbot.keyClick(player.view, Qt.Key.Key_J)
    assert player.playing and player.speed == -1.0
    qtbot.waitUntil(lambda: player.current_index < 96, timeout=10000)  # it goes backwards
    qtbot.keyClick(player.view, Qt.Key.Key_J)
    assert player.speed == -2.0 and player.speed_label.text() == "◀◀ 2×"
    qtbot.keyClick(player.view, Qt.Key.Key_K)
    assert not player.playing
    at = player.current_index
    qtbot.keyClick(player.view, Qt.Key.Key_Left)
    assert player.current_index == max(0, at - 1)
    qtbot.keyClick(player.view, Qt.Key.Key_Home)
    assert player.current_index == 0
    qtbot.keyClick(player.view, Qt.Key.Key_J)  # backwards from the first frame: nothing to play
    assert not player.playing


def test_i_and_o_mark_a_range(qtbot, player):
    times = player.times
    player.go_to(10)
    with qtbot.waitSignal(player.range_marked) as marked:
        qtbot.keyClick(player.view, Qt.Key.Key_I)
    assert marked.args == [pytest.approx(times[10]), None]
    player.go_to(30)
    with qtbot.waitSignal(player.range_marked) as marked:
        qtbot.keyClick(player.view, Qt.Key.Key_O)
    # the out point is the end of the frame under the playhead: the range includes it
    assert marked.args == [pytest.approx(times[10]), pytest.approx(times[31])]
    assert player.slider.marks == (10, 30)
    assert "in 00:00.400 – out 00:01.240" in player.time_label.text()
    player.go_to(5)
    qtbot.keyClick(player.view, Qt.Key.Key_O)  # an out point before the in point clears the in point
    assert player.in_point is None and player.out_point == pytest.approx(times[6])
    qtbot.keyClick(player.view, Qt.Key.Key_X, Qt.KeyboardModifier.AltModifier)
    assert player.in_point is None and player.out_point is None and player.slider.marks == (None, None)


def test_without_sound_output_the_picture_plays_and_a_note_says_so(qtbot, player):
    player.play()
    qtbot.waitUntil(lambda: player.audio_label.isVisible(), timeout=5000)
    assert "switched off" in player.audio_message
    assert player.audio_label.toolTip() == player.audio_message
    qtbot.waitUntil(lambda: player.current_index > 5, timeout=10000)
    assert player.clock is not None and type(player.clock).__name__ == "WallClock"


def test_sound_plays_on_the_null_device_and_the_picture_follows_its_clock(qtbot, player, monkeypatch):
    pytest.importorskip("miniaudio", reason="the sound output library (a dependency) is not installed")
    monkeypatch.setenv("GENEREC_AUDIO", "null")
    player.play()
    qtbot.waitUntil(lambda: player.current_index > 10, timeout=10000)
    assert type(player.clock).__name__ == "AudioPlayback"
    assert player.audio_message == "" and not player.audio_label.isVisible()
    player.pause()


def test_volume_and_mute_reach_the_samples(clip):
    from generec_desktop import media
    from generec_desktop.app.audio import AudioPlayback

    level = {"gain": 0.5}
    pb = AudioPlayback(clip, 1.0, gain=lambda: level["gain"], device=False)
    try:
        ref, rate, _ = media.read_audio(media.AudioSource(clip, 1.0, 1.2))
        got = pb.pull(4800)
        assert got.shape == (4800, 2)
        np.testing.assert_allclose(got, 0.5 * ref.T[:4800], atol=1e-6)  # sample-exact from the start time
        level["gain"] = 0.0  # muted
        assert not pb.pull(960).any()
        # the clock: what the device was given (no device latency here), from the start time on
        assert 1.0 + 5760 / rate <= pb.now() < 1.0 + 5760 / rate + 0.5
    finally:
        pb.close()


def test_surround_is_mixed_down_to_stereo():
    from generec_desktop.app.audio import downmix

    n = 10
    six = np.zeros((6, n), np.float32)
    six[2] = 0.5  # centre only
    out = downmix(six)
    assert out.shape == (2, n)
    np.testing.assert_allclose(out[0], 0.5 * 0.7071, rtol=1e-4)
    np.testing.assert_allclose(out[1], out[0])
    assert downmix(np.ones((1, n), np.float32)).shape == (1, n)


def test_help_lists_the_keyboard_shortcuts(qtbot, make_window):
    window = make_window()
    qtbot.waitUntil(lambda: getattr(window, "shortcuts_action", None) is not None, timeout=3000)
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    assert window.shortcuts_action in help_menu.actions()
    window.shortcuts_action.trigger()
    dialog = window.shortcuts_dialog
    qtbot.addWidget(dialog)
    keys = dialog.keys()
    for key in ("J", "K", "L", "I / O", "Space", "T", "Ctrl+K", "Ctrl+Shift+L", "Ctrl+Z"):
        assert key in keys, key


def test_long_jobs_show_the_time_left(qtbot, make_window):
    import threading

    from generec_desktop.app.jobs_panel import eta_text

    assert eta_text(1.0, 0.5) == ""  # too young to tell
    assert eta_text(30.0, 0.01) == ""  # barely started
    assert eta_text(10.0, 0.5) == "about 10 s left"
    assert eta_text(60.0, 0.25) == "about 3 min left"
    assert eta_text(20.0, 0.9) == "a few seconds left"

    window = make_window()
    gate = threading.Event()

    def job(progress, cancel):
        progress(0.5, "working")
        gate.wait(10)

    submitted = window.jobs.submit("Slow job", job)
    submitted.started -= 40.0  # as if it had been running 40 s
    row = window.jobs_panel.rows()[0]
    qtbot.waitUntil(lambda: "left" in row.message.text(), timeout=5000)
    assert row.message.text().startswith("working · about ")
    gate.set()
    assert window.jobs.wait(10000)
    qtbot.waitUntil(lambda: not window.jobs.running(), timeout=5000)


def test_trim_handles_snap_and_keep_a_minimum_length(qtbot):
    from PySide6.QtCore import QPoint

    from generec_desktop.app.timeline import MIN_CLIP_S, SNAP_PX, TrimTimeline

    strip = TrimTimeline()
    qtbot.addWidget(strip)
    strip.resize(1000, 80)
    strip.set_tracks(10.0, [("A", 2.0, 4.0, "#1e88e5")])
    strip.set_cuts([5.0, 7.5])
    edits = []
    strip.range_edited.connect(lambda row, a, b: edits.append((row, a, b)))
    y = int(strip.row_y(0))

    def drag(edge, x, modifier=Qt.KeyboardModifier.NoModifier):
        qtbot.mousePress(strip, Qt.MouseButton.LeftButton, modifier, QPoint(int(strip.handle_x(0, edge)), y))
        qtbot.mouseMove(strip, QPoint(int(x), y))
        qtbot.mouseRelease(strip, Qt.MouseButton.LeftButton, modifier, QPoint(int(x), y))

    drag("end", strip._x(5.0) + SNAP_PX - 2)  # near the cut at 5 s: lands on it
    assert edits[-1] == (0, 2.0, 5.0)
    drag("end", strip._x(6.0), Qt.KeyboardModifier.ShiftModifier)  # Shift: where it is dropped
    assert edits[-1][2] == pytest.approx(6.0, abs=0.02)
    drag("start", strip._x(9.0))  # past the end: the clip keeps its shortest length
    assert edits[-1][1] == pytest.approx(edits[-1][2] - MIN_CLIP_S)
    n = len(edits)
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=QPoint(int(strip._x(3.0)), y))  # a click: no edit
    assert len(edits) == n
