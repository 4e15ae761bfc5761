"""The Export tab's files to upload: preset chooser, save dialog, background render with Cancel, packages."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt


def _wait_job(qtbot, window, prefix: str, start, timeout: int = 180000):
    with qtbot.waitSignal(window.jobs.job_finished, timeout=timeout,
                          check_params_cb=lambda job: job.title.startswith(prefix)) as done:
        start()
    return done.args[0]


def test_preset_chooser_shows_each_preset_limits(qtbot, demo_window):
    from generec_desktop.app.upload import RenderDialog

    export = demo_window.tab_widget("Export")
    choices = export.render_choices()
    assert choices and choices[0][1] == demo_window.current_item_id  # the selected library item first
    dialog = RenderDialog(choices, export)
    qtbot.addWidget(dialog)
    text = dialog.details.text()
    assert "1080×1920" in text and "3 min" in text and "300 MB" in text and "TikTok" in text
    dialog.preset.setCurrentIndex(dialog.preset.findData("landscape-720"))
    text = dialog.details.text()
    assert "1280×720" in text and "12 h" in text and "256 GB" in text and "YouTube" in text
    dialog.fit.setCurrentIndex(1)
    dialog.trim.setChecked(True)
    assert dialog.values() == {"target": demo_window.current_item_id, "preset": "landscape-720", "fit": "pad",
                               "trim": True}


def test_render_through_the_dialogs_runs_in_the_background(qtbot, demo_window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QDialog

    from generec_desktop import media
    from generec_desktop.app import upload
    from generec_desktop.app.tabs import export as export_module

    export = demo_window.tab_widget("Export")
    out = tmp_path / "for-youtube"  # no suffix: the tab adds .mp4

    def accept(dialog):
        dialog.preset.setCurrentIndex(dialog.preset.findData("original"))
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(upload.RenderDialog, "exec", accept)
    monkeypatch.setattr(export_module.QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), "")))
    assert export.render_button.isEnabled()
    job = _wait_job(qtbot, demo_window, "Render ",
                    lambda: qtbot.mouseClick(export.render_button, Qt.MouseButton.LeftButton))
    assert job.state == "done", demo_window.last_error
    made = out.with_suffix(".mp4")
    info = media.probe(made)
    item = demo_window.workspace.item(demo_window.current_item_id)
    assert (info.width, info.height) == (item.width - item.width % 2, item.height - item.height % 2)
    assert made.with_name(made.name + ".provenance.json").is_file()
    assert "Rendered" in export.upload_label.text() and made.name in export.upload_label.text()
    assert export.last_upload.path == made


def test_render_cancel_leaves_nothing(qtbot, demo_window, tmp_path):
    from generec_desktop.app.tabs.export import RENDER_KEY

    export = demo_window.tab_widget("Export")
    folder = tmp_path / "out"
    folder.mkdir()

    def start():
        export.render_for_upload(demo_window.current_item_id, "vertical", str(folder / "cancelled.mp4"))
        assert export.upload_cancel.isEnabled() and not export.render_button.isEnabled()
        job = export.running[RENDER_KEY]
        # cancel mid-encode: a partial temporary file is being written next to the output by then
        qtbot.waitUntil(lambda: job.fraction > 0.2 and any(folder.iterdir()), timeout=120000)
        qtbot.mouseClick(export.upload_cancel, Qt.MouseButton.LeftButton)

    job = _wait_job(qtbot, demo_window, "Render ", start)
    assert job.state == "cancelled"
    assert list(folder.iterdir()) == []
    assert export.render_button.isEnabled() and not export.upload_cancel.isEnabled()


def test_render_error_is_one_message(qtbot, demo_window, tmp_path):
    export = demo_window.tab_widget("Export")
    mine = tmp_path / "mine.mp4"
    mine.write_bytes(b"somebody's file")
    job = _wait_job(qtbot, demo_window, "Render ",
                    lambda: export.render_for_upload(demo_window.current_item_id, "original", str(mine)))
    assert job.state == "failed"
    assert "exists already" in demo_window.last_error and "Traceback" not in demo_window.last_error
    assert mine.read_bytes() == b"somebody's file"


def test_package_for_audience(qtbot, demo_window, tmp_path):
    export = demo_window.tab_widget("Export")
    assert export.package_button.isEnabled()
    labels = dict((a, label) for label, a in export.package_audiences())
    assert "segment:0" in labels
    out = tmp_path / "pkg"
    job = _wait_job(qtbot, demo_window, "Package ",
                    lambda: export.package_for_audience("segment:0", str(out), "original"))
    assert job.state == "done", demo_window.last_error
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["audience"]["id"] == "segment:0" and (out / "clip.mp4").is_file()
    assert "Packaged for" in export.upload_label.text()
    assert Path(export.last_upload.folder) == out


def test_buttons_need_a_workspace(make_window):
    window = make_window()
    export = window.tab_widget("Export")
    assert not export.render_button.isEnabled() and not export.package_button.isEnabled()
    assert export.render_for_upload() is None
