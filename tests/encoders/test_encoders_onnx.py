"""The ONNX Runtime path of the open_clip image tower (fp32 and int8) against torch, on real photos."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from tinyclip import write_tiny_hf_folder

from generec_desktop.encoders import get_encoder, onnx

pytestmark = pytest.mark.skipif(not onnx.available(), reason="onnxruntime/onnx not installed (extra 'onnx')")


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1)


@pytest.fixture
def tiny(isolated: dict[str, Path]) -> Path:
    return write_tiny_hf_folder(isolated["repo_models"] / "open_clip" / "tiny")


def test_fp32_and_int8_agree_with_torch_on_real_photos(tiny: Path) -> None:
    photos = onnx.probe_photos()
    ref = get_encoder("open_clip:tiny", backend="torch")
    fp32 = get_encoder("open_clip:tiny", backend="onnx-fp32")
    int8 = get_encoder("open_clip:tiny", backend="onnx-int8")
    assert (ref.backend, fp32.backend, int8.backend) == ("torch", "onnx-fp32", "onnx-int8")
    assert ref.id == fp32.id == int8.id  # one embedding space
    assert int8.cache_id == ref.id + "+int8" and fp32.cache_id == ref.id
    x = ref.encode_images(photos, batch_size=3)
    assert _cos(fp32.encode_images(photos, batch_size=3), x).min() >= onnx.FP32_MIN_COSINE
    assert _cos(int8.encode_images(photos, batch_size=3), x).min() >= onnx.INT8_MIN_COSINE
    assert not np.allclose(int8.encode_images(photos[:2]), x[:2], atol=1e-6)  # int8 really ran (it rounds)
    for enc in (fp32, int8):  # an image's embedding does not depend on its batch neighbours
        np.testing.assert_allclose(enc.encode_images(photos, batch_size=8)[:3], enc.encode_images(photos[:3]),
                                   atol=1e-5)
    cache = onnx.cache_paths(tiny, ref.sha256, ref.side)
    assert cache["fp32"].parent == tiny.parent / ".generec-onnx"  # next to the weights, keyed by their sha
    assert cache["fp32"].name.startswith(ref.sha256[:16]) and cache["int8"].is_file()


def test_auto_uses_onnx_for_clip_sized_towers_and_exports_once(tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from generec_desktop.encoders import clear_encoder_cache

    auto = get_encoder("open_clip:tiny")
    assert auto.backend == "torch"  # a tiny tower: exporting would cost more than it saves
    clear_encoder_cache()
    monkeypatch.setattr(onnx, "AUTO_MIN_PARAMS", 0)
    enc = get_encoder("open_clip:tiny")
    assert enc.backend in ("onnx-fp32", "onnx-int8", "torch")
    report = enc.backend_report
    for kind in ("fp32", "int8"):
        assert report[kind]["cosine_min"] > 0.9 and report[kind]["ms_per_image"] > 0
    assert enc.backend == onnx.pick(report)
    paths = onnx.cache_paths(tiny, enc.sha256, enc.side)
    assert paths["json"].is_file() and paths["fp32"].is_file() and paths["int8"].is_file()

    clear_encoder_cache()

    def no_export(*a: object, **k: object) -> None:
        raise AssertionError("exported twice")

    monkeypatch.setattr(onnx, "export_fp32", no_export)
    monkeypatch.setattr(onnx, "quantize_int8", no_export)
    monkeypatch.setattr(onnx, "measure", no_export)
    again = get_encoder("open_clip:tiny")
    assert again is not enc and again.backend == enc.backend  # from the cached files and measurement


def test_pick_keeps_the_fastest_path_that_agrees() -> None:
    r = {"torch_ms_per_image": 10.0, "fp32": {"cosine_min": 0.9999, "ms_per_image": 6.0},
         "int8": {"cosine_min": 0.99, "ms_per_image": 4.0}}
    assert onnx.pick(r) == "onnx-int8"
    r["int8"]["cosine_min"] = 0.97  # int8 too far from torch
    assert onnx.pick(r) == "onnx-fp32"
    r["fp32"]["ms_per_image"] = 20.0  # and fp32 slower than torch
    assert onnx.pick(r) == "torch"
    r["int8"] = {"cosine_min": 0.99, "ms_per_image": 9.0}
    assert onnx.pick(r) == "onnx-int8"


def test_a_failed_export_falls_back_to_torch(tiny: Path, monkeypatch: pytest.MonkeyPatch,
                                              caplog: pytest.LogCaptureFixture) -> None:
    def broken(*a: object, **k: object) -> None:
        raise RuntimeError("cannot trace this tower")

    monkeypatch.setattr(onnx, "export_fp32", broken)
    with caplog.at_level(logging.WARNING, logger="generec.encoders"):
        enc = get_encoder("open_clip:tiny", backend="onnx-fp32")
    assert enc.backend == "torch" and "cannot trace" in caplog.text
    assert enc.encode_images(onnx.probe_photos()[:2]).shape == (2, 32)


def test_unknown_backend_is_refused() -> None:
    from generec_desktop.encoders import EncoderError

    with pytest.raises(EncoderError, match="Unknown encoder backend"):
        onnx.requested_backend("tensorrt")


@pytest.mark.slow
def test_real_vit_s32_architecture_agrees_on_real_photos(tmp_path: Path, vit_s32_checkpoint: Path) -> None:
    """open_clip's real ViT-S-32 (random weights): the cosine floors hold at a real tower's size."""
    import shutil

    ws = tmp_path / "ws"
    (ws / "models").mkdir(parents=True)
    shutil.copy(vit_s32_checkpoint, ws / "models" / "ViT-S-32.safetensors")
    photos = onnx.probe_photos()
    x = get_encoder("open_clip:ViT-S-32", workspace_root=ws, backend="torch").encode_images(photos)
    for backend, floor in (("onnx-fp32", onnx.FP32_MIN_COSINE), ("onnx-int8", onnx.INT8_MIN_COSINE)):
        enc = get_encoder("open_clip:ViT-S-32", workspace_root=ws, backend=backend)
        assert enc.backend == backend
        assert _cos(enc.encode_images(photos), x).min() >= floor
