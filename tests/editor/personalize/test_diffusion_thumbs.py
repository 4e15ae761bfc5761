"""The diffusers thumbnail path, run with tiny random components built from configs (no weights)."""

from __future__ import annotations

import numpy as np
import pytest


def _tiny_pipeline():
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionImg2ImgPipeline, UNet2DConditionModel
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    unet = UNet2DConditionModel(block_out_channels=(8, 16), layers_per_block=1, sample_size=16, in_channels=4,
                                out_channels=4, down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                                up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=16,
                                norm_num_groups=4, attention_head_dim=4)
    vae = AutoencoderKL(block_out_channels=(8, 16), in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
                        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"), norm_num_groups=4)
    image_encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=16, projection_dim=12, num_hidden_layers=1, num_attention_heads=2, image_size=32,
        intermediate_size=24, patch_size=8))
    processor = CLIPImageProcessor(crop_size=32, size=32)
    scheduler = DDIMScheduler(steps_offset=1, clip_sample=False)
    pipe = StableDiffusionImg2ImgPipeline(vae=vae, text_encoder=None, tokenizer=None, unet=unet,
                                          scheduler=scheduler, safety_checker=None, feature_extractor=processor,
                                          image_encoder=image_encoder, requires_safety_checker=False)
    # a tiny random IP-Adapter in the layout of h94/IP-Adapter's ip-adapter_sd15 (image_proj + ip_adapter)
    cross = unet.config.cross_attention_dim
    sd = {"image_proj": {"proj.weight": torch.randn(4 * cross, 12) * 0.1, "proj.bias": torch.zeros(4 * cross),
                         "norm.weight": torch.ones(cross), "norm.bias": torch.zeros(cross)},
          "ip_adapter": {}}
    key = 1
    for name in unet.attn_processors:
        if name.endswith("attn2.processor"):
            hidden = (unet.config.block_out_channels[-1] if name.startswith("mid") else
                      list(reversed(unet.config.block_out_channels))[int(name[len("up_blocks.")])]
                      if name.startswith("up") else unet.config.block_out_channels[int(name[len("down_blocks.")])])
            sd["ip_adapter"][f"{key}.to_k_ip.weight"] = torch.randn(hidden, cross) * 0.1
            sd["ip_adapter"][f"{key}.to_v_ip.weight"] = torch.randn(hidden, cross) * 0.1
            key += 2
    unet._load_ip_adapter_weights([sd], low_cpu_mem_usage=False)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def test_img2img_with_ip_adapter_condition_from_liked_thumbnails():
    import skimage.data

    from generec_desktop.editor.personalize.diffusion_thumbs import generate_diffusion_thumbnail
    from generec_desktop.jobs import Cancelled, CancelToken

    pipe = _tiny_pipeline()
    frame = skimage.data.astronaut()
    steps = []
    a = generate_diffusion_thumbnail(pipe, frame, [skimage.data.coffee()], steps=4, strength=0.5,
                                     progress=lambda f, m="": steps.append(f))
    b = generate_diffusion_thumbnail(pipe, frame, [skimage.data.coffee()], steps=4, strength=0.5)
    c = generate_diffusion_thumbnail(pipe, frame, [skimage.data.rocket(), skimage.data.chelsea()], steps=4,
                                     strength=0.5)
    assert a.shape == (32, 32, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)  # seeded
    assert not np.array_equal(a, c)  # the liked thumbnails steer the result
    assert steps and steps[-1] == 1.0
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        generate_diffusion_thumbnail(pipe, frame, [skimage.data.coffee()], steps=4, cancel=token)


def test_missing_weights_folder_is_a_clear_error(tmp_path):
    from generec_desktop.editor.personalize.diffusion_thumbs import load_img2img_pipeline
    from generec_desktop.editor.personalize.errors import EditorError

    with pytest.raises(EditorError, match=r"model_index\.json"):
        load_img2img_pipeline(tmp_path)
