"""Files to upload (issue 16 part 6): render an item or a pending version with a platform preset.

:func:`render` makes one MP4 a platform takes as it is: the preset's size (salient reframing when the
aspect changes, letterbox only with ``fit="pad"``), H.264 High profile yuv420p + AAC, the index (moov)
before the data and no edit lists, a constant frame rate (the source's, capped at 60), a bitrate cap
that keeps the file inside the platform's size limit, the invisible watermark with the item's or
version's payload on every frame (read back before the file is placed), signed C2PA Content Credentials
(``fidelity/credentials.py``: the original as ingredient, the version's operation and the render's crop,
resize and transcode as actions) and the provenance manifest in the container tags and in a sidecar
``<file>.provenance.json``. One decode and one encode: crop,
scale and mark happen per frame between them.

Atomic: the file is encoded to a journaled temporary name beside the output and appears only when
complete and verified; an existing file is never replaced unless ``force``; the source is only read.
A source longer than the preset allows is refused (``trim=True`` keeps its first part).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from generec_desktop.jobs import CancelToken, GenerecError, Progress, Steps, check_cancel, report

if TYPE_CHECKING:
    from generec_desktop.corpus import ItemInfo, Workspace
    from generec_desktop.editor.personalize.reframe import CropPath
    from generec_desktop.fidelity.export import PendingVersion
    from generec_desktop.media import Frame, MediaInfo

__all__ = [
    "PRESETS",
    "Preset",
    "RenderError",
    "RenderResult",
    "bytes_text",
    "describe_presets",
    "duration_text",
    "get_preset",
    "render",
    "resolve_target",
]

Fit = Literal["crop", "pad"]

MB = 1000 * 1000
GB = 1000 * MB


@dataclass(frozen=True)
class Preset:
    """What a platform accepts and what we encode for it (see the table in :data:`PRESETS`).

    ``width``/``height`` 0: the source's own display size (made even). ``video_kbps``: the bitrate cap at
    up to 30 fps and at 48–60 fps (kbit/s; the encode is constant quality, CRF, under this cap);
    ``silent_track``: a silent AAC track when the source has no audio.
    """

    name: str
    label: str
    width: int
    height: int
    platforms: str
    max_seconds: float
    min_seconds: float
    max_bytes: int
    min_fps: float
    max_fps: float
    video_kbps: tuple[int, int]
    audio_kbps: int
    silent_track: bool
    sources: tuple[str, ...]

    def describe(self) -> str:
        """One line for a list or a chooser: size, limits, platforms."""
        size = "source size" if not self.width else f"{self.width}×{self.height}"
        return (f"{self.name}: {size}, ≤ {duration_text(self.max_seconds)}, ≤ {bytes_text(self.max_bytes)}"
                f" — {self.platforms}")

    def to_dict(self) -> dict[str, Any]:
        """The preset as JSON-ready data (for manifests and ``--json``)."""
        d = asdict(self)
        d["video_kbps"] = list(self.video_kbps)
        d["sources"] = list(self.sources)
        return d


# The platforms' published limits, one row per preset (checked 2025; platforms change them, so they live
# here and nowhere else). Each preset takes the strictest value of the platforms it names.
#
# | preset         | size      | duration    | file size | fps   | video cap ≤30/60 fps | audio (AAC-LC 48 kHz) |
# |----------------|-----------|-------------|-----------|-------|----------------------|-----------------------|
# | vertical       | 1080×1920 | 3 s – 3 min | 300 MB    | 23–60 | 8 / 12 Mbit/s        | ≤ 2 ch, 128k, silent  |
# | square         | 1080×1080 | 3 s – 3 min | 300 MB    | 23–60 | 6 / 9 Mbit/s         | ≤ 2 ch, 128k, silent  |
# | landscape-1080 | 1920×1080 | ≤ 12 h      | 256 GB    | ≤ 60  | 8 / 12 Mbit/s        | ≤ 2 ch, 384k          |
# | landscape-720  | 1280×720  | ≤ 12 h      | 256 GB    | ≤ 60  | 5 / 7.5 Mbit/s       | ≤ 2 ch, 384k          |
# | original       | source    | ≤ 12 h      | 256 GB    | ≤ 60  | 1080p's × pixels     | ≤ 2 ch, 384k          |
#
# Sources (the official pages; TikTok's and Instagram's numbers were read in ayrshare.com/docs/media-guidelines,
# which quotes them):
# [TT] TikTok for Developers, Content Posting API, "Media Transfer Guide" / video restrictions
#      (developers.tiktok.com/doc/content-posting-api-media-transfer-guide): MP4/MOV/WebM, H.264 recommended,
#      23–60 fps, 360–4096 px a side, ≤ 4 GB, ≤ 10 min (a creator's own cap may be lower).
# [IG] Meta, Instagram Graph API, Reels specifications
#      (developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media):
#      MOV/MP4, moov atom at the front, no edit lists; AAC ≤ 48 kHz, mono or stereo; H.264 or HEVC,
#      progressive, closed GOP, 4:2:0; 23–60 fps; ≤ 1920 px wide; 3 s – 15 min; ≤ 300 MB (the English
#      page; translated copies already say 1 GB: we keep the stricter).
# [YS] YouTube Help, "Get started creating YouTube Shorts" (support.google.com/youtube/answer/10059070):
#      square or vertical, up to 3 minutes (since 15 October 2024).
# [YT] YouTube Help, "Upload videos longer than 15 minutes" (support.google.com/youtube/answer/71673):
#      ≤ 256 GB or 12 hours, whichever is less (a channel must be verified for more than 15 minutes).
# [YE] YouTube Help, "YouTube recommended upload encoding settings" (support.google.com/youtube/answer/1722171):
#      MP4, no edit lists, moov atom at the front (fast start); AAC-LC, stereo, 48 kHz, 384 kbit/s (mono 128);
#      H.264 High profile, 2 consecutive B-frames, closed GOP of half the frame rate, 4:2:0, the recording's
#      frame rate; 1080p 8 Mbit/s (12 at 48–60 fps), 720p 5 (7.5).
#
# Silent sources: vertical and square get a silent stereo track, because Instagram fails to publish a Reel
# whose video has no audio stream when the uploader adds platform music to it (Meta error 2207082, see
# github.com/gitroomhq/postiz-app pull 2033); TikTok, Shorts and YouTube take a video without audio, so the
# landscape presets and original write none.
_SHORT_FORM = ("TT", "IG", "YS", "YE")
_YOUTUBE = ("YT", "YE")
PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("vertical", "Vertical 9:16 (TikTok / Reels / Shorts)", 1080, 1920, "TikTok, Instagram Reels, YouTube Shorts",
           max_seconds=180, min_seconds=3, max_bytes=300 * MB, min_fps=23, max_fps=60, video_kbps=(8000, 12000),
           audio_kbps=128, silent_track=True, sources=_SHORT_FORM),
    Preset("square", "Square 1:1 (Instagram / Shorts)", 1080, 1080, "Instagram, YouTube Shorts, TikTok",
           max_seconds=180, min_seconds=3, max_bytes=300 * MB, min_fps=23, max_fps=60, video_kbps=(6000, 9000),
           audio_kbps=128, silent_track=True, sources=_SHORT_FORM),
    Preset("landscape-1080", "Landscape 16:9 1080p (YouTube)", 1920, 1080, "YouTube",
           max_seconds=12 * 3600, min_seconds=0, max_bytes=256 * GB, min_fps=0, max_fps=60,
           video_kbps=(8000, 12000), audio_kbps=384, silent_track=False, sources=_YOUTUBE),
    Preset("landscape-720", "Landscape 16:9 720p (YouTube)", 1280, 720, "YouTube",
           max_seconds=12 * 3600, min_seconds=0, max_bytes=256 * GB, min_fps=0, max_fps=60,
           video_kbps=(5000, 7500), audio_kbps=384, silent_track=False, sources=_YOUTUBE),
    Preset("original", "Original geometry (YouTube)", 0, 0, "YouTube (any aspect)",
           max_seconds=12 * 3600, min_seconds=0, max_bytes=256 * GB, min_fps=0, max_fps=60,
           video_kbps=(8000, 12000), audio_kbps=384, silent_track=False, sources=_YOUTUBE),
)}

#: x264 constant quality under the preset's cap: platforms re-encode every upload, so the file they get
#: should be a clean master (CRF 18–20 is visually transparent for x264 at these sizes).
DEFAULT_CRF = 20
#: Watermark strength (luma levels), as the corpus export: reads back after CRF 23–28; one retry at twice it.
RENDER_STRENGTH = 1.75
#: Below this video bitrate a file no longer looks like its source: refuse rather than fit the size limit.
MIN_VIDEO_KBPS = 300
_STANDARD_RATES = (Fraction(24000, 1001), Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(30),
                   Fraction(48), Fraction(50), Fraction(60000, 1001), Fraction(60))
_SUFFIXES = (".mp4", ".m4v", ".mov")
#: the muxer: moov before mdat (+faststart), container tags readable by ``media.probe`` (+use_metadata_tags),
#: and no edit lists ([YE], [IG]): the B-frame delay is written as negative composition offsets instead.
_CONTAINER_OPTIONS = {"movflags": "+use_metadata_tags+faststart+negative_cts_offsets", "use_editlist": "0"}


class RenderError(GenerecError):
    """A render that cannot be made as asked (too long for the preset, output exists, not a video...)."""


def get_preset(preset: str | Preset) -> Preset:
    """A preset by name (or a :class:`Preset` itself, e.g. a test's own limits)."""
    if isinstance(preset, Preset):
        return preset
    try:
        return PRESETS[str(preset)]
    except KeyError:
        raise RenderError(f"Unknown preset {preset!r}; use one of {', '.join(PRESETS)} "
                          "(`generec render --list-presets`).") from None


def describe_presets() -> list[dict[str, Any]]:
    """Every preset as data, with its one-line description."""
    return [{**p.to_dict(), "description": p.describe()} for p in PRESETS.values()]


@dataclass(frozen=True)
class RenderResult:
    """Result of :func:`render`."""

    path: Path
    sidecar: Path
    preset: str
    width: int
    height: int
    fps: float
    frames: int
    duration: float
    size: int
    sha256: str
    payload: int
    fit: str  # "scale" (same aspect), "crop" (salient reframing) or "pad" (letterbox)
    trimmed: bool
    start: float
    end: float
    video_kbps: int  # the bitrate cap the encode ran under
    has_audio: bool
    manifest: dict[str, Any]
    crop: dict[str, Any] | None = None
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def realtime_factor(self) -> float:
        """Seconds of video rendered per second of wall time."""
        return self.duration / self.seconds if self.seconds > 0 else 0.0


# ------------------------------------------------------------------------------------ what is rendered


@dataclass(frozen=True)
class _Source:
    """What :func:`render` reads: a media file, what it is, and what its output carries."""

    path: Path
    kind: str  # human | ai_edited | ai_created
    item: ItemInfo | None  # the item rendered, or the version's parent
    version: PendingVersion | None
    payload: int
    title: str


def resolve_target(ws: Workspace, target: int | str | os.PathLike[str] | ItemInfo | PendingVersion,
                   ) -> tuple[ItemInfo | None, PendingVersion | None]:
    """``(item, None)`` or ``(None, version)`` for an item (id, external id, ItemInfo) or a pending
    version (id, folder or media path, PendingVersion). A numeric id is an item first."""
    from generec_desktop.corpus import ItemInfo
    from generec_desktop.editor.personalize.pipeline import resolve_item
    from generec_desktop.fidelity.export import PendingVersion, VersionError, load_pending

    if isinstance(target, ItemInfo):
        return target, None
    if isinstance(target, PendingVersion):
        return None, target
    text = os.fspath(target) if not isinstance(target, int) else str(target)
    if isinstance(target, int) or text.isdigit():
        try:
            return resolve_item(ws, int(text)), None
        except GenerecError:
            pass
    try:
        return None, load_pending(ws, text)
    except VersionError:
        pass
    if isinstance(target, int) or text.isdigit():
        raise RenderError(f"There is no item or pending version {text} in this workspace; list them with "
                          "`generec items` or `generec versions`.")
    try:
        return resolve_item(ws, text), None
    except GenerecError:
        raise RenderError(f"There is no item or pending version {text!r} in this workspace; list them with "
                          "`generec items` or `generec versions`.") from None


def _source(ws: Workspace, target: Any) -> _Source:
    from generec_desktop.fidelity import watermark as wm

    item, pv = resolve_target(ws, target)
    ws_id = str(ws.root.name)
    if pv is not None:
        parent = ws.item(pv.parent_id) if pv.parent_id is not None else None
        # the payload its export will carry, so the uploaded file and the corpus item are one version
        payload = wm.payload_for_version(pv.id, workspace_id=ws_id)
        return _Source(pv.media, pv.kind, parent, pv, payload, pv.title or f"version {pv.id}")
    assert item is not None
    if item.watermark_payload:  # an exported version: the file keeps the mark the corpus knows it by
        payload = int(item.watermark_payload, 16)
    else:
        payload = wm.payload_for_version(f"item:{item.id}", workspace_id=ws_id)
    return _Source(ws.media_path(item), item.kind, item, None, payload, item.title or f"item {item.id}")


# ------------------------------------------------------------------------------------ planning


def _output_rate(info: MediaInfo, preset: Preset) -> Fraction:
    """The constant output frame rate: the source's (a standard rate when within 0.5 %, the nearest
    standard rate at or above a variable rate's average), at most ``max_fps``, at least ``min_fps``
    (an integer multiple of the source's, so frames repeat evenly)."""
    avg = float(info.fps) if info.fps and info.fps > 0 else 30.0
    rate: Fraction | None = None
    if info.variable_frame_rate:
        rate = next((r for r in _STANDARD_RATES if r.denominator == 1 and float(r) >= avg * 0.97), None)
    else:
        near = min(_STANDARD_RATES, key=lambda r: abs(float(r) - avg))
        rate = near if abs(float(near) - avg) <= 0.005 * avg else None
    if rate is None:
        rate = Fraction(avg).limit_denominator(1001)
    cap = Fraction(preset.max_fps).limit_denominator(1001)
    if rate > cap:
        rate = cap
    if preset.min_fps and float(rate) < preset.min_fps:
        rate *= int(np.ceil(preset.min_fps / float(rate)))
    return rate


def _video_cap_kbps(preset: Preset, width: int, height: int, fps: float) -> int:
    lo, hi = preset.video_kbps
    kbps = float(hi if fps > 31 else lo)
    if not preset.width:  # original: 1080p's rate scaled by the pixel count, within 1–45 Mbit/s ([YE] 4K)
        kbps = float(np.clip(kbps * (width * height) / (1920 * 1080), 1000, 45000))
    return int(kbps)


def _buffer_seconds(seconds: float) -> float:
    """The VBV buffer in seconds of ``maxrate``: 2 s, less for a short video (the bound below grows with it)."""
    return min(2.0, max(0.5, seconds / 4))


def _fit_bitrate(preset: Preset, cap_kbps: int, audio_kbps: int, seconds: float) -> int:
    """The video bitrate cap (kbit/s) that keeps the whole file under the preset's size limit.

    x264's VBV keeps the buffer from overflowing, so the video is at most ``maxrate × seconds + bufsize``
    bits; 5 % of the limit is left for the container and rounding."""
    budget_bits = preset.max_bytes * 8 * 0.95 - audio_kbps * 1000 * seconds
    fit = budget_bits / (seconds + _buffer_seconds(seconds)) / 1000
    kbps = int(min(cap_kbps, fit))
    if kbps < MIN_VIDEO_KBPS:
        raise RenderError(f"{seconds:.0f} s do not fit in {bytes_text(preset.max_bytes)} at a watchable bitrate "
                          f"(it would be {max(0, kbps)} kbit/s); trim the video or choose another preset.")
    return kbps


def _target_size(preset: Preset, info: MediaInfo) -> tuple[int, int]:
    if preset.width:
        return preset.width, preset.height
    w, h = info.width - info.width % 2, info.height - info.height % 2
    if w < 2 or h < 2:
        raise RenderError(f"A {info.width}×{info.height} video is too small to render.")
    return w, h


# ------------------------------------------------------------------------------------ frames


class _Geometry:
    """Per-frame picture: scale (same aspect), crop along a path, or letterbox, to ``size``."""

    def __init__(self, mode: str, size: tuple[int, int], path: CropPath | None) -> None:
        self.mode, self.size, self.path = mode, size, path

    def __call__(self, image: np.ndarray, t: float) -> np.ndarray:
        import cv2

        w_out, h_out = self.size
        h, w = image.shape[:2]
        if self.mode == "crop" and self.path is not None:
            cw, ch = self.path.box
            ox, oy = self.path.origin_at(t, w, h)
            sx, sy = w_out / cw, h_out / ch
            if sx < 1.0 and sy < 1.0:  # shrinking: area average of the whole-pixel box (no aliasing)
                x, y = round(ox), round(oy)
                return cv2.resize(image[y:y + ch, x:x + cw], (w_out, h_out), interpolation=cv2.INTER_AREA)
            # enlarging: the box at its sub-pixel corner (bilinear), then a bicubic resize, so a slow pan moves
            # smoothly (a whole-pixel crop would step by sx output pixels). Two separable steps: measured
            # 6 ms per 1080×1920 frame against 104 ms for one bicubic cv2.warpAffine.
            box = cv2.getRectSubPix(image, (cw, ch), (ox + (cw - 1) / 2, oy + (ch - 1) / 2))
            return cv2.resize(box, (w_out, h_out), interpolation=cv2.INTER_CUBIC)
        if self.mode == "pad":
            s = min(w_out / w, h_out / h)
            nw, nh = min(w_out, max(2, round(w * s))), min(h_out, max(2, round(h * s)))
            canvas = np.zeros((h_out, w_out, 3), np.uint8)
            x, y = (w_out - nw) // 2, (h_out - nh) // 2
            canvas[y:y + nh, x:x + nw] = _resize(image, nw, nh)
            return canvas
        if (w, h) == (w_out, h_out):
            return image
        if abs(w - w_out) <= 1 and abs(h - h_out) <= 1 and w >= w_out and h >= h_out:  # odd -> even: drop an edge
            return np.ascontiguousarray(image[:h_out, :w_out])
        return _resize(image, w_out, h_out)


def _resize(image: np.ndarray, w: int, h: int) -> np.ndarray:
    import cv2

    shrink = w <= image.shape[1] and h <= image.shape[0]
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)


