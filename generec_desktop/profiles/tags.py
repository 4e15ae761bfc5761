"""Content tags: words for what an item shows (colours, light, motion), and which title words are real words.

Segment labels (:func:`generec_desktop.profiles.algorithms.describe_segments`) were built from item
titles; an uploader's own imports are titled by their file names ("IMG_2041", "VID_20240101_1200"),
so labels read like a camera roll. Here every item gets tags measured from what it shows, cheaply
and deterministically:

* **colours**: every pixel of the thumbnail and of a few frames (64 px) is named in HSV — ``black``
  (value < 20 %), ``white`` / ``grey`` (saturation < 18 %, value above / below 80 %), else by hue:
  ``red``, ``orange``, ``yellow``, ``green``, ``teal``, ``blue``, ``purple``, ``pink``, with dark
  oranges and reds as ``brown``; the colours covering at least :data:`COLOUR_SHARE` of the pixels are
  tags (at most two, largest first), and ``black and white`` when under :data:`GREY_SHARE` of
  them have any colour;
* **light**: ``dark`` / ``bright`` when the mean luma is below 28 % / above 67 % of full scale;
* **motion**: dense optical flow (OpenCV's Farnebäck, 96 px wide) between consecutive frames at
  :data:`MOTION_PAIRS` places; the median speed in frame widths per second is ``still`` below
  :data:`STILL_SPEED`, ``fast-moving`` above :data:`FAST_SPEED` (a quarter of the picture per second).

Title words count only when they are real words: :func:`title_words` drops camera and app file
names (``IMG``, ``DSC``, ``PXL``, ``GOPR``...), file extensions, tokens with digits, hexadecimal
hashes and words without a vowel. Tags are cached per item (media sha256 + cover) under
``W/cache/profiles/tags-v1.json``; :func:`item_tags` computes the missing ones when profiles are
built (the first build after an import).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from generec_desktop.jobs import CancelToken, Progress, check_cancel, report

if TYPE_CHECKING:
    from generec_desktop.corpus import ItemInfo, Workspace

__all__ = [
    "COLOUR_NAMES",
    "TAGS_VERSION",
    "colour_tags",
    "content_tags",
    "is_file_name",
    "item_tags",
    "light_tags",
    "motion_speed",
    "motion_tags",
    "title_words",
]

TAGS_VERSION = 1
COLOUR_NAMES = ("red", "orange", "yellow", "green", "teal", "blue", "purple", "pink", "brown", "black", "white",
                "grey")
#: a colour is a tag when it covers at least this share of the pixels
COLOUR_SHARE = 0.25
#: "black and white" when fewer pixels than this have any colour
GREY_SHARE = 0.03
#: median optical-flow speed, in frame widths per second: below is "still", above "fast-moving"
STILL_SPEED = 0.01
FAST_SPEED = 0.25
#: frame pairs (consecutive frames, at most MOTION_GAP s apart) spread over a video for its motion
MOTION_PAIRS = 4
MOTION_GAP = 0.1

# hue boundaries in OpenCV's 0-180 scale (degrees / 2): red wraps around 0
_HUES = ((10, "red"), (22, "orange"), (35, "yellow"), (78, "green"), (95, "teal"), (130, "blue"), (148, "purple"),
         (168, "pink"), (180, "red"))

#: words of camera, phone and app file names, and of file handling, that say nothing about the content
_FILE_WORDS_TEXT = (
    "img imag images pic pict dsc dscn dscf sam cimg mvi mov vid pxl gopr gh gx dji mah hdv sny wp rec "
    "whatsapp screenshot screencast screen recording video videos image photo photos untitled copy final "
    "edit edited trim trimmed export exported output rendered draft file mp4 avi mkv webm m4v jpg jpeg png "
    "heic heif gif tif tiff raw dng"
)
_FILE_WORDS = frozenset(_FILE_WORDS_TEXT.split())


def is_file_name(title: str) -> bool:
    """True when ``title`` reads like a file name rather than words (``IMG_2041``, ``DSC0001.JPG``,
    ``VID_20240101_120000``, ``PXL_20231105_093012345``, ``GOPR0042``, ``8f3a9c0d1e2b``)."""
    return bool(title.strip()) and not title_words(title)


def title_words(title: str) -> list[str]:
    """The real words of a title, lower case (for labels): tokens of letters only, at least three of
    them with a vowel, not a camera/app/file word or a hexadecimal hash."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    text = re.sub(r"\.[A-Za-z0-9]{2,4}$", "", str(title).strip())  # a file extension
    out = []
    for tok in re.split(r"[\s_\-.,;:|/()\[\]+]+", text):
        t = tok.lower()
        if (len(t) < 3 or not t.isalpha() or t in _FILE_WORDS or t in ENGLISH_STOP_WORDS
                or not re.search(r"[aeiouy]", t) or (len(t) >= 6 and re.fullmatch(r"[a-f]+", t))):
            continue
        out.append(t)
    return out


