"""A tiny randomly initialised open_clip CLIP (open_clip's own CLIP class, reduced config) for tests."""

from __future__ import annotations

from pathlib import Path

TINY_CFG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 2, "width": 64, "patch_size": 8, "head_width": 32},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}


def write_tiny_hf_folder(folder: Path, seed: int = 0) -> Path:
    """A Hugging Face-layout open_clip folder: open_clip's CLIP class with a reduced config, random weights."""
    import json

    import open_clip
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(seed)
    model = open_clip.CLIP(**TINY_CFG)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "open_clip_config.json").write_text(
        json.dumps({"model_cfg": TINY_CFG, "preprocess_cfg": {"mean": [0.5] * 3, "std": [0.5] * 3}})
    )
    weights = folder / "open_clip_model.safetensors"
    save_file(model.state_dict(), str(weights))
    return weights
