"""The six fidelity checks (issue 8 part 2), local and offline.

Each check compares a few frames sampled evenly over the checked file (a version) with the frames
of its original at the same times, and returns pass / warn / fail / not_checked with reasons and
evidence (timestamps, boxes in the checked file's pixels):

* **privacy** — faces (scikit-image's LBP frontal-face cascade) and licence plates (OpenCV's Haar
  plate cascade, tuned for no false alarms on our real sample media; its recall is limited, so a
  clean result says "none found", not "none present"). :func:`blur_regions` / :func:`blur_faces_video`
  blur them.
* **safety** — NSFW with NudeNet's ONNX detector when the optional ``nudenet`` package is installed
  (its model's licence file is **AGPL-3.0**, so it stays an optional extra); else *not checked*.
* **authenticity** — drift from the original: SSIM, perceptual-hash distance, embedding distance
  (built-in encoder), and SSIM inside the original's faces (a face changed beyond a threshold fails).
* **bias** — a systematic skin-tone shift (ITA°, CIE Lab) inside the original's faces.
* **legal** — authorship by the paper's rule (§5.2: the uploader authors edits of their content, the
  platform fully generated items); fails when the source licence forbids derivatives.
* **identifiability** — the watermark decodes with the expected payload and the AI label is in the
  container metadata.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

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
    "detect_faces",
    "forbids_derivatives",
    "perceptual_hash",
    "run_checks",
    "skin_tone_ita",
]

#: Container metadata key of the AI label (written by the export with the provenance tags).
AI_LABEL_TAG = "generec_ai_label"
#: Who holds authorship of fully generated items (paper §5.2).
PLATFORM = "platform"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}

# Thresholds (documented in the report's metrics so a reader sees what decided a status).
FACE_SSIM_WARN = 0.75
FACE_SSIM_FAIL = 0.5
DRIFT_SSIM_WARN = 0.3
ITA_WARN = 8.0    # degrees of Individual Typology Angle; ~one skin-type category is ~10-15°
ITA_FAIL = 15.0
NSFW_FAIL = 0.6
NSFW_WARN = 0.4
NSFW_CLASSES = frozenset({
    "FEMALE_GENITALIA_EXPOSED", "MALE_GENITALIA_EXPOSED", "FEMALE_BREAST_EXPOSED", "ANUS_EXPOSED",
    "BUTTOCKS_EXPOSED",
})
_ND = re.compile(r"\bND\b|no[\s-]?deriv|noderiv|all rights reserved", re.IGNORECASE)


class CheckError(GenerecError):
    """Bad input to the checks (an unreadable file, no frames)."""


@dataclass(frozen=True)
class CheckContext:
    """What the checks need to know besides the pixels.

    ``original``: the source item's file (None for a fully generated item). ``time_offset``: a
    version's time t shows the original's time ``t + time_offset`` (a clip). ``uploader``: who exports;
    ``source_owner``/``source_licence``: of the original. ``expected_payload``: the watermark payload the
    file must carry; ``require_watermark``: a missing mark or label fails (an exported file) rather than
    warns (a pending version, which the export will mark).
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


def detect_plates(rgb: np.ndarray, *, max_side: int = 960) -> list[tuple[int, int, int, int]]:
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


def detect_faces(rgb: np.ndarray, *, max_side: int = 360) -> list[tuple[int, int, int, int]]:
    """Frontal faces as (x, y, w, h) boxes in ``rgb``'s pixels (scikit-image's LBP cascade).

    Overlapping detections are merged (:func:`_merge_boxes`); a box must be found by the cascade at
    ≥ 6 neighbouring positions (tuned on scikit-image photos: the astronaut's face only, none on
    coffee, cat, rocket, tissue, galaxies).
    """
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


def _iou(a: list[int], b: list[int]) -> float:
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
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


