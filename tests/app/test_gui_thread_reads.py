"""Nothing slow on the GUI thread (issue 17 part 1), beyond imports (test_gui_thread.py): opening a workspace
and selecting items read no frame times, scan no pending versions or artwork and query no catalogue on the
GUI thread; the opened workspace is shown in steps with the event loop running between them.

Each test records *where* a read happens (which thread), never how long it takes.
"""

from __future__ import annotations

import sys
import threading

import pytest


def _on_gui_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@pytest.fixture
def scan_calls(monkeypatch):
    """Every call of the media layer's frame index (``frame_times`` and every reader go through ``scan``),
    with whether it ran on the GUI thread."""
    from generec_desktop.media import _index

    calls: list[tuple[str, bool]] = []
    real = _index.scan

    def recording(path, *args, **kwargs):
        calls.append((str(path), _on_gui_thread()))
        return real(path, *args, **kwargs)

    for name, module in list(sys.modules.items()):
        if name.startswith("generec_desktop.") and getattr(module, "scan", None) is real:
            monkeypatch.setattr(module, "scan", recording)
    return calls


def _open_in_background(window, workspace, qtbot):
    window.show()
    qtbot.waitExposed(window)
    window.request_open_workspace(workspace)
    qtbot.waitUntil(lambda: window.workspace is not None and window.profiles is not None
                    and window.preview.path is not None and not window.jobs.running(), timeout=120000)


def _select(window, row, qtbot):
    window.library.list.setCurrentRow(row)
    qtbot.waitUntil(lambda: not getattr(window.preview, "loading", False) and len(window.preview.times) > 0,
                    timeout=60000)
    qtbot.waitUntil(lambda: not window.jobs.running(), timeout=60000)


def test_opening_and_selecting_items_read_no_frame_times_on_the_gui_thread(qtbot, make_window, demo_workspace,
                                                                             scan_calls):
    window = make_window()
    _open_in_background(window, demo_workspace, qtbot)
    window.show_tab("Clips")  # its own preview follows the selected item too
    ids = window.library.item_ids()
    assert len(ids) >= 3
    for row in (1, 2, 0, 1):  # new items, then ones read before (from the cache)
        _select(window, row, qtbot)
        assert window.current_item_id == ids[row]
        assert window.preview.path == window.workspace.media_path(window.workspace.item(ids[row]))
        clips_preview = window.tab_widget("Clips").preview
        qtbot.waitUntil(lambda p=clips_preview: len(p.times) > 0, timeout=60000)
    assert scan_calls, "the frame index was never read: the test did not reach the preview"
    on_gui = [path for path, gui in scan_calls if gui]
    assert not on_gui, f"frame times read on the GUI thread for {on_gui}"


def test_a_seek_and_marks_asked_for_while_the_frame_times_load_apply_once_they_are_known(qtbot, make_window,
                                                                                         demo_workspace):
    window = make_window()
    assert window.open_workspace(demo_workspace)
    ws = window.workspace
    preview = window.preview
    path = ws.media_path(ws.items()[2])
    from generec_desktop.app.frame_index import frame_times_cache

    assert frame_times_cache().get(path) is None  # not read yet in this process: the load is asynchronous
    with qtbot.waitSignal(preview.video_ready, timeout=60000):
        preview.set_video(path)
        assert preview.loading and not preview.slider.isEnabled() and "Loading" in preview.view.text()
        preview.seek_time(1.0)
        preview.set_marks(0.5, 1.5)
    assert preview.slider.isEnabled()
    assert preview.current_time() == pytest.approx(1.0, abs=0.05)
    assert preview.slider.value() == preview.current_index
    shown = preview.slider.marks
    assert shown[0] == preview.index_at(0.5) and shown[1] is not None and shown[1] > shown[0]
    preview.set_marks(0.5, 1.5)  # the same marks as when asked for with the times known
    assert preview.slider.marks == shown
    preview.set_video(path)  # read before: shown at once
    assert not preview.loading and len(preview.times) > 0


def test_selecting_items_queries_no_catalogue_on_the_gui_thread(qtbot, make_window, demo_workspace):
    from sqlalchemy import event

    window = make_window()
    _open_in_background(window, demo_workspace, qtbot)
    window.show_tab("Style")  # Style and Clips follow the selected item
    on_gui: list[str] = []

    def record(conn, cursor, statement, *args):
        if _on_gui_thread():
            on_gui.append(statement.split("\n")[0][:120])

    event.listen(window.workspace.engine, "before_cursor_execute", record)
    try:
        for row in (1, 2):
            _select(window, row, qtbot)
            window.show_tab("Clips")
            qtbot.waitUntil(lambda: not window.jobs.running(), timeout=60000)
    finally:
        event.remove(window.workspace.engine, "before_cursor_execute", record)
    assert window.current_item_id == window.library.item_ids()[2]
    assert not on_gui, f"catalogue queries on the GUI thread while selecting items: {on_gui}"


def test_opening_scans_pending_versions_and_artwork_in_the_worker(qtbot, make_window, demo_workspace, monkeypatch):
    from generec_desktop.fidelity import artwork, export

    reads: list[tuple[str, bool]] = []
    for module, name in ((export, "list_pending"), (artwork, "list_artwork")):
        real = getattr(module, name)

        def recording(*args, _real=real, _name=name, **kwargs):
            reads.append((_name, _on_gui_thread()))
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, name, recording)
    window = make_window()
    _open_in_background(window, demo_workspace, qtbot)
    assert {name for name, _ in reads} == {"list_pending", "list_artwork"}, reads
    assert not [name for name, gui in reads if gui], reads


def test_the_opened_workspace_is_shown_in_steps_with_the_event_loop_running_between(qtbot, make_window,
                                                                                    demo_workspace):
    from PySide6.QtCore import QTimer

    window = make_window()
    turns: list[str] = []  # what happened, in order; "tick" = a 0 ms timer posted when the library was filled

    def library_filled():
        turns.append("library")
        QTimer.singleShot(0, lambda: turns.append("tick"))

    window.library_changed.connect(library_filled)
    window.workspace_opened.connect(lambda ws: turns.append("tabs"))
    window.item_changed.connect(lambda item_id: turns.append("item"))
    _open_in_background(window, demo_workspace, qtbot)
    assert turns[:4] == ["library", "tick", "tabs", "item"], turns


def test_a_preview_deleted_while_its_frame_times_load_is_left_alone(qtbot, tmp_path):
    """The reader outlives the previews: a read that ends after its preview was deleted (a window closed
    meanwhile) must not touch the widget (pytest-qt fails the test on an exception in the event loop)."""
    import shiboken6
    from mediagen import make_video

    from generec_desktop.app.frame_index import frame_times_cache
    from generec_desktop.app.preview import PreviewWidget

    video = make_video(tmp_path / "gone.mp4", width=96, height=64, n_frames=50, fps=25)
    preview = PreviewWidget()
    preview.set_video(video)
    assert preview.loading  # the read is under way: its answer comes through the event loop
    preview.close_source()
    shiboken6.delete(preview)
    qtbot.waitUntil(lambda: frame_times_cache().get(video) is not None, timeout=60000)
    qtbot.wait(50)  # the answer's callbacks have run
