"""The editor tests' small demo workspace (same session folder, so it is built once), for the upload package."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "_editor_conftest_versions", Path(__file__).resolve().parent.parent / "editor" / "conftest.py")
assert _spec is not None and _spec.loader is not None
_editor_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_editor_conftest)


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _editor_conftest.build_small_demo(tmp_path_factory)
