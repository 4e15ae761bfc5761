"""The built-in demo workspace: real sample media, simulated users, and the ground truth.

- ``build_demo_workspace(path, *, seed=0, n_videos=40, n_users=240, sample_videos=True,
  size=(640, 360), fps=25, progress=None, cancel=None) -> DemoResult``
- ``load_ground_truth(workspace_root) -> GroundTruth`` (segments/categories per item, hidden
  preferences per user; see :mod:`generec_desktop.demo.ground_truth`)
- ``CATEGORIES``, ``PHOTOS``, ``load_photo(name)``: the real photos and their categories (for judges
  that need reference images per category)
- ``DemoError``

Submodules: ``photos`` (catalogue), ``content`` (pure generator: plans, frames, audio, users, likes),
``build`` (writes the workspace through the media and corpus layers), ``ground_truth``.
Heavy libraries (numpy, OpenCV, PyAV, SQLAlchemy) are imported on first use, so importing this
package stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from generec_desktop.demo.photos import CATEGORIES, PHOTOS, DemoError, Photo, load_photo

if TYPE_CHECKING:
    from generec_desktop.demo.build import DemoResult, build_demo_workspace
    from generec_desktop.demo.ground_truth import GroundTruth, load_ground_truth

__all__ = [
    "CATEGORIES",
    "PHOTOS",
    "DemoError",
    "DemoResult",
    "GroundTruth",
    "Photo",
    "build_demo_workspace",
    "load_ground_truth",
    "load_photo",
]

_LAZY = {
    "build_demo_workspace": "build",
    "DemoResult": "build",
    "load_ground_truth": "ground_truth",
    "GroundTruth": "ground_truth",
}


def __getattr__(name: str) -> Any:
    # Submodule names differ from the attribute names, so importing a submodule never shadows one.
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
