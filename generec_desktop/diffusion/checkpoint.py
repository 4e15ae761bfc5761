"""MCVD checkpoints: safetensors weights + JSON config, never pickle.

A checkpoint is a folder:

``config.json``            ``{"format": "generec-mcvd", "version": 1, "config": {...}, "step": n, ...}``
``model.safetensors``      the weights to sample with (the EMA weights when written by training)
``train_state.safetensors`` (training only) raw weights, AdamW moments and EMA shadow weights, with the
                           step, losses and optimizer hyper-parameters as JSON metadata, for resume.

Every file is written to a temporary name in the folder and renamed into place; ``config.json`` last.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from generec_desktop.diffusion.config import (  # read_checkpoint_info: torch-free, so the window can call it
    CHECKPOINT_FORMAT,
    CHECKPOINT_VERSION,
    CONFIG_NAME,
    DiffusionError,
    MCVDConfig,
    read_checkpoint_info,
)
from generec_desktop.diffusion.model import MCVD

__all__ = ["load_checkpoint", "read_checkpoint_info", "save_checkpoint"]

WEIGHTS_NAME = "model.safetensors"
TRAIN_STATE_NAME = "train_state.safetensors"


def _atomic_write(path: Path, write: Any) -> None:
    """Call ``write(tmp_path)`` on a journaled temporary file beside ``path``, then rename it to ``path``."""
    from generec_desktop.safefiles import atomic_path

    with atomic_path(path) as tmp:
        write(str(tmp))


def save_checkpoint(model: MCVD, directory: str | Path, *, info: dict[str, Any] | None = None) -> Path:
    """Write ``model``'s current weights and config to ``directory`` (created if needed); returns it."""
    from safetensors.torch import save_model

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    _atomic_write(d / WEIGHTS_NAME, lambda tmp: save_model(model, tmp, metadata={"format": CHECKPOINT_FORMAT}))
    doc = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "config": model.config.to_dict()}
    doc.update(info or {})
    _atomic_write(d / CONFIG_NAME, lambda tmp: Path(tmp).write_text(json.dumps(doc, indent=2), encoding="utf-8"))
    return d


def load_checkpoint(directory: str | Path, *, device: str = "cpu") -> MCVD:
    """Rebuild the model from ``config.json`` and load ``model.safetensors``; returned in eval mode."""
    from safetensors import SafetensorError
    from safetensors.torch import load_model

    doc = read_checkpoint_info(directory)
    config = MCVDConfig.from_dict(doc["config"])
    weights = Path(directory) / WEIGHTS_NAME
    if not weights.is_file():
        raise DiffusionError(f"The checkpoint {directory} has no {WEIGHTS_NAME}; it is incomplete.")
    model = MCVD(config)
    try:
        load_model(model, weights, strict=True, device=device)
    except (SafetensorError, RuntimeError, OSError) as exc:
        raise DiffusionError(f"The weights in {weights} do not load ({str(exc).splitlines()[0]}).") from exc
    return model.eval()


# --- training state (resume) -------------------------------------------------------------------------


def save_train_state(
    directory: Path,
    model: MCVD,
    optimizer: torch.optim.Optimizer,
    ema: Any,
    *,
    step: int,
    losses: list[float],
    seed: int,
) -> None:
    """Write everything resume needs to ``train_state.safetensors`` (tensors + JSON metadata)."""
    from safetensors.torch import save_file

    tensors: dict[str, torch.Tensor] = {}
    for k, v in model.state_dict().items():
        tensors[f"model.{k}"] = v.detach().contiguous().clone()
    opt = optimizer.state_dict()
    for idx, st in opt["state"].items():
        for key, val in st.items():
            t = val if torch.is_tensor(val) else torch.tensor(val)
            tensors[f"optim.{idx}.{key}"] = t.detach().contiguous().clone()
    ema_state = ema.state_dict()
    for i, p in enumerate(ema_state["shadow_params"]):
        tensors[f"ema.{i}"] = p.detach().contiguous().clone()
    ema_meta = {k: v for k, v in ema_state.items() if k != "shadow_params"}
    meta = {
        "step": str(step),
        "seed": str(seed),
        "losses": json.dumps(losses),
        "param_groups": json.dumps(opt["param_groups"]),
        "ema": json.dumps(ema_meta),
    }
    directory.mkdir(parents=True, exist_ok=True)
    _atomic_write(directory / TRAIN_STATE_NAME, lambda tmp: save_file(tensors, tmp, metadata=meta))


def load_train_state(
    directory: Path, model: MCVD, optimizer: torch.optim.Optimizer, ema: Any
) -> tuple[int, list[float], int]:
    """Restore model, optimizer and EMA from ``train_state.safetensors``; returns (step, losses, seed)."""
    from safetensors import safe_open

    path = directory / TRAIN_STATE_NAME
    if not path.is_file():
        raise DiffusionError(f"Cannot resume: {directory} has no {TRAIN_STATE_NAME}; train without resume first.")
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is not a dict)
    try:
        model_sd = {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}
        model.load_state_dict(model_sd, strict=True)
        groups = json.loads(meta["param_groups"])
        state: dict[int, dict[str, torch.Tensor]] = {}
        for k, v in tensors.items():
            if k.startswith("optim."):
                _, idx, key = k.split(".", 2)
                state.setdefault(int(idx), {})[key] = v
        optimizer.load_state_dict({"state": state, "param_groups": groups})
        shadow = [tensors[f"ema.{i}"] for i in range(sum(1 for k in tensors if k.startswith("ema.")))]
        ema.load_state_dict({**json.loads(meta["ema"]), "shadow_params": shadow})
        return int(meta["step"]), [float(x) for x in json.loads(meta["losses"])], int(meta["seed"])
    except (KeyError, ValueError, RuntimeError) as exc:
        raise DiffusionError(f"The training state in {path} is damaged or from another model ({exc}).") from exc
