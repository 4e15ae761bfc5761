"""Example pictures and videos for audiences built from examples (not from the demo).

Images are scikit-image's ``data`` photos written as PNG (lossless, so a test can embed the very same
pixels); videos are PyAV-generated from those photos (:func:`tests.mediagen.make_video`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry")


def photo(name: str) -> np.ndarray:
    """One of scikit-image's photos as (H, W, 3) uint8 RGB, at most 640 px a side (a library cover's size)."""
    from skimage import data

    img = np.asarray(getattr(data, name)())
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    img = img[..., :3]
    h, w = img.shape[:2]
    if max(h, w) > 640:
        import cv2

        s = 640 / max(h, w)
        img = cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(img, dtype=np.uint8)


def write_photos(folder: Path, names: tuple[str, ...] = PHOTOS[:3]) -> list[Path]:
    """Write ``names`` as ``<name>.png`` into ``folder`` (created); returns the paths."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for n in names:
        p = folder / f"{n}.png"
        Image.fromarray(photo(n)).save(p)
        out.append(p)
    return out


def write_video(path: Path, name: str = "rocket", *, n_frames: int = 12, size: tuple[int, int] = (96, 64)) -> Path:
    """A short H.264 video showing photo ``name`` (slightly shifting each frame)."""
    import cv2
    from mediagen import make_video

    w, h = size
    base = cv2.resize(photo(name), (w + 16, h), interpolation=cv2.INTER_AREA)
    frames = [np.ascontiguousarray(base[:, k % 16: k % 16 + w]) for k in range(n_frames)]
    path.parent.mkdir(parents=True, exist_ok=True)
    return make_video(path, width=w, height=h, frames=frames, fps=12)


def write_scenes_video(path: Path, names: tuple[str, ...] = ("astronaut", "coffee", "chelsea"), *,
                       seconds_each: float = 1.0, fps: int = 12, size: tuple[int, int] = (160, 96)) -> Path:
    """A video of several shots, one per photo in ``names`` (hard cuts between them), no audio."""
    import cv2
    from mediagen import make_video

    w, h = size
    frames = []
    for n in names:
        base = cv2.resize(photo(n), (w + 24, h), interpolation=cv2.INTER_AREA)
        frames += [np.ascontiguousarray(base[:, k % 24: k % 24 + w]) for k in range(round(seconds_each * fps))]
    path.parent.mkdir(parents=True, exist_ok=True)
    return make_video(path, width=w, height=h, frames=frames, fps=fps)


@contextmanager
def example_audiences_workspace(base: Path, *, size: tuple[int, int] = (160, 96), fps: int = 12) -> Iterator[Any]:
    """A brand-new workspace under ``base``: one three-shot video (astronaut, coffee, chelsea) and, as its only
    audiences, two built from examples ("Space fans": astronaut + rocket photos; "Cat people": chelsea)."""
    from generec_desktop.corpus import Workspace
    from generec_desktop.profiles import examples as ex

    with Workspace.create(base / "W") as ws:
        ws.import_media([write_scenes_video(base / "src" / "three-shots.mp4", size=size, fps=fps)])
        ex.add_audience(ws, "Space fans", write_photos(base / "space", ("astronaut", "rocket")))
        ex.add_audience(ws, "Cat people", write_photos(base / "cats", ("chelsea",)))
        yield ws
