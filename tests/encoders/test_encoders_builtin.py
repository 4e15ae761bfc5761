"""The built-in descriptor: contract, determinism, input handling, and that it separates real photos."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from generec_desktop.encoders import BuiltinEncoder, Encoder, EncoderError, get_encoder
from generec_desktop.encoders.builtin import BLOCK_DIMS, BLOCK_WEIGHTS


@functools.lru_cache(maxsize=1)
def _photos() -> dict[str, np.ndarray]:
    """Real photos that ship with scikit-image / scikit-learn, by content class."""
    from skimage import data
    from sklearn.datasets import load_sample_images

    def rgb(a: np.ndarray) -> np.ndarray:
        a = a.astype(np.uint8) * 255 if a.dtype == bool else a
        return a[..., :3] if a.ndim == 3 else np.repeat(a[..., None], 3, axis=2)

    names = ["astronaut", "camera", "chelsea", "horse", "coffee", "hubble_deep_field", "moon", "rocket",
             "brick", "grass", "gravel", "clock", "coins", "page", "text", "retina", "immunohistochemistry",
             "colorwheel", "logo"]
    out = {n: rgb(getattr(data, n)()) for n in names}
    china, flower = load_sample_images().images
    out["china"], out["flower"] = china, flower
    return out


def _views(img: np.ndarray, k: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``k`` different crops (50–90 % of each side), random flips and brightness changes of ``img``."""
    import cv2

    h, w = img.shape[:2]
    out = []
    for _ in range(k):
        f = rng.uniform(0.5, 0.9)
        ch, cw = int(h * f), int(w * f)
        y, x = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
        v = img[y : y + ch, x : x + cw]
        if rng.random() < 0.5:
            v = v[:, ::-1]
        v = np.clip(v.astype(np.float32) * rng.uniform(0.85, 1.15), 0, 255).astype(np.uint8)
        out.append(cv2.resize(np.ascontiguousarray(v), (224, 224), interpolation=cv2.INTER_AREA))
    return out


def _eq1_accuracy(embed, views: dict[str, list[np.ndarray]]) -> float:
    """Eq. 1 leave-one-out: user vector = normalised mean of a source's other views; is the held-out
    view of that source the argmax of cosine among the held-out views of every source?"""
    e = {k: embed(v) for k, v in views.items()}
    keys = list(e)
    k_views = len(next(iter(views.values())))
    hits = 0
    for key in keys:
        for j in range(k_views):
            u = np.delete(e[key], j, axis=0).mean(axis=0)
            u /= np.linalg.norm(u)
            scores = [float(e[q][j] @ u) for q in keys]
            hits += keys[int(np.argmax(scores))] == key
    return hits / (len(keys) * k_views)


def test_contract_shape_norm_dtype() -> None:
    enc = get_encoder("builtin")
    assert isinstance(enc, Encoder) and isinstance(enc, BuiltinEncoder)
    assert enc.id == "builtin-v1" and enc.dim == sum(BLOCK_DIMS.values()) >= 256
    assert abs(sum(BLOCK_WEIGHTS.values()) - 1.0) < 1e-9
    rng = np.random.default_rng(1)
    imgs = [rng.integers(0, 256, (224, 224, 3), dtype=np.uint8) for _ in range(5)]
    x = enc.encode_images(imgs)
    assert x.shape == (5, enc.dim) and x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    assert enc.encode_text(["a cat"]) is None
    assert enc.encode_images([]).shape == (0, enc.dim)


def test_deterministic_and_batch_independent() -> None:
    photos = _photos()
    imgs = [photos[k] for k in ("astronaut", "coffee", "brick", "rocket", "china")]
    a = BuiltinEncoder().encode_images(imgs, batch_size=32)
    b = BuiltinEncoder().encode_images(imgs, batch_size=2)
    assert np.array_equal(a, BuiltinEncoder().encode_images(imgs))
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_accepts_grey_rgba_float_and_any_size() -> None:
    enc = BuiltinEncoder()
    rng = np.random.default_rng(2)
    rgb = rng.integers(0, 256, (37, 91, 3), dtype=np.uint8)
    grey = rgb[..., 0]
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    x = enc.encode_images([rgb, grey, rgba, rgb.astype(np.float32) / 255.0, np.zeros((1080, 1920, 3), np.uint8)])
    np.testing.assert_allclose(x[0], x[2], atol=1e-6)  # alpha dropped
    np.testing.assert_allclose(x[0], x[3], atol=1e-2)  # float [0, 1] is the same picture
    assert np.all(np.isfinite(x))
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)  # even a black frame


