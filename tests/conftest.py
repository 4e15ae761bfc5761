"""Test-wide settings: offline model hubs, offscreen Qt, a private data home; shared fixtures."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "2")
# analyses in the suite use the sample-based shot detector (free inside the analysis's decode), so that
# default tests do not run TransNetV2 on every demo video; tests/editor/personalize/test_shotdetect.py tests every
# detector and the default (auto) itself
os.environ["GENEREC_SHOTS"] = "hsv"
# Never the real user folder (its watermark key, demo workspace...): session-scoped fixtures get this one,
# each test a fresh one of its own (below). Subprocesses inherit it.
os.environ["GENEREC_HOME"] = tempfile.mkdtemp(prefix="generec-test-home-")
os.environ.pop("GENEREC_WATERMARK_KEY_FILE", None)


@pytest.fixture(autouse=True)
def _private_data_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A fresh, empty data home per test (so a new installation watermark key), outside the test's tmp_path."""
    monkeypatch.setenv("GENEREC_HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.delenv("GENEREC_WATERMARK_KEY_FILE", raising=False)
    yield
