"""Thumbnail generation with a diffusion model (diffusers), when the user has weights locally.

Stable Diffusion img2img starts from the Eq. 1 frame (so the thumbnail stays faithful to the video)
and is steered toward the audience by an IP-Adapter whose image condition is the mean CLIP image
embedding of the audience's liked thumbnails — Eq. 1's ``t*`` in the IP-Adapter's own image space
(the paper used RDM with retrieved liked items the same way). Nothing is downloaded
(``local_files_only``); tests build the pipeline from tiny random components, as diffusers' tests do.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from generec_desktop.editor.personalize.errors import EditorError
from generec_desktop.jobs import CancelToken, Progress, check_cancel, report

__all__ = ["generate_diffusion_thumbnail", "liked_image_embedding", "load_img2img_pipeline"]


def load_img2img_pipeline(model_dir: str | os.PathLike[str], *, ip_adapter_dir: str | os.PathLike[str] | None = None,
                          ip_adapter_weight: str = "ip-adapter_sd15.safetensors",
                          ip_adapter_subfolder: str = "models") -> Any:
    """A local Stable Diffusion img2img pipeline (a diffusers folder), with an IP-Adapter if given.

    ``ip_adapter_dir`` is a local copy of e.g. h94/IP-Adapter (``models/image_encoder`` + weights).
    """
    from diffusers import StableDiffusionImg2ImgPipeline

    model_dir = Path(model_dir)
    if not (model_dir / "model_index.json").is_file():
        raise EditorError(f"{model_dir} is not a diffusers model folder (no model_index.json); "
                          "point to a local Stable Diffusion download.")
    pipe = StableDiffusionImg2ImgPipeline.from_pretrained(model_dir, local_files_only=True, safety_checker=None,
                                                          requires_safety_checker=False)
    if ip_adapter_dir is not None:
        pipe.load_ip_adapter(str(ip_adapter_dir), subfolder=ip_adapter_subfolder, weight_name=ip_adapter_weight,
                             local_files_only=True)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def liked_image_embedding(pipe: Any, liked_images: Sequence[np.ndarray]) -> Any:
    """The mean image embedding of ``liked_images`` from the pipeline's IP-Adapter image encoder, (1, 1, D)."""
    import torch

    if pipe.image_encoder is None or pipe.feature_extractor is None:
        raise EditorError("This diffusion pipeline has no IP-Adapter image encoder; load one with ip_adapter_dir.")
    if not liked_images:
        raise EditorError("The audience has no liked thumbnails to condition the diffusion model on.")
    pixels = pipe.feature_extractor(images=list(liked_images), return_tensors="pt").pixel_values
    param = next(pipe.image_encoder.parameters())
    with torch.no_grad():
        emb = pipe.image_encoder(pixels.to(param.device, param.dtype)).image_embeds
    return emb.mean(dim=0, keepdim=True)[:, None, :]


def generate_diffusion_thumbnail(
    pipe: Any,
    frame: np.ndarray,
    liked_images: Sequence[np.ndarray],
    *,
    prompt: str = "",
    strength: float = 0.35,
    steps: int = 25,
    guidance_scale: float = 5.0,
    ip_adapter_scale: float = 0.6,
    seed: int = 0,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """img2img of ``frame`` (uint8 RGB) guided by the liked thumbnails; returns uint8 RGB of the pipeline's size.

    ``strength`` is the SDEdit noise level (low keeps the video's content). Reports each denoising step
    and honours ``cancel`` between steps.
    """
    import torch
    from PIL import Image

    if not 0.0 < strength <= 1.0:
        raise EditorError(f"The diffusion strength must be in (0, 1], got {strength}.")
    check_cancel(cancel)
    ip = liked_image_embedding(pipe, liked_images)
    cfg = guidance_scale > 1.0
    embeds = torch.cat([torch.zeros_like(ip), ip]) if cfg else ip
    pipe.set_ip_adapter_scale(ip_adapter_scale)
    kwargs: dict[str, Any] = {}
    if pipe.tokenizer is not None and pipe.text_encoder is not None:
        kwargs["prompt"] = prompt
    else:  # no text tower: an empty (zero) text condition, the IP-Adapter does the steering
        dim = pipe.unet.config.cross_attention_dim
        kwargs["prompt_embeds"] = torch.zeros(1, 77, dim)
        kwargs["negative_prompt_embeds"] = torch.zeros(1, 77, dim)
    total = max(1, int(steps * strength))

    def on_step(_pipe: Any, i: int, _t: Any, cb: dict[str, Any]) -> dict[str, Any]:
        report(progress, (i + 1) / total, f"Diffusion step {i + 1} of {total}")
        check_cancel(cancel)
        return cb

    size = pipe.unet.config.sample_size * pipe.vae_scale_factor
    init = Image.fromarray(frame).convert("RGB").resize((size, size), Image.LANCZOS)
    out = pipe(image=init, strength=strength, num_inference_steps=steps, guidance_scale=guidance_scale,
               ip_adapter_image_embeds=[embeds], generator=torch.Generator("cpu").manual_seed(seed),
               output_type="np", callback_on_step_end=on_step, **kwargs).images[0]
    report(progress, 1.0, "Generated")
    return np.clip(np.asarray(out) * 255.0 + 0.5, 0, 255).astype(np.uint8)
