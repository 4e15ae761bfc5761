"""The demo's content generator: pure numpy (+ OpenCV for the warps), no workspace, no encoding.

* :func:`plan_videos` decides, for a seed, each micro-video's segments: 2–4 photos of *different*
  categories, shown one after another with hard cuts (some with a short cross-fade), each with a
  slow pan/zoom ("Ken Burns"), plus the uploader's cover rule (the frame 1 s in, i.e. the first
  segment) and whether the cover is attached to the mp4.
* :func:`render_frames` draws a plan's frames; :func:`synth_audio` makes its soundtrack (one chord
  per segment, so audio segments line up with visual ones).
* :func:`simulate_users` and :func:`simulate_interactions` make simulated users with hidden
  preferences over categories and their likes.

Everything is a function of the seed only (numpy ``default_rng`` streams keyed by ``[seed, k]``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from generec_desktop.demo.photos import CATEGORIES, DemoError, load_photo, photos_by_category

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "GROUPS",
    "SegmentPlan",
    "SimInteraction",
    "SimUser",
    "VideoPlan",
    "plan_videos",
    "render_frame",
    "render_frames",
    "simulate_interactions",
    "simulate_users",
    "synth_audio",
]

# Separate random streams, so changing e.g. the number of users never changes the videos.
_STREAM_VIDEOS, _STREAM_USERS, _STREAM_LIKES = 1, 2, 3

#: Hidden preference groups: one per category, plus a few two-category groups.
GROUPS: dict[str, tuple[str, ...]] = {
    **{c: (c,) for c in CATEGORIES},
    "people+space": ("people", "space"),
    "nature+objects": ("nature", "objects"),
    "science+text": ("science", "text"),
}
#: Share of users in two-category groups.
_PAIR_SHARE = 0.25

#: First interaction day of the simulated history (2026-01-01T00:00:00Z) and its length.
HISTORY_START = 1767225600
HISTORY_DAYS = 30


@dataclass(frozen=True)
class SegmentPlan:
    """One photo shown over frames [start_frame, end_frame) with a pan/zoom from one crop to another.

    A crop is ``(u, v, s)``: ``s`` the crop width as a fraction of the widest 16:9 (output-aspect)
    window that fits the photo, ``u, v`` the window position in [0, 1] of the free room.
    """

    start_frame: int
    end_frame: int
    category: str
    photo: str
    crop_from: tuple[float, float, float]
    crop_to: tuple[float, float, float]


@dataclass(frozen=True)
class VideoPlan:
    """Everything needed to render one demo micro-video and to describe it in the ground truth."""

    index: int
    external_id: str
    title: str
    fps: int
    width: int
    height: int
    n_frames: int
    segments: tuple[SegmentPlan, ...]
    crossfade_frames: int  # 0: hard cuts; else frames of each cross-fade, centred on the boundary
    cover_frame: int  # the uploader's rule: the frame 1 s in (always in the first segment)
    attach_cover: bool  # the cover is muxed into the mp4 as an attached picture

    @property
    def duration(self) -> float:
        return self.n_frames / self.fps

    def segment_at(self, frame: int) -> int:
        """Index of the segment frame ``frame`` belongs to (boundaries split cross-fades in half)."""
        for i, seg in enumerate(self.segments):
            if seg.start_frame <= frame < seg.end_frame:
                return i
        raise IndexError(frame)

    def category_shares(self) -> dict[str, float]:
        """Fraction of the video's duration each category is on screen."""
        shares: dict[str, float] = {}
        for seg in self.segments:
            shares[seg.category] = shares.get(seg.category, 0.0) + (seg.end_frame - seg.start_frame)
        return {c: round(n / self.n_frames, 6) for c, n in shares.items()}


@dataclass(frozen=True)
class SimUser:
    """A simulated user: hidden preference group and categories, and how active they are."""

    external_id: str
    group: str
    preferred: tuple[str, ...]
    activity: float  # in (0, 1]: scales the chance of liking a preferred video


@dataclass(frozen=True, order=True)
class SimInteraction:
    """A like: unix ``timestamp`` (s), ``weight`` in (0, 1] (watch ratio: higher for preferred)."""

    timestamp: int
    user: str
    item: str
    weight: float = field(compare=False)
    preferred: bool = field(compare=False, default=False)  # driven by a hidden preference (not noise)


