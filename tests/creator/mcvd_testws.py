"""A tiny workspace for the MCVD product tests: 4 short videos in two colour groups, 8 users, profiles,
and a tiny MCVD model (32×32) trained on it for a few seconds. Built once per test process."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

#: A very small model so the product tests run in seconds (the shipped one is 64×64, 2.8 M parameters).
TINY = dict(size=32, n_cond=2, n_pred=2, block_out_channels=(16, 32), attention_levels=(False, True),
            attention_head_dim=8, norm_num_groups=8, ema_decay=0.9)
COLOURS = ((230, 40, 40), (40, 60, 230))  # group 0 red, group 1 blue


@dataclass
class McvdWorkspace:
    root: Path
    item_group: dict[int, int]       # item id -> colour group
    user_group: dict[int, int]       # corpus user id -> group
    train_steps: int


def _frames(group: int, n: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        img = np.clip(110 + rng.normal(0, 12, (48, 64, 3)), 0, 255).astype(np.uint8)
        x = (4 + 3 * k) % 40
        img[12:36, x : x + 20] = COLOURS[group]
        out.append(img)
    return out


_CACHE: dict[str, McvdWorkspace] = {}


def mcvd_workspace(base: Path) -> McvdWorkspace:
    """Build (once per process) the workspace under ``base`` and train its tiny model to W/models/mcvd."""
    if "ws" in _CACHE:
        return _CACHE["ws"]
    import mediagen
    import torch

    from generec_desktop.corpus import Workspace
    from generec_desktop.mcvd.workspace import train_workspace_mcvd
    from generec_desktop.profiles import build_profiles

    torch.set_num_threads(1)
    src = base / "src"
    src.mkdir(parents=True, exist_ok=True)
    paths = []
    for v in range(4):
        p = mediagen.make_video(src / f"v{v}.mp4", width=64, height=48, fps=8, frames=_frames(v % 2, 24, v),
                                audio=(v == 0))
        paths.append(p)
    ws = Workspace.create(base / "ws")
    ws.import_media(paths)
    items = sorted(ws.items(), key=lambda it: it.original_name or "")
    item_group = {it.id: i % 2 for i, it in enumerate(items)}
    users = ws.add_users([f"u{u}" for u in range(8)])
    user_group = {u.id: i % 2 for i, u in enumerate(users)}
    ws.add_interactions([(u, it, None, 1.0) for u, g in user_group.items() for it, h in item_group.items()
                         if g == h])
    build_profiles(ws, n_segments=2)
    steps = 30
    train_workspace_mcvd(ws, steps=steps, batch_size=4, lr=2e-3, config_overrides=TINY)
    ws.close()
    _CACHE["ws"] = McvdWorkspace(base / "ws", item_group, user_group, steps)
    return _CACHE["ws"]


# ----------------------------------------------------------------------------- fixtures shared by conftests
# (tests/creator, tests/mcvd and tests/evaluation import these two, so the workspace is built once per process)


@pytest.fixture(scope="package")
def mcvd_ws(tmp_path_factory: pytest.TempPathFactory) -> McvdWorkspace:
    return mcvd_workspace(tmp_path_factory.mktemp("mcvd_ws"))


@pytest.fixture(scope="package")
def one_torch_thread() -> object:
    """Tiny models run fastest on one thread on the shared 2-core machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
