"""The classic (no-weights) style filters, built from cheap OpenCV primitives.

Each filter is ``fn(rgb, state) -> rgb`` at full strength; :mod:`generec_desktop.editor.styles.stylize` blends
by strength and face mask. Speed at 720p on 2 cores comes from doing the expensive smoothing on a
downscaled copy (at most ``WORK_SIDE`` pixels on the long side) and from keeping full-resolution work
to uint8 OpenCV calls (``cv2.LUT``, ``cv2.addWeighted``, ``cv2.multiply``): one float32 pass over a
720p frame costs about as much as a whole bilateral filter at half size.

Temporal stability (a styled video must not flicker more than 1.5x its source) comes from:
soft (tanh) luminance quantisation and soft XDoG edges instead of hard steps (Winnemöller et al.,
"Real-time video abstraction", 2006); screen-space textures fixed per frame size (halftone screen,
paper, canvas, vignette); one palette per video with per-block hysteresis (pixel art); and source colour
statistics fixed per video or smoothed over time (personalised grade).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from generec_desktop.editor.styles.errors import StyleError

#: Long side of the copy on which the smoothing filters run.
WORK_SIDE = 640


@dataclass
class StyleState:
    """Per-video state shared by successive frames (caches, palettes, smoothed statistics)."""

    video: bool = False
    frame_index: int = 0
    references: list[np.ndarray] | None = None
    cache: dict[str, Any] = field(default_factory=dict)
    primed: list[np.ndarray] | None = None  # sample frames of the whole video (set by ``prime``)


# --------------------------------------------------------------------------------------- helpers


def downscale(rgb: np.ndarray, max_side: int = WORK_SIDE) -> np.ndarray:
    """``rgb`` shrunk (area filter) so its long side is at most ``max_side``; unchanged if smaller."""
    h, w = rgb.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1.0:
        return rgb
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def upscale(img: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``img`` resized (bilinear) to the height and width of ``shape``."""
    h, w = shape[:2]
    if img.shape[:2] == (h, w):
        return img
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)


def _cached(state: StyleState, key: str, shape: tuple[int, ...], make: Any) -> Any:
    full = f"{key}:{shape[0]}x{shape[1]}"
    if full not in state.cache:
        state.cache[full] = make()
    return state.cache[full]


def soft_quantise_lut(levels: int, sharpness: float) -> np.ndarray:
    """A 256-entry LUT quantising luminance to ``levels`` steps with tanh-soft transitions.

    Hard steps make a pixel jump a whole level when its value crosses a boundary by one grey level
    (flicker); the tanh ramp makes the output a continuous function of the input.
    """
    x = np.arange(256, dtype=np.float64)
    step = 255.0 / (levels - 1) if levels > 1 else 255.0
    nearest = np.round(x / step) * step
    y = nearest + (step / 2.0) * np.tanh(sharpness * (x - nearest) / step)
    return np.clip(y, 0, 255).astype(np.uint8)


def xdog_edges(gray_small: np.ndarray, sigma: float = 1.0, k: float = 1.6, tau: float = 0.98,
               eps: float = -2.0, phi: float = 0.6) -> np.ndarray:
    """Soft line map in [0, 255] (255 = no line) by the extended difference of Gaussians (XDoG)."""
    g = gray_small.astype(np.float32)
    g1 = cv2.GaussianBlur(g, (0, 0), sigma)
    g2 = cv2.GaussianBlur(g, (0, 0), sigma * k)
    d = g1 - tau * g2
    out = np.where(d >= eps, 1.0, 1.0 + np.tanh(phi * (d - eps)))
    return np.clip(out * 255.0, 0, 255).astype(np.uint8)


def multiply_gray(rgb: np.ndarray, gray: np.ndarray) -> np.ndarray:
    """``rgb * gray / 255`` per pixel, all in uint8."""
    return cv2.multiply(rgb, cv2.merge([gray, gray, gray]), scale=1.0 / 255.0)