def _small(image: np.ndarray, side: int = 64) -> np.ndarray:
    import cv2

    img = np.ascontiguousarray(np.asarray(image)[..., :3]).astype(np.uint8)
    h, w = img.shape[:2]
    scale = side / max(h, w, 1)
    if scale < 1:
        img = np.asarray(cv2.resize(img, (max(1, round(w * scale)), max(1, round(h * scale))),
                                    interpolation=cv2.INTER_AREA), np.uint8)
    return img


def _colour_names(pixels: np.ndarray) -> np.ndarray:
    """Index into :data:`COLOUR_NAMES` of every pixel of an (N, 3) uint8 RGB array."""
    import cv2

    hsv = cv2.cvtColor(pixels.reshape(-1, 1, 3), cv2.COLOR_RGB2HSV).reshape(-1, 3).astype(np.int32)
    h, s, v = hsv[:, 0], hsv[:, 1], hsv[:, 2]
    idx = np.full(h.size, COLOUR_NAMES.index("grey"), np.int64)
    lo = 0
    for hi, name in _HUES:
        idx[(h >= lo) & (h < hi)] = COLOUR_NAMES.index(name)
        lo = hi
    brown = ((idx == COLOUR_NAMES.index("orange")) | (idx == COLOUR_NAMES.index("red"))) & (v < 140) & (s > 80)
    idx[brown] = COLOUR_NAMES.index("brown")
    achrom = s < 0.18 * 255
    idx[achrom] = np.where(v[achrom] > 0.8 * 255, COLOUR_NAMES.index("white"), COLOUR_NAMES.index("grey"))
    idx[v < 0.2 * 255] = COLOUR_NAMES.index("black")
    return idx


def colour_tags(images: Sequence[np.ndarray]) -> list[str]:
    """The dominant colour names of ``images`` pooled (see the module docstring)."""
    if not len(images):
        return []
    pixels = np.concatenate([_small(im).reshape(-1, 3) for im in images])
    idx = _colour_names(pixels)
    share = np.bincount(idx, minlength=len(COLOUR_NAMES)) / max(1, idx.size)
    chromatic = [COLOUR_NAMES.index(c) for c in COLOUR_NAMES[:9]]
    out = [COLOUR_NAMES[k] for k in np.argsort(-share, kind="stable") if share[k] >= COLOUR_SHARE][:2]
    if share[chromatic].sum() < GREY_SHARE:
        out = [c for c in out if c in ("black", "white")] + ["black and white"]
    return out


def light_tags(images: Sequence[np.ndarray]) -> list[str]:
    """``dark`` or ``bright`` from the mean luma (Rec. 601) of ``images``, else nothing."""
    if not len(images):
        return []
    luma = float(np.mean([(_small(im).astype(np.float32) @ np.array([0.299, 0.587, 0.114])).mean()
                          for im in images])) / 255.0
    return ["dark"] if luma < 0.28 else (["bright"] if luma > 0.67 else [])