def blur_regions(rgb: np.ndarray, boxes: Sequence[tuple[int, int, int, int]], *, pad: float = 0.2) -> np.ndarray:
    """A copy of ``rgb`` with each (x, y, w, h) box (grown by ``pad``) strongly blurred; input untouched."""
    import cv2

    out = rgb.copy()
    h, w = rgb.shape[:2]
    for x, y, bw, bh in boxes:
        x0, y0 = max(0, int(x - pad * bw)), max(0, int(y - pad * bh))
        x1, y1 = min(w, int(x + bw * (1 + pad))), min(h, int(y + bh * (1 + pad)))
        if x1 > x0 and y1 > y0:
            k = max(3, (max(x1 - x0, y1 - y0) // 3) | 1)
            out[y0:y1, x0:x1] = cv2.GaussianBlur(out[y0:y1, x0:x1], (k, k), 0)
    return out


def blur_faces_video(src: str | Path, dst: str | Path, *, every: int = 5, crf: int = 23,
                     progress: Progress | None = None, cancel: CancelToken | None = None) -> int:
    """Re-encode ``src`` to ``dst`` with detected faces blurred (detection every ``every`` frames,
    boxes held in between); returns how many frames had a face."""
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


def skin_tone_ita(rgb_patch: np.ndarray) -> float | None:
    """Median Individual Typology Angle (degrees) of the skin pixels of a patch; None without skin."""
    import cv2

    if rgb_patch.size == 0:
        return None
    ycc = cv2.cvtColor(rgb_patch, cv2.COLOR_RGB2YCrCb)
    cr, cb = ycc[..., 1].astype(np.int16), ycc[..., 2].astype(np.int16)
    skin = (cr >= 133) & (cr <= 173) & (cb >= 77) & (cb <= 127)
    if int(skin.sum()) < 20:
        return None
    lab = cv2.cvtColor(rgb_patch.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    lum, b = lab[..., 0][skin], lab[..., 2][skin]
    ita = np.degrees(np.arctan2(lum - 50.0, np.where(np.abs(b) < 1e-3, 1e-3, b)))
    return float(np.median(ita))


def _ssim(a: np.ndarray, b: np.ndarray) -> float:
    import cv2
    from skimage.metrics import structural_similarity

    ga = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY)
    gb = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY)
    if min(ga.shape) < 7:
        return float(1.0 - np.mean(np.abs(ga.astype(np.float32) - gb)) / 255.0)
    return float(structural_similarity(ga, gb, data_range=255))


def _crop(rgb: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x, y, w, h = box
    return rgb[max(0, y): y + h, max(0, x): x + w]


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


# ----------------------------------------------------------------------------------------- the checks


def _privacy(ts: list[float], frames: list[np.ndarray], faces: list[list[tuple[int, int, int, int]]],
             plates: list[list[tuple[int, int, int, int]]] | None = None) -> CheckResult:
    plates = plates if plates is not None else [detect_plates(f) for f in frames]
    ev = [Evidence("face", t, box) for t, boxes in zip(ts, faces) for box in boxes]
    plate_ev = [Evidence("licence_plate", t, box) for t, boxes in zip(ts, plates) for box in boxes]
    with_faces = sum(1 for b in faces if b)
    reasons = []
    status = "pass"
    if ev:
        status = "warn"
        reasons.append(f"{len(ev)} face(s) in {with_faces} of {len(frames)} sampled frames: make sure the people "
                       "shown agree, or blur them (generec check --blur)")
    else:
        reasons.append(f"no faces in {len(frames)} sampled frames")
    if plate_ev:
        status = "warn"
        reasons.append(f"{len(plate_ev)} possible licence plate(s) in {sum(1 for b in plates if b)} sampled frames: "
                       "blur them before publishing")
    else:
        reasons.append("no licence plates found (OpenCV's plate detector; its recall is limited)")
    return CheckResult("privacy", status, reasons, ev + plate_ev,
                       {"faces": len(ev), "plates": len(plate_ev), "frames": len(frames), "plates_checked": True})


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
            "NSFW not checked: install the optional extra `nudenet` (its ONNX model's licence is AGPL-3.0)"])
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
    reason = (f"explicit content detected in {len({e.timestamp for e in ev})} sampled frames (NudeNet)" if ev
              else f"no explicit content in {len(frames)} sampled frames (NudeNet)")
    return CheckResult("safety", status, [reason], ev, {"max_score": top})


