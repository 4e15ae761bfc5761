"""Preferences ▸ Models against the local hub stand-in: licence first, progress, cancel and resume, switch."""

from __future__ import annotations

from pathlib import Path

import pytest
from hubserver import HubServer, HubState, repo_from_folder
from tinyclip import liked_workspace, write_tiny_hf_folder


@pytest.fixture
def hub(tmp_path: Path):
    write_tiny_hf_folder(tmp_path / "up")
    with HubServer(HubState(repos={"org/tiny": repo_from_folder(tmp_path / "up")}, chunk_size=32 * 1024)) as s:
        yield s


def _dialog(window, hub: HubServer):  # type: ignore[no-untyped-def]
    dialog = window.show_models()
    dialog.endpoint.setText(hub.endpoint)
    dialog.custom.setText("hf-hub:org/tiny")
    return dialog


def _accept_licence(qtbot, dialog, yes: bool = True) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QMessageBox

    qtbot.waitUntil(lambda: dialog.licence_box is not None, timeout=20000)
    box = dialog.licence_box
    assert "mit" in box.text() and "MIT License" in box.detailedText()
    box.button(QMessageBox.StandardButton.Yes if yes else QMessageBox.StandardButton.No).click()


def test_download_shows_the_licence_then_installs_and_switches(make_window, qtbot, hub: HubServer) -> None:
    from generec_desktop.encoders.catalog import CATALOGUE

    w = make_window()
    dialog = _dialog(w, hub)
    assert dialog.table.rowCount() == len(CATALOGUE)
    assert dialog.table.item(0, 4).text() == "not downloaded"
    assert not dialog.use_button.isEnabled()

    dialog.download_button.click()
    _accept_licence(qtbot, dialog, yes=False)
    assert "not accepted" in dialog.status.text() and not hub.gets("open_clip_model.safetensors")

    dialog.download_button.click()
    _accept_licence(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=60000)
    assert dialog.result.name == "tiny" and "downloaded and verified" in dialog.status.text()
    row = next(r for r in range(dialog.table.rowCount()) if dialog.table.item(r, 0).text() == "tiny")
    assert dialog.table.item(row, 4).text() == "downloaded"
    assert dialog.use_button.isEnabled()
    dialog.use_button.click()  # no workspace open: the preference changes, nothing to rebuild
    assert w.settings.value("prefs/encoder") == "open_clip:tiny"
    assert "Open a workspace" in dialog.status.text()
    dialog.close()


def test_cancel_keeps_the_bytes_and_the_next_download_resumes(make_window, qtbot, hub: HubServer) -> None:
    hub.state.chunk_delay = 0.01
    w = make_window()
    dialog = _dialog(w, hub)
    dialog.download_button.click()
    _accept_licence(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.progress.value() > 150, timeout=60000)
    assert dialog.cancel_button.isEnabled()
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: "cancelled" in dialog.status.text(), timeout=30000)
    from generec_desktop.encoders.hub import partial_bytes

    kept = partial_bytes("tiny")
    assert kept > 0
    hub.state.chunk_delay = 0.0
    dialog.download_button.click()
    _accept_licence(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=60000)
    assert dialog.result.resumed_bytes >= kept
    assert hub.gets("open_clip_model.safetensors")[-1] is not None  # a Range request
    dialog.close()


def test_use_for_this_workspace_rebuilds_profiles_in_the_background(make_window, qtbot, hub: HubServer,
                                                                     tmp_path: Path) -> None:
    w = make_window()
    ws = liked_workspace(tmp_path / "ws")
    assert w.open_workspace(ws)
    qtbot.waitUntil(lambda: not w.jobs.running(), timeout=30000)
    dialog = _dialog(w, hub)
    dialog.download_button.click()
    _accept_licence(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=60000)
    dialog.use_button.click()
    assert [j.title for j in w.jobs.running()] == ["Rebuild profiles with open_clip:tiny"]
    qtbot.waitUntil(lambda: w.profiles is not None and str(w.profiles.encoder_id).startswith("open_clip:tiny:"),
                    timeout=120000)
    assert "Profiles rebuilt" in dialog.status.text()
    dialog.close()


def test_no_network_is_one_line_in_the_dialog(make_window, qtbot) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    w = make_window()
    dialog = w.show_models()
    dialog.endpoint.setText(f"http://127.0.0.1:{port}")
    dialog.download_button.click()
    qtbot.waitUntil(lambda: "Cannot reach the model hub" in dialog.status.text(), timeout=30000)
    assert dialog.licence_box is None and dialog.download_button.isEnabled()
    dialog.close()
