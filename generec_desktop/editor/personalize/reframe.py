"""Saliency- and face-aware reframing to 16:9, 9:16 or 1:1, for thumbnails and (temporally smoothed) clips.

Saliency is the spectral-residual method (Hou & Zhang, CVPR 2007), hand-written in a few numpy
lines because OpenCV's ``saliency`` module lives in opencv-contrib, which we cannot install beside
the headless build. Faces (OpenCV Haar cascade) weigh more than saliency: a crop keeps a face.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from generec_desktop.editor.personalize.errors import EditorError
from generec_desktop.jobs import CancelToken

__all__ = ["ASPECTS", "CropPath", "crop_box", "crop_path", "crop_to", "crop_track", "parse_aspect", "saliency_map",
           "salient_centre"]

ASPECTS = {"16:9": 16 / 9, "9:16": 9 / 16, "1:1": 1.0, "4:5": 4 / 5}
_SR = 64  # spectral residual working size


def parse_aspect(aspect: str | float) -> float:
    """``"9:16"`` / ``"16:9"`` / ``"1:1"`` / a width÷height number -> width÷height."""
    if isinstance(aspect, int | float):
        if aspect > 0:
            return float(aspect)
    elif aspect in ASPECTS:
        return ASPECTS[aspect]
    else:
        w, _, h = str(aspect).partition(":")
        try:
            value = float(w) / float(h)
            if value > 0:
                return value
        except (ValueError, ZeroDivisionError):
            pass
    raise EditorError(f"Unknown aspect ratio {aspect!r}; use 16:9, 9:16, 1:1 or W:H.")


def saliency_map(image: np.ndarray) -> np.ndarray:
    """Spectral-residual saliency of ``image`` at 64 px (H', W') float32 in [0, 1]."""
    import cv2

    h, w = image.shape[:2]
    size = (_SR, max(1, round(_SR * h / max(w, 1)))) if w >= h else (max(1, round(_SR * w / max(h, 1))), _SR)
    g = cv2.resize(cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY), size,
                   interpolation=cv2.INTER_AREA).astype(np.float32)
    spec = np.fft.fft2(g)
    log_amp = np.log(np.abs(spec) + 1e-6)
    residual = log_amp - cv2.blur(log_amp, (3, 3))
    sal = np.abs(np.fft.ifft2(np.exp(residual + 1j * np.angle(spec)))) ** 2
    sal = cv2.GaussianBlur(sal.astype(np.float32), (0, 0), 2.5)
    sal -= sal.min()
    m = float(sal.max())
    return sal / m if m > 0 else sal


def salient_centre(image: np.ndarray, *, faces: bool = True) -> tuple[float, float]:
    """The (x, y) centre of interest in relative coordinates [0, 1]: faces' centre if any, else saliency's."""
    if faces:
        from generec_desktop.editor.personalize.quality import detect_faces

        boxes = detect_faces(image)
        if boxes:
            h, w = image.shape[:2]
            areas = np.array([bw * bh for _, _, bw, bh in boxes], np.float64)
            cx = np.array([x + bw / 2 for x, _, bw, _ in boxes]) / w
            cy = np.array([y + bh / 2 for _, y, _, bh in boxes]) / h
            return float(np.average(cx, weights=areas)), float(np.average(cy, weights=areas))
    sal = saliency_map(image)
    sal = np.where(sal >= np.quantile(sal, 0.9), sal, 0.0)  # the salient blob, not the background
    total = float(sal.sum())
    if total <= 0:
        return 0.5, 0.5
    ys, xs = np.mgrid[0:sal.shape[0], 0:sal.shape[1]]
    return (float((sal * (xs + 0.5)).sum() / total / sal.shape[1]),
            float((sal * (ys + 0.5)).sum() / total / sal.shape[0]))


def crop_box(width: int, height: int, aspect: str | float, centre: tuple[float, float]) -> tuple[int, int, int, int]:
    """The largest ``aspect`` box inside width×height centred as near ``centre`` as fits: (x, y, w, h), even sizes."""
    r = parse_aspect(aspect)
    if width / height > r:
        ch, cw = height, round(height * r)
    else:
        cw, ch = width, round(width / r)
    cw, ch = max(2, cw - cw % 2), max(2, ch - ch % 2)
    x = round(np.clip(centre[0] * width - cw / 2, 0, width - cw))
    y = round(np.clip(centre[1] * height - ch / 2, 0, height - ch))
    return x, y, cw, ch


def crop_to(image: np.ndarray, aspect: str | float, *, faces: bool = True) -> np.ndarray:
    """``image`` cropped to ``aspect`` around its faces or salient region."""
    x, y, w, h = crop_box(image.shape[1], image.shape[0], aspect, salient_centre(image, faces=faces))
    return np.ascontiguousarray(image[y:y + h, x:x + w])


@dataclass(frozen=True)
class CropPath:
    """A fixed-size crop box whose centre follows the salient region smoothly over time.

    ``width``/``height``: the video's display size; ``box``: the crop's (w, h) in those pixels;
    ``times`` (n,) and ``centres`` (n, 2): the smoothed centres, relative [0, 1], at the sampled times
    (interpolated linearly between them, held beyond the ends).
    """

    width: int
    height: int
    box: tuple[int, int]
    times: np.ndarray
    centres: np.ndarray
    rate: float = 4.0
    smooth_s: float = 1.0

    def centre_at(self, t: float) -> tuple[float, float]:
        """The smoothed relative centre at time ``t`` (seconds)."""
        return (float(np.interp(t, self.times, self.centres[:, 0])),
                float(np.interp(t, self.times, self.centres[:, 1])))

    def origin_at(self, t: float, width: int | None = None, height: int | None = None) -> tuple[float, float]:
        """The crop's top-left corner (x, y) at ``t`` in pixels of a ``width``×``height`` frame (default the
        video's), unrounded and kept inside the frame."""
        w, h = width or self.width, height or self.height
        cw, ch = self.box
        cx, cy = self.centre_at(t)
        return float(np.clip(cx * w - cw / 2, 0, w - cw)), float(np.clip(cy * h - ch / 2, 0, h - ch))

    def summary(self, points: int = 12) -> dict[str, object]:
        """A short description for a provenance manifest: the box, the range the corner moved over and
        ``points`` (t, x, y) corner positions in pixels spread over the path."""
        xs = np.array([self.origin_at(float(t))[0] for t in self.times])
        ys = np.array([self.origin_at(float(t))[1] for t in self.times])
        pick = np.unique(np.linspace(0, len(self.times) - 1, min(points, len(self.times))).round().astype(int))
        return {"source_size": [self.width, self.height], "box": list(self.box), "samples": len(self.times),
                "rate": self.rate, "smooth_s": self.smooth_s,
                "x_range": [round(float(xs.min()), 1), round(float(xs.max()), 1)],
                "y_range": [round(float(ys.min()), 1), round(float(ys.max()), 1)],
                "path": [[round(float(self.times[i]), 3), round(float(xs[i]), 1), round(float(ys[i]), 1)]
                         for i in pick]}