def vignette(shape: tuple[int, ...], amount: float) -> np.ndarray:
    """A uint8 radial falloff (255 at the centre, ``255 * (1 - amount)`` in the corners)."""
    h, w = shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2
    v = 1.0 - amount * np.clip(r2 / 2.0, 0, 1) ** 1.2
    return (v * 255).astype(np.uint8)


def noise_texture(shape: tuple[int, ...], seed: int, blur: float, amount: float) -> np.ndarray:
    """A fixed uint8 texture around 255 (paper, canvas): seeded noise, blurred, scaled to ``amount``."""
    h, w = shape[:2]
    rng = np.random.default_rng(seed)
    n = rng.standard_normal((h, w)).astype(np.float32)
    if blur > 0:
        n = cv2.GaussianBlur(n, (0, 0), blur)
    n /= float(n.std()) + 1e-6
    return np.clip(255.0 * (1.0 - amount * (0.5 + 0.5 * np.tanh(n))), 0, 255).astype(np.uint8)


def apply_curves(rgb: np.ndarray, luts: np.ndarray) -> np.ndarray:
    """Per-channel 1-D curves: ``luts`` is (256, 3) uint8."""
    return cv2.LUT(rgb, luts.reshape(256, 1, 3))


def _curve(points: list[tuple[float, float]]) -> np.ndarray:
    xs, ys = zip(*points)
    return np.clip(np.interp(np.arange(256), xs, ys), 0, 255)


def saturate(rgb: np.ndarray, amount: float) -> np.ndarray:
    """Scale saturation about the luminance (``amount`` 1 = unchanged, 0 = grey)."""
    gray = cv2.cvtColor(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    return cv2.addWeighted(rgb, amount, gray, 1.0 - amount, 0)


# --------------------------------------------------------------------------------------- styles


def toon(rgb: np.ndarray, state: StyleState) -> np.ndarray:
    """Cartoon: edge-preserving smoothing, soft colour (luminance) quantisation, soft ink lines."""
    small = downscale(rgb, 512)  # the bilateral filters dominate the cost: run them on ~150k pixels
    smooth = cv2.bilateralFilter(small, 7, 40, 5)
    smooth = cv2.bilateralFilter(smooth, 7, 40, 5)
    lab = cv2.cvtColor(smooth, cv2.COLOR_RGB2LAB)
    lut = _cached(state, "toon-lut", (1, 1), lambda: soft_quantise_lut(6, 3.0))
    lab[..., 0] = cv2.LUT(lab[..., 0], lut)
    flat = cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)
    flat = saturate(flat, 1.25)
    edges = xdog_edges(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), sigma=1.2)
    return multiply_gray(upscale(flat, rgb.shape), upscale(edges, rgb.shape))


def pencil(rgb: np.ndarray, state: StyleState) -> np.ndarray:
    """Pencil sketch: colour-dodge of the grey image by its blurred negative, on fixed paper."""
    # Lift the blacks first: in flat dark areas gray ~ blur ~ 0 and the dodge turns noise into blots.
    # A light pre-blur: the dodge amplifies fine texture (grass, hair), which then shimmers on video.
    gray = cv2.GaussianBlur(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), (0, 0), max(0.6, rgb.shape[1] / 1280))
    gray = cv2.convertScaleAbs(gray, alpha=0.85, beta=38)
    small = downscale(gray)
    scale = small.shape[1] / gray.shape[1]
    blur = upscale(cv2.GaussianBlur(small, (0, 0), max(1.0, 6.0 * scale)), gray.shape)
    # Colour dodge of grey by its blurred negative: gray * 256 / (255 - blur(255 - gray)),
    # and 255 - blur(255 - gray) == blur(gray).
    sketch = cv2.divide(gray, np.maximum(blur, 1), scale=256.0)
    darken = _cached(state, "pencil-curve", (1, 1), lambda: _curve([(0, 0), (180, 110), (240, 220),
                                                                   (255, 255)]).astype(np.uint8))
    sketch = cv2.LUT(sketch, darken)
    paper = _cached(state, "paper", gray.shape, lambda: noise_texture(gray.shape, 7, 0.7, 0.08))
    sketch = cv2.multiply(sketch, paper, scale=1.0 / 255.0)
    return cv2.cvtColor(sketch, cv2.COLOR_GRAY2RGB)


