"""MCVD on a workspace: training data and checkpoint, exact resume, cancel, discovery, `generec train mcvd`."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from generec_desktop.diffusion import DiffusionError
from generec_desktop.jobs import Cancelled, CancelToken


def _open(w):
    from generec_desktop.corpus import Workspace

    return Workspace.open(w.root)


def test_workspace_training_writes_a_discoverable_checkpoint(mcvd_ws) -> None:
    from generec_desktop.diffusion.checkpoint import read_checkpoint_info
    from generec_desktop.mcvd.workspace import find_mcvd_checkpoint, load_workspace_model

    folder = mcvd_ws.root / "models" / "mcvd"
    info = read_checkpoint_info(folder)
    assert info["step"] == mcvd_ws.train_steps
    cfg = info["config"]
    assert cfg["extra"]["condition"] == "user_hist" and cfg["extra"]["encoder_id"] == "builtin-v1"
    runs = json.loads((folder / "training.json").read_text())
    assert runs[-1]["videos"] == 4 and runs[-1]["users"] == 8 and runs[-1]["clips"] >= 4
    with _open(mcvd_ws) as ws:
        model, source, found = load_workspace_model(ws)
        assert found == folder == find_mcvd_checkpoint(ws.root, source=source)
        assert model.config.user_dim == source.dim == source.vectors.shape[1]


def test_training_pairs_clips_with_their_likers(mcvd_ws) -> None:
    from generec_desktop.mcvd.workspace import condition_source, training_data

    with _open(mcvd_ws) as ws:
        src = condition_source(ws)
        data = training_data(ws, src, size=32)
    assert data.clips.shape[1:] == (12, 3, 32, 32) and data.clips.min() >= -1 and data.clips.max() <= 1
    for item, rows in zip(data.clip_item, data.likers):
        groups = {mcvd_ws.user_group[int(src.user_ids[r])] for r in rows}
        assert groups == {mcvd_ws.item_group[int(item)]}


def test_self_conditioning_pairs_clips_with_their_own_embedding(mcvd_ws) -> None:
    """A share of the examples is conditioned on the clip's own User_Hist-space vector (a one-clip history)."""
    from generec_desktop.encoders import get_encoder
    from generec_desktop.mcvd.workspace import _Batches, condition_source, training_data

    with _open(mcvd_ws) as ws:
        src = condition_source(ws)
        data = training_data(ws, src, size=32)
    own = data.clip_vectors
    assert own.shape == (len(data.clips), src.dim)
    np.testing.assert_allclose(np.linalg.norm(own, axis=1), 1.0, atol=1e-5)
    frames = np.clip(np.rint((data.clips[0].transpose(0, 2, 3, 1) + 1) * 127.5), 0, 255).astype(np.uint8)
    mean = get_encoder("builtin").encode_images(list(frames)).mean(0)
    np.testing.assert_allclose(own[0], mean / np.linalg.norm(mean), atol=1e-5)

    def vectors(share: float) -> list[tuple[np.ndarray, np.ndarray]]:
        batches = _Batches(data, 16, seed=3, start=0, self_condition=share)
        return [next(batches) for _ in range(4)]

    likers_only, own_only, half = vectors(0.0), vectors(1.0), vectors(0.5)
    for (clips, vec), (clips1, vec1) in zip(likers_only, own_only):
        np.testing.assert_array_equal(clips, clips1)  # the same clips whatever the share
        assert all(any(np.array_equal(v, src.vectors[r]) for r in range(len(src.vectors))) for v in vec)
        assert all(any(np.array_equal(v, o) for o in own) for v in vec1)
        assert not any(any(np.array_equal(v, o) for o in own) for v in vec)
    mixed = np.concatenate([v for _, v in half])
    n_own = sum(any(np.array_equal(v, o) for o in own) for v in mixed)
    assert 0.25 * len(mixed) < n_own < 0.75 * len(mixed)


def test_resume_and_cancel_continue_exactly(mcvd_ws, tmp_path) -> None:
    from creator.mcvd_testws import TINY

    from generec_desktop.diffusion import load_checkpoint
    from generec_desktop.mcvd.workspace import train_workspace_mcvd

    kw = dict(batch_size=2, lr=1e-3, config_overrides=TINY)
    with _open(mcvd_ws) as ws:
        full = train_workspace_mcvd(ws, steps=5, checkpoint_dir=tmp_path / "a", **kw)
        cancel = CancelToken()

        def stop_after_two(fraction: float, message: str) -> None:
            if message.startswith("step 2/"):
                cancel.cancel()

        with pytest.raises(Cancelled):
            train_workspace_mcvd(ws, steps=5, checkpoint_dir=tmp_path / "b", progress=stop_after_two,
                                 cancel=cancel, **kw)
        again = train_workspace_mcvd(ws, steps=5, checkpoint_dir=tmp_path / "b", resume=True, batch_size=2,
                                     lr=1e-3)
    assert again.resumed_from == 2
    runs = json.loads((tmp_path / "b" / "training.json").read_text())
    assert [(r["from_step"], r["to_step"], r["cancelled"]) for r in runs] == [(0, 2, True), (2, 5, False)]
    assert np.allclose(again.losses, full.losses, rtol=1e-5, atol=1e-6)
    a, b = load_checkpoint(tmp_path / "a"), load_checkpoint(tmp_path / "b")
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values()):
        assert np.allclose(p.numpy(), q.numpy(), atol=1e-5), name


