"""``generec models [W] [--hash] [--json]``, in the encoder tests' isolated home (tests/encoderhome.py)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import encoderhome
import pytest

from generec_desktop.cli import main

# the encoder tests' autouse fixture, for this module alone: an empty data home, repo models/ and HF cache
isolated = encoderhome.isolated


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
    assert out["searched"] == [str(ws / "models"), str(isolated["repo_models"]), str(isolated["home"] / "models")]

    assert main(["models", str(ws)]) == 0
    text = capsys.readouterr().out
    assert "open_clip:ViT-B-32" in text and "builtin" in text


def test_models_without_weights_says_where_to_put_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    assert "No open_clip weights found: put e.g. ViT-B-32.safetensors" in capsys.readouterr().out
    assert main(["models", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_models_get_asks_for_the_licence_downloads_and_rebuilds(tmp_path: Path, isolated: dict[str, Path],
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from hubserver import HubServer, HubState, repo_from_folder
    from tinyclip import liked_workspace, write_tiny_hf_folder

    write_tiny_hf_folder(tmp_path / "up")
    with HubServer(HubState(repos={"org/tiny": repo_from_folder(tmp_path / "up")})) as hub:
        base = ["models", "get", "hf-hub:org/tiny", "--endpoint", hub.endpoint]
        assert main([*base, "--json"]) == 2  # stdin is not a terminal: no silent acceptance
        err = capsys.readouterr().err
        assert "Licence: mit" in err and "run again with --yes" in err.splitlines()[-1]
        assert not (isolated["home"] / "models" / "open_clip" / "tiny").exists()

        ws = liked_workspace(tmp_path / "ws")
        assert main([*base, "--yes", "--rebuild", str(ws), "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["encoder"] == "open_clip:tiny" and out["downloaded_bytes"] == out["total_bytes"] > 0
        assert out["rebuilt"]["encoder_id"].startswith("open_clip:tiny:") and out["rebuilt"]["users"] == 8

        assert main([*base, "--yes"]) == 0  # a second get finds it installed
        assert "already downloaded" in capsys.readouterr().out
    assert main(["models", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["encoders"]
    assert [(r["use"], r["source"]) for r in rows[1:]] == [("open_clip:tiny", "user")]
    assert main(["models", "catalog"]) == 0
    assert "ViT-B-16-SigLIP" in capsys.readouterr().out


def test_models_get_without_network_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert main(["models", "get", "ViT-B-32", "--endpoint", f"http://127.0.0.1:{port}", "--yes"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("generec: error: Cannot reach the model hub") and "\n" not in err