def _authenticity(ctx: CheckContext, ts: list[float], frames: list[np.ndarray], orig: list[np.ndarray] | None,
                  orig_faces: list[list[tuple[int, int, int, int]]], embed: Callable[[list[np.ndarray]], np.ndarray]
                  ) -> CheckResult:
    if orig is None:
        return CheckResult("authenticity", "pass", ["fully generated: no original to drift from; labelled as AI"])
    ssims = [_ssim(a, b) for a, b in zip(orig, frames)]
    phash = [float(np.mean(perceptual_hash(a) != perceptual_hash(b))) * 64 for a, b in zip(orig, frames)]
    ea, eb = embed(orig), embed(frames)
    emb = [float(1.0 - np.dot(x, y)) for x, y in zip(ea, eb)]
    ev: list[Evidence] = []
    face_ssims: list[float] = []
    for t, a, b, boxes in zip(ts, orig, frames, orig_faces):
        for box in boxes:
            fa, fb = _crop(a, box), _crop(b, box)
            if fa.size and fa.shape == fb.shape:
                s = _ssim(fa, fb)
                face_ssims.append(s)
                if s < FACE_SSIM_WARN:
                    ev.append(Evidence("face_changed", t, box, s, f"face SSIM {s:.2f}"))
    metrics = {"ssim_mean": float(np.mean(ssims)), "ssim_min": float(np.min(ssims)),
               "phash_bits_mean": float(np.mean(phash)), "embedding_distance_mean": float(np.mean(emb)),
               "face_ssim_min": float(min(face_ssims)) if face_ssims else None, "faces_compared": len(face_ssims),
               "face_ssim_fail": FACE_SSIM_FAIL, "face_ssim_warn": FACE_SSIM_WARN}
    reasons = [f"SSIM {metrics['ssim_mean']:.2f}, pHash distance {metrics['phash_bits_mean']:.1f}/64 bits, "
               f"embedding distance {metrics['embedding_distance_mean']:.3f}"]
    status = "pass"
    if face_ssims and min(face_ssims) < FACE_SSIM_FAIL:
        status = "fail"
        reasons.append(f"faces changed beyond the threshold (face SSIM {min(face_ssims):.2f} < {FACE_SSIM_FAIL})")
    elif face_ssims and min(face_ssims) < FACE_SSIM_WARN:
        status = "warn"
        reasons.append(f"faces changed noticeably (face SSIM {min(face_ssims):.2f} < {FACE_SSIM_WARN})")
    if metrics["ssim_mean"] < DRIFT_SSIM_WARN:
        status = "warn" if status == "pass" else status
        reasons.append(f"the version drifts far from its original (SSIM < {DRIFT_SSIM_WARN})")
    for t, s in zip(ts, ssims):
        if s < DRIFT_SSIM_WARN:
            ev.append(Evidence("drift", t, None, s, f"frame SSIM {s:.2f}"))
    return CheckResult("authenticity", status, reasons, ev, metrics)


def _bias(ts: list[float], frames: list[np.ndarray], orig: list[np.ndarray] | None,
          orig_faces: list[list[tuple[int, int, int, int]]]) -> CheckResult:
    if orig is None:
        return CheckResult("bias", "not_checked", ["no original to compare skin tones with"])
    deltas: list[float] = []
    ev: list[Evidence] = []
    for t, a, b, boxes in zip(ts, orig, frames, orig_faces):
        for box in boxes:
            ia, ib = skin_tone_ita(_crop(a, box)), skin_tone_ita(_crop(b, box))
            if ia is not None and ib is not None:
                deltas.append(ib - ia)
                ev.append(Evidence("skin_tone", t, box, ib - ia, f"ITA {ia:.1f}° -> {ib:.1f}°"))
    if not deltas:
        return CheckResult("bias", "pass", ["no faces with skin in the original's sampled frames"],
                           metrics={"faces_compared": 0})
    med = float(np.median(deltas))
    same_sign = float(np.mean(np.sign(deltas) == np.sign(med))) if med else 0.0
    metrics = {"ita_shift_median": med, "same_direction": same_sign, "faces_compared": len(deltas),
               "ita_warn": ITA_WARN, "ita_fail": ITA_FAIL}
    direction = "lighter" if med > 0 else "darker"
    systematic = same_sign >= 0.8
    if systematic and abs(med) >= ITA_FAIL:
        return CheckResult("bias", "fail", [f"skin tones inside faces shift systematically {direction} "
                                            f"({med:+.1f}° ITA over {len(deltas)} faces)"], ev, metrics)
    if systematic and abs(med) >= ITA_WARN:
        return CheckResult("bias", "warn", [f"skin tones inside faces shift {direction} ({med:+.1f}° ITA)"],
                           ev, metrics)
    return CheckResult("bias", "pass", [f"no systematic skin-tone shift ({med:+.1f}° ITA over {len(deltas)} faces)"],
                       ev, metrics)


