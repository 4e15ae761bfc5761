"""Style transfer for images and videos: classic no-weights styles, a personalised grade, user networks.

Public API::

    list_styles() -> list[StyleInfo]
    stylize_image(rgb, style, *, strength=1.0, face_aware=False, reference_images=None) -> rgb
    VideoStylizer(style, *, strength=1.0, face_aware=False, reference_images=None)   # per-video state
    run_style_video(src, dst, style, *, strength=1.0, start=0.0, end=None, trim=False, face_aware=False,
                    reference_images=None, progress=None, cancel=None) -> StyleResult
    run_style_request(src, dst, request: StyleRequest, ...) -> StyleResult   # what an instruction plan produces
    flicker_ratio(original_frames, styled_frames) -> float
    register_network_style(name, path) -> StyleInfo    # .pt2 (torch.export) / TorchScript / ONNX network
    unregister_network_style(name)

Images are (H, W, 3) uint8 RGB arrays. Strength 0 returns the input unchanged, 1 the full style;
in between is a blend. ``face_aware`` keeps detected faces less stylised (identity and expressions
survive). On video the same :class:`VideoStylizer` carries palettes, textures and statistics from
frame to frame so the result does not flicker (see :mod:`generec_desktop.editor.styles.filters`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from generec_desktop.editor.styles.errors import StyleError
from generec_desktop.jobs import CancelToken, Progress, Steps, check_cancel, report

if TYPE_CHECKING:
    from generec_desktop.media import MediaInfo

__all__ = [
    "StyleError",
    "StyleInfo",
    "StyleRequest",
    "StyleResult",
    "VideoStylizer",
    "flicker_ratio",
    "list_styles",
    "register_network_style",
    "run_style_request",
    "run_style_video",
    "stylize_image",
    "unregister_network_style",
]

#: Faces keep this fraction of the original look when ``face_aware`` is on.
FACE_KEEP = 0.75
#: On video, faces are detected every this many frames (the mask is smoothed in between).
FACE_EVERY = 6


@dataclass(frozen=True)
class StyleInfo:
    """One style as listed by ``generec styles`` and the Style tab."""

    name: str
    title: str
    description: str
    kind: str = "classic"  # classic | grade | network
    needs_references: bool = False


@dataclass(frozen=True)
class StyleRequest:
    """Everything needed to style a video; the instructor's plan maps an instruction onto one."""

    style: str
    strength: float = 1.0
    start: float = 0.0
    end: float | None = None
    trim: bool = False
    face_aware: bool = False


@dataclass(frozen=True)
class StyleResult:
    """What :func:`run_style_video` wrote."""

    output: Path
    style: str
    strength: float
    start: float
    end: float | None
    trim: bool
    face_aware: bool
    styled_frames: int
    total_frames: int
    flicker_ratio: float | None  # mean frame-to-frame change, styled / original, over styled frames
    media: MediaInfo | None = field(default=None, repr=False)


StyleFn = Callable[[np.ndarray, Any], np.ndarray]

_CLASSIC: list[tuple[StyleInfo, str]] = [
    (StyleInfo("toon", "Toon", "Cartoon: smoothed flat colours and ink outlines."), "toon"),
    (StyleInfo("pencil", "Pencil sketch", "Grey pencil drawing on paper."), "pencil"),
    (StyleInfo("watercolour", "Watercolour", "Soft washes, pigment at edges, paper texture."), "watercolour"),
    (StyleInfo("oil", "Oil paint", "Painterly Kuwahara strokes on canvas."), "oil"),
    (StyleInfo("comic", "Comic halftone", "Flat bold colours, halftone dots in the shadows, ink lines."),
     "comic"),
    (StyleInfo("pixel", "Pixel art", "Coarse pixels in one 16-colour palette per video."), "pixel_art"),
    (StyleInfo("vintage", "Vintage film", "Faded warm film look with vignette and grain.", "grade"), "vintage"),
    (StyleInfo("noir", "Noir", "High-contrast black and white with a heavy vignette.", "grade"), "noir"),
    (StyleInfo("teal-orange", "Teal & orange", "Cinematic grade: teal shadows, warm highlights.", "grade"),
     "teal_orange"),
    (StyleInfo("personal", "Personalised grade",
               "Colours moved toward an audience's liked thumbnails.", "grade", needs_references=True),
     "personal"),
]

