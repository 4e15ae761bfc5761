"""A small demo workspace with profiles, built once per test session.

Shared by conftests: tests/editor, tests/cli, tests/evaluation and tests/versions import ``small_demo`` from here;
all build it in the same session folder, so it is built once however many of them run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def build_small_demo(factory: pytest.TempPathFactory) -> Path:
    """8 demo videos (160×90, real photos, hard cuts and cross-fades), 120 simulated users, profiles built.

    Built once under the session's base temp folder.
    """
    from generec_desktop.corpus import Workspace
    from generec_desktop.demo import build_demo_workspace
    from generec_desktop.profiles import build_profiles

    root = factory.getbasetemp() / "editor-small-demo"
    if not (root / "workspace.json").exists():
        build_demo_workspace(root, seed=0, n_videos=8, n_users=120, size=(160, 90), sample_videos=False)
        with Workspace.open(root) as ws:
            build_profiles(ws)
    return root


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_small_demo(tmp_path_factory)
