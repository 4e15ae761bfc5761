"""MCVD with a tiny model: training, checkpoints, sampling, revision, cancel, transfer."""

from __future__ import annotations

import json
import struct
import subprocess
import sys

import numpy as np
import pytest

from generec_desktop.diffusion import (
    MCVD,
    DiffusionError,
    MCVDConfig,
    from_model_frames,
    load_checkpoint,
    revise,
    sample,
    save_checkpoint,
    train_mcvd,
    transfer_to_full_resolution,
)
from generec_desktop.jobs import Cancelled, CancelToken

from .conftest import make_clips


def test_package_import_does_not_load_torch() -> None:
    code = "import sys, generec_desktop.diffusion as d; d.MCVDConfig(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_config_json_round_trip_and_validation() -> None:
    cfg = MCVDConfig(n_future=2, instruction_dim=16)
    again = MCVDConfig.from_json(cfg.to_json())
    assert again == cfg and again.window == 10 and again.cond_dim == 80
    with pytest.raises(DiffusionError):
        MCVDConfig(block_out_channels=(64, 128), attention_levels=(False,))
    with pytest.raises(DiffusionError):
        MCVDConfig.from_json('{"size": 64, "colour": 1}')


def test_default_model_size_is_in_the_asked_range() -> None:
    n = MCVD(MCVDConfig()).num_parameters
    assert 5e6 <= n <= 15e6, n


def test_training_lowers_the_loss(trained) -> None:
    losses = trained.losses
    assert len(losses) == 40 and all(np.isfinite(losses))
    assert np.mean(losses[-10:]) < 0.6 * np.mean(losses[:5]), (losses[:5], losses[-10:])


def test_resume_continues_exactly(data, tmp_path) -> None:
    clips, users = data
    cfg = MCVDConfig.tiny()
    full = train_mcvd(clips, users, config=cfg, steps=6, batch_size=4, seed=3, checkpoint_dir=tmp_path / "a")
    train_mcvd(clips, users, config=cfg, steps=3, batch_size=4, seed=3, checkpoint_dir=tmp_path / "b")
    resumed = train_mcvd(clips, users, steps=6, batch_size=4, checkpoint_dir=tmp_path / "b", resume=True)
    assert resumed.resumed_from == 3
    np.testing.assert_allclose(resumed.losses, full.losses, rtol=1e-5)
    a, b = load_checkpoint(tmp_path / "a"), load_checkpoint(tmp_path / "b")
    for (k, va), (_, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        np.testing.assert_allclose(va.numpy(), vb.numpy(), atol=1e-5, err_msg=k)


def test_training_cancel_checkpoints_then_resumes(data, tmp_path) -> None:
    clips, users = data
    token = CancelToken()

    def progress(fraction: float, message: str) -> None:
        if fraction >= 0.5:
            token.cancel()

    with pytest.raises(Cancelled):
        train_mcvd(clips, users, config=MCVDConfig.tiny(), steps=4, batch_size=2, checkpoint_dir=tmp_path,
                   progress=progress, cancel=token)
    assert json.loads((tmp_path / "config.json").read_text())["step"] == 2
    result = train_mcvd(clips, users, steps=4, batch_size=2, checkpoint_dir=tmp_path, resume=True)
    assert result.resumed_from == 2 and len(result.losses) == 4


def test_training_rejects_bad_input() -> None:
    cfg = MCVDConfig.tiny()
    clips, users = make_clips(n=2, t=6)
    with pytest.raises(DiffusionError, match="frames"):
        train_mcvd(clips[:, :3], users, config=cfg, steps=1)
    with pytest.raises(DiffusionError, match="Condition vectors"):
        train_mcvd(clips, users[:, :5], config=cfg, steps=1)
    with pytest.raises(DiffusionError):
        train_mcvd(clips * 3, users, config=cfg, steps=1)


def test_training_from_a_batch_iterator() -> None:
    clips, users = make_clips(n=4, t=4)
    batches = ((clips, users) for _ in range(3))
    result = train_mcvd(batches, config=MCVDConfig.tiny(), steps=3)
    assert len(result.losses) == 3


def _safetensors_header(path) -> dict:
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8 : 8 + n])