def watercolour(rgb: np.ndarray, state: StyleState) -> np.ndarray:
    """Watercolour: strong smoothing at low resolution, pale washes, darker pigment at edges, paper."""
    small = downscale(rgb, 420)
    s = cv2.bilateralFilter(small, 9, 60, 7)
    s = cv2.bilateralFilter(s, 9, 60, 7)
    s = cv2.medianBlur(s, 5)
    lab = cv2.cvtColor(s, cv2.COLOR_RGB2LAB)
    lut = _cached(state, "wc-lut", (1, 1), lambda: soft_quantise_lut(8, 1.5))
    lab[..., 0] = cv2.LUT(lab[..., 0], lut)
    s = cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)
    gray = cv2.cvtColor(s, cv2.COLOR_RGB2GRAY)
    grad = cv2.morphologyEx(gray, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    pigment = cv2.subtract(np.full_like(grad, 255), cv2.GaussianBlur(grad, (0, 0), 1.0) // 2)
    wash = cv2.addWeighted(s, 0.85, np.full_like(s, 255), 0.15, 0)  # lighter, like thinned paint
    out = multiply_gray(upscale(wash, rgb.shape), upscale(pigment, rgb.shape))
    paper = _cached(state, "wc-paper", rgb.shape, lambda: noise_texture(rgb.shape, 11, 2.0, 0.10))
    return multiply_gray(out, paper)


def oil(rgb: np.ndarray, state: StyleState) -> np.ndarray:
    """Oil paint: generalised Kuwahara filter (smooth weights, for stability), canvas texture."""
    small = downscale(rgb, 560).astype(np.float32) / 255.0
    k = 5
    lum = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    lum2 = lum * lum
    num = np.zeros_like(small)
    den = np.zeros(small.shape[:2], np.float32)
    # The four overlapping quadrant windows of the Kuwahara filter, as anchored box filters.
    for anchor in ((0, 0), (k - 1, 0), (0, k - 1), (k - 1, k - 1)):
        mean = cv2.boxFilter(small, -1, (k, k), anchor=anchor, borderType=cv2.BORDER_REFLECT)
        m = cv2.boxFilter(lum, -1, (k, k), anchor=anchor, borderType=cv2.BORDER_REFLECT)
        m2 = cv2.boxFilter(lum2, -1, (k, k), anchor=anchor, borderType=cv2.BORDER_REFLECT)
        # Papari et al.'s generalised weights 1/(eps + var)^q instead of a hard argmin: a pixel
        # does not jump between quadrants when two variances swap order by a hair.
        w = 1.0 / (1e-4 + np.maximum(m2 - m * m, 0)) ** 2
        num += mean * w[..., None]
        den += w
    paint = np.clip(num / den[..., None] * 255.0, 0, 255).astype(np.uint8)
    paint = saturate(paint, 1.2)
    out = upscale(paint, rgb.shape)
    canvas = _cached(state, "canvas", rgb.shape, lambda: noise_texture(rgb.shape, 5, 1.2, 0.09))
    return multiply_gray(out, canvas)


def _halftone_screen(shape: tuple[int, ...], period: float = 7.0) -> np.ndarray:
    """A fixed 45°-rotated dot screen in [0, 255] (screen space, so dots never move)."""
    h, w = shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u = (xx + yy) * (np.pi / period) / np.sqrt(2)
    v = (xx - yy) * (np.pi / period) / np.sqrt(2)
    s = 0.5 + 0.25 * (np.cos(u) + np.cos(v))
    return (s * 255).astype(np.uint8)


def comic(rgb: np.ndarray, state: StyleState) -> np.ndarray:
    """Comic halftone: flat saturated colours, a fixed dot screen in the shadows, ink lines."""
    small = downscale(rgb, 512)
    smooth = cv2.bilateralFilter(small, 7, 50, 5)
    lab = cv2.cvtColor(smooth, cv2.COLOR_RGB2LAB)
    lut = _cached(state, "comic-lut", (1, 1), lambda: soft_quantise_lut(4, 2.5))
    lab[..., 0] = cv2.LUT(lab[..., 0], lut)
    flat = saturate(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB), 1.5)
    lum_small = cv2.cvtColor(flat, cv2.COLOR_RGB2GRAY)
    edges = xdog_edges(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), sigma=1.4)
    flat_full = upscale(flat, rgb.shape)
    lum = upscale(lum_small, rgb.shape)
    screen = _cached(state, "screen", rgb.shape, lambda: _halftone_screen(rgb.shape))
    # Soft threshold of luminance against the screen, in one saturating uint8 op:
    # ink = clip(4 * (lum - screen) + 160); bright areas go fully white-ink (no dots).
    ink = cv2.addWeighted(lum, 4.0, screen, -4.0, 160)
    ink = cv2.convertScaleAbs(ink, alpha=185.0 / 255.0, beta=70)  # dots are dark ink, not black holes
    out = multiply_gray(flat_full, ink)
    return multiply_gray(out, upscale(edges, rgb.shape))


