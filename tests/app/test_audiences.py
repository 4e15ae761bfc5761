"""The audiences panel: segments with their users as a tree, audiences from examples with cover strips, and
the undoable edits of audiences from examples run as background jobs (with Cancel)."""

from __future__ import annotations

import threading

import pytest
from examplemedia import write_photos, write_scenes_video
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from generec_desktop.profiles import examples as ex

ID = Qt.ItemDataRole.UserRole


@pytest.fixture
def fresh(tmp_path):
    """A new workspace with one three-shot video and no audience at all."""
    from generec_desktop.corpus import Workspace

    root = tmp_path / "W"
    with Workspace.create(root) as ws:
        ws.import_media([write_scenes_video(tmp_path / "src" / "three-shots.mp4")])
    return root


@pytest.fixture
def photos(tmp_path):
    return write_photos(tmp_path / "space", ("astronaut", "rocket", "hubble_deep_field"))


def _idle(window, qtbot, timeout=60000):
    qtbot.waitUntil(lambda: not window.jobs.running(), timeout=timeout)


def _open(make_window, qtbot, root):
    window = make_window()
    assert window.open_workspace(root)
    _idle(window, qtbot)
    return window


def _tops(window):
    tree = window.audiences.tree
    return [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]


def test_new_audience_from_files_shows_up_with_a_cover_strip_and_undoes(make_window, qtbot, fresh, photos):
    window = _open(make_window, qtbot, fresh)
    assert window.profiles is None and "New audience from examples" in window.audiences.status.text()
    editor = window.audience_editor
    job = editor.create("Space fans", [str(p) for p in photos])
    assert job is not None and job.title.startswith("New audience 'Space fans'")
    qtbot.waitUntil(lambda: window.profiles is not None, timeout=60000)
    _idle(window, qtbot)
    (top,) = _tops(window)
    panel = window.audiences
    assert top.data(0, ID) == "examples:1" and panel.entry_text(top) == "Space fans  (3 examples)"
    assert window.selected_audiences() == ["examples:1"]  # the new audience is selected
    assert panel.row("examples:1").has_strip(), "a strip of the example pictures beside the name"
    assert panel.row("examples:1").title.text() == "Space fans"
    assert "1 audience from examples" in window.audiences.status.text()
    assert window.undo_stack.undoText() == "New audience 'Space fans'"

    window.undo_stack.undo()
    qtbot.waitUntil(lambda: window.profiles is None, timeout=60000)
    _idle(window, qtbot)
    assert ex.list_audiences(window.workspace) == [] and _tops(window) == []
    window.undo_stack.redo()
    qtbot.waitUntil(lambda: window.profiles is not None, timeout=60000)
    _idle(window, qtbot)
    assert [a.id for a in ex.list_audiences(window.workspace)] == [1]
    assert [t.data(0, ID) for t in _tops(window)] == ["examples:1"]


def test_rename_remove_and_examples_are_undoable(make_window, qtbot, fresh, photos, tmp_path):
    with_ws = _open(make_window, qtbot, fresh)
    window = with_ws
    ws = window.workspace
    ex.add_audience(ws, "Fans", photos[:2])
    window.load_profiles()
    _idle(window, qtbot)
    editor = window.audience_editor

    editor.rename("examples:1", "Astronomers")
    _idle(window, qtbot)
    text = window.audiences.entry_text
    assert ex.get_audience(ws, 1).name == "Astronomers" and "Astronomers" in text(_tops(window)[0])
    window.undo_stack.undo()
    _idle(window, qtbot)
    assert ex.get_audience(ws, 1).name == "Fans"
    qtbot.waitUntil(lambda: text(_tops(window)[0]).startswith("Fans"), timeout=10000)

    editor.add_examples("examples:1", [str(photos[2]), 1])  # a file and a library item
    _idle(window, qtbot)
    assert ex.get_audience(ws, 1).n_examples == 4
    assert text(_tops(window)[0]) == "Fans  (4 examples)"
    aud = ex.get_audience(ws, 1)
    editor.remove_examples("examples:1", [e for e in aud.examples if e.kind == "item"])
    _idle(window, qtbot)
    assert [e.kind for e in ex.get_audience(ws, 1).examples] == ["image"] * 3
    window.undo_stack.undo()
    _idle(window, qtbot)
    assert ex.get_audience(ws, 1).n_examples == 4
    window.undo_stack.undo()
    _idle(window, qtbot)
    assert ex.get_audience(ws, 1).n_examples == 2

    editor.remove("examples:1")
    _idle(window, qtbot)
    assert ex.list_audiences(ws) == [] and window.profiles is None
    window.undo_stack.undo()
    _idle(window, qtbot)
    assert ex.get_audience(ws, 1).name == "Fans" and window.profiles is not None
    assert all(p.exists() for p in photos)


def test_bad_examples_are_a_message_and_write_nothing(make_window, qtbot, fresh, tmp_path):
    window = _open(make_window, qtbot, fresh)
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not a picture")
    window.audience_editor.create("Nobody", [str(junk)])
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=60000)
    assert "junk.png" in window.last_error and "Traceback" not in window.last_error
    assert ex.list_audiences(window.workspace) == [] and window.undo_stack.count() == 0
    window.audience_editor.create("Segment 2", [str(junk)])
    qtbot.waitUntil(lambda: "reserved" in (window.last_error or ""), timeout=60000)