def crop_path(video: str | os.PathLike[str], start: float, end: float, aspect: str | float, *,
              rate: float = 4.0, smooth_s: float = 1.0, faces: bool = True,
              cancel: CancelToken | None = None) -> CropPath:
    """The ``aspect`` crop of ``video`` over [start, end) that follows its faces or salient region.

    Centres are measured on low-res samples at ``rate`` per second and smoothed with a Gaussian of
    ``smooth_s`` seconds (no jitter); the crop is the largest ``aspect`` box that fits (fixed size).
    """
    from scipy.ndimage import gaussian_filter1d

    from generec_desktop import media

    n = max(2, int(np.ceil((end - start) * rate)))
    ts = np.linspace(start, max(start, end - 1e-3), n)
    frames = media.sample_frames(video, timestamps=list(ts), max_side=256, cancel=cancel)
    centres = np.array([salient_centre(f.image, faces=faces) for f in frames], np.float64)
    times = np.array([f.timestamp for f in frames])
    sigma = max(0.0, smooth_s * rate)
    if sigma > 0 and len(centres) > 1:
        centres = gaussian_filter1d(centres, sigma, axis=0, mode="nearest")
    info = media.probe(video)
    box = crop_box(info.width, info.height, aspect, (0.5, 0.5))
    return CropPath(info.width, info.height, (box[2], box[3]), times, centres, rate, smooth_s)


def crop_track(video: str | os.PathLike[str], start: float, end: float, aspect: str | float, *,
               rate: float = 4.0, smooth_s: float = 1.0, record: dict[str, object] | None = None,
               cancel: CancelToken | None = None) -> Callable[[np.ndarray, float], np.ndarray]:
    """A per-frame crop function for :func:`media.transform_video` that follows the salient region
    (:func:`crop_path`), the corner rounded to whole pixels. ``record`` (a dict) receives the window's
    path, ``{"size": [w, h], "times": [...], "centres": [[cx, cy], ...]}`` in fractions of the frame and
    source seconds, so the version can say which crop it is (the fidelity checks compare like with like)."""
    path = crop_path(video, start, end, aspect, rate=rate, smooth_s=smooth_s, cancel=cancel)
    cw, ch = path.box
    if record is not None:
        record.update(size=[round(cw / path.width, 5), round(ch / path.height, 5)],
                      times=[round(float(t), 4) for t in path.times],
                      centres=[[round(float(x), 5), round(float(y), 5)] for x, y in path.centres])

    def fn(image: np.ndarray, t: float) -> np.ndarray:
        h, w = image.shape[:2]
        x, y = (round(v) for v in path.origin_at(t, w, h))
        return np.ascontiguousarray(image[y:y + ch, x:x + cw])

    return fn
