"""The AI creator: MCVD creation of new videos per audience (the workspace glue is :mod:`generec_desktop.mcvd`).

Public API (heavy libraries load on first use)::

    create_video(ws, *, audience, out_path, n_frames=16, size=256, guidance_scale=2.0, steps=25, seed=0,
                 instruction=None, condition="user_hist", checkpoint=None, progress, cancel) -> CreateResult
    create_frames(ws, *, audience, n_frames, ...) -> (uint8 frames (T, 64, 64, 3), fps, checkpoint folder)
    CreatorError(GenerecError)
"""

from __future__ import annotations

import importlib
from typing import Any

from generec_desktop.jobs import GenerecError

__all__ = ["CreateResult", "CreatorError", "create_frames", "create_video"]


class CreatorError(GenerecError):
    """Bad input to creation (frame count, size, an instruction the model cannot take)."""


def __getattr__(name: str) -> Any:
    if name in ("CreateResult", "create_frames", "create_video"):
        value = getattr(importlib.import_module(f"{__name__}.create"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