def test_embedding_job_can_be_cancelled(make_window, qtbot, fresh, photos, monkeypatch):
    window = _open(make_window, qtbot, fresh)
    started, release = threading.Event(), threading.Event()
    real = ex._read_image

    def slow(path):
        started.set()
        release.wait(20)
        return real(path)

    monkeypatch.setattr(ex, "_read_image", slow)
    job = window.audience_editor.create("Slow", [str(p) for p in photos])
    assert started.wait(20)
    window.jobs.cancel(job.job_id)
    release.set()
    _idle(window, qtbot)
    assert job.state == "cancelled"
    assert ex.list_audiences(window.workspace) == [] and window.undo_stack.count() == 0


def test_dialog_from_library_selection_and_dropped_files(make_window, qtbot, fresh, photos):
    window = _open(make_window, qtbot, fresh)
    window.library.list.item(0).setSelected(True)
    dlg = window.audience_editor.new_from_examples()
    assert dlg.refs() == [1] and not dlg.buttons.button(dlg.buttons.StandardButton.Ok).isEnabled()
    dlg.add_refs([str(photos[0])])
    dlg.name.setText("Mixed")
    assert dlg.buttons.button(dlg.buttons.StandardButton.Ok).isEnabled()
    dlg.accept()
    qtbot.waitUntil(lambda: window.profiles is not None, timeout=60000)
    _idle(window, qtbot)
    assert ex.get_audience(window.workspace, "Mixed").n_examples == 2

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photos[1])), QUrl.fromLocalFile(str(photos[0].parent / "notes.txt"))])
    panel = window.audiences
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    panel.dropEvent(event)
    dlg2 = window.audience_editor.dialog
    assert dlg2 is not dlg and dlg2.refs() == [str(photos[1])]  # only images, videos and folders are taken
    dlg2.reject()


def test_segments_group_their_users_and_show_names_people_read(demo_window, qtbot):
    window = demo_window
    tops = _tops(window)
    segs = [t for t in tops if str(t.data(0, ID)).startswith("segment:")]
    text = window.audiences.entry_text
    assert segs and text(segs[0]).startswith("Segment 1: ") and text(segs[1]).startswith("Segment 2: ")
    ps = window.profiles
    for k, seg in enumerate(segs):
        assert seg.childCount() == ps.segments[k].size
        child = seg.child(0)
        assert str(child.data(0, ID)).startswith("user:")
        assert not child.text(0).startswith("User ")
        assert child.text(0) == ps.audience(child.data(0, ID)).name
    qtbot.waitUntil(lambda: window.audiences.row("segment:0").has_strip(), timeout=30000)  # its liked covers
    window.audiences.search.setText(segs[1].child(0).text(0))
    assert not segs[1].isHidden() and segs[0].isHidden() and not segs[1].child(0).isHidden()
    window.audiences.search.setText("")
    window.audiences.select_ids(["segment:1"])
    assert window.tab_widget("Thumbnails").audience_label("segment:1").startswith("Segment 2: ")


def test_thumbnails_tab_works_with_only_example_audiences(make_window, qtbot, fresh, tmp_path):
    window = _open(make_window, qtbot, fresh)
    ws = window.workspace
    ex.add_audience(ws, "Space fans", write_photos(tmp_path / "s", ("astronaut", "rocket")))
    ex.add_audience(ws, "Cat people", write_photos(tmp_path / "c", ("chelsea",)))
    window.load_profiles()
    _idle(window, qtbot)
    window.library.list.setCurrentRow(0)
    window.audiences.select_ids(["examples:1", "examples:2"])
    tab = window.tab_widget("Thumbnails")
    assert tab.compute_button.isEnabled(), tab.notice.text()
    tab.compute_button.click()
    qtbot.waitUntil(lambda: bool(tab.cards), timeout=120000)
    _idle(window, qtbot)
    heads = [tab.grid.itemAtPosition(0, c).widget().text() for c in (1, 2)]
    assert "Space fans" in heads[0] and "Cat people" in heads[1]
    assert tab.cards[("examples:1", "generated")].has_image()  # palette from the example pictures
    # another workspace: its item #1 is another video, so the last workspace's thumbnails must go
    from generec_desktop.corpus import Workspace

    other = tmp_path / "other"
    with Workspace.create(other) as ws2:
        ws2.import_media([write_scenes_video(tmp_path / "o.mp4", ("coffee",))])
    assert window.open_workspace(other)
    _idle(window, qtbot)
    assert tab.cards == {} and tab.summary.text() == ""


def test_dialog_takes_words_and_a_builtin_encoder_says_it_cannot_read_them(make_window, qtbot, fresh):
    window = _open(make_window, qtbot, fresh)
    dlg = window.audience_editor.new_from_examples(refs=[])
    ok = dlg.buttons.button(dlg.buttons.StandardButton.Ok)
    dlg.name.setText("Skaters")
    assert not ok.isEnabled()  # neither examples nor words yet
    dlg.words.setText("people who like skateboarding")
    assert ok.isEnabled() and dlg.description() == "people who like skateboarding"
    dlg.accept()
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=60000)
    assert "text tower" in window.last_error and "Traceback" not in window.last_error
    assert ex.list_audiences(window.workspace) == [] and window.undo_stack.count() == 0
