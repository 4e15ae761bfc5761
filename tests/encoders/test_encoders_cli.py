"""``generec models [W] [--hash] [--json]``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from generec_desktop.cli import main


def test_models_lists_builtin_and_found_weights(tmp_path: Path, isolated: dict[str, Path],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    ws = tmp_path / "ws"
    (ws / "models").mkdir(parents=True)
    (ws / "models" / "ViT-B-32__openai.safetensors").write_bytes(b"x" * 10)
    assert main(["models", str(ws), "--hash", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = out["encoders"]
    assert rows[0]["id"] == "builtin-v1" and rows[0]["dim"] >= 256
    sha = hashlib.sha256(b"x" * 10).hexdigest()
    assert rows[1]["use"] == "open_clip:ViT-B-32" and rows[1]["source"] == "workspace"
    assert rows[1]["id"] == f"open_clip:ViT-B-32:{sha[:8]}" and rows[1]["tag"] == "openai"
    assert out["searched"] == [str(ws / "models"), str(isolated["repo_models"])]

    assert main(["models", str(ws)]) == 0
    text = capsys.readouterr().out
    assert "open_clip:ViT-B-32" in text and "builtin" in text


def test_models_without_weights_says_where_to_put_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    assert "No open_clip weights found: put e.g. ViT-B-32.safetensors" in capsys.readouterr().out
    assert main(["models", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
