"""The demo's content generator: pure numpy (+ OpenCV for the warps), no workspace, no encoding.

* :func:`plan_videos` decides, for a seed, each micro-video's segments: 2–4 photos of *different*
  categories, shown one after another with hard cuts (some with a short cross-fade), each with a
  slow pan/zoom ("Ken Burns"), plus the uploader's cover rule (the frame 1 s in, i.e. the first
  segment) and whether the cover is attached to the mp4.
* :func:`render_frames` draws a plan's frames; :func:`synth_audio` makes its soundtrack (one chord
  per segment, so audio segments line up with visual ones).
* :func:`simulate_users` and :func:`simulate_interactions` make simulated users with hidden
  preferences over categories and their likes.

Everything is a function of the seed only (numpy ``default_rng`` streams keyed by ``[seed, k]``). The
drawing rules are parameters (:class:`PlanSpec`, :class:`UserSpec`; the demo's are :data:`DEMO_PLAN`,
:data:`DEMO_USERS`), and :func:`render_frame` takes the picture loader, so the independent evaluation set
(:mod:`generec_desktop.evaluation.independent`: other pictures, frame rates, portrait videos, per-boundary
cross-fades, other users) is planned, rendered and simulated by the same code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from generec_desktop.demo.photos import CATEGORIES, DemoError, load_photo, photos_by_category

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "DEMO_PLAN",
    "DEMO_USERS",
    "GROUPS",
    "PlanSpec",
    "SegmentPlan",
    "SimInteraction",
    "SimUser",
    "UserSpec",
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
    fades: tuple[int, ...]  # per boundary: 0 a hard cut, else the frames of its cross-fade, centred on it
    cover_frame: int  # the uploader's rule: the frame 1 s in (always in the first segment); 0 without covers
    attach_cover: bool  # the cover is muxed into the mp4 as an attached picture

    @property
    def duration(self) -> float:
        return self.n_frames / self.fps

    @property
    def crossfade_frames(self) -> int:
        """The longest cross-fade (0: hard cuts only); a demo video has one length for all its boundaries."""
        return max(self.fades, default=0)

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


@dataclass(frozen=True)
class PlanSpec:
    """How :func:`plan_videos` draws a set of videos; the defaults are the demo's (:data:`DEMO_PLAN`)."""

    pictures: Mapping[str, tuple[str, ...]]  # category -> picture names; the categories in drawing order
    id_prefix: str = "demo"  # external ids "<prefix>-001"
    title_prefix: str = "Demo"  # titles "<prefix> 001: photo, photo"
    stream: int = _STREAM_VIDEOS
    fps_choices: tuple[int, ...] = ()  # a frame rate drawn per video (its first draw); (): the fps argument
    portrait_every: int = 0  # every Nth video is portrait (the size turned); 0: none
    fade_chance: float = 0.2  # a video has cross-fades
    fade_seconds: tuple[float, float] = (0.5, 0.5)  # a cross-fade's length
    #: None: every boundary of a fading video has one cross-fade of ``fade_seconds[0]`` and the first segment
    #: keeps room for half of it. A chance: after the segments, each boundary of a fading video fades with it,
    #: its length drawn from ``fade_seconds`` (an even number of frames), and the first segment of every
    #: video keeps room for half the longest.
    boundary_fade_chance: float | None = None
    wide: tuple[float, float] = (0.92, 1.0)  # crop sizes of a pan/zoom's wide end
    close: tuple[float, float] = (0.62, 0.8)  # and of its close end
    covers: bool = True  # a cover frame 1 s in, muxed into every other video


@dataclass(frozen=True)
class UserSpec:
    """How :func:`simulate_users` and :func:`simulate_interactions` draw users and likes; the defaults are
    the demo's (:data:`DEMO_USERS`)."""

    groups: Mapping[str, tuple[str, ...]]  # hidden preference groups -> categories
    id_prefix: str = "demo-user"
    what: str = "The demo"  # named in errors
    pair_share: float = 0.25  # share of users in two-category groups
    activity: tuple[float, float] = (0.55, 1.0)  # scales the chance of liking a preferred video
    noise: float = 0.03  # chance of a like of anything
    user_stream: int = _STREAM_USERS
    like_stream: int = _STREAM_LIKES
    history_start: int = HISTORY_START
    history_days: int = HISTORY_DAYS


