"""An :class:`Encoder` over any open_clip model, loaded offline from a local weights file.

Imports torch and open_clip; ``generec_desktop.encoders`` imports this module only on demand. On CPU
the image tower of a CLIP-sized model runs through ONNX Runtime when it is installed (fp32 or int8,
chosen by measurement: :mod:`.onnx`); the text tower always runs on torch.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from generec_desktop.encoders.base import EncoderError, as_rgb_uint8, l2_normalize
from generec_desktop.encoders.discovery import WeightsCandidate, file_sha256

if TYPE_CHECKING:
    from generec_desktop.encoders.onnx import OnnxVision

__all__ = ["OpenClipEncoder"]


class OpenClipEncoder:
    """CLIP image (and text) embeddings; ``id`` is ``open_clip:<name>:<sha256[:8] of the weights>``.

    ``backend`` ("auto", "torch", "onnx-fp32", "onnx-int8"; default ``$GENEREC_ENCODER_BACKEND`` or auto)
    picks how the image tower runs; ``self.backend`` says which one does. ``id`` is the same for all of
    them (one embedding space: the ONNX paths agree with torch to a cosine of 0.999 / 0.98), while
    ``cache_id`` (what the embedding cache is keyed by) tells int8 apart.
    """

    #: a video's analysis encodes a near-repeat of a sample it has just encoded only once (a ViT-B-32 image
    #: costs ~40 ms on 2 cores, the built-in encoder's ~1 ms; ``editor.personalize.analysis.reuses_embedding``)
    reuse_similar_frames = True

    def __init__(self, candidate: WeightsCandidate, *, device: str = "cpu", backend: str | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never let a hub lookup hang (~46 s) offline
        import open_clip
        import torch

        self.candidate = candidate
        self.sha256 = file_sha256(candidate.path)
        self.id = f"open_clip:{candidate.name}:{self.sha256[:8]}"
        kwargs: dict[str, object] = {"device": device}
        if candidate.config_dir is None:
            kwargs["pretrained"] = str(candidate.path)
        if candidate.preprocess:
            kwargs["force_preprocess_cfg"] = dict(candidate.preprocess)
        try:
            model, _, preprocess = open_clip.create_model_and_transforms(candidate.model_name, **kwargs)
        except Exception as exc:  # state-dict mismatch, truncated file, bad config ...
            raise EncoderError(
                f"Could not load {candidate.path} as open_clip model '{candidate.name}' ({exc.__class__.__name__}: "
                f"{str(exc).splitlines()[0][:200] if str(exc) else ''}); check that the file matches the architecture."
            ) from exc
        model.eval()
        self._torch = torch
        self._model = model
        self._preprocess = preprocess
        self._device = device
        self._tokenizer = None
        with torch.inference_mode():
            size = getattr(model.visual, "image_size", 224)
            side = size[0] if isinstance(size, tuple | list) else int(size)
            probe = model.encode_image(torch.zeros(1, 3, side, side, device=device))
        self.dim = int(probe.shape[-1])
        self.side = side
        self.backend = "torch"
        self.backend_report: dict[str, object] = {}
        self._onnx: OnnxVision | None = None
        from generec_desktop.encoders import onnx

        requested = onnx.requested_backend(backend)
        if device == "cpu" and requested != "torch":
            n_params = sum(p.numel() for p in model.visual.parameters())
            self.backend, self._onnx, self.backend_report = onnx.choose_backend(
                requested, model=model, sha256=self.sha256, weights=candidate.path, side=side,
                torch_fn=self._torch_tower, preprocess=self._pixels_one, n_params=n_params)
        self.cache_id = self.id if self.backend != "onnx-int8" else f"{self.id}+int8"

    def _pixels_one(self, image: np.ndarray) -> np.ndarray:
        """One frame through open_clip's preprocessing, as a (3, side, side) float32 array."""
        from PIL import Image

        return self._preprocess(Image.fromarray(as_rgb_uint8(image))).numpy()

    def _torch_tower(self, pixels: np.ndarray) -> np.ndarray:
        torch = self._torch
        with torch.inference_mode():
            feats = self._model.encode_image(torch.from_numpy(np.ascontiguousarray(pixels)).to(self._device))
        return np.asarray(feats.float().cpu().numpy(), dtype=np.float32)

    def encode_images(self, images: Sequence[np.ndarray], *, batch_size: int = 32) -> np.ndarray:
        """``(N, dim)`` float32 unit rows; frames are uint8 RGB of any size (open_clip's preprocessing)."""
        from PIL import Image

        torch = self._torch
        out = np.empty((len(images), self.dim), dtype=np.float32)
        batch_size = max(1, int(batch_size))
        for start in range(0, len(images), batch_size):
            chunk = images[start : start + batch_size]
            tensors = [
                self._preprocess(Image.fromarray(as_rgb_uint8(img, start + i))) for i, img in enumerate(chunk)
            ]
            if self._onnx is not None:
                out[start : start + len(chunk)] = self._onnx(torch.stack(tensors).numpy())
                continue
            with torch.inference_mode():
                feats = self._model.encode_image(torch.stack(tensors).to(self._device))
            out[start : start + len(chunk)] = feats.float().cpu().numpy()
        return l2_normalize(out)

    def encode_text(self, texts: Sequence[str]) -> np.ndarray | None:
        """``(N, dim)`` float32 unit rows in the image space; ``None`` for a model without a text tower."""
        if not hasattr(self._model, "encode_text"):
            return None
        import open_clip

        torch = self._torch
        if self._tokenizer is None:
            try:
                self._tokenizer = open_clip.get_tokenizer(self.candidate.model_name)
            except Exception as exc:
                raise EncoderError(
                    f"The tokenizer of open_clip model '{self.candidate.name}' is not available offline ({exc})."
                ) from exc
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        with torch.inference_mode():
            tokens = self._tokenizer(list(texts)).to(self._device)
            feats = self._model.encode_text(tokens)
        return l2_normalize(feats.float().cpu().numpy())