def test_checkpoint_round_trips_through_safetensors(trained, tmp_path) -> None:
    model = trained.model
    save_checkpoint(model, tmp_path)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["config.json", "model.safetensors"]
    header = _safetensors_header(tmp_path / "model.safetensors")  # a safetensors file, not a pickle
    assert header["__metadata__"]["format"] == "generec-mcvd"
    loaded = load_checkpoint(tmp_path)
    assert loaded.config == model.config
    for (k, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert np.array_equal(a.numpy(), b.numpy()), k
    u = np.eye(8, dtype=np.float32)[0]
    s1 = sample(model, user_vector=u, n_frames=2, steps=3, seed=1)
    s2 = sample(loaded, user_vector=u, n_frames=2, steps=3, seed=1)
    np.testing.assert_array_equal(s1, s2)
    # training wrote the resume state as safetensors too
    assert "model.unet.conv_in.weight" in _safetensors_header(trained.checkpoint / "train_state.safetensors")


def test_damaged_checkpoint_raises_a_clear_error(trained, tmp_path) -> None:
    with pytest.raises(DiffusionError, match="not an MCVD checkpoint"):
        load_checkpoint(tmp_path)
    save_checkpoint(trained.model, tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(DiffusionError, match="do not load"):
        load_checkpoint(tmp_path)


@pytest.mark.parametrize("sampler", ["ddim", "dpm"])
def test_sampling_is_deterministic_for_a_seed(trained, sampler) -> None:
    u = np.eye(8, dtype=np.float32)[1]
    a = sample(trained.model, user_vector=u, n_frames=5, steps=4, seed=7, sampler=sampler)
    b = sample(trained.model, user_vector=u, n_frames=5, steps=4, seed=7, sampler=sampler)
    c = sample(trained.model, user_vector=u, n_frames=5, steps=4, seed=8, sampler=sampler)
    assert a.shape == (5, 3, 32, 32) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).mean() > 1e-3


def test_guidance_and_user_change_the_output(trained) -> None:
    m = trained.model
    u0, u1 = np.eye(8, dtype=np.float32)[:2]
    base = sample(m, user_vector=u0, n_frames=2, steps=4, seed=0, guidance_scale=1.0)
    guided = sample(m, user_vector=u0, n_frames=2, steps=4, seed=0, guidance_scale=3.0)
    other = sample(m, user_vector=u1, n_frames=2, steps=4, seed=0, guidance_scale=1.0)
    uncond = sample(m, user_vector=None, n_frames=2, steps=4, seed=0)
    for x in (guided, other, uncond):
        assert np.abs(x - base).mean() > 1e-3
    with pytest.raises(DiffusionError, match="user vector"):
        sample(m, user_vector=np.ones(5), n_frames=2, steps=2)


def test_every_block_sees_the_user_vector_and_the_past(trained) -> None:
    m = trained.model
    calls = []
    original = type(m).forward

    def spy(self, noisy, t, **kw):
        calls.append((kw["cond"], bool(kw["past_on"][0]), kw["drop"]))
        return original(self, noisy, t, **kw)

    u = np.eye(8, dtype=np.float32)[0]
    type(m).forward = spy
    try:
        sample(m, user_vector=u, n_frames=6, steps=2, seed=0, guidance_scale=2.0)  # 3 blocks of 2
    finally:
        type(m).forward = original
    assert len(calls) == 6
    for cond, _, drop in calls:
        assert cond is not None and cond.shape[0] == 2 and drop.tolist() == [False, True]
    assert [p for _, p, _ in calls] == [False, False, True, True, True, True]


def test_revise_strength_zero_returns_the_input(trained) -> None:
    clips, users = make_clips(n=1, t=6, seed=5)
    x = clips[0]
    out = revise(trained.model, x, user_vector=users[0], strength=0.0, steps=10)
    np.testing.assert_array_equal(out, x)
    u8 = from_model_frames(x)
    out8 = revise(trained.model, u8, user_vector=users[0], strength=0.0, steps=10)
    assert out8.dtype == np.uint8
    np.testing.assert_array_equal(out8, u8)


def test_revise_changes_more_with_more_strength(trained) -> None:
    clips, users = make_clips(n=2, t=5, seed=9)
    x = clips[0]
    other_user = users[1]
    diffs = []
    for strength in (0.2, 0.6, 1.0):
        out = revise(trained.model, x, user_vector=other_user, strength=strength, steps=10, seed=0)
        assert out.shape == x.shape and np.isfinite(out).all()
        diffs.append(float(np.abs(out - x).mean()))
    assert diffs[0] < diffs[2] and diffs[0] > 0, diffs
    a = revise(trained.model, x, user_vector=other_user, strength=0.6, steps=10, seed=4)
    b = revise(trained.model, x, user_vector=other_user, strength=0.6, steps=10, seed=4)
    np.testing.assert_array_equal(a, b)
    c = revise(trained.model, x, user_vector=other_user, strength=0.6, steps=10, seed=4, sampler="dpm")
    d = revise(trained.model, x, user_vector=other_user, strength=0.6, steps=10, seed=4, sampler="dpm")
    np.testing.assert_array_equal(c, d)
    assert np.abs(c - a).mean() < np.abs(c - x).mean() + 0.5  # same noise level and model: similar results
    with pytest.raises(DiffusionError, match="strength"):
        revise(trained.model, x, user_vector=other_user, strength=1.5)
    with pytest.raises(DiffusionError, match="32×32"):
        revise(trained.model, np.zeros((4, 3, 16, 16), np.float32), user_vector=other_user, strength=0.5)


def test_cancel_mid_sampling(trained) -> None:
    token = CancelToken()
    seen = []

    def progress(fraction: float, message: str) -> None:
        seen.append(fraction)
        if len(seen) == 3:
            token.cancel()

    u = np.eye(8, dtype=np.float32)[0]
    with pytest.raises(Cancelled):
        sample(trained.model, user_vector=u, n_frames=8, steps=5, seed=0, progress=progress, cancel=token)
    assert len(seen) == 3  # stopped at the next step, long before the 20 steps of 4 blocks
    token2 = CancelToken()
    with pytest.raises(Cancelled):
        revise(trained.model, make_clips(n=1)[0][0], user_vector=u, strength=0.5, steps=10,
               progress=lambda f, m: token2.cancel(), cancel=token2)


def test_interpolation_with_a_future_frame_model() -> None:
    from generec_desktop.diffusion import interpolate

    cfg = MCVDConfig.tiny(n_future=1)
    clips, users = make_clips(n=4, t=6)
    result = train_mcvd(clips, users, config=cfg, steps=2, batch_size=2)
    out = interpolate(result.model, clips[0, :2], clips[0, 4:5], user_vector=users[0], steps=3)
    assert out.shape == (2, 3, 32, 32)
    with pytest.raises(DiffusionError, match="interpolate"):
        interpolate(MCVD(MCVDConfig.tiny()), clips[0, :2], clips[0, 4:5], user_vector=users[0])


def test_transfer_to_full_resolution() -> None:
    rng = np.random.default_rng(0)
    full = rng.integers(20, 236, (3, 90, 160, 3), dtype=np.uint8)
    lo = rng.integers(0, 256, (3, 16, 16, 3), dtype=np.uint8)
    # no change -> the original, bit for bit
    np.testing.assert_array_equal(transfer_to_full_resolution(full, lo, lo), full)
    # a uniform +10 change -> +10 everywhere (no saturation in this range)
    shifted = np.clip(lo.astype(int) + 10, 0, 255).astype(np.uint8)
    lo_safe = np.clip(lo, 0, 245).astype(np.uint8)
    out = transfer_to_full_resolution(full, lo_safe, lo_safe + 10)
    np.testing.assert_array_equal(out.astype(int) - full, 10)
    # against a float reference (bilinear upsampling of the difference), within half a level + rounding
    import cv2

    out = transfer_to_full_resolution(full, lo, shifted[::-1])
    for i in range(3):
        d = shifted[::-1][i].astype(np.float32) - lo[i].astype(np.float32)
        ref = np.clip(full[i] + cv2.resize(d, (160, 90), interpolation=cv2.INTER_LINEAR), 0, 255)
        assert np.abs(out[i] - ref).max() <= 1.0
    # float model frames are accepted too
    lo_float = lo.transpose(0, 3, 1, 2) / 127.5 - 1
    out_f = transfer_to_full_resolution(full, lo_float, lo_float)
    np.testing.assert_array_equal(out_f, full)
    with pytest.raises(DiffusionError, match="must match"):
        transfer_to_full_resolution(full[:2], lo, lo)


def test_keyframe_stride_revises_the_key_frames_and_interpolates_the_change(trained) -> None:
    """Stride 2: the model sees frames 0, 2, 4, … only (half the blocks), exactly as if it had been given them
    alone; a frame between two keys gets the mean of their changes, frames after the last key keep its change."""
    from generec_desktop.diffusion.sampling import keyframe_indices

    assert keyframe_indices(7, 2).tolist() == [0, 2, 4, 6]
    assert keyframe_indices(8, 2).tolist() == [0, 2, 4, 6]
    assert keyframe_indices(5, 1).tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(DiffusionError, match="keyframe_stride"):
        keyframe_indices(5, 0)
    clips, users = make_clips(n=1, t=8, seed=3)
    x, u = clips[0], users[0]
    blocks = []
    m = trained.model
    original = type(m).forward

    def spy(self, noisy, t, **kw):
        blocks.append(noisy.shape[0])
        return original(self, noisy, t, **kw)

    type(m).forward = spy
    try:
        strided = revise(m, x, user_vector=u, strength=0.5, steps=4, seed=2, keyframe_stride=2)
    finally:
        type(m).forward = original
    assert len(blocks) == 2 * 2  # 4 key frames = 2 blocks of n_pred 2, 2 steps each (not 4 blocks)
    keys_only = revise(m, x[::2], user_vector=u, strength=0.5, steps=4, seed=2)
    np.testing.assert_allclose(strided[::2], keys_only, atol=1e-6)
    change = strided - x
    np.testing.assert_allclose(strided[1], np.clip(x[1] + (change[0] + change[2]) / 2, -1, 1), atol=1e-5)
    np.testing.assert_allclose(strided[7], np.clip(x[7] + change[6], -1, 1), atol=1e-5)
    assert np.abs(change[1]).mean() > 0.01


def test_sampling_runs_on_the_asked_threads_and_restores_the_setting(trained) -> None:
    import torch

    seen = []
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        x = make_clips(n=1, t=4, seed=1)[0][0]
        revise(trained.model, x, user_vector=np.eye(8, dtype=np.float32)[0], strength=0.5, steps=4,
               progress=lambda f, m: seen.append(torch.get_num_threads()) if m.startswith("denoising") else None)
        assert set(seen) == {1}  # the default: one thread while denoising (SAMPLING_THREADS)
        assert torch.get_num_threads() == 2  # the caller's setting is back
        seen.clear()
        sample(trained.model, user_vector=None, n_frames=2, steps=2, threads=None,
               progress=lambda f, m: seen.append(torch.get_num_threads()) if m.startswith("denoising") else None)
        assert set(seen) == {2}  # None: left as it is
        with pytest.raises(DiffusionError, match="threads"):
            sample(trained.model, user_vector=None, n_frames=2, steps=2, threads=0)
    finally:
        torch.set_num_threads(before)


def test_audience_score_guidance_moves_the_clean_frames_up_the_score(trained) -> None:
    """Classifier guidance by a differentiable score (here: how red the frames are) raises that score of the
    revision, more with more weight; weight 0 is exactly the unguided revision."""
    import torch

    calls = []

    def redness(frames: torch.Tensor) -> torch.Tensor:
        calls.append(frames.shape)
        return (frames[:, 0] - frames[:, 1:].mean(1)).mean()

    x = make_clips(n=1, t=4, seed=6)[0][0]
    u = np.eye(8, dtype=np.float32)[1]
    plain = revise(trained.model, x, user_vector=u, strength=0.6, steps=5, seed=3)
    same = revise(trained.model, x, user_vector=u, strength=0.6, steps=5, seed=3, audience_score=redness,
                  audience_weight=0.0)
    np.testing.assert_array_equal(plain, same)
    assert calls == []  # weight 0: the score is never evaluated

    def red(a: np.ndarray) -> float:
        return float((a[:, 0] - a[:, 1:].mean(1)).mean())

    scores = [red(revise(trained.model, x, user_vector=u, strength=0.6, steps=5, seed=3, audience_score=redness,
                         audience_weight=w, chroma_noise=0.0)) for w in (0.0, 0.05, 0.2)]
    assert scores[0] < scores[1] < scores[2], scores
    assert calls and calls[0] == (2, 3, 32, 32)  # one block of n_pred clean frames per step
    with pytest.raises(DiffusionError, match="guidance weight"):
        revise(trained.model, x, user_vector=u, strength=0.6, steps=5, audience_score=redness, audience_weight=-1)