@pytest.mark.parametrize("bad", [np.zeros((10,), np.uint8), np.zeros((4, 4, 2), np.uint8), np.array(["x"])])
def test_bad_input_raises_encoder_error(bad: np.ndarray) -> None:
    with pytest.raises(EncoderError, match="Image 1"):
        BuiltinEncoder().encode_images([np.zeros((8, 8, 3), np.uint8), bad])


def test_separates_real_photos_better_than_pixels() -> None:
    """Eq. 1 on 21 real photos × 6 augmented views: the descriptor must find the right source for
    most views, and clearly beat a raw 8×8 thumbnail baseline on the same task."""
    import cv2

    rng = np.random.default_rng(0)
    views = {k: _views(v, 6, rng) for k, v in _photos().items()}
    enc = BuiltinEncoder()
    acc = _eq1_accuracy(enc.encode_images, views)

    def pixels(imgs: list[np.ndarray]) -> np.ndarray:
        x = np.stack([cv2.resize(i, (8, 8), interpolation=cv2.INTER_AREA).ravel() for i in imgs]).astype(np.float32)
        x -= x.mean(axis=1, keepdims=True)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    baseline = _eq1_accuracy(pixels, views)
    print(f"Eq.1 view retrieval: builtin {acc:.3f}, 8x8 pixels {baseline:.3f}")
    assert acc >= 0.9
    assert acc >= baseline + 0.15


def test_eq1_picks_the_frame_of_the_liked_content_class() -> None:
    """A user who liked textures gets a texture frame; one who liked people gets the person, etc."""
    rng = np.random.default_rng(3)
    photos = _photos()
    classes = {"people": "astronaut", "animals": "chelsea", "food": "coffee", "space": "hubble_deep_field",
               "textures": "gravel"}
    enc = BuiltinEncoder()
    liked = {c: enc.encode_images(_views(photos[name], 5, rng)) for c, name in classes.items()}
    frames = enc.encode_images([_views(photos[name], 1, rng)[0] for name in classes.values()])
    for i, c in enumerate(classes):
        u = liked[c].mean(axis=0)
        u /= np.linalg.norm(u)
        assert int(np.argmax(frames @ u)) == i, c


def test_centring_makes_unrelated_content_not_similar() -> None:
    """Without centring all positive histograms have cosine near 1; ours keeps unrelated photos apart."""
    photos = _photos()
    x = BuiltinEncoder().encode_images([photos["coffee"], photos["hubble_deep_field"], photos["gravel"]])
    sims = x @ x.T
    assert sims[0, 1] < 0.3 and sims[0, 2] < 0.3


def test_skin_proxy_responds_to_a_face_not_to_space_or_coffee() -> None:
    photos = _photos()
    face = photos["astronaut"][60:200, 170:300]
    blocks = BuiltinEncoder().describe_blocks([face, photos["hubble_deep_field"], photos["coffee"], photos["gravel"]])
    skin = np.linalg.norm(blocks["skin"], axis=1)
    assert skin[0] > 2 * skin[1:].max()


def test_lbp_labels_match_a_per_pixel_count_of_ones_and_transitions():
    """The byte-packed LBP with its label table gives the textbook riu2 labels, ties (>=) included."""
    from generec_desktop.encoders.builtin import _lbp_riu2_hist

    rng = np.random.default_rng(3)
    gray = rng.integers(0, 3, (2, 9, 11)).astype(np.float32)  # many equal neighbours
    offsets = [(-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1)]
    want = np.zeros((2, 10))
    for b in range(2):
        for y in range(1, 8):
            for x in range(1, 10):
                bits = [int(gray[b, y + dy, x + dx] >= gray[b, y, x]) for dy, dx in offsets]
                changes = sum(bits[k] != bits[k - 1] for k in range(8))
                want[b, sum(bits) if changes <= 2 else 9] += 1
    np.testing.assert_allclose(_lbp_riu2_hist(gray, False)[:, 0], want / (7 * 9))
