"""The diffusers thumbnail path, run with tiny random components built from configs (no weights): the
generator itself, and ``personalize`` finding a tiny Stable Diffusion + IP-Adapter saved in a workspace's
models/ folder in the layouts a user copies there (a diffusers folder, h94/IP-Adapter's files)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest


def _tiny_ip_adapter(unet):
    """A tiny random IP-Adapter for ``unet`` in the layout of h94/IP-Adapter's ip-adapter_sd15 (image_proj +
    ip_adapter: the to_k_ip/to_v_ip of every cross-attention, numbered as the file numbers them)."""
    import torch

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
    return sd


def _tiny_unet_vae():
    """A tiny random Stable Diffusion UNet (cross-attention width 16) and VAE (latent 4, scale 2)."""
    from diffusers import AutoencoderKL, UNet2DConditionModel

    unet = UNet2DConditionModel(block_out_channels=(8, 16), layers_per_block=1, sample_size=16, in_channels=4,
                                out_channels=4, down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                                up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=16,
                                norm_num_groups=4, attention_head_dim=4)
    vae = AutoencoderKL(block_out_channels=(8, 16), in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
                        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"), norm_num_groups=4)
    return unet, vae


def _tiny_pipeline():
    import torch
    from diffusers import DDIMScheduler, StableDiffusionImg2ImgPipeline
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    unet, vae = _tiny_unet_vae()
    image_encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=16, projection_dim=12, num_hidden_layers=1, num_attention_heads=2, image_size=32,
        intermediate_size=24, patch_size=8))
    processor = CLIPImageProcessor(crop_size=32, size=32)
    scheduler = DDIMScheduler(steps_offset=1, clip_sample=False)
    pipe = StableDiffusionImg2ImgPipeline(vae=vae, text_encoder=None, tokenizer=None, unet=unet,
                                          scheduler=scheduler, safety_checker=None, feature_extractor=processor,
                                          image_encoder=image_encoder, requires_safety_checker=False)
    sd = _tiny_ip_adapter(unet)
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


def _save_tiny_weights(models: Path) -> None:
    """A tiny randomly initialised Stable Diffusion img2img pipeline of the real architecture (UNet, VAE, CLIP
    text tower + tokenizer, DDIM, CLIP image processor) saved as ``models/stable_diffusion/tiny/``, and a
    tiny IP-Adapter (CLIP image encoder + image_proj/ip_adapter weights) as ``models/ip_adapter/models/``."""
    import torch
    from diffusers import DDIMScheduler, StableDiffusionImg2ImgPipeline
    from safetensors.torch import save_file
    from transformers import (
        CLIPImageProcessor,
        CLIPTextConfig,
        CLIPTextModel,
        CLIPTokenizer,
        CLIPVisionConfig,
        CLIPVisionModelWithProjection,
    )

    from generec_desktop.editor.personalize.diffusion_thumbs import IP_ADAPTER_SUBFOLDER, IP_ADAPTER_WEIGHT

    torch.manual_seed(0)
    unet, vae = _tiny_unet_vae()
    tokenizer = CLIPTokenizer(model_max_length=77)  # its default vocabulary: bos, eos/pad (every word is unk)
    text = CLIPTextModel(CLIPTextConfig(vocab_size=16, hidden_size=16, intermediate_size=24, num_hidden_layers=1,
                                        num_attention_heads=2, max_position_embeddings=77, projection_dim=16,
                                        bos_token_id=0, eos_token_id=1, pad_token_id=1))
    pipe = StableDiffusionImg2ImgPipeline(vae=vae, text_encoder=text, tokenizer=tokenizer, unet=unet,
                                          scheduler=DDIMScheduler(steps_offset=1, clip_sample=False),
                                          safety_checker=None, feature_extractor=CLIPImageProcessor(crop_size=32,
                                                                                                    size=32),
                                          image_encoder=None, requires_safety_checker=False)
    pipe.save_pretrained(models / "stable_diffusion" / "tiny")
    ip = models / "ip_adapter" / IP_ADAPTER_SUBFOLDER
    CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=16, projection_dim=12, num_hidden_layers=1, num_attention_heads=2, image_size=32,
        intermediate_size=24, patch_size=8)).save_pretrained(ip / "image_encoder")
    flat = {f"{part}.{k}": v for part, d in _tiny_ip_adapter(unet).items() for k, v in d.items()}
    save_file(flat, str(ip / IP_ADAPTER_WEIGHT))


@pytest.fixture
def example_ws(tmp_path):
    """The example-audiences workspace with its video at 480×270 (artwork size)."""
    from examplemedia import example_audiences_workspace

    with example_audiences_workspace(tmp_path, size=(480, 270), fps=8) as ws:
        yield ws


def test_personalize_generates_with_local_diffusion_weights(example_ws, capsys):
    import torch

    from generec_desktop.editor.personalize.diffusion_thumbs import find_diffusion_weights
    from generec_desktop.editor.personalize.pipeline import personalize
    from generec_desktop.jobs import Cancelled, CancelToken

    torch.set_num_threads(1)
    ws = example_ws
    audiences = ["Space fans", "Cat people"]
    assert find_diffusion_weights(ws.root) is None
    palette = personalize(ws, 1, audiences, clips=False, aspects=("1:1",))  # auto, no weights: the palette
    assert [a.generated.method for a in palette.audiences] == ["palette", "palette"]

    _save_tiny_weights(ws.root / "models")
    found = find_diffusion_weights(ws.root)
    assert found is not None and found.usable and found.source == "workspace"
    assert found.model_dir == ws.root / "models" / "stable_diffusion" / "tiny"
    from generec_desktop.cli import main

    assert main(["models", "list", str(ws.root), "--json"]) == 0  # `generec models` says what it found
    listed = json.loads(capsys.readouterr().out)["diffusion"]
    assert listed == {"model_dir": str(found.model_dir), "ip_adapter_dir": str(found.ip_adapter_dir),
                      "source": "workspace"}
    seen: list[tuple[float, str]] = []
    res = personalize(ws, 1, audiences, clips=False, aspects=("1:1",), progress=lambda f, m="": seen.append((f, m)))
    for pal, gen in zip(palette.audiences, res.audiences):
        g = gen.generated
        assert g is not None and g.kind == "generated" and g.method == "diffusion"
        assert g.image.shape == gen.thumbnail.image.shape and g.image.dtype == np.uint8  # the frame's size
        assert not np.array_equal(g.image, pal.generated.image)  # not the palette transfer
        assert not np.array_equal(g.image, gen.thumbnail.image)  # the model changed the frame
        assert g.variants["1:1"].shape[0] == g.variants["1:1"].shape[1]
        assert np.isfinite(g.score)
    a, b = (x.generated.image for x in res.audiences)
    assert not np.array_equal(a, b)  # each audience's liked pictures steer its own image
    again = personalize(ws, 1, audiences, clips=False, aspects=())
    assert np.array_equal(again.audiences[0].generated.image, a)  # seeded
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any(m.startswith("Diffusion step") for _, m in seen)
    # stored as artwork: the model's picture itself, enlarged to the video's size (not the decoded frame
    # recoloured toward it, as a palette thumbnail is)
    from PIL import Image

    from generec_desktop.fidelity.artwork import artwork_path, full_resolution_frame
    from generec_desktop.versions.workflow import use_thumbnail

    gen = res.audiences[0].generated
    stored = use_thumbnail(ws, 1, res.audiences[0].audience_id, gen)
    assert stored.row.params["method"] == "diffusion" and (stored.row.width, stored.row.height) == (480, 270)
    with Image.open(artwork_path(ws, stored.row)) as im:
        back = np.asarray(im.convert("RGB").resize(gen.image.shape[1::-1], Image.BILINEAR), np.float64)
    refit = full_resolution_frame(ws.media_path(ws.item(1)), gen.timestamp, gen.image)
    refit = np.asarray(Image.fromarray(refit).resize(gen.image.shape[1::-1], Image.BILINEAR), np.float64)
    assert np.abs(back - gen.image).mean() < 0.5 * np.abs(refit - gen.image).mean()
    forced = personalize(ws, 1, audiences[:1], clips=False, generator="palette", aspects=())
    assert forced.audiences[0].generated.method == "palette"

    token = CancelToken()

    def cancel_on_first_step(f: float, m: str = "") -> None:
        if m.startswith("Diffusion step"):
            token.cancel()

    with pytest.raises(Cancelled):
        personalize(ws, 1, audiences, clips=False, progress=cancel_on_first_step, cancel=token)


def test_diffusion_generator_without_weights_says_where_to_put_them(example_ws):
    from generec_desktop.editor.personalize.errors import EditorError
    from generec_desktop.editor.personalize.pipeline import personalize

    with pytest.raises(EditorError, match=r"stable_diffusion/<name>/model_index\.json.*generec models"):
        personalize(example_ws, 1, ["Space fans"], clips=False, generator="diffusion")
    with pytest.raises(EditorError, match="Unknown generator"):
        personalize(example_ws, 1, ["Space fans"], clips=False, generator="dall-e")


def test_damaged_weights_are_one_clear_error(example_ws):
    """A Stable Diffusion folder that does not load (here a model_index.json naming no parts, and a
    truncated IP-Adapter) is an EditorError naming the folder, not a traceback from diffusers."""
    from generec_desktop.editor.personalize.diffusion_thumbs import IP_ADAPTER_SUBFOLDER, IP_ADAPTER_WEIGHT
    from generec_desktop.editor.personalize.errors import EditorError
    from generec_desktop.editor.personalize.pipeline import personalize

    models = example_ws.root / "models"
    broken = models / "stable_diffusion" / "broken"
    broken.mkdir(parents=True)
    (broken / "model_index.json").write_text('{"_class_name": "StableDiffusionImg2ImgPipeline"}', encoding="utf-8")
    ip = models / "ip_adapter" / IP_ADAPTER_SUBFOLDER
    ip.mkdir(parents=True)
    (ip / IP_ADAPTER_WEIGHT).write_bytes(b"not safetensors")
    with pytest.raises(EditorError, match=r"Cannot load the Stable Diffusion folder .*broken"):
        personalize(example_ws, 1, ["Space fans"], clips=False)
