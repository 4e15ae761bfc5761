"""An isolated encoder environment: empty data home, repo ``models/`` and Hugging Face cache; no network.

``isolated`` is autouse: tests/encoders/conftest.py imports it for every encoder test, and
tests/cli/test_encoders_cli.py imports it into that module alone (the other CLI tests keep the suite's data home).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Path]]:
    """Point the data home, the repo ``models/`` and the Hugging Face cache at empty temp folders."""
    from generec_desktop.encoders import discovery, registry

    home = tmp_path / "home"
    repo_models = tmp_path / "repo-models"
    hf = tmp_path / "hf-cache"
    monkeypatch.setenv("GENEREC_HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(discovery, "repo_models_dir", lambda: repo_models)
    monkeypatch.setattr(discovery, "_hf_cache_dir", lambda: hf)
    registry.clear_encoder_cache()
    yield {"home": home, "repo_models": repo_models, "hf": hf}
    registry.clear_encoder_cache()