def _kmeans_palette(pixels: np.ndarray, k: int) -> np.ndarray:
    data = pixels.reshape(-1, 3).astype(np.float32)
    k = max(1, min(k, len(data)))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1.0)
    cv2.setRNGSeed(1234)  # fixed seed: the same video always gets the same palette
    _, _, centres = cv2.kmeans(data, k, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    return centres.astype(np.float32)


def pixel_art(rgb: np.ndarray, state: StyleState) -> np.ndarray:
    """Pixel art: a coarse fixed grid, one 16-colour palette per video, hysteresis per block."""
    h, w = rgb.shape[:2]
    block = max(4, round(min(h, w) / 90))
    gw, gh = max(1, w // block), max(1, h // block)
    grid = cv2.resize(rgb, (gw, gh), interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(grid, cv2.COLOR_RGB2LAB).astype(np.float32)
    palette = state.cache.get("palette")
    if palette is None:
        sources = state.primed or [rgb]
        samples = [cv2.cvtColor(cv2.resize(f, (gw, gh), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2LAB)
                   for f in sources]
        palette = _kmeans_palette(np.concatenate([s.reshape(-1, 3) for s in samples]), 16)
        state.cache["palette"] = palette
    # squared distances to every palette colour as |x|^2 - 2 x.p + |p|^2 (one small matmul)
    dist = ((lab * lab).sum(-1, keepdims=True) - 2.0 * (lab @ palette.T)
            + (palette * palette).sum(-1))  # (gh, gw, K)
    idx = dist.argmin(-1)
    prev = state.cache.get("pixel-idx")
    if state.video and prev is not None and prev.shape == idx.shape:
        # Hysteresis: a block keeps last frame's colour unless the new one is clearly closer.
        best = np.take_along_axis(dist, idx[..., None], -1)[..., 0]
        kept = np.take_along_axis(dist, prev[..., None], -1)[..., 0]
        idx = np.where(kept <= best + 60.0, prev, idx)
    state.cache["pixel-idx"] = idx
    lab_q = palette[idx].astype(np.uint8)
    out = cv2.cvtColor(lab_q, cv2.COLOR_LAB2RGB)
    return cv2.resize(out, (w, h), interpolation=cv2.INTER_NEAREST)


def vintage(rgb: np.ndarray, state: StyleState) -> np.ndarray:
    """Vintage film: faded blacks, warm split curves, low saturation, vignette, fine static grain."""
    def make_luts() -> np.ndarray:
        r = _curve([(0, 40), (128, 150), (255, 245)])
        g = _curve([(0, 30), (128, 132), (255, 235)])
        b = _curve([(0, 45), (128, 110), (255, 200)])
        return np.stack([r, g, b], 1).astype(np.uint8)

    luts = _cached(state, "vintage-luts", (1, 1), make_luts)
    out = apply_curves(saturate(rgb, 0.65), luts)
    vig = _cached(state, "vintage-vig", rgb.shape, lambda: vignette(rgb.shape, 0.45))
    grain = _cached(state, "vintage-grain", rgb.shape, lambda: noise_texture(rgb.shape, 3, 0.6, 0.06))
    return multiply_gray(out, cv2.multiply(vig, grain, scale=1.0 / 255.0))


def noir(rgb: np.ndarray, state: StyleState) -> np.ndarray:
    """Film noir: black and white through a red-ish filter, strong S-curve contrast, heavy vignette."""
    gray = cv2.transform(rgb, np.array([[0.45, 0.45, 0.10]], np.float32))
    curve = _cached(state, "noir-curve", (1, 1), lambda: _curve([(0, 0), (40, 12), (128, 128), (210, 238),
                                                                  (255, 255)]).astype(np.uint8))
    gray = cv2.LUT(gray, curve)
    vig = _cached(state, "noir-vig", rgb.shape, lambda: vignette(rgb.shape, 0.6))
    gray = cv2.multiply(gray, vig, scale=1.0 / 255.0)
    return cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB)


def teal_orange(rgb: np.ndarray, state: StyleState) -> np.ndarray:
    """Teal-and-orange grade: shadows pushed to teal, highlights and skin to orange, more contrast."""
    def make() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x = np.arange(256, dtype=np.float64)
        shadow = np.clip(1.0 - x / 140.0, 0, 1) ** 1.2
        light = np.clip((x - 100.0) / 155.0, 0, 1) ** 1.1
        # signed shifts per channel (R, G, B) as a function of luminance
        shift = np.stack([-30 * shadow + 30 * light, 8 * shadow + 8 * light, 28 * shadow - 30 * light], 1)
        pos = np.clip(shift, 0, 255).astype(np.uint8)
        neg = np.clip(-shift, 0, 255).astype(np.uint8)
        contrast = _curve([(0, 0), (64, 52), (192, 204), (255, 255)]).astype(np.uint8)
        return pos, neg, np.stack([contrast] * 3, 1)

    pos, neg, contrast = _cached(state, "to-luts", (1, 1), make)
    lum = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    lum3 = cv2.merge([lum, lum, lum])
    out = apply_curves(rgb, contrast)
    out = cv2.add(out, apply_curves(lum3, pos))  # saturating uint8: no wrap-around
    out = cv2.subtract(out, apply_curves(lum3, neg))
    return saturate(out, 1.15)


def _lab_stats(images: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    means, sq = [], []
    for img in images:
        lab = cv2.cvtColor(downscale(img, 256), cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float64)
        means.append(lab.mean(0))
        sq.append((lab ** 2).mean(0))
    mean = np.mean(means, 0)
    std = np.sqrt(np.maximum(np.mean(sq, 0) - mean ** 2, 1e-6))
    return mean, std


def personal(rgb: np.ndarray, state: StyleState) -> np.ndarray:
    """Personalised grade: move LAB mean/std toward the audience's liked thumbnails (Reinhard et al.).

    The transfer is per channel affine in LAB, so it is one 256-entry LUT per channel. The source
    statistics are those of the whole video (from ``prime``) or, without priming, an exponential
    moving average over frames, so the grade does not pump from frame to frame.
    """
    if not state.references:
        raise StyleError("The personalised grade needs reference images (the audience's liked thumbnails).")
    if "ref-stats" not in state.cache:
        state.cache["ref-stats"] = _lab_stats(state.references)
    ref_mean, ref_std = state.cache["ref-stats"]
    if state.primed:
        if "src-stats" not in state.cache:
            state.cache["src-stats"] = _lab_stats(state.primed)
        src_mean, src_std = state.cache["src-stats"]
    else:
        mean, std = _lab_stats([rgb])
        old = state.cache.get("src-ema") if state.video else None
        if old is not None:
            mean = 0.9 * old[0] + 0.1 * mean
            std = 0.9 * old[1] + 0.1 * std
        state.cache["src-ema"] = (mean, std)
        src_mean, src_std = mean, std
    gain = np.clip(ref_std / src_std, 0.5, 2.0)
    x = np.arange(256, dtype=np.float64)[:, None]
    lut = np.clip((x - src_mean) * gain + ref_mean, 0, 255).astype(np.uint8)
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    return cv2.cvtColor(apply_curves(lab, lut), cv2.COLOR_LAB2RGB)
