"""MCVD creation: a new video from noise for an audience (paper 5.2.1, issue 7.4).

The model samples ``n_frames`` 64×64 frames block by block, each block conditioned on the audience's
vector (and on an instruction vector when the model was trained with one, which needs an encoder with a
text tower); the frames are upscaled (bicubic) and encoded as H.264 at the model's frame rate.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from generec_desktop.diffusion.config import DEFAULT_SAMPLER, DEFAULT_STEPS, SAMPLING_THREADS
from generec_desktop.jobs import CancelToken, Progress, Steps, TimedSteps, report

if TYPE_CHECKING:
    from generec_desktop.corpus.workspace import Workspace

__all__ = ["CreateResult", "create_frames", "create_video"]


@dataclass
class CreateResult:
    """A created video written to ``output``."""

    output: Path
    audience: str
    condition: str
    n_frames: int
    fps: float
    size: int
    guidance: float
    steps: int
    seed: int
    instruction: str | None
    checkpoint: Path
    seconds: float


def _instruction_vector(ws: Workspace, instruction: str | None, instruction_dim: int, encoder_id: str
                        ) -> np.ndarray | None:
    from generec_desktop.creator import CreatorError

    if not instruction:
        return None
    if instruction_dim == 0:
        raise CreatorError("This model was trained without instructions (its encoder has no text tower); "
                           "leave the instruction out or train with an open_clip encoder.")
    from generec_desktop.encoders import get_encoder

    enc = get_encoder(encoder_id, workspace_root=ws.root)  # the model's own weights (id checked) or one clear error
    vec = enc.encode_text([instruction])
    if vec is None or vec.shape[1] != instruction_dim:
        raise CreatorError(f"The encoder {enc.id} cannot encode the instruction for this model.")
    return vec[0]


def _plan(n_frames: int, steps: int, guidance_scale: float, n_pred: int = 4) -> dict[str, tuple[float, float]]:
    """Loading and sampling with their guessed unit costs (:class:`TimedSteps`)."""
    from generec_desktop.mcvd.workspace import COST_S

    return {"load": (1, COST_S["load"]),
            "sample": (-(-n_frames // n_pred) * steps, COST_S["eval"] * (1 if guidance_scale == 1.0 else 2))}


def create_frames(
    ws: Workspace,
    *,
    audience: str,
    n_frames: int = 16,
    guidance_scale: float = 2.0,
    steps: int = DEFAULT_STEPS,
    seed: int = 0,
    sampler: str = DEFAULT_SAMPLER,
    threads: int | None = SAMPLING_THREADS,
    instruction: str | None = None,
    condition: str = "user_hist",
    checkpoint: Path | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> tuple[np.ndarray, float, Path]:
    """uint8 (n_frames, S, S, 3) created frames for ``audience``; also the model's fps and checkpoint."""
    from generec_desktop.creator import CreatorError

    if n_frames < 1 or n_frames > 2000:
        raise CreatorError(f"--frames must lie in 1..2000, got {n_frames}.")
    # first, so that the time of the heavy imports below counts as the job's ("load")
    parts = TimedSteps(progress, _plan(n_frames, steps, guidance_scale), calibrate=("sample",))
    from generec_desktop.diffusion import sample
    from generec_desktop.mcvd.workspace import load_workspace_model

    model, source, folder = load_workspace_model(ws, checkpoint=checkpoint, condition=condition)
    vector = source.audience_vector(audience)
    ins = _instruction_vector(ws, instruction, model.config.instruction_dim, source.encoder_id)
    report(parts["load"], 1.0, f"model {folder.name}")
    frames = sample(model, user_vector=vector, instruction_vector=ins, n_frames=n_frames,
                    guidance_scale=guidance_scale, steps=steps, seed=seed, sampler=sampler, threads=threads,
                    output="uint8",
                    progress=parts["sample"], cancel=cancel)
    return frames, float(model.config.extra.get("clip_fps", 8.0)), folder


def create_video(
    ws: Workspace,
    *,
    audience: str,
    out_path: str | Path,
    n_frames: int = 16,
    size: int = 256,
    guidance_scale: float = 2.0,
    steps: int = DEFAULT_STEPS,
    seed: int = 0,
    sampler: str = DEFAULT_SAMPLER,
    threads: int | None = SAMPLING_THREADS,
    instruction: str | None = None,
    condition: str = "user_hist",
    checkpoint: Path | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> CreateResult:
    """Create ``n_frames`` frames for ``audience`` and write them to ``out_path`` (``size``² pixels, no audio)."""
    import cv2

    from generec_desktop import media
    from generec_desktop.creator import CreatorError

    if size < 16 or size > 2048:
        raise CreatorError(f"--size must lie in 16..2048 pixels, got {size}.")
    from generec_desktop.mcvd.workspace import COST_S

    t0 = time.perf_counter()
    made = sum(n * cost for n, cost in _plan(n_frames, steps, guidance_scale).values())
    # create_frames' progress is already the share of its time; the write is weighted by its guessed time
    parts = Steps(progress, {"frames": made, "write": n_frames * COST_S["write_mpixel"] * size * size / 1e6})
    frames, fps, folder = create_frames(ws, audience=audience, n_frames=n_frames, guidance_scale=guidance_scale,
                                        steps=steps, seed=seed, sampler=sampler, threads=threads,
                                        instruction=instruction,
                                        condition=condition, checkpoint=checkpoint, progress=parts["frames"],
                                        cancel=cancel)
    big = (cv2.resize(f, (size, size), interpolation=cv2.INTER_CUBIC) for f in frames)
    meta = {"comment": json.dumps({"generator": "generec-mcvd", "audience": audience, "condition": condition,
                                   "guidance": guidance_scale, "steps": steps, "seed": seed,
                                   "instruction": instruction})}
    media.encode_frames(big, out_path, fps, metadata=meta, progress=parts["write"], cancel=cancel)
    report(progress, 1.0, "done")
    return CreateResult(output=Path(out_path), audience=audience, condition=condition, n_frames=n_frames, fps=fps,
                        size=size, guidance=float(guidance_scale), steps=steps, seed=seed, instruction=instruction,
                        checkpoint=folder, seconds=time.perf_counter() - t0)
