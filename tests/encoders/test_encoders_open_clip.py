"""open_clip through the same discovery code users hit: random-init checkpoints, no network."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from generec_desktop.encoders import Encoder, EncoderError, OpenClipEncoder, file_sha256, get_encoder


def _frames(n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (120 + 7 * i, 160, 3), dtype=np.uint8) for i in range(n)]


def _check_contract(enc: Encoder, ws: Path, name: str, weights: Path, dim: int) -> None:
    """What every open_clip encoder must satisfy, and that get_encoder resolves it consistently."""
    assert isinstance(enc, OpenClipEncoder) and isinstance(enc, Encoder)
    assert enc.id == f"open_clip:{name}:{file_sha256(weights)[:8]}"
    assert enc.dim == dim
    assert enc.candidate.source == "workspace" and enc.candidate.path == weights

    frames = _frames(5)
    x = enc.encode_images(frames, batch_size=2)
    assert x.shape == (5, dim) and x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(x, enc.encode_images(frames, batch_size=5), atol=1e-4)  # batching is exact
    assert not np.allclose(x[0], x[1])
    t = enc.encode_text(["a cat on a sofa", "fireworks"])
    assert t is not None and t.shape == (2, dim)
    np.testing.assert_allclose(np.linalg.norm(t, axis=1), 1.0, atol=1e-5)

    # loaded once per file; the encoder id resolves back to the same weights
    assert get_encoder(name, workspace_root=ws) is enc
    assert get_encoder(enc.id, workspace_root=ws) is enc
    assert get_encoder("open_clip", workspace_root=ws) is enc  # the first weights found
    with pytest.raises(EncoderError, match="not the requested"):
        get_encoder(f"open_clip:{name}:deadbeef", workspace_root=ws)


def test_tiny_checkpoint_of_open_clip_clip_architecture_via_workspace_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_cfg: dict
) -> None:
    """open_clip's CLIP class (the ViT-S-32 family: VisionTransformer + text Transformer) with a reduced
    config registered like a built-in architecture; random weights in <workspace>/models/; offline."""
    import open_clip
    import open_clip.factory
    import torch
    from safetensors.torch import save_file

    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    monkeypatch.setitem(open_clip.factory._MODEL_CONFIGS, "tiny-ViT", tiny_cfg)
    torch.manual_seed(0)
    model = open_clip.create_model("tiny-ViT")
    ws = tmp_path / "ws"
    (ws / "models").mkdir(parents=True)
    weights = ws / "models" / "tiny-ViT.safetensors"
    save_file(model.state_dict(), str(weights))
    enc = get_encoder("open_clip:tiny-ViT", workspace_root=ws)
    _check_contract(enc, ws, "tiny-ViT", weights, 32)


@pytest.mark.slow
def test_real_vit_s32_checkpoint_loads_from_the_workspace(tmp_path: Path, vit_s32_checkpoint: Path) -> None:
    """open_clip's real ViT-S-32 config, unchanged, random weights (126 MB fp16); slow under load."""
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    ws = tmp_path / "ws"
    (ws / "models").mkdir(parents=True)
    weights = ws / "models" / "ViT-S-32.safetensors"
    shutil.copy(vit_s32_checkpoint, weights)
    enc = get_encoder("open_clip:ViT-S-32", workspace_root=ws)
    _check_contract(enc, ws, "ViT-S-32", weights, 384)


def test_tiny_hf_layout_folder_in_repo_models(isolated: dict[str, Path], tiny_hf_folder) -> None:
    """A Hugging Face open_clip folder (config + weights) of open_clip's CLIP class, reduced config."""
    weights = tiny_hf_folder(isolated["repo_models"] / "open_clip" / "tiny-clip")
    enc = get_encoder("open_clip:tiny-clip")
    assert enc.id == f"open_clip:tiny-clip:{file_sha256(weights)[:8]}" and enc.dim == 32
    assert enc.candidate.source == "repo"
    x = enc.encode_images(_frames(3))
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    assert enc.encode_text(["hello"]).shape == (1, 32)


def test_explicit_weights_path_wins_and_different_weights_give_different_ids(
    tmp_path: Path, isolated: dict[str, Path], tiny_hf_folder
) -> None:
    tiny_hf_folder(isolated["repo_models"] / "open_clip" / "tiny-clip", seed=0)
    other = tmp_path / "elsewhere" / "tiny-clip"
    tiny_hf_folder(other, seed=1)
    from_repo = get_encoder("open_clip:tiny-clip")
    explicit = get_encoder("open_clip:tiny-clip", weights=other)
    assert explicit.candidate.source == "explicit"
    assert explicit.id != from_repo.id
    frames = _frames(2)
    assert not np.allclose(explicit.encode_images(frames), from_repo.encode_images(frames))


def test_no_weights_message_says_where_to_put_them(tmp_path: Path, isolated: dict[str, Path]) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    with pytest.raises(EncoderError) as err:
        get_encoder("open_clip:ViT-B-32", workspace_root=ws)
    msg = str(err.value)
    assert "ViT-B-32.safetensors" in msg and str(ws / "models") in msg and str(isolated["repo_models"]) in msg
    with pytest.raises(EncoderError, match="Unknown open_clip model"):
        get_encoder("open_clip:no-such-model")
    with pytest.raises(EncoderError, match="does not exist"):
        get_encoder("open_clip:ViT-B-32", weights=tmp_path / "missing.pt")


def test_weights_that_do_not_match_the_architecture_give_a_clear_error(
    isolated: dict[str, Path], tiny_hf_folder
) -> None:
    tiny = tiny_hf_folder(isolated["repo_models"] / "tmp-tiny")
    wrong = isolated["repo_models"] / "ViT-S-32.safetensors"
    shutil.copy(tiny, wrong)
    with pytest.raises(EncoderError, match=r"Could not load .* as open_clip model 'ViT-S-32'"):
        get_encoder("open_clip:ViT-S-32")
