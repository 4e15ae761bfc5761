"""Thumbnail generation with a diffusion model (diffusers), when the user has weights locally.

Stable Diffusion img2img starts from the Eq. 1 frame (so the thumbnail stays faithful to the video)
and is steered toward the audience by an IP-Adapter whose image condition is the mean CLIP image
embedding of the audience's liked thumbnails — Eq. 1's ``t*`` in the IP-Adapter's own image space
(the paper used RDM with retrieved liked items the same way). Nothing is downloaded
(``local_files_only``); tests build the pipeline from tiny random components, as diffusers' tests do.

Where the weights are found (:func:`find_diffusion_weights`; ``generec models`` lists them): in each
``models/`` folder that the encoders search (the workspace's, the repository's, the user's downloads:
:func:`generec_desktop.encoders.discovery.search_dirs`), ``stable_diffusion/<name>/model_index.json`` (a
diffusers Stable Diffusion folder, e.g. a copy of stable-diffusion-v1-5) and ``ip_adapter/`` in the layout
of h94/IP-Adapter (``models/ip-adapter_sd15.safetensors``, plus ``models/image_encoder/`` unless the Stable
Diffusion folder has an ``image_encoder``). :func:`generec_desktop.editor.personalize.pipeline.personalize`
uses them for its generated thumbnails when both are there (``generator="auto"``), else the palette
transfer of :mod:`.thumbgen`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from generec_desktop.editor.personalize.errors import EditorError
from generec_desktop.jobs import CancelToken, Progress, check_cancel, report

__all__ = [
    "IP_ADAPTER_SUBFOLDER",
    "IP_ADAPTER_WEIGHT",
    "DiffusionWeights",
    "cached_pipeline",
    "find_diffusion_weights",
    "generate_diffusion_thumbnail",
    "liked_image_embedding",
    "load_img2img_pipeline",
]

#: h94/IP-Adapter's layout: ``<ip_adapter>/models/ip-adapter_sd15.safetensors`` (+ ``models/image_encoder``)
IP_ADAPTER_SUBFOLDER = "models"
IP_ADAPTER_WEIGHT = "ip-adapter_sd15.safetensors"


@dataclass(frozen=True)
class DiffusionWeights:
    """A local Stable Diffusion folder and the IP-Adapter that steers it (None when there is none)."""

    model_dir: Path
    ip_adapter_dir: Path | None
    source: str  # "workspace", "repo" or "user": which models/ folder the model came from

    @property
    def usable(self) -> bool:
        """Both parts are there (without the IP-Adapter nothing steers the image toward an audience)."""
        return self.ip_adapter_dir is not None


def _models_in(root: Path) -> list[Path]:
    folder = root / "stable_diffusion"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir()
                  if p.is_dir() and not p.name.startswith(".") and (p / "model_index.json").is_file())


def _ip_adapter_in(root: Path) -> Path | None:
    folder = root / "ip_adapter"
    return folder if (folder / IP_ADAPTER_SUBFOLDER / IP_ADAPTER_WEIGHT).is_file() else None


def find_diffusion_weights(workspace_root: str | os.PathLike[str] | None = None) -> DiffusionWeights | None:
    """The first Stable Diffusion folder found in the ``models/`` folders (in search order), with the first
    IP-Adapter found; None when there is no Stable Diffusion folder. Reads only the file system."""
    from generec_desktop.encoders.discovery import search_dirs

    dirs = search_dirs(Path(workspace_root) if workspace_root is not None else None)
    ip = next((found for _, root in dirs if (found := _ip_adapter_in(root)) is not None), None)
    for source, root in dirs:
        models = _models_in(root)
        if models:
            return DiffusionWeights(models[0], ip, source)
    return None


_CACHE_LOCK = threading.Lock()
_CACHE: dict[tuple[str, str], Any] = {}
#: one generation at a time per process: a diffusers pipeline (its scheduler, the IP-Adapter scale) is not
#: safe to share between threads
_RUN_LOCK = threading.Lock()


def cached_pipeline(weights: DiffusionWeights) -> Any:
    """:func:`load_img2img_pipeline` of ``weights``, loaded once per process (the last one used is kept:
    a Stable Diffusion pipeline holds a few GB)."""
    key = (str(weights.model_dir), str(weights.ip_adapter_dir))
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE.clear()
            _CACHE[key] = load_img2img_pipeline(weights.model_dir, ip_adapter_dir=weights.ip_adapter_dir)
        return _CACHE[key]


def load_img2img_pipeline(model_dir: str | os.PathLike[str], *, ip_adapter_dir: str | os.PathLike[str] | None = None,
                          ip_adapter_weight: str = IP_ADAPTER_WEIGHT,
                          ip_adapter_subfolder: str = IP_ADAPTER_SUBFOLDER) -> Any:
    """A local Stable Diffusion img2img pipeline (a diffusers folder), with an IP-Adapter if given.

    ``ip_adapter_dir`` is a local copy of e.g. h94/IP-Adapter (``models/image_encoder`` + weights).
    """
    from diffusers import StableDiffusionImg2ImgPipeline

    model_dir = Path(model_dir)
    if not (model_dir / "model_index.json").is_file():
        raise EditorError(f"{model_dir} is not a diffusers model folder (no model_index.json); "
                          "point to a local Stable Diffusion download.")
    loader: Any = StableDiffusionImg2ImgPipeline  # diffusers is untyped
    try:
        pipe = loader.from_pretrained(model_dir, local_files_only=True, safety_checker=None,
                                      requires_safety_checker=False)
    except Exception as exc:  # a user's folder: incomplete, damaged or another model's
        raise EditorError(f"Cannot load the Stable Diffusion folder {model_dir} ({type(exc).__name__}: {exc}); "
                          "copy it again or remove it, or generate with --generator palette.") from exc
    if ip_adapter_dir is not None:
        try:
            pipe.load_ip_adapter(str(ip_adapter_dir), subfolder=ip_adapter_subfolder, weight_name=ip_adapter_weight,
                                 local_files_only=True)
        except Exception as exc:
            raise EditorError(f"Cannot load the IP-Adapter in {ip_adapter_dir} for {model_dir.name} "
                              f"({type(exc).__name__}: {exc}); it must match that Stable Diffusion model "
                              "(ip-adapter_sd15 for SD 1.x), or generate with --generator palette.") from exc
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
    """img2img of ``frame`` (uint8 RGB) guided by the liked thumbnails; returns uint8 RGB at the pipeline's
    working size with the frame's aspect (long side = the model's native size, see :func:`_work_size`).

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

    width, height = _work_size(pipe, frame.shape[1], frame.shape[0])
    init = Image.fromarray(frame).convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
    with _RUN_LOCK:
        pipe.set_ip_adapter_scale(ip_adapter_scale)
        out = pipe(image=init, strength=strength, num_inference_steps=steps, guidance_scale=guidance_scale,
                   ip_adapter_image_embeds=[embeds], generator=torch.Generator("cpu").manual_seed(seed),
                   output_type="np", callback_on_step_end=on_step, **kwargs).images[0]
    report(progress, 1.0, "Generated")
    return np.clip(np.asarray(out) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _work_size(pipe: Any, width: int, height: int) -> tuple[int, int]:
    """(width, height) for a frame of that size: long side the model's native size (``sample_size`` latents),
    the frame's aspect kept, both a multiple of the size the VAE and the UNet's down-sampling divide by."""
    side = int(pipe.unet.config.sample_size) * int(pipe.vae_scale_factor)
    multiple = int(pipe.vae_scale_factor) << (len(pipe.unet.config.block_out_channels) - 1)
    scale = side / max(width, height)

    def snap(v: float) -> int:
        return max(multiple, round(v * scale / multiple) * multiple)

    return snap(width), snap(height)
