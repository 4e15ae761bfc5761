"""Fixtures of the hand-off tests: the corpus of handoff_corpus.py in a fresh workspace; the PostgreSQL server."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from handoff_corpus import fill
from pgtest import pg_server, pg_url  # noqa: F401 - the real PostgreSQL server's fixtures


@pytest.fixture
def corpus(tmp_path: Path):
    from generec_desktop.corpus import Workspace

    with Workspace.create(tmp_path / "ws") as ws:
        yield fill(ws)
