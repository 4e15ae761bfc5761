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


def liked_workspace(root: Path) -> Path:
    """A workspace of 6 items with covers in two colours and 8 users who like them (no video decoding)."""
    import numpy as np
    from PIL import Image

    from generec_desktop.corpus import Workspace
    from generec_desktop.corpus.schema import Item
    from generec_desktop.profiles import import_interactions

    rng = np.random.default_rng(0)
    with Workspace.create(root) as ws:
        with ws.session() as s:
            for k in range(6):
                sha = f"{k:064x}"
                colour = (220, 30, 30) if k < 3 else (30, 40, 220)
                img = np.clip(np.array(colour) + rng.normal(0, 20, (48, 48, 3)), 0, 255).astype(np.uint8)
                Image.fromarray(img).save(ws.covers_dir / f"{sha}.jpg")
                s.add(Item(kind="human", sha256=sha, stored_path=f"media/none/{sha}.mp4", title=f"video {k}",
                           cover_path=f"covers/{sha}.jpg", external_id=f"v{k}"))
        lines = ["user_id,item_id"] + [f"u{u},v{(u % 2) * 3 + j}" for u in range(8) for j in range(2)]
        (root.parent / "likes.csv").write_text("\n".join(lines) + "\n")
        import_interactions(ws, root.parent / "likes.csv")
    return root
