"""Fixtures for the encoder tests: an isolated data home, repo models/ and HF cache (autouse, from
tests/encoderhome.py, shared with tests/cli/test_encoders_cli.py); no network."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from encoderhome import isolated  # noqa: F401  (autouse fixture)
from tinyclip import TINY_CFG, write_tiny_hf_folder  # tests/tinyclip.py

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# tests/ holds the shared media generators (tests/mediagen.py); it is not a package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


@pytest.fixture(scope="session")
def vit_s32_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised checkpoint of open_clip's real ViT-S-32 architecture (fp16 safetensors)."""
    import open_clip
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(0)
    model = open_clip.create_model("ViT-S-32")  # no `pretrained`: random init, nothing downloaded
    path = tmp_path_factory.mktemp("ckpt") / "ViT-S-32.safetensors"
    save_file({k: v.detach().half().contiguous() for k, v in model.state_dict().items()}, str(path))
    return path


@pytest.fixture
def tiny_cfg() -> dict:
    """A fresh copy of the reduced CLIP config."""
    import copy

    return copy.deepcopy(TINY_CFG)


@pytest.fixture
def tiny_hf_folder() -> Callable[..., Path]:
    """A factory ``make(folder, seed=0) -> weights path`` (see :func:`write_tiny_hf_folder`)."""
    return write_tiny_hf_folder
