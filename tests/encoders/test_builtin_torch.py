"""The torch version of the built-in encoder's smooth blocks matches the encoder and has gradients."""

from __future__ import annotations

import numpy as np
import pytest


def _photos() -> list[np.ndarray]:
    import cv2
    from skimage import data

    return [cv2.resize(im, (64, 64), interpolation=cv2.INTER_AREA)
            for im in (data.astronaut(), data.coffee(), data.chelsea(), data.rocket())]


def _model_frames(images: list[np.ndarray]):
    import torch

    return torch.from_numpy(np.stack(images).transpose(0, 3, 1, 2).astype(np.float32) / 127.5 - 1.0)


def test_torch_blocks_match_the_builtin_encoder_on_photos() -> None:
    from generec_desktop.encoders.builtin import BuiltinEncoder
    from generec_desktop.encoders.builtin_torch import GUIDED_BLOCKS, partial_blocks, partial_dims, partial_embedding

    images = _photos()
    ref = BuiltinEncoder().describe_blocks(images)
    got = partial_blocks(_model_frames(images))
    for name in GUIDED_BLOCKS:
        # OpenCV's 8-bit Lab rounds to integers; the torch one does not
        np.testing.assert_allclose(got[name].numpy(), ref[name], atol=5e-3, err_msg=name)
        assert np.abs(ref[name]).max() > 0.03, name  # the blocks are not trivially zero
    emb = BuiltinEncoder().encode_images(images)
    dims = partial_dims()
    assert len(dims) == partial_embedding(_model_frames(images)).shape[1] == 96
    # the partial blocks are the encoder's dimensions up to the final L2 normalisation
    full = np.concatenate([ref[k] for k in ref], axis=1)
    scale = np.linalg.norm(full, axis=1, keepdims=True)
    np.testing.assert_allclose(emb[:, dims], full[:, dims] / scale, atol=1e-5)


def test_the_partial_embedding_has_useful_gradients() -> None:
    import torch

    from generec_desktop.encoders.builtin_torch import partial_embedding

    x = _model_frames(_photos()).requires_grad_(True)
    partial_embedding(x).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert float(x.grad.abs().mean()) > 1e-4


@pytest.mark.parametrize("size", [32, 96])
def test_other_sizes_are_resized(size: int) -> None:
    import torch

    from generec_desktop.encoders.builtin_torch import partial_embedding

    assert partial_embedding(torch.zeros(2, 3, size, size)).shape == (2, 96)
