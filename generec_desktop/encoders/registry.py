"""``get_encoder``: an encoder by name, loaded once per process."""

from __future__ import annotations

import threading
from pathlib import Path

from generec_desktop.encoders.base import Encoder, EncoderError
from generec_desktop.encoders.builtin import BUILTIN_ID

__all__ = ["clear_encoder_cache", "get_encoder"]

_LOCK = threading.Lock()
_LOADED: dict[tuple[object, ...], Encoder] = {}


def _parse(name: str) -> tuple[str, str | None, str | None]:
    """``(kind, model, sha8)`` from "builtin", "open_clip", "open_clip:<model>[:<sha8>]" or "<model>"."""
    name = (name or "builtin").strip()
    if name in ("builtin", BUILTIN_ID):
        return "builtin", None, None
    if name == "open_clip":
        return "open_clip", None, None
    if name.startswith("open_clip:"):
        rest = name[len("open_clip:") :]
        model, _, sha8 = rest.partition(":")
        if not model:
            raise EncoderError("Give the open_clip model after the colon, e.g. 'open_clip:ViT-B-32'.")
        return "open_clip", model, sha8 or None
    if name.startswith("builtin"):
        raise EncoderError(f"Unknown built-in encoder '{name}'; this version provides '{BUILTIN_ID}'.")
    return "open_clip", name, None


def get_encoder(name: str = "builtin", *, workspace_root: Path | None = None,
                weights: Path | None = None, backend: str | None = None) -> Encoder:
    """The encoder ``name``: "builtin", "open_clip" (the first weights found), "open_clip:<model>",
    an encoder id "open_clip:<model>:<sha8>" (its weights must still be found), or a bare model name.

    open_clip weights are searched as DESIGN §5 says (see :mod:`.discovery`); a loaded model is
    reused for the same file (path, size, mtime), so calling this repeatedly is cheap. ``backend``
    (default ``$GENEREC_ENCODER_BACKEND``, else "auto") is how an open_clip image tower runs on CPU
    (:mod:`.onnx`: torch, onnx-fp32, onnx-int8).
    """
    kind, model, sha8 = _parse(name)
    if kind == "builtin":
        from generec_desktop.encoders.builtin import BuiltinEncoder

        with _LOCK:
            enc = _LOADED.get(("builtin",))
            if enc is None:
                enc = _LOADED[("builtin",)] = BuiltinEncoder()
            return enc

    from generec_desktop.encoders.discovery import find_weights
    from generec_desktop.encoders.onnx import requested_backend

    cand = find_weights(model, workspace_root=workspace_root, weights=weights)
    backend = requested_backend(backend)
    st = cand.path.stat()
    key = ("open_clip", cand.model_name, str(cand.path.resolve()), st.st_size, st.st_mtime_ns,
           tuple(sorted((k, str(v)) for k, v in cand.preprocess.items())), backend)
    with _LOCK:
        enc = _LOADED.get(key)
        if enc is None:
            from generec_desktop.encoders.clip import OpenClipEncoder

            enc = OpenClipEncoder(cand, backend=backend)
            _LOADED[key] = enc
    if sha8 and not enc.id.endswith(":" + sha8):
        raise EncoderError(
            f"The weights found for {model} ({cand.path}) are {enc.id}, not the requested {name}; "
            "restore the original file or re-encode with the new weights."
        )
    return enc


def clear_encoder_cache() -> None:
    """Forget loaded encoders (frees model memory; tests use it)."""
    with _LOCK:
        _LOADED.clear()