# name -> (info, function); network styles registered at run time are added here.
_REGISTRY: dict[str, tuple[StyleInfo, StyleFn | None]] = {info.name: (info, None) for info, _ in _CLASSIC}
_FN_NAMES = {info.name: fn for info, fn in _CLASSIC}


def list_styles() -> list[StyleInfo]:
    """Every available style, classic ones first."""
    return [info for info, _ in _REGISTRY.values()]


def _style_fn(name: str) -> tuple[StyleInfo, StyleFn]:
    if name not in _REGISTRY:
        known = ", ".join(_REGISTRY)
        raise StyleError(f"Unknown style '{name}'; choose one of: {known}.")
    info, fn = _REGISTRY[name]
    if fn is None:  # classic styles import OpenCV lazily, on first use
        from generec_desktop.editor.styles import filters as style_filters

        fn = getattr(style_filters, _FN_NAMES[name])
        _REGISTRY[name] = (info, fn)
    return info, fn


def register_network_style(name: str, path: str | Path, *, max_side: int = 512,
                           title: str | None = None) -> StyleInfo:
    """Add a user-supplied style network (TorchScript ``.pt``/``.ts`` or ONNX ``.onnx``) as style ``name``.

    The network takes a (1, 3, H, W) float tensor in [0, 1] and returns the same shape; frames are
    processed at ``max_side`` on the long side and resized back.
    """
    from generec_desktop.editor.styles.network import load_style_network

    net = load_style_network(Path(path), max_side=max_side)
    info = StyleInfo(name, title or name, f"User network {Path(path).name}.", "network")
    _REGISTRY[name] = (info, net)
    return info


def unregister_network_style(name: str) -> None:
    """Remove a network style added by :func:`register_network_style` (classic styles stay)."""
    entry = _REGISTRY.get(name)
    if entry is None or entry[0].kind != "network":
        raise StyleError(f"There is no user network style named '{name}'.")
    del _REGISTRY[name]


def _check_image(rgb: np.ndarray) -> np.ndarray:
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        got = getattr(rgb, "shape", type(rgb).__name__)
        raise StyleError(f"Expected an RGB image as a (H, W, 3) uint8 array, got {got}.")
    if rgb.shape[0] < 8 or rgb.shape[1] < 8:
        raise StyleError("The image is too small to style (under 8 pixels on a side).")
    return np.ascontiguousarray(rgb)


def _check_strength(strength: float) -> float:
    s = float(strength)
    if not 0.0 <= s <= 1.0:
        raise StyleError(f"Strength must be between 0 and 1, got {strength}.")
    return s


class _FaceMasker:
    """Soft face masks from scikit-image's LBP frontal-face cascade.

    OpenCV 5 (our opencv-python-headless) no longer ships Haar cascades or CascadeClassifier, so we use
    the cascade that ships inside scikit-image instead of hand-writing a detector.
    """

    def __init__(self, video: bool) -> None:
        self.video = video
        self.mask: np.ndarray | None = None
        self.count = 0
        self.faces = 0
        self._detector: Any = None  # one per masker: jobs may run in parallel threads

    def _get_detector(self) -> Any:
        if self._detector is None:
            from skimage.data import lbp_frontal_face_cascade_filename
            from skimage.feature import Cascade

            self._detector = Cascade(lbp_frontal_face_cascade_filename())
        return self._detector

    def _detect(self, rgb: np.ndarray) -> np.ndarray:
        import cv2

        h, w = rgb.shape[:2]
        scale = min(1.0, 288.0 / max(h, w))
        small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))),
                           interpolation=cv2.INTER_AREA)
        gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
        sh, sw = gray.shape
        found = self._get_detector().detect_multi_scale(
            img=gray, scale_factor=1.2, step_ratio=1, min_size=(20, 20), max_size=(sh, sw),
            min_neighbor_number=2)
        mask = np.zeros((sh, sw), np.float32)
        for d in found:
            cy, cx = d["r"] + d["height"] / 2, d["c"] + d["width"] / 2
            axes = (round(d["width"] * 0.6), round(d["height"] * 0.8))  # the whole head, not just the box
            cv2.ellipse(mask, (round(cx), round(cy)), axes, 0, 0, 360, 1.0, -1)
        self.faces = len(found)
        if found:
            mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, min(sh, sw) / 60))
        return mask

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """The soft face mask at low resolution, values in [0, 1]."""
        if not self.video or self.mask is None or self.count % FACE_EVERY == 0:
            new = self._detect(rgb)
            if self.video and self.mask is not None and self.mask.shape == new.shape:
                new = 0.5 * self.mask + 0.5 * new  # smooth masks over time: no popping in and out
            self.mask = new
        self.count += 1
        return self.mask


