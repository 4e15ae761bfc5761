"""Fixtures of the fidelity check/export tests: real photos and clips, a workspace with one original."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mediagen


@pytest.fixture(scope="session")
def fdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fidelity-media")


@pytest.fixture(scope="session")
def astronaut_png(fdir: Path) -> Path:
    from PIL import Image
    from skimage import data

    path = fdir / "astronaut.png"
    Image.fromarray(data.astronaut()).save(path)
    return path


@pytest.fixture(scope="session")
def small_clip(fdir: Path) -> Path:
    """20 frames (0.8 s) panning over scikit-image's real photos, 320x240, H.264."""
    from generec_desktop import media

    path = fdir / "small.mp4"
    media.encode_frames(mediagen.photo_frames(20, 320, 240), path, fps=25)
    return path


@pytest.fixture(scope="session")
def bunny() -> Path:
    return mediagen.bigbuckbunny()


def sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def ws_item(tmp_path: Path, small_clip: Path):
    """A workspace with the small clip imported (owner ann, CC-BY-4.0) and a styled pending version."""
    from generec_desktop import media
    from generec_desktop.corpus import Workspace
    from generec_desktop.fidelity.export import create_pending

    ws = Workspace.create(tmp_path / "ws")
    item = ws.import_media(small_clip, owner="ann", licence="CC-BY-4.0").items[0]
    styled = tmp_path / "styled.mp4"
    media.transform_video(small_clip, styled, lambda f, t: np.clip(f.astype(np.int16) + 12, 0, 255).astype(np.uint8))
    pv = create_pending(ws, styled, operation="style", parent_id=item.id, params={"style": "brighten"},
                        target_profile="segment:0", models=[{"id": "builtin-v1", "weights_sha256": None}])
    yield ws, item, pv
    ws.close()
