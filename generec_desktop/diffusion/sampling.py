"""Sampling MCVD: creation from noise, SDEdit revision of a clip, interpolation; all autoregressive.

A video longer than one block (``n_pred`` frames) is made block by block; each block is conditioned on
the last ``n_cond`` frames already made *and* on the condition vector (the reference code steered only
the first block, DESIGN §6). The first block, having no past, runs with the past masked, which the model
was trained for (p_mask). Classifier-free guidance: ``eps_null + g · (eps_cond − eps_null)``, both
branches in one batch.

Speed (issue 20): sampling runs torch on ``threads`` intra-op threads (default
:data:`~generec_desktop.diffusion.config.SAMPLING_THREADS`, 1: these models are too small for more to help
on a busy machine, where two threads spun 14× slower) and restores the caller's setting after. A revision
can run the model on every ``keyframe_stride``-th frame only and interpolate the change in time between them
(fewer autoregressive blocks; the change of a clip is smooth in time at the model's 8 fps).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

from generec_desktop.diffusion.config import (
    DEFAULT_KEYFRAME_STRIDE,
    DEFAULT_SAMPLER,
    DEFAULT_STEPS,
    SAMPLING_THREADS,
    DiffusionError,
)
from generec_desktop.diffusion.frames import from_model_frames, suppress_chroma_noise, to_model_frames
from generec_desktop.diffusion.model import MCVD, make_sampling_scheduler
from generec_desktop.jobs import CancelToken, Progress, check_cancel, report

__all__ = ["Score", "interpolate", "keyframe_indices", "revise", "sample", "torch_threads"]

#: A differentiable score of clean frames (n_pred, 3, S, S) in [-1, 1] -> scalar tensor; higher = closer to the
#: audience (classifier guidance, ``audience_score`` / ``audience_weight`` of :func:`sample` and :func:`revise`).
Score = Callable[[torch.Tensor], torch.Tensor]


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """torch on ``n`` intra-op threads inside the block (``None``: as it is), the caller's setting after.

    The setting is process-wide: a job running beside it meanwhile gets the same count.
    """
    if n is None:
        yield
        return
    if n < 1:
        raise DiffusionError(f"threads must be at least 1, got {n}.")
    before = torch.get_num_threads()
    if before == n:
        yield
        return
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def keyframe_indices(n_frames: int, stride: int) -> np.ndarray:
    """Frames the model revises when it runs on every ``stride``-th frame: 0, stride, 2·stride, …

    The frames after the last key frame (fewer than ``stride``) keep its change: one more key for them would
    cost a whole block of the model for a fraction of a second.
    """
    if stride < 1:
        raise DiffusionError(f"keyframe_stride must be at least 1, got {stride}.")
    return np.arange(0, n_frames, stride, dtype=np.int64)


def _interpolate_change(x: np.ndarray, keys: np.ndarray, revised_keys: np.ndarray) -> np.ndarray:
    """All frames of ``x`` (float (T, 3, S, S)) plus the change of the key frames, linear in time between them."""
    change = revised_keys - x[keys]
    t = np.arange(len(x))
    k = np.clip(np.searchsorted(keys, t, side="right") - 1, 0, len(keys) - 1)
    k1 = np.minimum(k + 1, len(keys) - 1)
    span = np.maximum(keys[k1] - keys[k], 1)
    a = np.clip((t - keys[k]) / span, 0.0, 1.0).astype(np.float32)[:, None, None, None]
    out: np.ndarray = np.clip(x + (1.0 - a) * change[k] + a * change[k1], -1.0, 1.0).astype(np.float32)
    return out


def _condition(model: MCVD, user_vector: Any, instruction_vector: Any) -> torch.Tensor | None:
    """(1, cond_dim) condition, or None (unconditional) when no user vector is given."""
    c = model.config
    if user_vector is None:
        if instruction_vector is not None:
            raise DiffusionError("An instruction vector needs a user vector too.")
        return None
    u = np.asarray(user_vector, dtype=np.float32).reshape(-1)
    if c.instruction_dim and u.size == c.user_dim:
        if instruction_vector is None:
            # No instruction: zeros, the same convention the training data must use for "no instruction".
            ins = np.zeros(c.instruction_dim, np.float32)
        else:
            ins = np.asarray(instruction_vector, dtype=np.float32).reshape(-1)
            if ins.size != c.instruction_dim:
                raise DiffusionError(
                    f"The instruction vector has {ins.size} values; the model expects {c.instruction_dim}."
                )
        u = np.concatenate([u, ins])
    elif instruction_vector is not None:
        raise DiffusionError("This model has no instruction input (instruction_dim is 0).")
    if u.size != c.cond_dim:
        raise DiffusionError(f"The user vector has {u.size} values; the model expects {c.user_dim}.")
    if not np.isfinite(u).all():
        raise DiffusionError("The user vector contains NaN or infinite values.")
    return torch.from_numpy(u)[None]


def _check_frames(model: MCVD, frames: Any, name: str) -> np.ndarray:
    x = to_model_frames(frames)
    s = model.config.size
    if x.shape[2:] != (s, s):
        raise DiffusionError(f"{name} must be {s}×{s} (the model's size), got {x.shape[2]}×{x.shape[3]}; resize first.")
    return x


def _fit(frames: torch.Tensor, n: int, *, keep_last: bool) -> torch.Tensor:
    """Exactly ``n`` frames: the last/first ``n``, padded by repeating the edge frame."""
    if n == 0:
        return frames[:0]
    if keep_last:
        frames = frames[-n:]
        pad = frames[:1].expand(n - frames.shape[0], -1, -1, -1)
        return torch.cat([pad, frames])
    frames = frames[:n]
    pad = frames[-1:].expand(n - frames.shape[0], -1, -1, -1)
    return torch.cat([frames, pad])


class _Sampler:
    """One sampling run: a scheduler, a seeded generator, progress over all blocks, cancel between steps."""

    def __init__(self, model: MCVD, *, cond: torch.Tensor | None, guidance_scale: float, steps: int, seed: int,
                 sampler: str, total_units: int, progress: Progress | None, cancel: CancelToken | None,
                 score: Score | None = None, score_weight: float = 0.0) -> None:
        if steps < 1:
            raise DiffusionError("steps must be at least 1.")
        if guidance_scale < 0:
            raise DiffusionError("guidance_scale must be >= 0 (1 means no guidance).")
        self.model = model.eval()
        self.cond = cond
        self.guidance = float(guidance_scale)
        self.steps = steps
        self.kind = sampler
        self.scheduler = make_sampling_scheduler(model.config, sampler)
        self.generator = torch.Generator().manual_seed(int(seed))
        self.total = max(1, total_units)
        self.done = 0
        self.progress = progress
        self.cancel = cancel
        if score_weight < 0:
            raise DiffusionError("The audience guidance weight must be >= 0.")
        self.score = score if score_weight > 0 else None
        self.score_weight = float(score_weight)

    def block(self, n_denoise: int, *, init: torch.Tensor | None, past: torch.Tensor | None,
              future: torch.Tensor | None) -> torch.Tensor:
        """Denoise one block of ``n_pred`` frames (F, 3, S, S) over the last ``n_denoise`` of ``steps``.

        ``init`` None starts from pure noise; else it is noised to the level of the first step (SDEdit).
        ``past``/``future``: (n_cond/n_future, 3, S, S) context frames, or None to mask them.
        """
        c = self.model.config
        s = c.size
        sched = self.scheduler
        sched.set_timesteps(self.steps)
        t_start = self.steps - n_denoise
        timesteps = sched.timesteps[t_start:]
        if hasattr(sched, "set_begin_index"):
            sched.set_begin_index(t_start * getattr(sched, "order", 1))
        noise = torch.randn((1, 3 * c.n_pred, s, s), generator=self.generator)
        if init is None:
            x = noise * sched.init_noise_sigma
        else:
            x = sched.add_noise(init.reshape(1, -1, s, s), noise, timesteps[:1])
        past_on = torch.tensor([past is not None])
        future_on = torch.tensor([future is not None])
        p = past.reshape(1, -1, s, s) if past is not None else None
        f = future.reshape(1, -1, s, s) if future is not None else None
        guided = self.cond is not None and self.guidance != 1.0
        for t in timesteps:
            check_cancel(self.cancel)
            xin = sched.scale_model_input(x, t)
            if guided:
                two = lambda a: None if a is None else torch.cat([a, a])  # noqa: E731
                eps_c, eps_u = self.model(
                    two(xin), t.repeat(2), past=two(p), future=two(f), past_on=two(past_on),
                    future_on=two(future_on), cond=two(self.cond), drop=torch.tensor([False, True]),
                ).chunk(2)
                eps = eps_u + self.guidance * (eps_c - eps_u)
            else:
                eps = self.model(xin, t.reshape(1), past=p, future=f, past_on=past_on, future_on=future_on,
                                 cond=self.cond)
            if self.score is not None:
                eps = self._score_guided(x, eps, t)
            x = sched.step(eps, t, x).prev_sample
            self.done += 1
            report(self.progress, self.done / self.total, f"denoising step {self.done}/{self.total}")
        return x.reshape(c.n_pred, 3, s, s).clamp(-1.0, 1.0)


    def _score_guided(self, x: torch.Tensor, eps: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Classifier guidance by a differentiable score of the predicted clean frames: the clean frames the
        noise prediction implies, ``x0 = (x − √(1−ᾱ)·ε) / √ᾱ``, move by ``score_weight`` (model units, RMS
        over the block) along the score's gradient, and ε is recomputed from them."""
        c = self.model.config
        a = self.scheduler.alphas_cumprod[int(t)].to(x.dtype)
        x0 = (x - (1 - a).sqrt() * eps) / a.sqrt()
        with torch.inference_mode(False), torch.enable_grad():
            z = x0.detach().clone().reshape(c.n_pred, 3, c.size, c.size).requires_grad_(True)
            assert self.score is not None
            (grad,) = torch.autograd.grad(self.score(z), z)
        grad = grad.reshape_as(x0)
        rms = grad.pow(2).mean().sqrt()
        if not torch.isfinite(rms) or float(rms) == 0.0:
            return eps
        x0 = x0 + self.score_weight * grad / rms
        return (x - a.sqrt() * x0) / (1 - a).sqrt()