class VideoStylizer:
    """Styles successive frames of one video, carrying state between them for temporal stability.

    Call :meth:`prime` with a few frames sampled across the video first when you can: palettes and
    colour statistics are then those of the whole video rather than of its first frame.
    """

    def __init__(self, style: str, *, strength: float = 1.0, face_aware: bool = False,
                 reference_images: Sequence[np.ndarray] | None = None, video: bool = True) -> None:
        from generec_desktop.editor.styles.filters import StyleState

        self.info, self._fn = _style_fn(style)
        self.strength = _check_strength(strength)
        refs = [_check_image(r) for r in reference_images] if reference_images else None
        if self.info.needs_references and not refs:
            raise StyleError(f"Style '{style}' needs reference images (an audience's liked thumbnails).")
        self.state = StyleState(video=video, references=refs)
        self._faces = _FaceMasker(video) if face_aware else None

    @property
    def style(self) -> str:
        return self.info.name

    def prime(self, frames: Sequence[np.ndarray]) -> None:
        """Fix per-video statistics (palette, colour stats) from frames sampled across the video."""
        self.state.primed = [_check_image(f) for f in frames] or None
        for key in ("palette", "src-stats"):
            self.state.cache.pop(key, None)

    def reset(self) -> None:
        """Forget temporal state (call between unrelated videos)."""
        refs, video = self.state.references, self.state.video
        self.state = type(self.state)(video=video, references=refs)

    def __call__(self, rgb: np.ndarray, timestamp: float | None = None) -> np.ndarray:
        """The styled frame (same shape, uint8 RGB)."""
        import cv2

        rgb = _check_image(rgb)
        if self.strength == 0.0:
            return rgb.copy()
        styled = self._fn(rgb, self.state)
        self.state.frame_index += 1
        if styled.shape != rgb.shape:
            styled = cv2.resize(styled, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)
        if self._faces is not None:
            mask = self._faces(rgb)
            if mask.max() > 0.01:
                alpha = self.strength * (1.0 - FACE_KEEP * mask)
                a = cv2.resize((alpha * 255).astype(np.uint8), (rgb.shape[1], rgb.shape[0]),
                               interpolation=cv2.INTER_LINEAR)
                a3 = cv2.merge([a, a, a])
                return cv2.add(cv2.multiply(styled, a3, scale=1 / 255),
                               cv2.multiply(rgb, cv2.bitwise_not(a3), scale=1 / 255))
        if self.strength >= 1.0:
            return styled
        return cv2.addWeighted(styled, self.strength, rgb, 1.0 - self.strength, 0)


def stylize_image(rgb: np.ndarray, style: str, *, strength: float = 1.0, face_aware: bool = False,
                  reference_images: Sequence[np.ndarray] | None = None) -> np.ndarray:
    """One image in ``style`` at ``strength`` (0..1); faces kept less stylised with ``face_aware``."""
    return VideoStylizer(style, strength=strength, face_aware=face_aware,
                         reference_images=reference_images, video=False)(rgb)


def _mean_change(a: np.ndarray, b: np.ndarray) -> float:
    import cv2

    return float(cv2.absdiff(a, b).mean())


def flicker_ratio(original_frames: Sequence[np.ndarray], styled_frames: Sequence[np.ndarray]) -> float:
    """Mean frame-to-frame change of the styled frames divided by that of the originals.

    1.0 means the style adds no temporal change; the issue asks for at most 1.5.
    """
    if len(original_frames) != len(styled_frames) or len(original_frames) < 2:
        raise StyleError("Flicker needs two equally long sequences of at least two frames.")
    orig = np.mean([_mean_change(a, b) for a, b in itertools.pairwise(original_frames)])
    styl = np.mean([_mean_change(a, b) for a, b in itertools.pairwise(styled_frames)])
    return float(styl / max(orig, 1e-6))


