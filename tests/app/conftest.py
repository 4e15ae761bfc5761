"""The main-window fixture: built with private settings, closed after the test, failing on leaked jobs."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6", reason="the GUI tests need PySide6 (a core dependency)")


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