def _rng(seed: int, stream: int) -> np.random.Generator:
    import numpy as np

    if not isinstance(seed, int) or seed < 0:
        raise DemoError(f"The seed must be a non-negative integer, not {seed!r}.")
    return np.random.default_rng([seed, stream])


def plan_videos(
    n_videos: int,
    *,
    seed: int = 0,
    fps: int = 25,
    size: tuple[int, int] = (640, 360),
    min_seconds: float = 6.0,
    max_seconds: float = 12.0,
) -> list[VideoPlan]:
    """Plan ``n_videos`` micro-videos of ``min_seconds``–``max_seconds`` at ``fps``, ``size`` (w, h).

    Categories and photos are drawn with a balancing weight (rarely used ones first), so even a
    small build covers every category and photo.
    """
    if n_videos < 1:
        raise DemoError(f"The demo needs at least one video, not {n_videos}.")
    width, height = size
    if width < 16 or height < 16 or width % 2 or height % 2:
        raise DemoError(f"The demo video size must be even and at least 16x16, not {width}x{height}.")
    if not (2.0 * 2 <= min_seconds <= max_seconds):
        raise DemoError("The demo video length must be at least 4 s (two segments of 2 s).")
    import numpy as np

    rng = _rng(seed, _STREAM_VIDEOS)
    by_cat = photos_by_category()
    cat_use = dict.fromkeys(CATEGORIES, 0)
    photo_use = {p.name: 0 for ps in by_cat.values() for p in ps}
    min_seg = 2 * fps
    plans: list[VideoPlan] = []
    for i in range(n_videos):
        n_frames = round(rng.uniform(min_seconds, max_seconds) * fps)
        crossfade = round(0.5 * fps) if rng.random() < 0.2 else 0
        # The first segment covers the first quarter (+ half a cross-fade), so any "cover from the
        # start" rule (ours: 1 s in; the corpus import: the sharpest frame of the first 20%) shows it.
        first_min = max(min_seg, -(-n_frames // 4) + crossfade // 2 + 1)
        n_seg = int(rng.integers(2, min(4, 1 + (n_frames - first_min) // min_seg) + 1))
        weights = [1.0 / (1.0 + cat_use[c]) ** 2 for c in CATEGORIES]
        total = sum(weights)
        cats = [str(c) for c in rng.choice(CATEGORIES, size=n_seg, replace=False,
                                           p=[w / total for w in weights])]
        # Segment lengths: at least 2 s each, the rest split at random.
        extra = rng.dirichlet(np.ones(n_seg)) * (n_frames - n_seg * min_seg)
        lengths = [min_seg + int(x) for x in extra]
        lengths[-1] = n_frames - sum(lengths[:-1])
        need = first_min - lengths[0]
        while need > 0:  # feasible: n_seg was chosen so the others can give up enough frames
            k = max(range(1, n_seg), key=lambda j: lengths[j])
            take = min(need, lengths[k] - min_seg)
            lengths[k] -= take
            lengths[0] += take
            need -= take
        segments: list[SegmentPlan] = []
        start = 0
        for cat, length in zip(cats, lengths):
            cat_use[cat] += 1
            candidates = by_cat[cat]
            least = min(photo_use[p.name] for p in candidates)
            pool = [p.name for p in candidates if photo_use[p.name] == least]
            photo = str(pool[int(rng.integers(len(pool)))])
            photo_use[photo] += 1
            zoom_in = bool(rng.random() < 0.5)
            s_wide, s_close = float(rng.uniform(0.92, 1.0)), float(rng.uniform(0.62, 0.8))
            a = (float(rng.random()), float(rng.random()), s_wide if zoom_in else s_close)
            # A slow pan: the window moves at most 35% of the free room.
            du, dv = rng.uniform(-0.35, 0.35, size=2)
            b = (min(1.0, max(0.0, a[0] + float(du))), min(1.0, max(0.0, a[1] + float(dv))),
                 s_close if zoom_in else s_wide)
            segments.append(SegmentPlan(start, start + length, cat, photo, a, b))
            start += length
        external_id = f"demo-{i + 1:03d}"
        plans.append(
            VideoPlan(
                index=i,
                external_id=external_id,
                title=f"Demo {i + 1:03d}: " + ", ".join(s.photo.replace("_", " ") for s in segments),
                fps=fps,
                width=width,
                height=height,
                n_frames=n_frames,
                segments=tuple(segments),
                crossfade_frames=crossfade,
                cover_frame=min(fps, lengths[0] // 2),
                attach_cover=i % 2 == 0,
            )
        )
    return plans


def _smooth(x: float) -> float:
    x = min(1.0, max(0.0, x))
    return x * x * (3.0 - 2.0 * x)


@cache
def _scaled_photo(name: str, width: int, height: int) -> np.ndarray:
    """The photo pre-shrunk (INTER_AREA, no aliasing) so its widest output-aspect window is about
    1.25x the output width; per-frame warps then never shrink by much more than that."""
    import cv2

    photo = load_photo(name)
    ph, pw = photo.shape[:2]
    max_w = min(float(pw), ph * width / height)
    factor = 1.25 * width / max_w
    if factor >= 1.0:
        return photo
    size = (max(2, round(pw * factor)), max(2, round(ph * factor)))
    return cv2.resize(photo, size, interpolation=cv2.INTER_AREA)


def _segment_frame(seg: SegmentPlan, frame: int, width: int, height: int) -> np.ndarray:
    """Frame ``frame`` (video index; may lie a little outside the segment) of one pan/zoom segment."""
    import cv2
    import numpy as np

    photo = _scaled_photo(seg.photo, width, height)
    ph, pw = photo.shape[:2]
    aspect = width / height
    max_w = min(float(pw), ph * aspect)
    span = max(1, seg.end_frame - seg.start_frame - 1)
    t = _smooth((frame - seg.start_frame) / span)
    u, v, s = (a + (b - a) * t for a, b in zip(seg.crop_from, seg.crop_to))
    crop_w = max_w * s
    crop_h = crop_w / aspect
    x0 = u * (pw - crop_w)
    y0 = v * (ph - crop_h)
    # Inverse map: output pixel centre (x + .5) -> photo coordinates (crop origin + scaled offset).
    sx, sy = crop_w / width, crop_h / height
    matrix = np.array([[sx, 0.0, x0 + 0.5 * sx - 0.5], [0.0, sy, y0 + 0.5 * sy - 0.5]])
    return cv2.warpAffine(photo, matrix, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REFLECT)


def render_frame(plan: VideoPlan, frame: int) -> np.ndarray:
    """Frame ``frame`` of ``plan`` as an (H, W, 3) uint8 RGB array."""
    import numpy as np

    if not 0 <= frame < plan.n_frames:
        raise DemoError(f"Frame {frame} is outside the video's {plan.n_frames} frames.")
    i = plan.segment_at(frame)
    image = _segment_frame(plan.segments[i], frame, plan.width, plan.height)
    half = plan.crossfade_frames / 2
    if half:
        seg = plan.segments[i]
        other = None
        if i + 1 < len(plan.segments) and frame >= seg.end_frame - half:
            other, dist = i + 1, seg.end_frame - frame  # 1 .. half frames before the boundary
        elif i > 0 and frame < seg.start_frame + half:
            other, dist = i - 1, frame - seg.start_frame + 1
        if other is not None:
            # Linear blend: 0.5 at the boundary, fading out over `half` frames on each side.
            alpha = 0.5 * (1.0 - (dist - 0.5) / half)
            blend = _segment_frame(plan.segments[other], frame, plan.width, plan.height)
            image = np.clip(
                image.astype(np.float32) * (1.0 - alpha) + blend.astype(np.float32) * alpha + 0.5, 0, 255
            ).astype(np.uint8)
    return image


def render_frames(plan: VideoPlan) -> Iterator[np.ndarray]:
    """Every frame of ``plan``, in order."""
    for frame in range(plan.n_frames):
        yield render_frame(plan, frame)


# A root note per category (Hz) and a chord per photo slot: audio changes exactly at the cuts.
_ROOTS = dict(zip(CATEGORIES, (220.0, 246.94, 261.63, 293.66, 329.63, 196.0)))
_CHORDS = ((0, 4, 7), (0, 3, 7), (0, 5, 9), (0, 4, 9))


def synth_audio(plan: VideoPlan, sample_rate: int = 48000) -> np.ndarray:
    """The soundtrack of ``plan``: (N, 2) int16, exactly the video's length, one soft chord per segment."""
    import numpy as np

    n_total = round(plan.n_frames * sample_rate / plan.fps)
    out = np.zeros(n_total, dtype=np.float64)
    ramp = int(0.02 * sample_rate)
    by_cat = photos_by_category()
    for seg in plan.segments:
        a = round(seg.start_frame * sample_rate / plan.fps)
        b = round(seg.end_frame * sample_rate / plan.fps)
        t = np.arange(b - a) / sample_rate
        slot = [p.name for p in by_cat[seg.category]].index(seg.photo) % len(_CHORDS)
        root = _ROOTS[seg.category]
        wave = sum(np.sin(2 * np.pi * root * 2 ** (k / 12) * t) for k in _CHORDS[slot]) / 3.0
        env = np.minimum(1.0, np.minimum(np.arange(b - a), np.arange(b - a)[::-1]) / max(1, ramp))
        out[a:b] = 0.3 * wave * env * (0.85 + 0.15 * np.sin(2 * np.pi * 0.5 * t))
    mono = np.round(out * 32767).astype(np.int16)
    return np.stack([mono, mono], axis=1)


def simulate_users(n_users: int, *, seed: int = 0) -> list[SimUser]:
    """``n_users`` simulated users, each in one hidden group (75% one category, 25% two)."""
    if n_users < len(GROUPS):
        raise DemoError(f"The demo needs at least {len(GROUPS)} users (one per group), not {n_users}.")
    rng = _rng(seed, _STREAM_USERS)
    singles = [g for g, cats in GROUPS.items() if len(cats) == 1]
    pairs = [g for g, cats in GROUPS.items() if len(cats) == 2]
    n_pairs = max(len(pairs), round(n_users * _PAIR_SHARE))
    groups = [pairs[k % len(pairs)] for k in range(n_pairs)]
    groups += [singles[k % len(singles)] for k in range(n_users - n_pairs)]
    order = rng.permutation(n_users)
    return [
        SimUser(
            external_id=f"demo-user-{k + 1:03d}",
            group=groups[int(order[k])],
            preferred=GROUPS[groups[int(order[k])]],
            activity=round(float(rng.uniform(0.55, 1.0)), 4),
        )
        for k in range(n_users)
    ]


def simulate_interactions(
    users: Sequence[SimUser],
    videos: Sequence[VideoPlan],
    *,
    extra_items: Sequence[str] = (),
    seed: int = 0,
    noise: float = 0.03,
) -> list[SimInteraction]:
    """Likes driven by hidden preferences: a user likes a video with a chance that grows with how much
    of it shows a preferred category (full at one third of its duration), times the user's activity,
    plus ``noise`` likes of anything (``extra_items``, e.g. the non-demo videos, get only noise).
    Sorted by (timestamp, user, item).
    """
    rng = _rng(seed, _STREAM_LIKES)
    shares = [v.category_shares() for v in videos]
    out: list[SimInteraction] = []
    span = HISTORY_DAYS * 86400
    for user in users:
        for video, share in zip(videos, shares):
            s = sum(share.get(c, 0.0) for c in user.preferred)
            p_pref = user.activity * 0.85 * min(1.0, s / (1.0 / 3.0))
            r = float(rng.random())
            ts = HISTORY_START + int(rng.integers(span))
            watch = float(rng.random())
            if r < p_pref:
                out.append(SimInteraction(ts, user.external_id, video.external_id,
                                          round(0.6 + 0.4 * watch, 3), True))
            elif r < p_pref + noise:
                out.append(SimInteraction(ts, user.external_id, video.external_id, round(0.1 + 0.5 * watch, 3)))
        for item in extra_items:
            r = float(rng.random())
            ts = HISTORY_START + int(rng.integers(span))
            watch = float(rng.random())
            if r < 2 * noise:
                out.append(SimInteraction(ts, user.external_id, item, round(0.1 + 0.9 * watch, 3)))
    out.sort()
    return out