def _legal(ctx: CheckContext) -> CheckResult:
    author, owner = authorship(ctx.kind, ctx.uploader)
    metrics = {"author": author, "owner": owner, "source_owner": ctx.source_owner, "source_licence": ctx.source_licence}
    reasons = [f"author {author or 'unknown'}, owner {owner or 'unknown'} (paper §5.2: "
               + ("the platform holds fully generated items)" if ctx.kind == "ai_created"
                  else "the uploader holds edits of their content)")]
    if ctx.kind == "ai_created":
        return CheckResult("legal", "pass", reasons, metrics=metrics)
    own_content = bool(ctx.uploader) and ctx.uploader == ctx.source_owner
    if forbids_derivatives(ctx.source_licence) and not own_content:
        reasons.append(f"the source licence {ctx.source_licence!r} forbids derivatives")
        return CheckResult("legal", "fail", reasons, [Evidence("licence", note=str(ctx.source_licence))], metrics)
    if not ctx.source_licence:
        reasons.append("the source item has no recorded licence")
        return CheckResult("legal", "warn" if not own_content else "pass", reasons, metrics=metrics)
    if ctx.uploader and ctx.source_owner and not own_content:
        reasons.append(f"the source belongs to {ctx.source_owner}, not to the uploader: keep its licence terms")
        return CheckResult("legal", "warn", reasons, metrics=metrics)
    return CheckResult("legal", "pass", reasons, metrics=metrics)


