"""Feature tabs: never empty without an explanation, shortcuts, preferences, clip edits undoable, timeline."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

TAB_NAMES = ("Thumbnails", "Clips", "Style", "Revise", "Checks", "Export")


def tab(window, prefix):
    """A feature tab by the start of its title ("Revise" for "Revise && Create")."""
    for i in range(window.tabs.count()):
        if window.tabs.tabText(i).replace("&", "").startswith(prefix):
            return window.tabs.widget(i)
    return None


def test_every_tab_explains_itself_without_a_workspace(qtbot, make_window):
    window = make_window()
    for name in TAB_NAMES:
        widget = tab(window, name)
        assert widget is not None, f"the {name} tab is missing"
        assert not widget.notice.isHidden() and widget.notice.text(), f"{name} shows no explanation"
        assert "workspace" in widget.notice.text().lower()


def test_shortcuts_and_actions_menu(qtbot, make_window):
    window = make_window()
    qtbot.waitUntil(lambda: any(a.text() == "&Actions" for a in window.menuBar().actions()), timeout=2000)
    shortcuts = {a.shortcut().toString() for a in window.actions()}
    for key in ("Ctrl+T", "Ctrl+Shift+L", "Ctrl+Shift+S", "Ctrl+K", "Ctrl+E", "Ctrl+,"):
        assert key in shortcuts, f"no action for {key}"
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles.index("&Actions") < titles.index("&Help")


def test_preferences_persist_in_qsettings(qtbot, make_window, tmp_path):
    from PySide6.QtCore import QSettings

    from generec_desktop.app.widgets import PreferencesDialog

    window = make_window()
    dialog = PreferencesDialog(window.settings, window)
    qtbot.addWidget(dialog)
    dialog.fields["prefs/encoder_weights"].setText(str(tmp_path / "weights.safetensors"))
    dialog.fields["prefs/uploader"].setText("Ada")
    dialog.accept()
    again = QSettings(window.settings.fileName(), QSettings.Format.IniFormat)
    assert again.value("prefs/encoder_weights") == str(tmp_path / "weights.safetensors")
    assert again.value("prefs/uploader") == "Ada"


def test_style_choice_and_strength_are_remembered(qtbot, make_window):
    window = make_window()
    style = window.tab_widget("Style")
    style.select_style("noir")
    style.strength.setValue(35)
    second = make_window()  # same settings file
    assert second.tab_widget("Style").current_style() == "noir"
    assert second.tab_widget("Style").strength.value() == 35


def test_revise_tab_finds_the_shipped_model_and_makes_a_version(qtbot, demo_window):
    from pathlib import Path

    revise = tab(demo_window, "Revise")
    demo_window.audiences.select_ids(["segment:0"])
    revise.refresh()
    if not revise.checkpoints:
        pytest.skip("no MCVD checkpoint fits (models/mcvd-demo is not in this checkout)")
    assert revise.checkpoints[0].name == "mcvd-demo"
    assert revise.revise_button.isEnabled() and revise.create_button.isEnabled()
    before = len(demo_window.versions.versions())
    revise.strength.setValue(0.2)
    with qtbot.waitSignal(demo_window.jobs.job_finished, timeout=180000) as done:
        revise.run("revise")
    assert done.args[0].state == "done", demo_window.last_error
    versions = demo_window.versions.versions()
    assert len(versions) == before + 1
    pv = versions[-1]
    assert pv.operation == "revise" and pv.target_profile == "segment:0" and Path(pv.media).is_file()


def test_revise_tab_explains_a_missing_model(qtbot, demo_window, tmp_path, monkeypatch):
    import generec_desktop.mcvd.workspace as wm

    monkeypatch.setattr(wm, "REPO_MODELS_DIR", tmp_path / "no-models")
    revise = tab(demo_window, "Revise")
    demo_window.audiences.select_ids(["segment:0"])
    revise.look_for_checkpoints(again=True)  # in a worker: the window never waits for it
    qtbot.waitUntil(lambda: not demo_window.jobs.running(), timeout=30000)
    assert "No MCVD checkpoint fits" in revise.notice.text()
    assert not revise.revise_button.isEnabled() and not revise.create_button.isEnabled()


def test_thumbnails_tab_asks_for_audiences_first(qtbot, demo_window):
    thumbs = demo_window.tab_widget("Thumbnails")
    demo_window.audiences.select_ids([])
    assert not thumbs.compute_button.isEnabled()
    assert "audiences" in thumbs.notice.text().lower()
    demo_window.audiences.select_ids(["segment:0"])
    assert thumbs.compute_button.isEnabled()


def test_clip_range_edit_is_undoable_and_timeline_seeks(qtbot, demo_window):
    window = demo_window
    window.audiences.select_ids(["segment:0", "segment:1"])
    clips = window.tab_widget("Clips")
    with qtbot.waitSignal(window.personal.updated, timeout=120000):
        clips.compute_button.click()
    qtbot.waitUntil(lambda: not window.jobs.running(), timeout=60000)
    clips.table.setCurrentItem(clips.table.topLevelItem(0))
    aid = clips.selected_audience()
    start, end = clips.ranges[aid]
    new_start = round(max(0.0, end - 0.5), 2)
    clips.start_spin.setValue(new_start)
    assert clips.ranges[aid] == (new_start, end)
    assert clips.timeline.tracks[0][1] == pytest.approx(new_start)
    window.undo_stack.undo()
    assert clips.ranges[aid] == (start, end)
    assert clips.start_spin.value() == pytest.approx(start, abs=0.01)
    window.undo_stack.redo()
    assert clips.ranges[aid] == (new_start, end)

    # a click on the strip seeks the clip preview to that time
    clips.timeline.resize(800, clips.timeline.height())
    x = clips.timeline._x(clips.timeline.duration / 2)
    with qtbot.waitSignal(clips.timeline.seek_requested, timeout=2000) as sought:
        qtbot.mouseClick(clips.timeline, Qt.MouseButton.LeftButton, pos=QPoint(int(x), 4))
    assert sought.args[0] == pytest.approx(clips.timeline.duration / 2, rel=0.02)


def test_bad_version_export_is_a_message(qtbot, demo_window, tmp_path):
    """Exporting a version whose media is not a video gives a message, not a traceback, and no item."""
    from generec_desktop.app.commands import AddVersionCommand
    from generec_desktop.fidelity.export import create_pending

    window = demo_window
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video at all")
    pv = create_pending(window.workspace, bad, operation="edit", parent_id=window.current_item_id)
    window.undo_stack.push(AddVersionCommand(window.versions, pv))
    n_items = len(window.library.item_ids())
    export = window.tab_widget("Export")
    export.set_checked([pv.id])
    export.export_checked()
    qtbot.waitUntil(lambda: not window.jobs.running(), timeout=60000)
    assert window.last_error and "Traceback" not in window.last_error
    assert len(window.library.item_ids()) == n_items
    assert bad.read_bytes() == b"not a video at all"


def test_personal_grade_learns_from_the_selected_audience(qtbot, demo_window):
    style = demo_window.tab_widget("Style")
    style.select_style("personal")
    demo_window.audiences.select_ids([])
    assert style.apply_style() is None
    assert "audience" in (demo_window.last_error or "").lower()
    demo_window.audiences.select_ids(["segment:0"])
    assert style.reference_images("segment:0"), "segment 0's liked covers should be the references"
    before = len(demo_window.versions.versions())
    with qtbot.waitSignal(demo_window.jobs.job_finished, timeout=120000,
                          check_params_cb=lambda job: job.title.startswith("Style #")) as done:
        style.apply_style()
    assert done.args[0].state == "done", demo_window.last_error
    pv = demo_window.versions.versions()[-1]
    assert len(demo_window.versions.versions()) == before + 1
    assert pv.params["style"] == "personal" and pv.target_profile == "segment:0"


def test_use_thumbnail_on_a_video_too_small_for_artwork_says_so_and_stores_nothing(qtbot, demo_window):
    """The session demo is 320×180, below what the still watermark needs: one clear message, no row, no file
    (tests/app/test_artwork_window.py stores artwork on a 640×360 video of its own)."""
    from generec_desktop.fidelity import artwork as art

    thumbs = demo_window.tab_widget("Thumbnails")
    ws = demo_window.workspace
    demo_window.audiences.select_ids(["segment:0"])
    with qtbot.waitSignal(demo_window.personal.updated, timeout=120000):
        qtbot.mouseClick(thumbs.compute_button, Qt.MouseButton.LeftButton)
    before = len(demo_window.versions.versions())
    with qtbot.waitSignal(demo_window.jobs.job_finished, timeout=60000,
                          check_params_cb=lambda job: job.title.startswith("Store artwork")):
        qtbot.mouseClick(thumbs.use_buttons["segment:0"], Qt.MouseButton.LeftButton)
    assert "480×270" in (demo_window.last_error or ""), demo_window.last_error
    assert art.list_artwork(ws) == [] and not (ws.root / "artwork").exists()
    assert len(demo_window.versions.versions()) == before and demo_window.undo_stack.count() == 0


def test_style_previews_wait_until_the_style_tab_is_shown(qtbot, demo_window):
    """Opening a workspace or picking a video with another tab in front runs no "Style previews" job (a decode
    and ten styles for a tab nobody looks at); showing the tab runs it for the current video."""
    window = demo_window
    style = window.tab_widget("Style")
    titles: list[str] = []
    window.jobs.job_added.connect(lambda job: titles.append(job.title))
    window.show_tab("Preview")
    window.library.list.setCurrentRow(1)
    qtbot.waitUntil(lambda: not window.jobs.running(), timeout=60000)
    assert "Style previews" not in titles and style.frame is None
    window.show_tab("Style")
    qtbot.waitUntil(lambda: style.frame is not None, timeout=60000)
    assert titles.count("Style previews") == 1
    assert "original frame" in style.before.caption.text()
    window.show_tab("Preview")
    window.show_tab("Style")  # shown again, same video: not decoded again
    qtbot.waitUntil(lambda: not window.jobs.running(), timeout=60000)
    assert titles.count("Style previews") == 1
