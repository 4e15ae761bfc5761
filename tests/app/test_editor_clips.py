"""The Clips tab as an editor: trim handles (snapping to shot cuts, undoable), I/O on the selected clip,
and a finished clip shown where it was made (Play, Compare) with a notification in words."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QPoint, Qt


@pytest.fixture
def clips_window(demo_window, qtbot):
    window = demo_window
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    window.audiences.select_ids(["segment:0", "segment:1"])
    clips = window.tab_widget("Clips")
    window.show_tab("Clips")
    with qtbot.waitSignal(window.personal.updated, timeout=120000):
        clips.compute_button.click()
    qtbot.waitUntil(lambda: not window.jobs.running(), timeout=60000)
    clips.table.setCurrentItem(clips.table.topLevelItem(0))
    return window, clips


def drag(qtbot, widget, start: QPoint, end: QPoint, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, modifier, start)
    steps = 6
    for k in range(1, steps + 1):
        p = QPoint(start.x() + (end.x() - start.x()) * k // steps, start.y())
        qtbot.mouseMove(widget, p)
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, modifier, end)


def test_trim_handles_snap_to_cuts_and_undo(qtbot, clips_window):
    window, clips = clips_window
    timeline = clips.timeline
    aid = clips.selected_audience()
    start, end = clips.ranges[aid]
    y = int(timeline.row_y(0))
    depth = window.undo_stack.count()

    # drag the end handle freely (Shift: no snapping) to 70 % of the way back towards the start
    target = start + 0.7 * (end - start) if end - start > 0.4 else min(timeline.duration, end + 0.5)
    drag(qtbot, timeline, QPoint(int(timeline.handle_x(0, "end")), y), QPoint(int(timeline._x(target)), y),
         Qt.KeyboardModifier.ShiftModifier)
    new_start, new_end = clips.ranges[aid]
    assert new_start == start and new_end == pytest.approx(target, abs=2 * timeline.duration / timeline.width())
    assert window.undo_stack.count() == depth + 1  # one command for the whole drag
    assert clips.end_spin.value() == pytest.approx(new_end, abs=0.01)
    window.undo_stack.undo()
    assert clips.ranges[aid] == (start, end)
    assert timeline.tracks[0][2] == pytest.approx(end)
    window.undo_stack.redo()
    assert clips.ranges[aid][1] == pytest.approx(new_end)
    window.undo_stack.undo()

    # dropped a few pixels from a shot cut, an edge lands exactly on it
    assert len(timeline.cuts), "the demo video has shot cuts"
    before = [float(c) for c in timeline.cuts if float(c) < end - 0.2]
    after = [float(c) for c in timeline.cuts if float(c) > start + 0.2]
    edge, cut = ("start", before[-1]) if before else ("end", after[0])
    drag(qtbot, timeline, QPoint(int(timeline.handle_x(0, edge)), y), QPoint(int(timeline._x(cut)) + 4, y))
    assert clips.ranges[aid][0 if edge == "start" else 1] == pytest.approx(round(cut, 3), abs=1e-6)
    window.undo_stack.undo()
    assert clips.ranges[aid] == (start, end)


def test_i_and_o_set_the_selected_clip(qtbot, clips_window):
    window, clips = clips_window
    preview = clips.preview
    aid = clips.selected_audience()
    start, end = clips.ranges[aid]
    assert preview.in_point == start and preview.out_point == end  # the clip's range shows on the scrubber
    depth = window.undo_stack.count()
    inside = preview.index_at(start + 0.5 * (end - start))
    preview.go_to(inside)
    preview.setFocus()
    qtbot.keyClick(preview.view, Qt.Key.Key_I)
    assert clips.ranges[aid] == (pytest.approx(float(preview.times[inside]), abs=1e-3), end)
    assert window.undo_stack.count() == depth + 1
    assert preview.current_index == inside  # the playhead stays where the mark was made
    window.undo_stack.undo()
    assert clips.ranges[aid] == (start, end)


def test_a_finished_clip_shows_in_the_tab_with_play_compare_and_a_notification(qtbot, clips_window):
    window, clips = clips_window
    aid = clips.selected_audience()
    clips.reframe.setCurrentIndex(1)  # vertical 9:16
    with qtbot.waitSignal(window.jobs.job_finished, timeout=120000) as done:
        clips.export_selected()
    assert done.args[0].state == "done", window.last_error
    qtbot.waitUntil(lambda: clips.result_bar.isVisible(), timeout=5000)
    from generec_desktop.profiles.service import describe_audience

    item = window.workspace.item(window.current_item_id)
    name = (item.title or "").split(": ")[0]
    sentence = window.last_notification
    assert name.startswith("Demo ")
    assert sentence == f"Clip of {name} for {describe_audience(window.workspace, aid)} (vertical 9:16) is ready"
    pv = clips.result_bar.version
    assert pv.id not in sentence and not re.search(r"\b[0-9a-f]{8,}\b", sentence)  # words, not a hex id
    assert window.statusBar().currentMessage() == sentence
    assert window.toast.isVisible() and name in window.toast.label.text()
    assert clips.result_bar.play_button.isVisible() and clips.result_bar.compare_button.isVisible()

    clips.result_bar.compare_button.click()
    qtbot.waitUntil(lambda: getattr(window, "compare_dialog", None) is not None
                    and window.compare_dialog.isVisible(), timeout=20000)
    player = window.compare_dialog.player
    assert player.pair.original == window.workspace.media_path(item)
    assert player.pair.offset == pytest.approx(pv.params["start"])
    qtbot.waitUntil(lambda: not player.canvas.a.isNull() and not player.canvas.b.isNull(), timeout=20000)
    assert player.canvas.b.width() < player.canvas.b.height()  # the 9:16 version
    assert player.canvas.a.width() > player.canvas.a.height()  # beside its 16:9 original
    assert not player.mode_buttons["wipe"].isEnabled()  # no wipe across unlike shapes
    x, y, w, h = player.canvas.crop  # the version's window is drawn on the original
    assert 0 <= x <= 1 - w and 0 <= y <= 1 - h
    a = player.canvas.a
    assert (w * a.width()) / (h * a.height()) == pytest.approx(9 / 16, rel=0.03)
    player.set_mode("wipe")
    assert player.canvas.mode == "side"
    window.compare_dialog.close()