def _constant_rate(frames: Iterator[Frame], start: float, fps: Fraction, count: int) -> Iterator[tuple[int, Frame]]:
    """``(k, frame)`` for output frames k = 0..count-1 at ``start + k/fps``: the source frame shown at that
    time (repeated or skipped as the rates differ), so a variable-rate source becomes constant-rate."""
    period = 1.0 / float(fps)
    prev: Frame | None = None
    k = 0
    for f in frames:
        while k < count and start + k * period < f.timestamp - 1e-6:
            yield k, prev if prev is not None else f
            k += 1
        prev = f
        if k >= count:
            return
    while k < count and prev is not None:
        yield k, prev
        k += 1


# ------------------------------------------------------------------------------------ render


def render(
    ws: Workspace,
    target: int | str | os.PathLike[str] | ItemInfo | PendingVersion,
    preset: str | Preset,
    out: str | os.PathLike[str],
    *,
    fit: Fit = "crop",
    trim: bool = False,
    force: bool = False,
    start: float = 0.0,
    end: float | None = None,
    crf: int = DEFAULT_CRF,
    speed: str = "veryfast",
    key: str | None = None,
    strength: float | None = None,
    audience: str | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> RenderResult:
    """Render ``target`` (an item or a pending version) with ``preset`` to ``out`` (see the module docstring).

    ``start``/``end``: a span of the source (seconds; a per-audience clip); ``fit``: ``"crop"`` (salient
    reframing when the aspect changes) or ``"pad"`` (letterbox); ``trim``: keep the first part of a source
    longer than the preset allows instead of refusing; ``force``: replace an existing output; ``speed``:
    the x264 preset; ``key``/``strength``: the watermark's (installation key, :data:`RENDER_STRENGTH`);
    ``audience``: who the file is for, named in its Content Credentials (default: the source's target audience).
    """
    from generec_desktop import media
    from generec_desktop.corpus.workspace import file_sha256
    from generec_desktop.safefiles import fsync_dir, fsync_file, temp_path

    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    p = get_preset(preset)
    if fit not in ("crop", "pad"):
        raise RenderError(f"Unknown fit {fit!r}; use crop (salient reframing) or pad (letterbox).")
    out_p = Path(out)
    src = _source(ws, target)
    _check_output(ws, src, out_p, force)
    if src.path.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"):
        raise RenderError(f"{src.title} is a still image; render makes videos (a thumbnail is uploaded as the "
                          "video's cover instead).")
    info = media.probe(src.path)  # a damaged or unsupported file: one MediaError line
    warnings: list[str] = [f"source: {w}" for w in info.warnings]
    video_end = float(info.duration)
    start = max(0.0, float(start))
    stop = video_end if end is None else min(float(end), video_end)
    if not stop > start:
        raise RenderError(f"Nothing to render between {start:.2f} s and {stop:.2f} s; {src.title} is "
                          f"{video_end:.2f} s long.")
    trimmed = False
    if stop - start > p.max_seconds + 1e-6:
        if not trim:
            raise RenderError(f"{src.title} is {duration_text(stop - start)} long; {p.name} ({p.platforms}) allows "
                              f"at most {duration_text(p.max_seconds)}: trim it (--trim keeps the first "
                              f"{duration_text(p.max_seconds)}) or choose another preset.")
        stop, trimmed = start + p.max_seconds, True
    if stop - start < p.min_seconds:
        warnings.append(f"{stop - start:.1f} s is shorter than the {p.min_seconds:g} s some of {p.platforms} "
                        "require")

    fps = _output_rate(info, p)
    count = max(1, round((stop - start) * float(fps)))
    seconds = count / float(fps)
    w_out, h_out = _target_size(p, info)
    steps = Steps(progress, {"reframe": 1.0, "encode": 8.0, "verify": 1.0})
    audio_kbps = p.audio_kbps if (info.audio_channels or 2) > 1 else min(p.audio_kbps, 128)
    has_audio = bool(info.has_audio) or p.silent_track
    cap = _video_cap_kbps(p, w_out, h_out, float(fps))
    kbps = _fit_bitrate(p, cap, audio_kbps if has_audio else 0, seconds)
    check_cancel(cancel)

    # geometry: the same aspect is scaled; otherwise a crop that follows the salient region, or a letterbox
    same = abs(info.width / info.height - w_out / h_out) <= 0.01 * (w_out / h_out)
    mode = "scale" if same else fit
    crop: CropPath | None = None
    t = time.perf_counter()
    if mode == "crop":
        from generec_desktop.editor.personalize.reframe import crop_path

        crop = crop_path(src.path, start, stop, w_out / h_out, cancel=cancel)
    timings["reframe"] = time.perf_counter() - t
    report(steps["reframe"], 1.0, "Reframed")
    grow = max(w_out / (crop.box[0] if crop else info.width), h_out / (crop.box[1] if crop else info.height))
    if mode == "pad":
        grow = min(w_out / info.width, h_out / info.height)
    if grow > 1.5:
        warnings.append(f"the picture is enlarged {grow:.1f}× (the source is smaller than {w_out}×{h_out})")

    gop = max(1, round(float(fps) / 2))  # [YE]: closed GOP of half the frame rate (x264's GOPs are closed)
    buf_kbit = round(kbps * _buffer_seconds(seconds))
    codec_options = {"profile": "high", "maxrate": f"{kbps}k", "bufsize": f"{buf_kbit}k", "g": str(gop),
                     "bf": "2",
                     # frames are converted from RGB with the BT.601 matrix (media.rgb_to_yuv420p): say so
                     # in the stream, or HD players assume BT.709
                     "x264-params": "colorprim=bt709:transfer=bt709:colormatrix=smpte170m"}
    audio_format = media.AudioFormat(rate=48000, channels=2, bit_rate=audio_kbps * 1000, silence=p.silent_track)
    base = float(strength or RENDER_STRENGTH)
    render_params: dict[str, Any] = {
        "preset": p.name, "size": [w_out, h_out], "fit": mode, "start": round(start, 6), "end": round(stop, 6),
        "trimmed": trimmed, "fps": {"source": round(float(info.fps), 6), "output": f"{fps.numerator}/{fps.denominator}",
                                    "source_variable": bool(info.variable_frame_rate)},
        "video": {"codec": "h264", "profile": "high", "pix_fmt": "yuv420p", "crf": crf, "speed": speed,
                  "maxrate_kbps": kbps, "bufsize_kbps": buf_kbit, "gop": gop, "bframes": 2},
        "audio": ({"codec": "aac", "rate": 48000, "bitrate_kbps": audio_kbps,
                   "silent": not info.has_audio} if has_audio else None),
        "crop": crop.summary() if crop is not None else None,
    }
    sha = src.item.sha256 if src.version is None and src.item is not None else file_sha256(src.path)
    core = _manifest(ws, src, p, sha, render_params)
    if info.warnings:  # an output made from a damaged source says so (what reading it repaired)
        core["source_damage"] = [*(f"source: {w}" for w in info.warnings)]
    stage = temp_path(out_p.parent, ".mp4")
    side_stage: Path | None = None
    try:
        for attempt, amp in enumerate((base, min(32.0, 2 * base))):
            check_cancel(cancel)
            core["watermark"]["strength"] = amp
            t = time.perf_counter()
            written = _encode(src.path, stage, geometry=_Geometry(mode, (w_out, h_out), crop), start=start,
                              fps=fps, count=count, payload=src.payload, strength=amp, key=key,
                              tags=_tags(core), crf=crf, speed=speed, codec_options=codec_options,
                              audio_format=audio_format, progress=steps["encode"], cancel=cancel)
            timings[f"encode{attempt or ''}"] = time.perf_counter() - t
            t = time.perf_counter()
            found = _verify(stage, written, w_out, h_out, count, src.payload, key, cancel)
            timings[f"verify{attempt or ''}"] = time.perf_counter() - t
            if found:
                break
            stage.unlink(missing_ok=True)
        else:
            raise RenderError(f"The watermark {src.payload:08x} could not be read back from the render; "
                              "nothing was written.")
        report(steps["verify"], 1.0, "Verified")
        check_cancel(cancel)
        # Content Credentials (C2PA), signed into a second temp file that replaces the verified one (the
        # pixels are not touched: the mark read back above is the mark in the file)
        t = time.perf_counter()
        credentials = _sign(ws, src, stage, out_p, render_params, core, written,
                            partial=start > 0 or stop < video_end - 1e-6, audience=audience)
        timings["sign"] = time.perf_counter() - t
        size = stage.stat().st_size
        if size > p.max_bytes:
            raise RenderError(f"The render is {bytes_text(size)}, over {p.name}'s {bytes_text(p.max_bytes)}; "
                              "nothing was written (trim the video).")
        fsync_file(stage)
        out_sha = file_sha256(stage)
        manifest = {**core, "output": {"sha256": out_sha, "size": size, "file": out_p.name,
                                       "content_credentials": credentials}}
        sidecar = _sidecar(out_p)
        side_stage = temp_path(out_p.parent, ".json")
        from generec_desktop.fidelity.provenance import write_sidecar

        write_sidecar(side_stage, manifest)
        _place(stage, out_p, force)
        os.replace(side_stage, sidecar)
        side_stage = None
        fsync_dir(out_p.parent)
    finally:
        stage.unlink(missing_ok=True)
        if side_stage is not None:
            side_stage.unlink(missing_ok=True)
    report(progress, 1.0, f"Rendered {out_p.name}")
    return RenderResult(path=out_p, sidecar=sidecar, preset=p.name, width=w_out, height=h_out, fps=float(fps),
                        frames=count, duration=seconds, size=size, sha256=out_sha, payload=src.payload, fit=mode,
                        trimmed=trimmed, start=start, end=stop, video_kbps=kbps, has_audio=has_audio,
                        manifest=manifest, crop=render_params["crop"], warnings=tuple(warnings),
                        seconds=time.perf_counter() - t_start, timings=timings)


def _check_output(ws: Workspace, src: _Source, out: Path, force: bool) -> None:
    if out.suffix.lower() not in _SUFFIXES:
        raise RenderError(f"Cannot write {out.name}: give an .mp4 (or .mov / .m4v) file name.")
    if not out.parent.is_dir():
        raise RenderError(f"Cannot write {out}: the folder {out.parent} does not exist.")
    resolved = out.resolve()
    if resolved == src.path.resolve():
        raise RenderError("The output must be a new file; the source is never modified.")
    for managed in ("media", "versions", "covers", "pending"):
        if resolved.is_relative_to((ws.root / managed).resolve()):
            raise RenderError(f"Cannot write into the workspace's {managed}/ folder; choose a folder of your own.")
    if not force:
        for existing in (out, _sidecar(out)):
            if existing.exists() or existing.is_symlink():
                raise RenderError(f"{existing} exists already; choose another name or pass --force to replace it.")
    elif out.is_dir():
        raise RenderError(f"{out} is a folder; give a file name.")


def _sidecar(out: Path) -> Path:
    from generec_desktop.fidelity.provenance import SIDECAR_SUFFIX

    return out.with_name(out.name + SIDECAR_SUFFIX)


def _place(stage: Path, out: Path, force: bool) -> None:
    """Move the finished file to ``out``: replacing only with ``force``, else failing if it appeared meanwhile
    (a hard link is the atomic "create if absent"; folders without links fall back to a checked rename)."""
    if force:
        os.replace(stage, out)
        return
    try:
        os.link(stage, out)
    except FileExistsError:
        raise RenderError(f"{out} exists already; choose another name or pass --force to replace it.") from None
    except OSError:
        if out.exists():
            raise RenderError(f"{out} exists already; choose another name or pass --force to replace it.") from None
        os.replace(stage, out)
        return
    stage.unlink()


def _manifest(ws: Workspace, src: _Source, p: Preset, sha: str, params: dict[str, Any]) -> dict[str, Any]:
    from generec_desktop.fidelity.provenance import MANIFEST_FORMAT

    item, pv = src.item, src.version
    label = {"ai_edited": "AI-edited", "ai_created": "AI-generated"}.get(src.kind)
    source: dict[str, Any] = {"sha256": sha, "title": src.title}
    previous: list[dict[str, Any]] = []
    if pv is not None:
        source.update(version_id=pv.id, operation=pv.operation, parent_item_id=pv.parent_id,
                      parent_sha256=item.sha256 if item is not None else None)
        previous = [{"operation": pv.operation, "params": pv.params, "generator": pv.generator}]
    elif item is not None:
        source.update(item_id=item.id, external_id=item.external_id, kind=item.kind, owner=item.owner,
                      licence=item.licence)
    core: dict[str, Any] = {
        "format": MANIFEST_FORMAT,
        "kind": src.kind,
        "ai_label": label,
        "source": source,
        "operations": [*previous, {"operation": "render", "params": params}],
        "render": {"preset": p.to_dict(), "source_sha256": sha, "crop": params["crop"]},
        "target_audience": pv.target_profile if pv is not None else (item.target_profile if item else None),
        "author": item.author if item is not None and pv is None else None,
        "owner": (pv.uploader if pv is not None else None) or (item.owner if item is not None else None),
        "models": pv.models if pv is not None else [],
        "watermark": {"payload": f"{src.payload:08x}", "scheme": "generec-spread-spectrum-v1"},
        "workspace": str(ws.root.name),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    prior = (item.params or {}).get("provenance") if item is not None and pv is None else None
    if isinstance(prior, dict):  # an exported version: its own manifest, so the chain back to the original stays
        core["source_provenance"] = prior
    return core


def render_actions(params: dict[str, Any], *, partial: bool = False) -> list[dict[str, Any]]:
    """The C2PA actions of a render: crop (salient reframing) or letterbox, resize, the span (``partial``:
    not the whole source), transcode."""
    acts: list[dict[str, Any]] = []
    size = params.get("size")
    if params.get("fit") == "crop":
        acts.append({"action": "c2pa.cropped", "description": "reframed to the preset's shape along the salient "
                     "region", "parameters": {"crop": params.get("crop")}})
    elif params.get("fit") == "pad":
        acts.append({"action": "c2pa.resized", "description": "letterboxed to the preset's shape"})
    acts.append({"action": "c2pa.resized", "description": f"scaled to {size[0]}×{size[1]}" if size else "scaled",
                 "parameters": {"preset": params.get("preset"), "size": size}})
    if partial or params.get("trimmed"):
        acts.append({"action": "c2pa.edited", "description": "the span uploaded: "
                     f"{params.get('start', 0):.2f}–{params.get('end', 0):.2f} s",
                     "parameters": {"start": params.get("start"), "end": params.get("end"),
                                    "trimmed": params.get("trimmed")}})
    acts.append({"action": "c2pa.transcoded", "description": "encoded for upload (H.264 High + AAC, watermarked)",
                 "parameters": {"video": params.get("video"), "audio": params.get("audio"), "fps": params.get("fps")}})
    return acts


def _sign(ws: Workspace, src: _Source, stage: Path, out: Path, params: dict[str, Any], core: dict[str, Any],
          frames: int, *, partial: bool, audience: str | None) -> dict[str, Any]:
    """Embed signed Content Credentials in the verified render ``stage`` (a second temp file renamed over it;
    a failure removes it and nothing is written). The original is the ingredient: the version's parent for a
    pending version (whose operation is the first action), else the item's own file (whose credentials, for
    an exported version, travel inside the ingredient)."""
    from generec_desktop import media
    from generec_desktop.fidelity.credentials import ManifestSpec, audience_ref, sign_file
    from generec_desktop.safefiles import temp_path

    item, pv = src.item, src.version
    if pv is not None:
        parent = ws.media_path(item) if item is not None else None
        spec = ManifestSpec(kind=pv.kind, title=out.name, operation=pv.operation, params=pv.params,
                            generator=pv.generator, models=pv.models, parent=parent,
                            parent_title=(item.title or item.original_name) if item is not None else None,
                            parent_sha256=item.sha256 if item is not None else None,
                            target_audience=audience_ref(ws, audience or pv.target_profile),
                            watermark_payload=src.payload,
                            extra_actions=render_actions(params, partial=partial), provenance=_provenance(core))
    else:
        assert item is not None
        spec = ManifestSpec(kind=item.kind, title=out.name, operation="render", parent=src.path,
                            parent_title=item.title or item.original_name, parent_sha256=item.sha256,
                            target_audience=audience_ref(ws, audience or item.target_profile),
                            watermark_payload=src.payload,
                            extra_actions=render_actions(params, partial=partial), provenance=_provenance(core))
    signed = temp_path(stage.parent, ".mp4")
    try:
        res = sign_file(stage, signed, spec)
        if media.probe(signed).frame_count != frames:
            raise RenderError("Signing the Content Credentials changed the video; nothing was written.")
        os.replace(signed, stage)
    finally:
        signed.unlink(missing_ok=True)
    return res.to_dict()


def _provenance(core: dict[str, Any]) -> dict[str, Any]:
    return {k: core.get(k) for k in ("format", "kind", "ai_label", "author", "owner", "source", "models",
                                     "created_at")}


def _tags(core: dict[str, Any]) -> dict[str, str]:
    from generec_desktop.fidelity.provenance import MANIFEST_TAG, canonical, manifest_tags

    label = core.get("ai_label")
    if label:
        return manifest_tags(core, str(label))
    return {MANIFEST_TAG: canonical(core), "comment": "generec render (provenance manifest)"}


def _encode(src: Path, stage: Path, *, geometry: _Geometry, start: float, fps: Fraction, count: int, payload: int,
            strength: float, key: str | None, tags: dict[str, str], crf: int, speed: str,
            codec_options: dict[str, str], audio_format: Any, progress: Progress | None,
            cancel: CancelToken | None) -> int:
    """One decode → geometry → mark → encode pass into ``stage``; returns the frames written."""
    from generec_desktop import media
    from generec_desktop.fidelity import watermark as wm
    from generec_desktop.media.prefetch import prefetched

    embed = wm.luma_embedder(payload, strength=strength, key=key)
    h_out = geometry.size[1]
    end = start + count / float(fps)

    def frames() -> Iterator[tuple[int, np.ndarray]]:
        """On the prefetch thread: decode, reframe, convert, mark (each source frame once)."""
        last: tuple[int, np.ndarray] | None = None
        source = media.iter_frames(src, start=start, end=end + 1e-3)
        with _closing(source):
            for k, f in _constant_rate(source, start, fps, count):
                if last is None or last[0] != f.index:
                    yuv = media.rgb_to_yuv420p(geometry(f.image, f.timestamp))
                    embed(yuv[:h_out], f.timestamp)
                    last = (f.index, yuv)
                yield k, last[1]

    with media.VideoWriter(stage, float(fps), audio_from=media.AudioSource(src, start, end), crf=crf,
                           preset=speed, metadata=tags, odd="crop", codec_options=codec_options,
                           audio_format=audio_format, container_options=_CONTAINER_OPTIONS) as writer, \
            _closing(prefetched(frames())) as planes:
        for k, yuv in planes:
            check_cancel(cancel)
            writer.write_yuv420p(yuv)
            report(progress, (k + 1) / count * 0.99, f"Frame {k + 1} of {count}")
    return writer.frame_count


@contextlib.contextmanager
def _closing(iterator: Iterator[Any]) -> Iterator[Iterator[Any]]:
    """Close a generator (its decoder, its prefetch thread) when the block ends, however it ends."""
    try:
        yield iterator
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


def _verify(path: Path, written: int, w: int, h: int, count: int, payload: int, key: str | None,
            cancel: CancelToken | None) -> bool:
    """The file has the planned geometry and frames (else an error) and carries the mark (the return)."""
    from generec_desktop import media
    from generec_desktop.fidelity import watermark as wm

    info = media.probe(path)
    if (info.width, info.height) != (w, h) or info.frame_count != count or written != count:
        raise RenderError(f"The render came out {info.width}×{info.height} with {info.frame_count} frames, not "
                          f"{w}×{h} with {count}; nothing was written.")
    # the mark lives in the luma: the first frames' Y planes as decoded, at full size (as the export reads it)
    lumas, _ = media.head_lumas(path, max(1, min(24, count)), cancel=cancel)
    det = wm.detect_images(lumas, key=key, luma=True, search=False)
    return bool(det.found and det.payload == payload)


# ------------------------------------------------------------------------------------ text


def duration_text(seconds: float) -> str:
    """``180`` -> "3 min", ``43200`` -> "12 h", ``2.5`` -> "2.5 s"."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:.1f} s" if seconds % 1 else f"{seconds:.0f} s"


def bytes_text(n: float) -> str:
    """A size in decimal units, as the platforms publish theirs: "300 MB", "256 GB"."""
    for unit, size in (("GB", GB), ("MB", MB), ("kB", 1000)):
        if n >= size:
            return f"{n / size:.0f} {unit}" if n % size == 0 else f"{n / size:.1f} {unit}"
    return f"{n:.0f} bytes"
