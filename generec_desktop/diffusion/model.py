"""The MCVD network: a diffusers UNet2DModel with frames stacked in channels and a vector condition.

Differences from the reference GeneRec code (DESIGN §6): the user vector goes through the timestep/class
embedding (not painted into an image channel), and a learned null vector stands in for it under condition
dropout, which gives classifier-free guidance.
"""

from __future__ import annotations

from typing import Any

import torch
from diffusers import DDIMScheduler, DDPMScheduler, DPMSolverMultistepScheduler, UNet2DModel
from torch import nn

from generec_desktop.diffusion.config import DiffusionError, MCVDConfig

__all__ = ["MCVD", "make_sampling_scheduler", "make_training_scheduler"]


class MCVD(nn.Module):
    """Masked conditional video diffusion on stacked frames; predicts the noise of ``n_pred`` frames."""

    def __init__(self, config: MCVDConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        down = tuple("AttnDownBlock2D" if a else "DownBlock2D" for a in c.attention_levels)
        up = tuple("AttnUpBlock2D" if a else "UpBlock2D" for a in reversed(c.attention_levels))
        self.unet = UNet2DModel(
            sample_size=c.size,
            in_channels=3 * c.window,
            out_channels=3 * c.n_pred,
            block_out_channels=c.block_out_channels,
            layers_per_block=c.layers_per_block,
            down_block_types=down,
            up_block_types=up,
            attention_head_dim=c.attention_head_dim,
            norm_num_groups=c.norm_num_groups,
            class_embed_type="identity",  # our own projection below is added to the timestep embedding
        )
        temb = c.block_out_channels[0] * 4
        self.cond_proj = nn.Sequential(nn.Linear(c.cond_dim, temb), nn.SiLU(), nn.Linear(temb, temb))
        #: Learned "no condition" vector used under condition dropout and for the unconditional CFG branch.
        self.null_cond = nn.Parameter(torch.zeros(c.cond_dim))
        #: Which context is present: 0 none, 1 past, 2 future, 3 both (so a zeroed frame is not ambiguous).
        self.mask_embed = nn.Embedding(4, temb)
        nn.init.zeros_(self.mask_embed.weight)

    @property
    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def condition_embedding(
        self, cond: torch.Tensor | None, drop: torch.Tensor | None, past_on: torch.Tensor, future_on: torch.Tensor
    ) -> torch.Tensor:
        """(B, temb) added to the timestep embedding: projected condition (or null) + context-mask embedding."""
        b = past_on.shape[0]
        null = self.null_cond.unsqueeze(0).expand(b, -1)
        if cond is None:
            vec = null
        else:
            vec = cond if drop is None else torch.where(drop[:, None], null, cond)
        code = past_on.long() + 2 * future_on.long()
        return self.cond_proj(vec) + self.mask_embed(code)

    def forward(
        self,
        noisy: torch.Tensor,
        timesteps: torch.Tensor,
        *,
        past: torch.Tensor | None,
        future: torch.Tensor | None,
        past_on: torch.Tensor,
        future_on: torch.Tensor,
        cond: torch.Tensor | None,
        drop: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Noise prediction for ``noisy`` (B, 3·n_pred, H, W).

        ``past`` (B, 3·n_cond, H, W) and ``future`` (B, 3·n_future, H, W) are zeroed where ``past_on`` /
        ``future_on`` (B,) bool are False (the MCVD mask); ``cond`` (B, cond_dim) or None for unconditional;
        ``drop`` (B,) bool replaces ``cond`` by the null vector per sample.
        """
        c = self.config
        b, _, h, w = noisy.shape
        parts = []
        if c.n_cond:
            if past is None:
                past = noisy.new_zeros(b, 3 * c.n_cond, h, w)
            parts.append(past * past_on.to(noisy.dtype)[:, None, None, None])
        if c.n_future:
            if future is None:
                future = noisy.new_zeros(b, 3 * c.n_future, h, w)
            parts.append(future * future_on.to(noisy.dtype)[:, None, None, None])
        parts.append(noisy)
        x = torch.cat(parts, dim=1)
        emb = self.condition_embedding(cond, drop, past_on, future_on)
        return self.unet(x, timesteps, class_labels=emb).sample


def make_training_scheduler(config: MCVDConfig) -> DDPMScheduler:
    """The DDPM noise schedule the model is trained with."""
    return DDPMScheduler(
        num_train_timesteps=config.num_train_timesteps,
        beta_schedule=config.beta_schedule,
        prediction_type="epsilon",
        clip_sample=False,
    )


def make_sampling_scheduler(config: MCVDConfig, kind: str = "ddim") -> Any:
    """A deterministic sampler over the training schedule: ``"ddim"`` (eta 0) or ``"dpm"`` (DPM-Solver++).

    "trailing" spacing makes the first step the last training timestep, so strength 1 starts from pure noise.
    """
    common = dict(
        num_train_timesteps=config.num_train_timesteps,
        beta_schedule=config.beta_schedule,
        prediction_type="epsilon",
        timestep_spacing="trailing",
    )
    if kind == "ddim":
        return DDIMScheduler(clip_sample=False, set_alpha_to_one=False, **common)
    if kind == "dpm":
        return DPMSolverMultistepScheduler(algorithm_type="dpmsolver++", solver_order=2, **common)
    raise DiffusionError(f"Unknown sampler {kind!r}; use 'ddim' or 'dpm'.")
