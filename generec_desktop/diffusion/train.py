"""Training MCVD: DDPM noise-prediction loss with past/future masking, condition dropout and EMA."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from generec_desktop.diffusion.checkpoint import (
    TRAIN_STATE_NAME,
    load_train_state,
    read_checkpoint_info,
    save_checkpoint,
    save_train_state,
)
from generec_desktop.diffusion.config import DiffusionError, MCVDConfig
from generec_desktop.diffusion.model import MCVD, make_training_scheduler
from generec_desktop.jobs import Cancelled, CancelToken, Progress, report

__all__ = ["TrainResult", "train_mcvd"]


@dataclass
class TrainResult:
    """What a training run produced."""

    losses: list[float]                 # one per step, from step 0 (earlier runs included when resumed)
    steps: int                          # total optimisation steps done
    checkpoint: Path | None             # the checkpoint folder (EMA weights in model.safetensors)
    config: MCVDConfig
    seconds_per_step: float             # wall time per step of this run
    resumed_from: int = 0               # the step this run started at
    model: MCVD | None = field(default=None, repr=False)  # the EMA model, eval mode


def _step_generator(seed: int, step: int) -> torch.Generator:
    # A generator per step (not one for the run) makes a resumed run draw exactly what an uninterrupted one would.
    return torch.Generator().manual_seed((seed * 1_000_003 + step) % (2**63))


def _check_clips(clips: Any, config: MCVDConfig) -> torch.Tensor:
    a = np.asarray(clips) if not torch.is_tensor(clips) else clips
    t = torch.as_tensor(a, dtype=torch.float32)
    if t.ndim != 5 or t.shape[2] != 3 or t.shape[3] != config.size or t.shape[4] != config.size:
        raise DiffusionError(
            f"Training clips must be (N, T, 3, {config.size}, {config.size}) floats in [-1, 1], got {tuple(t.shape)}."
        )
    if t.shape[1] < config.window:
        raise DiffusionError(f"Clips have {t.shape[1]} frames but the model needs {config.window} per example.")
    if t.shape[0] == 0 or not torch.isfinite(t).all() or t.abs().max() > 1.0 + 1e-3:
        raise DiffusionError("Training clips must be a non-empty array of finite values in [-1, 1].")
    return t


def _check_users(users: Any, n: int, config: MCVDConfig) -> torch.Tensor:
    u = torch.as_tensor(np.asarray(users), dtype=torch.float32)
    if u.ndim != 2 or u.shape != (n, config.cond_dim):
        raise DiffusionError(f"Condition vectors must be ({n}, {config.cond_dim}), got {tuple(u.shape)}.")
    if not torch.isfinite(u).all():
        raise DiffusionError("The user vectors contain NaN or infinite values.")
    return u


def _windows(clips: torch.Tensor, idx: torch.Tensor, window: int, g: torch.Generator) -> torch.Tensor:
    starts = torch.randint(0, clips.shape[1] - window + 1, (len(idx),), generator=g)
    return torch.stack([clips[i, s : s + window] for i, s in zip(idx.tolist(), starts.tolist())])


def train_mcvd(
    clips: np.ndarray | torch.Tensor | Iterable[tuple[Any, Any]],
    user_vectors: np.ndarray | torch.Tensor | None = None,
    *,
    config: MCVDConfig | None = None,
    steps: int = 1000,
    batch_size: int = 8,
    lr: float = 2e-4,
    seed: int = 0,
    checkpoint_dir: str | Path | None = None,
    checkpoint_every: int = 200,
    resume: bool = False,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> TrainResult:
    """Train (or resume training) an MCVD model on clips conditioned on one vector per clip.

    ``clips``: (N, T, 3, S, S) floats in [-1, 1] with T >= ``config.window`` and ``user_vectors`` (N, cond_dim)
    (user vector, then instruction vector when ``instruction_dim > 0``); each step draws ``batch_size`` clips
    and a random window of each. Or an iterable of ``(clips_batch, vectors_batch)`` (``user_vectors=None``),
    consumed one batch per step (not reproducible on resume unless the iterable is).

    ``steps`` is the total number of steps: ``resume=True`` continues the run in ``checkpoint_dir`` up to it.
    On cancel the current state is checkpointed (when ``checkpoint_dir`` is set) before :class:`Cancelled`
    is raised, so nothing is lost. The checkpoint's ``model.safetensors`` holds the EMA weights.
    """
    from diffusers.training_utils import EMAModel

    if steps < 0 or batch_size < 1 or lr <= 0:
        raise DiffusionError("steps must be >= 0, batch_size >= 1 and lr > 0.")
    ckpt = Path(checkpoint_dir) if checkpoint_dir is not None else None
    if resume:
        if ckpt is None or not (ckpt / TRAIN_STATE_NAME).is_file():
            raise DiffusionError("Cannot resume: give the checkpoint_dir of an earlier training run.")
        saved = MCVDConfig.from_dict(read_checkpoint_info(ckpt)["config"])
        if config is not None and config != saved:
            raise DiffusionError("The configuration differs from the checkpoint's; resume without a config.")
        config = saved
    config = config or MCVDConfig()

    dataset: torch.Tensor | None = None
    users: torch.Tensor | None = None
    batches: Iterator[tuple[Any, Any]] | None = None
    if isinstance(clips, np.ndarray | torch.Tensor):
        if user_vectors is None:
            raise DiffusionError("user_vectors (one per clip) are required with an array of clips.")
        dataset = _check_clips(clips, config)
        users = _check_users(user_vectors, dataset.shape[0], config)
    else:
        batches = iter(clips)

    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = MCVD(config)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    ema = EMAModel(model.parameters(), decay=config.ema_decay, use_ema_warmup=True, power=3 / 4)
    scheduler = make_training_scheduler(config)
    losses: list[float] = []
    start = 0
    if resume:
        assert ckpt is not None
        start, losses, seed = load_train_state(ckpt, model, optimizer, ema)
        losses = losses[:start]

    def checkpoint(step: int) -> None:
        if ckpt is None:
            return
        save_train_state(ckpt, model, optimizer, ema, step=step, losses=losses, seed=seed)
        ema_model = _ema_copy(model, ema)
        info = {"step": step, "seed": seed, "final_loss": losses[-1] if losses else None}
        save_checkpoint(ema_model, ckpt, info=info)

    t0 = time.perf_counter()
    c = config
    for step in range(start, steps):
        if cancel is not None and cancel.cancelled:
            checkpoint(step)
            raise Cancelled(f"Training cancelled at step {step}; resume from the checkpoint to continue.")
        g = _step_generator(seed, step)
        if dataset is not None:
            assert users is not None
            idx = torch.randint(0, dataset.shape[0], (batch_size,), generator=g)
            frames = _windows(dataset, idx, c.window, g)
            cond = users[idx]
        else:
            assert batches is not None
            try:
                raw_clips, raw_users = next(batches)
            except StopIteration:
                raise DiffusionError(f"The dataset iterator ran out at step {step} of {steps}.") from None
            bc = _check_clips(raw_clips, c)
            cond = _check_users(raw_users, bc.shape[0], c)
            frames = _windows(bc, torch.arange(bc.shape[0]), c.window, g)
        b = frames.shape[0]
        past = frames[:, : c.n_cond].flatten(1, 2)
        target = frames[:, c.n_cond : c.n_cond + c.n_pred].flatten(1, 2)
        future = frames[:, c.n_cond + c.n_pred :].flatten(1, 2)
        past_on = torch.rand(b, generator=g) >= c.p_mask
        future_on = torch.rand(b, generator=g) >= c.p_mask
        drop = torch.rand(b, generator=g) < c.p_uncond
        noise = torch.randn(target.shape, generator=g)
        t = torch.randint(0, c.num_train_timesteps, (b,), generator=g)
        noisy = scheduler.add_noise(target, noise, t)
        pred = model(noisy, t, past=past, future=future, past_on=past_on, future_on=future_on, cond=cond, drop=drop)
        loss = F.mse_loss(pred, noise)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        ema.step(model.parameters())
        losses.append(float(loss.detach()))
        done = step + 1
        report(progress, done / max(1, steps), f"step {done}/{steps}, loss {losses[-1]:.4f}")
        if ckpt is not None and checkpoint_every > 0 and done % checkpoint_every == 0 and done < steps:
            checkpoint(done)
    ran = max(1, steps - start)
    elapsed = time.perf_counter() - t0
    checkpoint(max(start, steps))
    return TrainResult(
        losses=losses,
        steps=max(start, steps),
        checkpoint=ckpt,
        config=config,
        seconds_per_step=elapsed / ran,
        resumed_from=start,
        model=_ema_copy(model, ema).eval(),
    )


def _ema_copy(model: MCVD, ema: Any) -> MCVD:
    """A new model holding the EMA weights (the training model is left untouched)."""
    copy = MCVD(model.config)
    copy.load_state_dict(model.state_dict())
    ema.copy_to(copy.parameters())
    return copy
