"""The main-window fixture: built with private settings, closed after the test, failing on leaked jobs."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6", reason="the GUI tests need PySide6 (a core dependency)")


@pytest.fixture(autouse=True)
def _silent_preview(monkeypatch):
    """The window's tests play videos: no sound on a developer's speakers (tests of the sound set their own)."""
    monkeypatch.setenv("GENEREC_AUDIO", "off")


@pytest.fixture(autouse=True)
def _collect_on_the_gui_thread():
    """After each window test (its widgets closed): collect its cycles here, on the GUI thread, and give
    automatic collection back, so the tests that follow run with Python's normal garbage collector."""
    yield
    from generec_desktop.app import gc_guard

    gc_guard.uninstall()


@pytest.fixture
def make_window(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    from generec_desktop.app.main_window import MainWindow

    monkeypatch.setenv("GENEREC_HOME", str(tmp_path / "home"))
    windows = []

    def _make():
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings=settings)
        qtbot.addWidget(window)
        windows.append(window)
        return window

    yield _make
    for window in windows:
        leaked = [job.title for job in window.jobs.running()]
        window.jobs.cancel_all()
        assert window.jobs.wait(30000), "a background job did not stop after cancel"
        assert not leaked, f"jobs still running at the end of the test: {leaked}"


# --- Feature tabs: one small demo workspace (with profiles and a recommender) per test session ---------


@pytest.fixture(scope="session")
def demo_workspace_master(tmp_path_factory):
    """A small demo workspace built once: 4 videos, 40 simulated users, profiles + recommender trained."""
    from generec_desktop.corpus import Workspace
    from generec_desktop.demo import build_demo_workspace
    from generec_desktop.profiles import build_profiles, train_recommender

    root = tmp_path_factory.mktemp("demo") / "ws"
    build_demo_workspace(root, n_videos=4, n_users=40, size=(320, 180), sample_videos=False, with_profiles=False)
    ws = Workspace.open(root)
    try:
        build_profiles(ws)
        train_recommender(ws, epochs=5)
    finally:
        ws.close()
    return root


@pytest.fixture
def demo_workspace(demo_workspace_master, tmp_path):
    """A private copy of the session's demo workspace (tests add versions and items to it)."""
    import shutil

    dst = tmp_path / "demo-ws"
    shutil.copytree(demo_workspace_master, dst)
    return dst


@pytest.fixture
def demo_window(make_window, demo_workspace, qtbot):
    """A window with the demo workspace open, its profiles loaded and the first item selected."""
    window = make_window()
    assert window.open_workspace(demo_workspace)
    qtbot.waitUntil(lambda: window.profiles is not None and not window.jobs.running(), timeout=60000)
    window.library.list.setCurrentRow(0)
    qtbot.waitUntil(lambda: not window.jobs.running(), timeout=60000)
    return window
