"""Nothing heavy on the GUI thread (issue 17 part 1): opening a workspace, selecting items and audiences and
switching to every tab never imports torch, diffusers, open_clip, sklearn (nor the other big libraries in
gui_thread_probe.HEAVY) on the GUI thread; workers may.

The probe runs in a fresh interpreter: in this one, other tests have long imported those libraries.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROBE = Path(__file__).with_name("gui_thread_probe.py")
ROOT = Path(__file__).resolve().parents[2]


def _probe(workspace: Path, tmp_path: Path) -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    res = subprocess.run([sys.executable, str(PROBE), str(workspace), str(tmp_path / "probe.ini")],
                         capture_output=True, text=True, timeout=900, env=env, cwd=tmp_path)
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("{")]
    assert res.returncode == 0 and lines, f"probe failed (rc {res.returncode}):\n{res.stdout}\n{res.stderr[-4000:]}"
    return json.loads(lines[-1])


def _explain(records: list[dict]) -> str:
    seen, out = set(), []
    for r in records:
        if r["module"] not in seen:
            seen.add(r["module"])
            out.append(f"--- {r['module']} imported on the GUI thread from:\n{r['stack']}")
    return "\n".join(out)


def test_opening_the_demo_workspace_and_every_tab_keeps_heavy_imports_off_the_gui_thread(demo_workspace, tmp_path):
    result = _probe(demo_workspace, tmp_path)
    assert result["items"] >= 2 and result["audiences"], result  # the probe really went through items/audiences
    assert len(result["tabs"]) >= 7, result["tabs"]
    assert not result["gui_thread"], _explain(result["gui_thread"])


def test_an_empty_workspace_keeps_heavy_imports_off_the_gui_thread(tmp_path):
    from generec_desktop.corpus import Workspace

    Workspace.create(tmp_path / "empty").close()
    result = _probe(tmp_path / "empty", tmp_path)
    assert not result["gui_thread"], _explain(result["gui_thread"])


def test_opening_in_the_background_shows_the_workspace_or_one_clear_error(qtbot, make_window, demo_workspace,
                                                                        tmp_path):
    window = make_window()
    not_a_workspace = tmp_path / "holiday-videos"
    not_a_workspace.mkdir()
    (not_a_workspace / "clip.mp4").write_bytes(b"not really")
    job = window.request_open_workspace(not_a_workspace)  # returns at once; the worker opens it
    assert job is not None and window.workspace is None
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=60000)
    assert "Traceback" not in window.last_error and "\n" not in window.last_error.strip()
    assert window.workspace is None and sorted(p.name for p in not_a_workspace.iterdir()) == ["clip.mp4"]

    window.request_open_workspace(demo_workspace)
    qtbot.waitUntil(lambda: window.workspace is not None, timeout=60000)
    # shown in steps (library, tabs, first item), each its own turn of the event loop
    qtbot.waitUntil(lambda: window.library.current_item_id() is not None, timeout=10000)
    assert window.library.item_ids() and window.library.current_item_id() == window.library.item_ids()[0]
    assert not window.library.list.item(0).icon().isNull()  # covers read and scaled in the worker
    assert window.recent_workspaces()[0] == demo_workspace.resolve()
    qtbot.waitUntil(lambda: not window.jobs.running(), timeout=60000)