def sample(
    model: MCVD,
    *,
    user_vector: Any | None,
    n_frames: int,
    cond_frames: Any | None = None,
    instruction_vector: Any | None = None,
    guidance_scale: float = 2.0,
    steps: int = DEFAULT_STEPS,
    seed: int = 0,
    sampler: str = DEFAULT_SAMPLER,
    output: str = "float",
    threads: int | None = SAMPLING_THREADS,
    audience_score: Score | None = None,
    audience_weight: float = 0.0,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Create ``n_frames`` new frames from noise for a user (creation, paper 5.2.1).

    ``cond_frames`` (optional past frames, uint8 (T, S, S, 3) or float (T, 3, S, S)) make it a prediction
    that continues them; they are not part of the output. ``user_vector`` None samples unconditionally.
    Returns float (n_frames, 3, S, S) in [-1, 1], or uint8 (n_frames, S, S, 3) with ``output="uint8"``.
    Deterministic for a given ``seed``.
    """
    if n_frames < 1:
        raise DiffusionError("n_frames must be at least 1.")
    if output not in ("float", "uint8"):
        raise DiffusionError("output must be 'float' or 'uint8'.")
    c = model.config
    cond = _condition(model, user_vector, instruction_vector)
    n_blocks = -(-n_frames // c.n_pred)
    run = _Sampler(model, cond=cond, guidance_scale=guidance_scale, steps=steps, seed=seed, sampler=sampler,
                   total_units=n_blocks * steps, progress=progress, cancel=cancel, score=audience_score,
                   score_weight=audience_weight)
    made = torch.empty(0, 3, c.size, c.size)
    context = made
    if cond_frames is not None:
        context = torch.from_numpy(_check_frames(model, cond_frames, "cond_frames"))
    with torch_threads(threads), torch.inference_mode():
        for _ in range(n_blocks):
            history = torch.cat([context, made])
            past = _fit(history, c.n_cond, keep_last=True) if len(history) and c.n_cond else None
            made = torch.cat([made, run.block(steps, init=None, past=past, future=None)])
    out = made[:n_frames].numpy()
    report(progress, 1.0, "done")
    return from_model_frames(out) if output == "uint8" else out


def revise(
    model: MCVD,
    frames_lowres: Any,
    *,
    user_vector: Any | None,
    strength: float = 0.5,
    instruction_vector: Any | None = None,
    guidance_scale: float = 2.0,
    steps: int = DEFAULT_STEPS,
    seed: int = 0,
    sampler: str = DEFAULT_SAMPLER,
    chroma_noise: float = 6.0,
    keyframe_stride: int = DEFAULT_KEYFRAME_STRIDE,
    threads: int | None = SAMPLING_THREADS,
    audience_score: Score | None = None,
    audience_weight: float = 0.0,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Revise a clip toward a user (SDEdit, paper 5.1.3): noise it to ``strength``, denoise conditioned.

    ``strength`` in [0, 1] is the fraction of the ``steps``-step schedule that is re-run: 0 returns the input
    unchanged, 1 starts from pure noise (keeping only the temporal context). The same strength applies to
    every block; each block is conditioned on the user vector and on the ``n_cond`` frames already revised.
    ``frames_lowres``: uint8 (T, S, S, 3) or float (T, 3, S, S) in [-1, 1]; the result has the same format.
    Use :func:`transfer_to_full_resolution` to apply the change to the original frames.
    ``chroma_noise``: the colour part of the change is denoised with this threshold in 8-bit levels
    (:func:`suppress_chroma_noise`; 0 keeps the model's output as it is).
    ``keyframe_stride`` k > 1: the model revises frames 0, k, 2k, … (:func:`keyframe_indices`), k times
    fewer blocks; every other frame gets the change interpolated linearly in time between its two key frames
    (after the last one: its change). ``threads``: torch intra-op threads while sampling (:func:`torch_threads`).
    """
    if not 0.0 <= float(strength) <= 1.0:
        raise DiffusionError(f"strength must lie in [0, 1], got {strength}.")
    raw = np.asarray(frames_lowres)
    x = _check_frames(model, raw, "frames_lowres")
    c = model.config
    cond = _condition(model, user_vector, instruction_vector)
    keys = keyframe_indices(len(x), keyframe_stride)
    n_denoise = min(steps, round(float(strength) * steps))
    if n_denoise == 0 or len(x) == 0:
        report(progress, 1.0, "nothing to revise (strength 0)")
        return raw.copy()
    xk = x[keys]
    n_blocks = -(-len(xk) // c.n_pred)
    run = _Sampler(model, cond=cond, guidance_scale=guidance_scale, steps=steps, seed=seed, sampler=sampler,
                   total_units=n_blocks * n_denoise, progress=progress, cancel=cancel, score=audience_score,
                   score_weight=audience_weight)
    src = torch.from_numpy(np.ascontiguousarray(xk))
    made = torch.empty(0, 3, c.size, c.size)
    with torch_threads(threads), torch.inference_mode():
        for k in range(0, len(src), c.n_pred):
            init = _fit(src[k : k + c.n_pred], c.n_pred, keep_last=False)
            past = _fit(made, c.n_cond, keep_last=True) if len(made) and c.n_cond else None
            made = torch.cat([made, run.block(n_denoise, init=init, past=past, future=None)])
    out = made[: len(src)].numpy()
    if chroma_noise > 0:
        out = suppress_chroma_noise(xk, out, threshold=chroma_noise)
    if len(keys) < len(x):
        out = _interpolate_change(x, keys, out)
    report(progress, 1.0, "done")
    return from_model_frames(out) if raw.dtype == np.uint8 else out


def interpolate(
    model: MCVD,
    past_frames: Any,
    future_frames: Any,
    *,
    user_vector: Any | None,
    instruction_vector: Any | None = None,
    guidance_scale: float = 2.0,
    steps: int = DEFAULT_STEPS,
    seed: int = 0,
    sampler: str = DEFAULT_SAMPLER,
    threads: int | None = SAMPLING_THREADS,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """The ``n_pred`` frames between ``past_frames`` and ``future_frames`` (needs a model with n_future > 0).

    Frames as in :func:`sample`; returns float (n_pred, 3, S, S) in [-1, 1], or uint8 if the past was uint8.
    """
    c = model.config
    if c.n_future == 0 or c.n_cond == 0:
        raise DiffusionError("This model was trained without future (or past) frames; it cannot interpolate.")
    raw = np.asarray(past_frames)
    past = _fit(torch.from_numpy(_check_frames(model, raw, "past_frames")), c.n_cond, keep_last=True)
    future = _fit(torch.from_numpy(_check_frames(model, future_frames, "future_frames")), c.n_future,
                  keep_last=False)
    cond = _condition(model, user_vector, instruction_vector)
    run = _Sampler(model, cond=cond, guidance_scale=guidance_scale, steps=steps, seed=seed, sampler=sampler,
                   total_units=steps, progress=progress, cancel=cancel)
    with torch_threads(threads), torch.inference_mode():
        out = run.block(steps, init=None, past=past, future=future).numpy()
    return from_model_frames(out) if raw.dtype == np.uint8 else out
