"""Weight discovery order (DESIGN §5), the Hugging Face cache lookup, and weight hashing."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from generec_desktop.encoders import EncoderError, file_sha256, find_weights, list_weights
from generec_desktop.encoders.discovery import search_dirs


def _touch(path: Path, data: bytes = b"not really weights") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _fake_hf_cache(hf: Path, repo_id: str, filename: str, data: bytes = b"weights") -> Path:
    """The on-disk layout huggingface_hub writes: models--org--name/{refs/main, snapshots/<rev>/file}."""
    repo = hf / ("models--" + repo_id.replace("/", "--"))
    rev = "0123456789abcdef0123456789abcdef01234567"
    _touch(repo / "refs" / "main", rev.encode())
    return _touch(repo / "snapshots" / rev / filename, data)


def test_search_order_workspace_then_repo_then_hf_cache(tmp_path: Path, isolated: dict[str, Path]) -> None:
    ws = tmp_path / "ws"
    hf_file = _fake_hf_cache(isolated["hf"], "laion/CLIP-ViT-B-32-laion2B-s34B-b79K", "open_clip_model.safetensors")
    cand = find_weights("ViT-B-32", workspace_root=ws)
    assert (cand.source, cand.path, cand.tag) == ("hf-cache", hf_file, "laion2b_s34b_b79k")
    assert cand.preprocess["resize_mode"] == "shortest"  # the tag's preprocessing travels with the file

    repo_file = _touch(isolated["repo_models"] / "open_clip" / "ViT-B-32" / "weights.bin")
    cand = find_weights("ViT-B-32", workspace_root=ws)
    assert (cand.source, cand.path) == ("repo", repo_file)

    ws_file = _touch(ws / "models" / "ViT-B-32__openai.pt")
    cand = find_weights("ViT-B-32", workspace_root=ws)
    assert (cand.source, cand.path, cand.tag, cand.name) == ("workspace", ws_file, "openai", "ViT-B-32")

    explicit = _touch(tmp_path / "mine" / "ViT-B-32.safetensors")
    cand = find_weights("ViT-B-32", workspace_root=ws, weights=explicit)
    assert (cand.source, cand.path) == ("explicit", explicit)

    user_file = _touch(isolated["home"] / "models" / "ViT-B-32.safetensors")  # where `generec models get` puts them
    listed = [(c.source, c.path) for c in list_weights(ws)]
    assert listed == [("workspace", ws_file), ("repo", repo_file), ("user", user_file), ("hf-cache", hf_file)]
    assert [s for s, _ in search_dirs(ws)] == ["workspace", "repo", "user"]


def test_files_that_are_not_open_clip_weights_are_ignored(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    _touch(ws / "models" / "mcvd-demo.safetensors")  # another package's checkpoint
    _touch(ws / "models" / "ViT-B-32.txt")
    _touch(ws / "models" / "open_clip" / "README.md")
    assert list_weights(ws) == []
    with pytest.raises(EncoderError, match="No open_clip weights found for ViT-B-32"):
        find_weights("ViT-B-32", workspace_root=ws)


def test_explicit_file_needs_a_known_architecture(tmp_path: Path) -> None:
    weird = _touch(tmp_path / "my-model.pt")
    with pytest.raises(EncoderError, match="Cannot tell which open_clip architecture"):
        find_weights(None, weights=weird)
    assert find_weights("ViT-B-16", weights=weird).name == "ViT-B-16"
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(EncoderError, match=r"No \.safetensors"):
        find_weights("ViT-B-16", weights=empty)


def test_sha256_is_cached_by_path_size_and_mtime(tmp_path: Path, isolated: dict[str, Path]) -> None:
    f = _touch(tmp_path / "w.bin", b"a" * 1000)
    assert file_sha256(f) == hashlib.sha256(b"a" * 1000).hexdigest()
    cache = json.loads((isolated["home"] / "weights-sha256.json").read_text())
    assert list(cache.values()) == [hashlib.sha256(b"a" * 1000).hexdigest()]
    # a cached value is used as long as path, size and mtime agree ...
    key = next(iter(cache))
    (isolated["home"] / "weights-sha256.json").write_text(json.dumps({key: "cafe" * 16}))
    assert file_sha256(f) == "cafe" * 16
    # ... and a changed file is hashed again
    f.write_bytes(b"b" * 1001)
    os.utime(f, ns=(1, 1))
    assert file_sha256(f) == hashlib.sha256(b"b" * 1001).hexdigest()
