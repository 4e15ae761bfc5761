"""The Checks tab (issue 23): plain sentences first, details on demand, fix buttons that are undoable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

LONG = 120000


def _face_video(path: Path) -> Path:
    """2 s, 320×240: scikit-image's coffee photo for 0.8 s, then the astronaut's face."""
    import cv2
    import skimage.data

    from generec_desktop import media

    coffee = cv2.resize(skimage.data.coffee(), (320, 240), interpolation=cv2.INTER_AREA)
    astro = cv2.resize(skimage.data.astronaut()[:300, 60:460], (320, 240), interpolation=cv2.INTER_AREA)
    media.encode_frames([coffee] * 10 + [np.ascontiguousarray(astro)] * 15, path, fps=12.5)
    return path


@pytest.fixture
def face_workspace(tmp_path: Path) -> tuple[Path, str]:
    from generec_desktop.corpus import Workspace
    from generec_desktop.versions import clip_version

    root = tmp_path / "ws"
    with Workspace.create(root) as ws:
        item = ws.import_media(_face_video(tmp_path / "face.mp4"), owner="ann").items[0]  # no licence
        pv = clip_version(ws, item.id, 0.2, 2.0)
    return root, pv.id


def _idle(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: not window.jobs.running(), timeout=LONG)


def test_checks_tab_sentences_details_and_undoable_fixes(qtbot, make_window, face_workspace) -> None:  # type: ignore[no-untyped-def]
    root, vid = face_workspace
    window = make_window()
    assert window.open_workspace(root)
    _idle(qtbot, window)
    checks = window.tab_widget("Checks")
    window.tabs.setCurrentWidget(checks)
    checks.recheck(vid)
    _idle(qtbot, window)
    assert window.last_error is None, window.last_error
    rep = window.versions.reports[vid]
    assert checks.tree.topLevelItemCount() == len(rep.checks) == 6
    rows = {checks.tree.topLevelItem(i).text(0): checks.tree.topLevelItem(i) for i in range(6)}
    privacy = rows["privacy"]
    assert privacy.text(2).startswith("A face is visible") and "blur" in privacy.text(2)
    assert "SSIM" not in rows["authenticity"].text(2)
    assert rows["identifiability"].text(1).endswith("pass") and "Added at export" in rows["identifiability"].text(2)
    assert "added at export" in checks.summary.text()
    # details: hidden until asked for, then the metrics and evidence rows show
    assert privacy.childCount() > 0 and all(privacy.child(k).isHidden() for k in range(privacy.childCount()))
    checks.details_button.setChecked(True)
    assert not privacy.child(0).isHidden() and privacy.isExpanded()
    assert any("face_detector: mtcnn" in privacy.child(k).text(2) or privacy.child(k).text(1) == "face"
               for k in range(privacy.childCount()))
    checks.details_button.setChecked(False)
    # the fix buttons follow the selected check
    checks.tree.setCurrentItem(privacy)
    assert checks.fix_buttons["blur"].isVisibleTo(checks) and not checks.fix_buttons["licence"].isVisibleTo(checks)
    checks.tree.setCurrentItem(rows["bias"])
    assert not checks.fix_buttons["blur"].isVisibleTo(checks)
    # blur: a new pending version, checked, privacy passes; undo removes it, redo brings it back
    checks.tree.setCurrentItem(privacy)
    checks.apply_fix("blur")
    _idle(qtbot, window)
    assert window.last_error is None, window.last_error
    new = [v for v in window.versions.versions() if v.operation == "blur"]
    assert len(new) == 1 and window.versions.reports[new[0].id].check("privacy").status == "pass"
    assert checks.current_id() == new[0].id
    window.undo_stack.undo()
    assert new[0].id not in window.versions.ids()
    window.undo_stack.redo()
    assert new[0].id in window.versions.ids()


def test_licence_fix_is_recorded_and_undoable(qtbot, make_window, face_workspace) -> None:  # type: ignore[no-untyped-def]
    from generec_desktop.app.tabs.checks import LicenceCommand

    root, vid = face_workspace
    window = make_window()
    assert window.open_workspace(root)
    _idle(qtbot, window)
    checks = window.tab_widget("Checks")
    window.undo_stack.push(LicenceCommand(checks, vid, "CC-BY-4.0", "ann"))
    _idle(qtbot, window)
    assert window.versions.get(vid).licence == "CC-BY-4.0"
    legal = window.versions.reports[vid].check("legal")
    assert legal.status == "pass" and "as you declared" in legal.summary
    window.undo_stack.undo()
    _idle(qtbot, window)
    assert window.versions.get(vid).licence is None
    assert "licence" in window.versions.reports[vid].check("legal").fixes


def test_a_version_checked_from_the_cli_is_shown_checked_and_an_edited_one_is_not(qtbot, make_window,
                                                                                   face_workspace) -> None:  # type: ignore[no-untyped-def]
    """`generec check` saves its report beside the version; the window opened later shows it (it said "not
    checked yet" and checked again). A version whose media changed since is shown unchecked."""
    from generec_desktop.corpus import Workspace
    from generec_desktop.fidelity.export import check_version
    from generec_desktop.versions import clip_version

    root, vid = face_workspace
    with Workspace.open(root) as ws:
        check_version(ws, vid)  # what `generec check W VERSION` runs
        other = clip_version(ws, 1, 0.0, 1.5)
        check_version(ws, other.id)
    media = other.folder / "media.mp4"
    media.write_bytes(media.read_bytes() + b"\0")  # changed after its check: the saved report no longer holds
    window = make_window()
    window.request_open_workspace(root)
    _idle(qtbot, window)
    assert window.workspace is not None and window.last_error is None, window.last_error
    assert set(window.versions.reports) == {vid}
    checks = window.tab_widget("Checks")
    window.tabs.setCurrentWidget(checks)
    row = next(i for i in range(checks.list.count()) if vid in checks.list.item(i).text())
    checks.list.setCurrentRow(row)
    assert "not checked yet" not in checks.summary.text() and "WARN" in checks.summary.text(), checks.summary.text()
    assert checks.tree.topLevelItemCount() == 6
