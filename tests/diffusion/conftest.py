"""Shared tiny-model fixtures for the MCVD tests (32×32, ~0.2 M parameters, CPU, seconds)."""

from __future__ import annotations

import numpy as np
import pytest


def make_clips(n: int = 8, t: int = 6, size: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic clips whose content depends on the user: a bright square moving right, its colour set by the user.

    Returns clips (n, t, 3, size, size) in [-1, 1] and user vectors (n, 8) (one-hot of one of 2 users).
    """
    rng = np.random.default_rng(seed)
    clips = np.full((n, t, 3, size, size), -0.8, np.float32)
    users = np.zeros((n, 8), np.float32)
    colours = np.array([[1.0, -1.0, -1.0], [-1.0, -1.0, 1.0]], np.float32)
    for i in range(n):
        u = i % 2
        users[i, u] = 1.0
        y = int(rng.integers(0, size - 8))
        for k in range(t):
            x = (2 * k + int(rng.integers(0, 4))) % (size - 8)
            clips[i, k, :, y : y + 8, x : x + 8] = colours[u][:, None, None]
    return clips, users


@pytest.fixture(scope="package")
def data() -> tuple[np.ndarray, np.ndarray]:
    return make_clips()


@pytest.fixture(scope="package")
def trained(data, tmp_path_factory):
    """A tiny model trained for 40 steps, with its checkpoint folder."""
    from generec_desktop.diffusion import MCVDConfig, train_mcvd

    clips, users = data
    ckpt = tmp_path_factory.mktemp("mcvd") / "ckpt"
    result = train_mcvd(clips, users, config=MCVDConfig.tiny(), steps=40, batch_size=8, lr=2e-3, seed=0,
                        checkpoint_dir=ckpt)
    return result


@pytest.fixture(scope="package", autouse=True)
def _one_torch_thread():
    """Tiny models run fastest on one thread; two threads on a shared 2-core machine spin and run 10× slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
