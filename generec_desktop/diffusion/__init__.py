"""MCVD: masked conditional video diffusion for per-audience revision and creation (paper 5.1.3, 5.2.1).

Frames are stacked in channels of a diffusers ``UNet2DModel``; past (and optional future) frames are masked
with p = 0.5 in training, so one model predicts, generates and interpolates. The user vector (User_Emb or
User_Hist, optionally with an instruction vector) is added to the timestep embedding, with a learned null
vector under condition dropout for classifier-free guidance. DDPM training, DDIM / DPM-Solver sampling,
EMA weights, safetensors checkpoints (no pickle).

Public API (torch is imported on first use, not with this package)::

    MCVDConfig(size=64, n_cond=4, n_pred=4, n_future=0, user_dim=64, instruction_dim=0, ...)  # .to_json()
    MCVD(config)                                     # torch.nn.Module
    train_mcvd(clips (N,T,3,S,S) in [-1,1] | iterable of batches, user_vectors (N,D), *, config, steps,
               batch_size, lr, seed, checkpoint_dir, checkpoint_every, resume, progress, cancel) -> TrainResult
    save_checkpoint(model, directory) / load_checkpoint(directory) -> MCVD
    sample(model, *, user_vector, n_frames, cond_frames=None, instruction_vector=None, guidance_scale=2.0,
           steps=25, seed=0, sampler="ddim"|"dpm", output="float"|"uint8", progress, cancel) -> np.ndarray
    revise(model, frames_lowres, *, user_vector, strength, guidance_scale, steps, seed, chroma_noise=6.0,
           ...) -> np.ndarray                      # the colour part of the change denoised (0 = raw output)
    suppress_chroma_noise(before, after, *, threshold=6.0, sigma=None) -> after with colour speckle removed
    interpolate(model, past_frames, future_frames, *, user_vector, ...) -> np.ndarray   # needs n_future > 0
    transfer_to_full_resolution(orig_frames_full, input_lowres, revised_lowres) -> uint8 (T, H, W, 3)
    clips_from_videos(paths, *, n_frames, fps, size, stride, max_clips_per_video, progress, cancel)
        -> (clips, video_index)
    resize_frames(frames, size), to_model_frames(frames), from_model_frames(frames)
    DiffusionError(GenerecError)
"""

from __future__ import annotations

import importlib
from typing import Any

from generec_desktop.diffusion.config import DiffusionError, MCVDConfig

__all__ = [
    "MCVD",
    "DiffusionError",
    "MCVDConfig",
    "TrainResult",
    "clips_from_videos",
    "from_model_frames",
    "interpolate",
    "load_checkpoint",
    "resize_frames",
    "revise",
    "sample",
    "save_checkpoint",
    "suppress_chroma_noise",
    "to_model_frames",
    "train_mcvd",
    "transfer_to_full_resolution",
]

_LAZY = {
    "MCVD": "model",
    "TrainResult": "train",
    "train_mcvd": "train",
    "save_checkpoint": "checkpoint",
    "load_checkpoint": "checkpoint",
    "sample": "sampling",
    "revise": "sampling",
    "interpolate": "sampling",
    "transfer_to_full_resolution": "frames",
    "suppress_chroma_noise": "frames",
    "resize_frames": "frames",
    "to_model_frames": "frames",
    "from_model_frames": "frames",
    "clips_from_videos": "data",
}


def __getattr__(name: str) -> Any:
    """Import the heavy submodules (torch, diffusers) only when one of their names is used."""
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