def motion_speed(pairs: Sequence[tuple[np.ndarray, np.ndarray]], gap: float | Sequence[float]) -> float | None:
    """Median optical-flow speed (frame widths per second) over frame pairs ``gap`` seconds apart (one
    gap for all, or one per pair). Farnebäck's flow is accurate for the few-pixel steps of consecutive
    frames at this size; larger steps it underestimates, hence pairs of consecutive frames."""
    import cv2

    gaps = [float(gap)] * len(pairs) if isinstance(gap, int | float) else [float(g) for g in gap]
    speeds = []
    for (a, b), dt in zip(pairs, gaps):
        if dt <= 0:
            continue
        ga = cv2.cvtColor(_small(a, 96), cv2.COLOR_RGB2GRAY)
        gb = cv2.cvtColor(_small(b, 96), cv2.COLOR_RGB2GRAY)
        if ga.shape != gb.shape or min(ga.shape) < 8:
            continue
        flow = cv2.calcOpticalFlowFarneback(ga, gb, None, 0.5, 3, 15, 3, 5, 1.2, 0)  # type: ignore[call-overload]
        mag = np.hypot(flow[..., 0], flow[..., 1])
        speeds.append(float(np.median(mag)) / ga.shape[1] / dt)
    return float(np.median(speeds)) if speeds else None


def motion_tags(speed: float | None) -> list[str]:
    """``still`` / ``fast-moving`` for a :func:`motion_speed` (nothing in between, or when unknown)."""
    if speed is None:
        return []
    return ["still"] if speed < STILL_SPEED else (["fast-moving"] if speed > FAST_SPEED else [])


def content_tags(thumbnail: np.ndarray | None, frames: Sequence[np.ndarray] = (),
                 speed: float | None = None) -> list[str]:
    """Colour, light and motion tags of an item from its thumbnail, some of its frames and its motion."""
    images = ([thumbnail] if thumbnail is not None else []) + list(frames)
    return colour_tags(images) + light_tags(images) + motion_tags(speed)


def _measure(ws: Workspace, item: ItemInfo) -> list[str]:
    """Decode what :func:`content_tags` needs for one item (best effort: a missing video still has a cover)."""
    from generec_desktop import media
    from generec_desktop.jobs import Cancelled, GenerecError
    from generec_desktop.profiles.store import item_thumbnail

    try:
        thumb: np.ndarray | None = item_thumbnail(ws, item)
    except Cancelled:
        raise
    except (GenerecError, OSError):
        thumb = None
    frames: list[np.ndarray] = []
    speed = None
    duration = float(item.duration or 0.0)
    path = ws.media_path(item)
    gap = min(MOTION_GAP, 1.0 / float(item.fps)) if item.fps else MOTION_GAP  # the next frame, at most 0.1 s on
    if duration > gap and Path(path).is_file():
        step = (duration - gap) / MOTION_PAIRS
        times = [t for k in range(MOTION_PAIRS) for t in ((k + 0.5) * step, (k + 0.5) * step + gap)]
        try:
            got = media.sample_frames(path, timestamps=times, max_side=160)
        except Cancelled:
            raise
        except GenerecError:  # undecodable: the cover still tells its colours
            got = []
        if len(got) == len(times):
            frames = [f.image for f in got[::2]]
            pairs = list(zip(got[0::2], got[1::2]))
            speed = motion_speed([(a.image, b.image) for a, b in pairs], [b.timestamp - a.timestamp for a, b in pairs])
    return content_tags(thumb, frames, speed)


def _cache_path(ws: Workspace) -> Path:
    return Path(ws.cache_dir) / "profiles" / f"tags-v{TAGS_VERSION}.json"


def item_tags(ws: Workspace, items: Sequence[ItemInfo], *, progress: Progress | None = None,
              cancel: CancelToken | None = None) -> list[list[str]]:
    """Content tags of each item (cached per media sha256 + cover; missing ones measured and saved)."""
    from generec_desktop.safefiles import atomic_write_text

    path = _cache_path(ws)
    cached: dict[str, list[str]] = {}
    if path.is_file():
        try:
            data = json.loads(path.read_text())
            cached = {str(k): [str(t) for t in v] for k, v in data.get("tags", {}).items()}
        except (OSError, ValueError, AttributeError):
            cached = {}  # a damaged cache is rebuilt, never trusted
    keys = [f"{it.sha256}|{it.cover_path or ''}" for it in items]
    missing = [k for k, key in enumerate(keys) if key not in cached]
    for n, k in enumerate(missing):
        check_cancel(cancel)
        cached[keys[k]] = _measure(ws, items[k])
        report(progress, (n + 1) / len(missing), f"Tagged {n + 1} of {len(missing)} items")
    if missing:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps({"version": TAGS_VERSION, "tags": cached}, sort_keys=True))
    report(progress, 1.0, "Items tagged")
    return [list(cached[key]) for key in keys]