#: The demo's videos: its photos (:mod:`.photos`), 25 fps landscape, one cross-fade length per video.
DEMO_PLAN = PlanSpec(pictures={c: tuple(p.name for p in ps) for c, ps in photos_by_category().items()})
#: The demo's simulated users.
DEMO_USERS = UserSpec(groups=GROUPS)


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
    spec: PlanSpec = DEMO_PLAN,
) -> list[VideoPlan]:
    """Plan ``n_videos`` micro-videos of ``min_seconds``–``max_seconds`` at ``fps``, ``size`` (w, h), drawn
    as ``spec`` says (the demo's by default).

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

    rng = _rng(seed, spec.stream)
    categories = tuple(spec.pictures)
    cat_use = dict.fromkeys(categories, 0)
    photo_use = {name: 0 for names in spec.pictures.values() for name in names}
    plans: list[VideoPlan] = []
    for i in range(n_videos):
        vfps = int(rng.choice(spec.fps_choices)) if spec.fps_choices else fps
        portrait = bool(spec.portrait_every) and i % spec.portrait_every == spec.portrait_every - 1
        vwidth, vheight = (height, width) if portrait else (width, height)
        min_seg = 2 * vfps
        n_frames = round(rng.uniform(min_seconds, max_seconds) * vfps)
        fading = bool(rng.random() < spec.fade_chance)
        if spec.boundary_fade_chance is None:
            crossfade = round(spec.fade_seconds[0] * vfps) if fading else 0
            room = crossfade
        else:
            crossfade, room = 0, round(spec.fade_seconds[1] * vfps)
        # The first segment covers the first quarter (+ half a cross-fade), so any "cover from the
        # start" rule (ours: 1 s in; the corpus import: the sharpest frame of the first 20%) shows it.
        first_min = max(min_seg, -(-n_frames // 4) + room // 2 + 1)
        n_seg = int(rng.integers(2, min(4, 1 + (n_frames - first_min) // min_seg) + 1))
        weights = [1.0 / (1.0 + cat_use[c]) ** 2 for c in categories]
        total = sum(weights)
        cats = [str(c) for c in rng.choice(categories, size=n_seg, replace=False,
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
            candidates = spec.pictures[cat]
            least = min(photo_use[name] for name in candidates)
            pool = [name for name in candidates if photo_use[name] == least]
            photo = str(pool[int(rng.integers(len(pool)))])
            photo_use[photo] += 1
            zoom_in = bool(rng.random() < 0.5)
            s_wide, s_close = float(rng.uniform(*spec.wide)), float(rng.uniform(*spec.close))
            a = (float(rng.random()), float(rng.random()), s_wide if zoom_in else s_close)
            # A slow pan: the window moves at most 35% of the free room.
            du, dv = rng.uniform(-0.35, 0.35, size=2)
            b = (min(1.0, max(0.0, a[0] + float(du))), min(1.0, max(0.0, a[1] + float(dv))),
                 s_close if zoom_in else s_wide)
            segments.append(SegmentPlan(start, start + length, cat, photo, a, b))
            start += length
        if spec.boundary_fade_chance is None:
            fades = (crossfade,) * (len(segments) - 1)
        else:
            fades = tuple(round(float(rng.uniform(*spec.fade_seconds)) * vfps) // 2 * 2
                          if fading and rng.random() < spec.boundary_fade_chance else 0 for _ in segments[1:])
        plans.append(
            VideoPlan(
                index=i,
                external_id=f"{spec.id_prefix}-{i + 1:03d}",
                title=f"{spec.title_prefix} {i + 1:03d}: " + ", ".join(s.photo.replace("_", " ") for s in segments),
                fps=vfps,
                width=vwidth,
                height=vheight,
                n_frames=n_frames,
                segments=tuple(segments),
                fades=fades,
                cover_frame=min(vfps, lengths[0] // 2) if spec.covers else 0,
                attach_cover=spec.covers and i % 2 == 0,
            )
        )
    return plans


def _smooth(x: float) -> float:
    x = min(1.0, max(0.0, x))
    return x * x * (3.0 - 2.0 * x)


@cache
def _scaled_photo(load: Callable[[str], np.ndarray], name: str, width: int, height: int) -> np.ndarray:
    """The picture ``load(name)`` pre-shrunk (INTER_AREA, no aliasing) so its widest output-aspect window is
    about 1.25x the output width; per-frame warps then never shrink by much more than that."""
    import cv2

    photo = load(name)
    ph, pw = photo.shape[:2]
    max_w = min(float(pw), ph * width / height)
    factor = 1.25 * width / max_w
    if factor >= 1.0:
        return photo
    size = (max(2, round(pw * factor)), max(2, round(ph * factor)))
    return cv2.resize(photo, size, interpolation=cv2.INTER_AREA)


def _segment_frame(seg: SegmentPlan, frame: int, width: int, height: int,
                   load: Callable[[str], np.ndarray]) -> np.ndarray:
    """Frame ``frame`` (video index; may lie a little outside the segment) of one pan/zoom segment."""
    import cv2
    import numpy as np

    photo = _scaled_photo(load, seg.photo, width, height)
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


def render_frame(plan: VideoPlan, frame: int, load: Callable[[str], np.ndarray] = load_photo) -> np.ndarray:
    """Frame ``frame`` of ``plan`` as an (H, W, 3) uint8 RGB array; ``load(name)`` gives a segment's picture
    (the demo's photos by default)."""
    import numpy as np

    if not 0 <= frame < plan.n_frames:
        raise DemoError(f"Frame {frame} is outside the video's {plan.n_frames} frames.")
    i = plan.segment_at(frame)
    seg = plan.segments[i]
    image = _segment_frame(seg, frame, plan.width, plan.height, load)
    # Linear blend across a cross-fade: 0.5 at the boundary, fading out over half its frames on each side.
    other, alpha = None, 0.0
    if i + 1 < len(plan.segments) and plan.fades[i] and frame >= seg.end_frame - plan.fades[i] / 2:
        other, alpha = i + 1, 0.5 * (1.0 - (seg.end_frame - frame - 0.5) / (plan.fades[i] / 2))
    elif i > 0 and plan.fades[i - 1] and frame < seg.start_frame + plan.fades[i - 1] / 2:
        other, alpha = i - 1, 0.5 * (1.0 - (frame - seg.start_frame + 0.5) / (plan.fades[i - 1] / 2))
    if other is not None:
        blend = _segment_frame(plan.segments[other], frame, plan.width, plan.height, load)
        image = np.clip(
            image.astype(np.float32) * (1.0 - alpha) + blend.astype(np.float32) * alpha + 0.5, 0, 255
        ).astype(np.uint8)
    return image


def render_frames(plan: VideoPlan, load: Callable[[str], np.ndarray] = load_photo) -> Iterator[np.ndarray]:
    """Every frame of ``plan``, in order."""
    for frame in range(plan.n_frames):
        yield render_frame(plan, frame, load)


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


def simulate_users(n_users: int, *, seed: int = 0, spec: UserSpec = DEMO_USERS) -> list[SimUser]:
    """``n_users`` simulated users, each in one hidden group of ``spec`` (the demo's: 75% one category,
    25% two)."""
    if n_users < len(spec.groups):
        raise DemoError(f"{spec.what} needs at least {len(spec.groups)} users (one per group), not {n_users}.")
    rng = _rng(seed, spec.user_stream)
    singles = [g for g, cats in spec.groups.items() if len(cats) == 1]
    pairs = [g for g, cats in spec.groups.items() if len(cats) == 2]
    n_pairs = max(len(pairs), round(n_users * spec.pair_share))
    groups = [pairs[k % len(pairs)] for k in range(n_pairs)]
    groups += [singles[k % len(singles)] for k in range(n_users - n_pairs)]
    order = rng.permutation(n_users)
    return [
        SimUser(
            external_id=f"{spec.id_prefix}-{k + 1:03d}",
            group=groups[int(order[k])],
            preferred=spec.groups[groups[int(order[k])]],
            activity=round(float(rng.uniform(*spec.activity)), 4),
        )
        for k in range(n_users)
    ]


def simulate_interactions(
    users: Sequence[SimUser],
    videos: Sequence[VideoPlan],
    *,
    extra_items: Sequence[str] = (),
    seed: int = 0,
    noise: float | None = None,
    spec: UserSpec = DEMO_USERS,
) -> list[SimInteraction]:
    """Likes driven by hidden preferences: a user likes a video with a chance that grows with how much
    of it shows a preferred category (full at one third of its duration), times the user's activity,
    plus ``noise`` (default ``spec.noise``) likes of anything (``extra_items``, e.g. the non-demo videos,
    get only noise), at times within ``spec``'s history. Sorted by (timestamp, user, item).
    """
    rng = _rng(seed, spec.like_stream)
    noise = spec.noise if noise is None else noise
    shares = [v.category_shares() for v in videos]
    out: list[SimInteraction] = []
    span = spec.history_days * 86400
    for user in users:
        for video, share in zip(videos, shares):
            s = sum(share.get(c, 0.0) for c in user.preferred)
            p_pref = user.activity * 0.85 * min(1.0, s / (1.0 / 3.0))
            r = float(rng.random())
            ts = spec.history_start + int(rng.integers(span))
            watch = float(rng.random())
            if r < p_pref:
                out.append(SimInteraction(ts, user.external_id, video.external_id,
                                          round(0.6 + 0.4 * watch, 3), True))
            elif r < p_pref + noise:
                out.append(SimInteraction(ts, user.external_id, video.external_id, round(0.1 + 0.5 * watch, 3)))
        for item in extra_items:
            r = float(rng.random())
            ts = spec.history_start + int(rng.integers(span))
            watch = float(rng.random())
            if r < 2 * noise:
                out.append(SimInteraction(ts, user.external_id, item, round(0.1 + 0.9 * watch, 3)))
    out.sort()
    return out
