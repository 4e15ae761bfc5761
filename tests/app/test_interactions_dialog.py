"""File ▸ Import Interactions…: preview, mapping guess, Check before anything is written, one import job,
audiences in the window afterwards, and Cancel; a new workspace's Build profiles leads to the dialog."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from sqlalchemy import func, select

from generec_desktop.corpus.schema import Interaction, User

LONG = 120000
COLOURS = {"beach.mp4": (230, 190, 90), "forest.mp4": (30, 140, 40), "night.mp4": (20, 20, 90)}


@pytest.fixture
def own_workspace(tmp_path):
    """A new workspace with three PyAV-made videos of one colour each (imported, so they have file names)."""
    from mediagen import make_video

    from generec_desktop.corpus import Workspace

    rng = np.random.default_rng(1)
    files = []
    for name, colour in COLOURS.items():
        frames = [np.clip(np.array(colour) + rng.normal(0, 12, (48, 64, 3)), 0, 255).astype(np.uint8)
                  for _ in range(8)]
        files.append(make_video(tmp_path / name, width=64, height=48, frames=frames))
    with Workspace.create(tmp_path / "ws") as ws:
        ws.import_media(files)
    return tmp_path / "ws"


def _csv(tmp_path, bad_line: int | None = None):
    """viewer;video file;watched — 12 viewers, each liking mostly one of the three videos."""
    names = list(COLOURS)
    rows = ["viewer;video file;watched"]
    for u in range(12):
        for j, name in enumerate((names[u % 3], names[(u + 1) % 3]) if u % 4 == 0 else (names[u % 3],)):
            rows.append(f"fan{u:02d};{name};2024-06-{1 + j:02d}T12:00:00")
    if bad_line is not None:
        rows[bad_line - 1] = "fan99;sunset.mp4;2024-06-01T12:00:00"  # no such video was imported
    f = tmp_path / ("bad.csv" if bad_line else "good.csv")
    f.write_text("\n".join(rows) + "\n", encoding="utf-8-sig")
    return f, len(rows) - 1


def _counts(root):
    from generec_desktop.corpus import Workspace

    with Workspace.open(root) as ws, ws.session() as s:
        return s.scalar(select(func.count()).select_from(Interaction)), s.scalar(select(func.count()).select_from(User))


def _open(qtbot, make_window, root, path=None):
    window = make_window()
    assert window.open_workspace(root)
    qtbot.waitUntil(lambda: not window.jobs.running(), timeout=LONG)
    dialog = window.show_interactions_dialog(path)
    if path is not None:
        qtbot.waitUntil(lambda: dialog.preview is not None, timeout=LONG)
    return window, dialog


def _check(qtbot, dialog):
    assert dialog.check_button.isEnabled()
    qtbot.mouseClick(dialog.check_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.job is None and (dialog.check is not None or dialog.notice.isVisible()),
                    timeout=LONG)


def test_a_file_with_an_error_writes_nothing_and_shows_its_line(qtbot, make_window, own_workspace, tmp_path):
    bad, _ = _csv(tmp_path, bad_line=5)
    _window, dialog = _open(qtbot, make_window, own_workspace, bad)
    # the preview and the guessed mapping
    assert dialog.table.columnCount() == 3 and dialog.table.rowCount() == len(dialog.preview.rows)
    assert dialog.table.verticalHeaderItem(0).text() == "2"  # the file's line numbers
    assert (dialog.user_combo.currentText(), dialog.item_combo.currentText()) == ("viewer", "video file")
    assert dialog.match_combo.currentData() == "filename" and dialog.time_combo.currentText() == "watched"
    assert "UTF-8 with BOM" in dialog.format_label.text() and "semicolon" in dialog.format_label.text()
    assert not dialog.import_button.isEnabled()  # nothing before a check

    _check(qtbot, dialog)
    assert dialog.check is not None and not dialog.check.ok
    lines = dialog.error_lines()
    assert len(lines) == 1 and lines[0].startswith("line 5: unknown item 'sunset.mp4'")
    assert dialog.errors.isVisible() and "nothing was written" in dialog.notice.text()
    assert not dialog.import_button.isEnabled()
    row = dialog.preview.numbers.index(5)
    assert dialog.table.item(row, 0).background().color().name() == "#ffebee"  # the bad row is marked
    assert _counts(own_workspace) == (0, 0)
    dialog.run_import()  # even called directly, an unclean check imports nothing
    assert dialog.job is None and _counts(own_workspace) == (0, 0)

    # the same file with another mapping needs a new check
    dialog.match_combo.setCurrentIndex(dialog.match_combo.findData("id"))
    assert dialog.check is None and not dialog.errors.isVisible() and not dialog.import_button.isEnabled()
    dialog.close()


def test_a_good_file_imports_and_the_audiences_appear(qtbot, make_window, own_workspace, tmp_path):
    good, n_rows = _csv(tmp_path)
    window, dialog = _open(qtbot, make_window, own_workspace)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(good))])
    drop = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    dialog.dropEvent(drop)  # a dropped file opens like a chosen one
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=LONG)
    assert dialog.path == good
    _check(qtbot, dialog)
    assert dialog.check.ok and dialog.error_lines() == [] and dialog.import_button.isEnabled()
    assert f"All {n_rows} rows are good" in dialog.notice.text()
    assert _counts(own_workspace) == (0, 0)  # checked, still nothing written

    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert dialog.cancel_button.isVisible() and dialog.progress.isVisible()
    qtbot.waitUntil(lambda: dialog.result is not None or "Done" in dialog.notice.text()
                    or dialog.job is None, timeout=LONG)
    assert dialog.result is not None, dialog.notice.text()
    qtbot.waitUntil(lambda: window.profiles is not None and not window.jobs.running(), timeout=LONG)
    assert _counts(own_workspace) == (n_rows, 12)
    assert len(window.profiles.user_ids) == 12 and window.profiles.segments
    panel = window.audiences  # a tree: segments with their users under them (shown by their own ids/names)
    entries = panel.entries()
    assert any(panel.entry_text(e).startswith("Segment 1") for e in entries)
    users = [e for e in entries if str(e.data(0, Qt.ItemDataRole.UserRole)).startswith("user:")]
    assert len(users) == 12 and not any(panel.entry_text(e).startswith("User ") for e in users)
    assert "Done." in dialog.notice.text() and not dialog.import_button.isEnabled()
    from generec_desktop.corpus import Workspace
    from generec_desktop.profiles import load_recommender

    with Workspace.open(own_workspace) as ws:
        assert load_recommender(ws).user_embeddings.shape[0] == 12
    dialog.close()


def test_cancel_after_the_import_step_keeps_a_consistent_state(qtbot, make_window, own_workspace, tmp_path,
                                                               monkeypatch):
    from generec_desktop.profiles import pipeline

    real = pipeline.build_profiles
    entered, gate = threading.Event(), threading.Event()

    def gated(*args, **kwargs):  # hold the job between its import and its profile steps
        entered.set()
        gate.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "build_profiles", gated)
    good, n_rows = _csv(tmp_path)
    window, dialog = _open(qtbot, make_window, own_workspace, good)
    _check(qtbot, dialog)
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(entered.is_set, timeout=LONG)
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    gate.set()
    qtbot.waitUntil(lambda: dialog.job is None, timeout=LONG)
    qtbot.waitUntil(lambda: not window.jobs.running(), timeout=LONG)
    assert dialog.result is None
    text = dialog.notice.text()
    assert f"Cancelled after importing {n_rows} interactions" in text and "Build profiles" in text
    assert _counts(own_workspace) == (n_rows, 12)  # the import is complete…
    assert window.profiles is None  # …and no half-built profiles: the window shows what is stored (none)
    from generec_desktop.corpus import Workspace
    from generec_desktop.profiles import ModelNotFoundError, load_profiles

    with Workspace.open(own_workspace) as ws, pytest.raises(ModelNotFoundError):
        load_profiles(ws)
    dialog.close()


def test_cancel_while_checking(qtbot, make_window, own_workspace, tmp_path, monkeypatch):
    from generec_desktop.profiles import interactions

    real = interactions.validate_interactions
    entered, gate = threading.Event(), threading.Event()

    def gated(*args, **kwargs):  # hold the check until Cancel was pressed
        entered.set()
        gate.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(interactions, "validate_interactions", gated)
    good, _ = _csv(tmp_path)
    _window, dialog = _open(qtbot, make_window, own_workspace, good)
    qtbot.mouseClick(dialog.check_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(entered.is_set, timeout=LONG)
    assert dialog.cancel_button.isVisible() and not dialog.check_button.isEnabled()
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    gate.set()
    qtbot.waitUntil(lambda: dialog.job is None, timeout=LONG)
    assert dialog.check is None and "Cancelled" in dialog.notice.text()
    assert not dialog.import_button.isEnabled() and dialog.check_button.isEnabled()
    assert _counts(own_workspace) == (0, 0)
    dialog.close()


def test_build_profiles_in_a_new_workspace_leads_to_the_dialog(qtbot, make_window, own_workspace):
    from PySide6.QtWidgets import QMessageBox

    window = make_window()
    assert window.open_workspace(own_workspace)
    qtbot.waitUntil(lambda: not window.jobs.running(), timeout=LONG)
    qtbot.mouseClick(window.audiences.build_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "noInteractionsBox") is not None, timeout=LONG)
    assert "File ▸ Import Interactions…" in window.last_error and "generec profiles" not in window.last_error
    box = window.findChild(QMessageBox, "noInteractionsBox")
    import_button = next(b for b in box.buttons() if "Import" in b.text())
    qtbot.mouseClick(import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: getattr(window, "interactions_dialog", None) is not None
                    and window.interactions_dialog.isVisible(), timeout=5000)
    assert window.import_interactions_action.text().replace("&", "") == "Import Interactions…"
    window.interactions_dialog.close()