def test_discovery_order_and_errors(mcvd_ws, tmp_path, monkeypatch) -> None:
    from generec_desktop.mcvd import workspace as wm

    ws_ckpt = mcvd_ws.root / "models" / "mcvd"
    repo = tmp_path / "repo_models"
    shutil.copytree(ws_ckpt, repo / "mcvd-demo")
    monkeypatch.setattr(wm, "REPO_MODELS_DIR", repo)
    with _open(mcvd_ws) as ws:
        src = wm.condition_source(ws)
    assert wm.find_mcvd_checkpoint(mcvd_ws.root, source=src) == ws_ckpt
    assert wm.find_mcvd_checkpoint(tmp_path / "empty_ws", source=src) == repo / "mcvd-demo"  # repo fallback
    assert wm.find_mcvd_checkpoint(mcvd_ws.root, explicit=repo / "mcvd-demo") == repo / "mcvd-demo"
    src.vectors = src.vectors[:, :16]  # another encoder's width: the shipped model does not fit
    with pytest.raises(DiffusionError, match="train mcvd"):
        wm.find_mcvd_checkpoint(tmp_path / "empty_ws", source=src)
    with pytest.raises(DiffusionError, match="not an MCVD checkpoint"):
        wm.find_mcvd_checkpoint(mcvd_ws.root, explicit=tmp_path)
    with pytest.raises(DiffusionError, match="condition"):
        wm.find_mcvd_checkpoint(mcvd_ws.root, condition="clip")


def test_cli_train_resume_json(mcvd_ws, tmp_path, capsys) -> None:
    from generec_desktop.cli import main

    copy = tmp_path / "ws"
    shutil.copytree(mcvd_ws.root, copy)
    steps = mcvd_ws.train_steps + 2
    assert main(["train", "mcvd", str(copy), "--steps", str(steps), "--resume", "--batch", "2", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["steps"] == steps and doc["resumed_from"] == mcvd_ws.train_steps
    assert doc["config"]["size"] == 32
    assert main(["train", "mcvd", str(tmp_path / "nowhere"), "--steps", "2"]) == 2


def test_shipped_demo_checkpoint_is_small_and_fits_the_builtin_encoder() -> None:
    from generec_desktop.diffusion import load_checkpoint, revise
    from generec_desktop.diffusion.checkpoint import read_checkpoint_info
    from generec_desktop.encoders import get_encoder
    from generec_desktop.mcvd.workspace import REPO_MODELS_DIR

    folder = REPO_MODELS_DIR / "mcvd-demo"
    if not (folder / "config.json").is_file():
        pytest.skip(f"no shipped checkpoint in {folder} (a trimmed install)")
    files = {p.name: p.stat().st_size for p in folder.iterdir()}
    assert {"model.safetensors", "config.json", "MODEL_CARD.md"} <= set(files)
    assert files["model.safetensors"] <= 25 * 2**20 and "train_state.safetensors" not in files
    info = read_checkpoint_info(folder)
    assert info["config"]["extra"]["encoder_id"] == get_encoder("builtin").id
    model = load_checkpoint(folder)
    assert model.config.user_dim == get_encoder("builtin").dim and model.config.size == 64
    rng = np.random.default_rng(0)
    clip = rng.integers(0, 256, (4, 64, 64, 3), dtype=np.uint8)
    out = revise(model, clip, user_vector=rng.standard_normal(model.config.user_dim), strength=0.3, steps=3)
    assert out.shape == clip.shape and out.dtype == np.uint8


def test_audience_score_prefers_frames_that_look_like_the_audience() -> None:
    """The guidance score of an audience vector ranks frames like the encoder's cosine on its smooth blocks:
    a photo scores highest against its own embedding; with a centre it is what sets the audience apart."""
    import cv2
    import torch
    from skimage import data

    from generec_desktop.encoders.builtin import BuiltinEncoder
    from generec_desktop.mcvd.workspace import audience_score

    photos = [cv2.resize(im, (64, 64), interpolation=cv2.INTER_AREA) for im in (data.astronaut(), data.coffee())]
    emb = BuiltinEncoder().encode_images(photos)
    frames = torch.from_numpy(np.stack(photos).transpose(0, 3, 1, 2).astype(np.float32) / 127.5 - 1.0)
    assert audience_score(emb[0], "open_clip:ViT-B-32") is None  # no torch version of that encoder here
    for k in range(2):
        score = audience_score(emb[k], "builtin-v1", emb.mean(0))
        own, other = float(score(frames[k : k + 1])), float(score(frames[1 - k : 2 - k]))
        assert own > other, (k, own, other)
