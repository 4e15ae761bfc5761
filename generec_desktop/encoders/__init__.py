"""Visual encoders: frames -> L2-normalised float32 vectors (DESIGN §5), and an embedding cache.

Public API (contract in docs/ARCHITECTURE.md):

- ``Encoder`` protocol: ``id``, ``dim``, ``encode_images(images, *, batch_size=32) -> (N, dim)``,
  ``encode_text(texts) -> (N, dim) | None``
- ``get_encoder(name="builtin", *, workspace_root=None, weights=None) -> Encoder``: "builtin",
  "open_clip" (first weights found), "open_clip:<model>", an encoder id "open_clip:<model>:<sha8>"
- ``BuiltinEncoder`` (``builtin-v1``, 409-d, no weights) and ``OpenClipEncoder`` (any open_clip model)
- ``list_weights(workspace_root=None) -> list[WeightsCandidate]``; ``find_weights(name, ...)``;
  ``file_sha256(path)`` (cached by path + size + mtime)
- ``encode_video(encoder, path, *, sha256, rate=None, timestamps=None, cache_dir, batch_size=32,
  progress=None, cancel=None) -> FrameEmbeddings(timestamps, embeddings, encoder_id, from_cache)``
- ``text_vector(encoder, text, *, required=True) -> (dim,) | None``: a description in the image space
  (text tower only; a clear error otherwise); ``has_text_tower(encoder)``; ``combine(vectors, weights)``
- ``onnx``: the ONNX Runtime image tower (fp32/int8) an ``OpenClipEncoder`` picks on CPU (``backend=``)
- ``hub``/``catalog``: ``plan_download(name)`` + ``download_model(plan, accept_licence=True)`` — getting
  open_clip checkpoints from the Hugging Face hub when a user asks (``generec models get``)
- ``EncoderError`` (a ``GenerecError``)

Attributes are imported on first use (PEP 562), so importing this package loads neither numpy
nor torch; open_clip/torch are imported only when an open_clip encoder is built.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from generec_desktop.encoders.base import Encoder, EncoderError, l2_normalize
    from generec_desktop.encoders.builtin import BUILTIN_ID, BuiltinEncoder
    from generec_desktop.encoders.cache import FrameEmbeddings, embedding_cache_path, encode_video
    from generec_desktop.encoders.clip import OpenClipEncoder
    from generec_desktop.encoders.discovery import WeightsCandidate, file_sha256, find_weights, list_weights
    from generec_desktop.encoders.registry import clear_encoder_cache, get_encoder
    from generec_desktop.encoders.text import combine, has_text_tower, text_vector

__all__ = [
    "BUILTIN_ID",
    "BuiltinEncoder",
    "Encoder",
    "EncoderError",
    "FrameEmbeddings",
    "OpenClipEncoder",
    "WeightsCandidate",
    "clear_encoder_cache",
    "combine",
    "embedding_cache_path",
    "encode_video",
    "file_sha256",
    "find_weights",
    "get_encoder",
    "has_text_tower",
    "l2_normalize",
    "list_weights",
    "text_vector",
]

_LAZY = {
    "Encoder": "base", "EncoderError": "base", "l2_normalize": "base",
    "BUILTIN_ID": "builtin", "BuiltinEncoder": "builtin",
    "FrameEmbeddings": "cache", "embedding_cache_path": "cache", "encode_video": "cache",
    "OpenClipEncoder": "clip",
    "WeightsCandidate": "discovery", "file_sha256": "discovery", "find_weights": "discovery",
    "list_weights": "discovery",
    "clear_encoder_cache": "registry", "get_encoder": "registry",
    "combine": "text", "has_text_tower": "text", "text_vector": "text",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