class _FlickerMeter:
    """Accumulates the flicker ratio during a video job on small copies of the frames (cheap)."""

    def __init__(self) -> None:
        self.prev: tuple[np.ndarray, np.ndarray] | None = None
        self.orig = 0.0
        self.styl = 0.0

    def add(self, orig: np.ndarray, styled: np.ndarray) -> None:
        import cv2

        size = (max(1, orig.shape[1] // 8), max(1, orig.shape[0] // 8))
        o = cv2.resize(orig, size, interpolation=cv2.INTER_AREA)
        s = cv2.resize(styled, size, interpolation=cv2.INTER_AREA)
        if self.prev is not None:
            self.orig += _mean_change(o, self.prev[0])
            self.styl += _mean_change(s, self.prev[1])
        self.prev = (o, s)

    def break_run(self) -> None:
        self.prev = None

    @property
    def ratio(self) -> float | None:
        return None if self.orig <= 0 else self.styl / self.orig


def run_style_video(
    src: str | Path,
    dst: str | Path,
    style: str,
    *,
    strength: float = 1.0,
    start: float = 0.0,
    end: float | None = None,
    trim: bool = False,
    face_aware: bool = False,
    reference_images: Sequence[np.ndarray] | None = None,
    prime_frames: int = 8,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> StyleResult:
    """Style the frames of ``src`` in ``[start, end)`` and write ``dst`` with the original audio.

    By default ``dst`` is the whole video with only the range styled; with ``trim`` it is only the range.
    ``prime_frames`` frames sampled across the range fix per-video palettes and statistics first.
    """
    from generec_desktop import media

    src, dst = Path(src), Path(dst)
    if src.resolve() == dst.resolve():
        raise StyleError("The output file must differ from the input file (inputs are never modified).")
    if start < 0 or (end is not None and end <= start):
        raise StyleError(f"The time range must satisfy 0 <= start < end, got start={start}, end={end}.")
    stylizer = VideoStylizer(style, strength=strength, face_aware=face_aware,
                             reference_images=reference_images)
    info = media.probe(src)
    range_end = info.duration if end is None else min(end, info.duration)
    if start >= range_end:
        raise StyleError(f"The range starts at {start:.2f} s, after the video ends ({info.duration:.2f} s).")
    steps = Steps(progress, {"prime": 1, "style": 12})
    check_cancel(cancel)
    if prime_frames > 0 and stylizer.info.kind != "network":
        span = range_end - start
        times = [start + span * (i + 0.5) / prime_frames for i in range(prime_frames)]
        sampled = media.sample_frames(src, timestamps=times, max_side=480, progress=steps["prime"],
                                      cancel=cancel)
        stylizer.prime([f.image for f in sampled])
    report(steps["prime"], 1.0, "Sampled the video")

    meter = _FlickerMeter()
    counts = {"styled": 0, "total": 0}

    def fn(frame: np.ndarray, t: float) -> np.ndarray:
        counts["total"] += 1
        if t < start or t >= range_end:
            meter.break_run()
            return frame
        out = stylizer(frame, t)
        counts["styled"] += 1
        meter.add(frame, out)
        return out

    metadata = {"comment": f"generec style={stylizer.style} strength={stylizer.strength:g}"}
    written = media.transform_video(
        src, dst, fn, start=start if trim else 0.0, end=end if trim else None,
        metadata=metadata, progress=steps["style"], cancel=cancel)
    report(progress, 1.0, "Styled")
    return StyleResult(
        output=dst, style=stylizer.style, strength=stylizer.strength, start=start, end=end, trim=trim,
        face_aware=face_aware, styled_frames=counts["styled"], total_frames=counts["total"],
        flicker_ratio=meter.ratio, media=written)


def run_style_request(src: str | Path, dst: str | Path, request: StyleRequest, *,
                      reference_images: Sequence[np.ndarray] | None = None,
                      progress: Progress | None = None, cancel: CancelToken | None = None) -> StyleResult:
    """:func:`run_style_video` for a :class:`StyleRequest` (the hook an instruction plan goes through)."""
    return run_style_video(src, dst, request.style, strength=request.strength, start=request.start,
                           end=request.end, trim=request.trim, face_aware=request.face_aware,
                           reference_images=reference_images, progress=progress, cancel=cancel)