def _identifiability(ctx: CheckContext, frames: list[np.ndarray], tags: dict[str, str], image: bool) -> CheckResult:
    from generec_desktop.fidelity import watermark as wm

    if ctx.kind == "human":
        return CheckResult("identifiability", "pass", ["an original (human) item: no AI label needed"])
    # the installation's secret key (ctx.key overrides); the subject is a file this app made or is about to
    # mark, never a cropped or flipped copy, so no geometry search (it would cost ~0.5 s per unmarked run)
    known = [ctx.expected_payload] if ctx.expected_payload is not None else None
    det = wm.detect_images(frames, key=ctx.key, search=False, candidates=known)
    label = tags.get(AI_LABEL_TAG)
    metrics = {"watermark_found": det.found, "payload": f"{det.payload:08x}" if det.payload is not None else None,
               "expected_payload": f"{ctx.expected_payload:08x}" if ctx.expected_payload is not None else None,
               "pilot_z": det.pilot_z, "legacy_key": det.legacy_key, "ai_label": label}
    reasons: list[str] = []
    bad = False
    if det.found and ctx.expected_payload is not None and det.payload != ctx.expected_payload:
        return CheckResult("identifiability", "fail", [
            f"watermark payload {det.payload:08x} differs from the expected {ctx.expected_payload:08x}"],
            metrics=metrics)
    if det.found and det.legacy_key:
        reasons.append(f"watermark {det.payload:08x} was made with the old public key: readable, but not "
                       "proof of origin (export again to mark it with this installation's key)")
    elif det.found:
        reasons.append(f"watermark {det.payload:08x} detected (confidence {det.confidence:.2f})")
    else:
        bad = True
        reasons.append("no watermark detected")
    if label:
        reasons.append(f"AI label in metadata: {label!r}")
    elif image:
        reasons.append("images carry no metadata label here; the export records it in the manifest")
    else:
        bad = True
        reasons.append("no AI label in the container metadata")
    if not bad:
        # an old export under the public key: identified, but weakly; a warning, not a failure
        return CheckResult("identifiability", "warn" if det.legacy_key else "pass", reasons, metrics=metrics)
    if ctx.require_watermark:
        return CheckResult("identifiability", "fail", reasons, metrics=metrics)
    reasons.append("the export adds both")
    return CheckResult("identifiability", "warn", reasons, metrics=metrics)


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

    ``frames`` frames are sampled evenly (at ``max_side`` pixels); the original is sampled at the
    same times (plus ``time_offset``) and resized to the subject's frame size. A job: progress + cancel.
    """
    from generec_desktop.corpus.workspace import file_sha256

    t0 = time.perf_counter()
    ctx = context or CheckContext()
    subject = Path(subject)
    if not subject.is_file():
        raise CheckError(f"{subject} does not exist or is not a file; give a video or image file.")
    steps = Steps(progress, {"sample": 3, "faces": 2, "checks": 2})
    ts, sub_frames, tags = _sample(subject, None, frames, max_side, cancel)
    report(steps["sample"], 0.5, "Sampled the version")
    orig: list[np.ndarray] | None = None
    orig_sha = None
    if ctx.original is not None and ctx.kind != "ai_created":
        original = Path(ctx.original)
        if not original.is_file():
            raise CheckError(f"The original {original} is missing; check the workspace.")
        orig_sha = file_sha256(original)
        if _is_image(original):
            o = _read_image(original)
            orig_frames = [o] * len(sub_frames)
        else:
            _, orig_frames, _ = _sample(original, [t + ctx.time_offset for t in ts], frames, max_side, cancel)
            if _is_image(subject) and len(orig_frames) == 1:
                orig_frames = orig_frames * len(sub_frames)
        import cv2

        orig = [cv2.resize(o, (f.shape[1], f.shape[0]), interpolation=cv2.INTER_AREA)
                if o.shape != f.shape else o for o, f in zip(orig_frames, sub_frames)]
        if _is_image(subject) and not _is_image(original):
            orig = [_closest(sub_frames[0], orig)]
    report(steps["sample"], 1.0, "Sampled the original")
    check_cancel(cancel)
    sub_faces = [detect_faces(f) for f in sub_frames]
    orig_faces = [detect_faces(f) for f in orig] if orig is not None else [[] for _ in sub_frames]
    report(steps["faces"], 1.0, "Detected faces")
    check_cancel(cancel)
    from generec_desktop.encoders import get_encoder

    encoder = get_encoder("builtin")

    def embed(images: list[np.ndarray]) -> np.ndarray:
        return encoder.encode_images(images)

    image = _is_image(subject)
    results = [_privacy(ts, sub_frames, sub_faces), _safety(ts, sub_frames)]
    report(steps["checks"], 0.3, "Privacy and safety")
    results.append(_authenticity(ctx, ts, sub_frames, orig, orig_faces, embed))
    results.append(_bias(ts, sub_frames, orig, orig_faces))
    results.append(_legal(ctx))
    check_cancel(cancel)
    results.append(_identifiability(ctx, sub_frames, tags, image))
    report(steps["checks"], 1.0, "Checks done")
    return FidelityReport(subject=subject.name, subject_sha256=file_sha256(subject), original_sha256=orig_sha,
                          checks=results, seconds=time.perf_counter() - t0,
                          created_at=datetime.now(UTC).isoformat(timespec="seconds"))


def _closest(image: np.ndarray, candidates: list[np.ndarray]) -> np.ndarray:
    """The candidate frame most similar to ``image`` (SSIM): the source frame of a thumbnail."""
    scores = [_ssim(image, c) if c.shape == image.shape else -math.inf for c in candidates]
    return candidates[int(np.argmax(scores))]
