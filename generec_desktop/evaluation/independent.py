"""An independent evaluation workspace: pictures, videos, users and tastes the demo never uses (issue 22).

The demo is where the selection was tuned; this set is where it is checked. It differs from the demo in
every part a method could have over-fitted to:

* **pictures**: OpenCV's sample data as Debian's ``opencv-doc`` package ships it
  (``/usr/share/doc/opencv-doc/examples/data``; OpenCV's sample images, BSD/Apache-licensed sample data,
  see that package's ``copyright`` file), plus frames of its real footage ``vtest.avi``; none of them is
  a scikit-image or scikit-learn photo. Seven categories the demo does not have (:data:`CATEGORIES`),
  including kinds of content the quality gates used to reject: smooth gradients and bokeh (``abstract``:
  ``gradient.png`` and two photos defocused by a wide Gaussian, as a fast lens wide open renders them)
  and white slides (``slides``);
* **videos**: rendered with PyAV through :func:`generec_desktop.media.encode_frames` — a quarter of them
  portrait, at 25, 30 or 60 fps, 6–10 s, 2–4 pictures of different categories each with a slow pan/zoom,
  hard cuts and, in about a third of the videos, cross-fades of 0.6–1 s (per boundary);
* **users**: another seed stream, other groups (:data:`GROUPS`, pairs the demo has not), a wider spread of
  activity, so that some users have only 1–3 likes (issue 22 part 3).

The ground truth is written in the demo's format (:class:`generec_desktop.demo.ground_truth.GroundTruth`)
to ``W/evaluation/ground_truth.json`` so the same judge reads it:
``generec eval W --ground-truth W/evaluation/ground_truth.json``. Built in a hidden folder beside the
target and renamed into place at the end (a failed or cancelled build leaves nothing).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from generec_desktop.demo.photos import DemoError
from generec_desktop.jobs import CancelToken, Progress, Steps, check_cancel, report

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "CATEGORIES",
    "GROUPS",
    "OPENCV_DATA",
    "PICTURES",
    "IndependentResult",
    "Picture",
    "build_independent_workspace",
    "load_picture",
]

#: Where Debian's opencv-doc puts OpenCV's sample data.
OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
EVAL_DIR = "evaluation"  # folder inside the workspace: README.md, interactions.csv, ground_truth.json
OWNER = "GeneRec independent evaluation"
LICENCE = "OpenCV sample data (Debian opencv-doc; see /usr/share/doc/opencv-doc/copyright)"
NOTE = ("The users and interactions of this workspace are SIMULATED (an independent evaluation set, not the demo): "
        "each simulated user has a hidden preference for one or two picture categories and likes videos that show "
        "them, with noise. They are not real people and not real viewing data.")


@dataclass(frozen=True)
class Picture:
    """A real picture: ``file`` in :data:`OPENCV_DATA`; ``at`` a time (s) when it is a frame of footage;
    ``defocus`` a Gaussian sigma (in 512-px units) that turns it into a bokeh picture."""

    name: str
    category: str
    file: str
    at: float | None = None
    defocus: float = 0.0


CATEGORIES: tuple[str, ...] = ("food", "animals", "architecture", "art", "sport", "abstract", "slides")

PICTURES: tuple[Picture, ...] = (
    Picture("apple", "food", "apple.jpg"),
    Picture("orange", "food", "orange.jpg"),
    Picture("fruits", "food", "fruits.jpg"),
    Picture("baboon", "animals", "baboon.jpg"),
    Picture("squirrel", "animals", "squirrel_cls.jpg"),
    Picture("butterfly", "animals", "butterfly.jpg"),
    Picture("chicky", "animals", "chicky_512.png"),
    Picture("building", "architecture", "building.jpg"),
    Picture("home", "architecture", "home.jpg"),
    Picture("leuven", "architecture", "leuvenA.jpg"),
    Picture("aerial", "architecture", "aero1.jpg"),
    Picture("starry_night", "art", "starry_night.jpg"),
    Picture("graffiti", "art", "graf1.png"),
    Picture("happy_fish", "art", "HappyFish.jpg"),
    Picture("messi", "sport", "messi5.jpg"),
    Picture("basketball", "sport", "basketball1.png"),
    Picture("street_2s", "sport", "vtest.avi", at=2.0),
    Picture("street_40s", "sport", "vtest.avi", at=40.0),
    Picture("gradient", "abstract", "gradient.png"),
    Picture("fruit_bokeh", "abstract", "fruits.jpg", defocus=14.0),
    Picture("whale_bokeh", "abstract", "rubberwhale1.png", defocus=12.0),
    Picture("text_page", "slides", "imageTextN.png"),
    Picture("notes", "slides", "notes.png"),
    Picture("sudoku", "slides", "sudoku.png"),
    Picture("cards", "slides", "cards.png"),
    Picture("shapes", "slides", "pic3.png"),
)

#: Hidden groups: one per category plus pairs the demo has none of.
GROUPS: dict[str, tuple[str, ...]] = {
    **{c: (c,) for c in CATEGORIES},
    "food+animals": ("food", "animals"),
    "architecture+art": ("architecture", "art"),
    "sport+slides": ("sport", "slides"),
    "abstract+food": ("abstract", "food"),
}
_PAIR_SHARE = 0.3
#: seed streams other than the demo's (1, 2, 3), so a seed never reproduces the demo's draws
_STREAM_VIDEOS, _STREAM_USERS, _STREAM_LIKES = 11, 12, 13
HISTORY_START = 1769904000  # 2026-02-01T00:00:00Z
HISTORY_DAYS = 30


def _rng(seed: int, stream: int) -> np.random.Generator:
    import numpy as np

    if not isinstance(seed, int) or seed < 0:
        raise DemoError(f"The seed must be a non-negative integer, not {seed!r}.")
    return np.random.default_rng([seed, stream])


@cache
def load_picture(name: str, data_dir: Path = OPENCV_DATA) -> np.ndarray:
    """The picture ``name`` of :data:`PICTURES` as a read-only (H, W, 3) uint8 RGB array."""
    import cv2
    import numpy as np

    pic = next((p for p in PICTURES if p.name == name), None)
    if pic is None:
        raise DemoError(f"Unknown picture {name!r}; pick one of: {', '.join(p.name for p in PICTURES)}.")
    path = Path(data_dir) / pic.file
    if not path.is_file():
        raise DemoError(f"{path} is missing; install Debian's opencv-doc package (apt-get install opencv-doc).")
    if pic.at is not None:
        from generec_desktop import media

        image = media.sample_frames(path, timestamps=[pic.at])[0].image
    else:
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise DemoError(f"{path} cannot be read as a picture; reinstall opencv-doc.")
        image = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    if pic.defocus:
        sigma = pic.defocus * max(image.shape[:2]) / 512.0
        image = cv2.GaussianBlur(image, (0, 0), sigma)
    image = np.ascontiguousarray(image[:, :, :3])
    image.setflags(write=False)
    return image


@dataclass(frozen=True)
class _Segment:
    start_frame: int
    end_frame: int
    category: str
    picture: str
    crop_from: tuple[float, float, float]
    crop_to: tuple[float, float, float]


@dataclass(frozen=True)
class _Plan:
    external_id: str
    title: str
    fps: int
    width: int
    height: int
    n_frames: int
    segments: tuple[_Segment, ...]
    fades: tuple[int, ...]  # per boundary: cross-fade frames (0 = hard cut)

    def shares(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for s in self.segments:
            out[s.category] = out.get(s.category, 0.0) + (s.end_frame - s.start_frame)
        return {c: round(n / self.n_frames, 6) for c, n in out.items()}


def _plan(n_videos: int, seed: int, size: int) -> list[_Plan]:
    import numpy as np

    rng = _rng(seed, _STREAM_VIDEOS)
    by_cat = {c: [p.name for p in PICTURES if p.category == c] for c in CATEGORIES}
    cat_use = dict.fromkeys(CATEGORIES, 0)
    pic_use = {p.name: 0 for p in PICTURES}
    long_side, short_side = size, (size * 9 // 16) // 2 * 2
    plans = []
    for i in range(n_videos):
        fps = int(rng.choice([25, 30, 60]))
        portrait = i % 4 == 3  # exactly a quarter
        width, height = (short_side, long_side) if portrait else (long_side, short_side)
        n_frames = round(rng.uniform(6.0, 10.0) * fps)
        fading = rng.random() < 0.35
        min_seg = 2 * fps
        max_fade = round(1.0 * fps)
        first_min = max(min_seg, -(-n_frames // 4) + max_fade // 2 + 1)
        n_seg = int(rng.integers(2, min(4, 1 + (n_frames - first_min) // min_seg) + 1))
        weights = np.array([1.0 / (1.0 + cat_use[c]) ** 2 for c in CATEGORIES])
        cats = [str(c) for c in rng.choice(CATEGORIES, size=n_seg, replace=False, p=weights / weights.sum())]
        extra = rng.dirichlet(np.ones(n_seg)) * (n_frames - n_seg * min_seg)
        lengths = [min_seg + int(x) for x in extra]
        lengths[-1] = n_frames - sum(lengths[:-1])
        need = first_min - lengths[0]
        while need > 0:
            k = max(range(1, n_seg), key=lambda j: lengths[j])
            take = min(need, lengths[k] - min_seg)
            lengths[k] -= take
            lengths[0] += take
            need -= take
        segs, start = [], 0
        for cat, length in zip(cats, lengths):
            cat_use[cat] += 1
            least = min(pic_use[p] for p in by_cat[cat])
            pool = [p for p in by_cat[cat] if pic_use[p] == least]
            pic = pool[int(rng.integers(len(pool)))]
            pic_use[pic] += 1
            zoom_in = bool(rng.random() < 0.5)
            wide, close = float(rng.uniform(0.9, 1.0)), float(rng.uniform(0.6, 0.8))
            a = (float(rng.random()), float(rng.random()), wide if zoom_in else close)
            du, dv = rng.uniform(-0.35, 0.35, size=2)
            b = (min(1.0, max(0.0, a[0] + float(du))), min(1.0, max(0.0, a[1] + float(dv))),
                 close if zoom_in else wide)
            segs.append(_Segment(start, start + length, cat, pic, a, b))
            start += length
        fades = tuple((round(float(rng.uniform(0.6, 1.0)) * fps) // 2 * 2 if fading and rng.random() < 0.8 else 0)
                      for _ in segs[1:])
        plans.append(_Plan(f"ind-{i + 1:03d}", f"Clip {i + 1:03d}: " + ", ".join(s.picture.replace("_", " ")
                                                                                 for s in segs),
                           fps, width, height, n_frames, tuple(segs), fades))
    return plans


def _smooth(x: float) -> float:
    x = min(1.0, max(0.0, x))
    return x * x * (3.0 - 2.0 * x)


@cache
def _scaled(name: str, width: int, height: int) -> np.ndarray:
    import cv2

    pic = load_picture(name)
    ph, pw = pic.shape[:2]
    max_w = min(float(pw), ph * width / height)
    factor = 1.25 * width / max_w
    if factor >= 1.0:
        return pic
    return cv2.resize(pic, (max(2, round(pw * factor)), max(2, round(ph * factor))), interpolation=cv2.INTER_AREA)


def _segment_frame(seg: _Segment, frame: int, width: int, height: int) -> np.ndarray:
    """One pan/zoom frame: a window of the output's aspect moving over the picture (as the demo's)."""
    import cv2
    import numpy as np

    pic = _scaled(seg.picture, width, height)
    ph, pw = pic.shape[:2]
    aspect = width / height
    max_w = min(float(pw), ph * aspect)
    t = _smooth((frame - seg.start_frame) / max(1, seg.end_frame - seg.start_frame - 1))
    u, v, s = (a + (b - a) * t for a, b in zip(seg.crop_from, seg.crop_to))
    crop_w = max_w * s
    crop_h = crop_w / aspect
    x0, y0 = u * (pw - crop_w), v * (ph - crop_h)
    sx, sy = crop_w / width, crop_h / height
    m = np.array([[sx, 0.0, x0 + 0.5 * sx - 0.5], [0.0, sy, y0 + 0.5 * sy - 0.5]])
    return cv2.warpAffine(pic, m, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REFLECT)


def _render(plan: _Plan, frame: int) -> np.ndarray:
    import numpy as np

    i = next(k for k, s in enumerate(plan.segments) if s.start_frame <= frame < s.end_frame)
    seg = plan.segments[i]
    image = _segment_frame(seg, frame, plan.width, plan.height)
    other, alpha = None, 0.0
    if i + 1 < len(plan.segments) and plan.fades[i] and frame >= seg.end_frame - plan.fades[i] // 2:
        half = plan.fades[i] / 2
        other, alpha = i + 1, 0.5 * (1.0 - (seg.end_frame - frame - 0.5) / half)
    elif i > 0 and plan.fades[i - 1] and frame < seg.start_frame + plan.fades[i - 1] // 2:
        half = plan.fades[i - 1] / 2
        other, alpha = i - 1, 0.5 * (1.0 - (frame - seg.start_frame + 0.5) / half)
    if other is not None:
        blend = _segment_frame(plan.segments[other], frame, plan.width, plan.height)
        image = np.clip(image.astype(np.float32) * (1 - alpha) + blend.astype(np.float32) * alpha + 0.5,
                        0, 255).astype(np.uint8)
    return image


@dataclass(frozen=True)
class _User:
    external_id: str
    group: str
    preferred: tuple[str, ...]
    activity: float


def _users(n_users: int, seed: int) -> list[_User]:
    if n_users < len(GROUPS):
        raise DemoError(f"The independent set needs at least {len(GROUPS)} users (one per group), not {n_users}.")
    rng = _rng(seed, _STREAM_USERS)
    singles = [g for g, c in GROUPS.items() if len(c) == 1]
    pairs = [g for g, c in GROUPS.items() if len(c) == 2]
    n_pairs = max(len(pairs), round(n_users * _PAIR_SHARE))
    groups = [pairs[k % len(pairs)] for k in range(n_pairs)] + [singles[k % len(singles)]
                                                                 for k in range(n_users - n_pairs)]
    order = rng.permutation(n_users)
    # activity from 0.08 to 1: the least active users like only 1-3 videos (thin audiences)
    return [_User(f"ind-user-{k + 1:03d}", groups[int(order[k])], GROUPS[groups[int(order[k])]],
                  round(float(rng.uniform(0.08, 1.0)), 4)) for k in range(n_users)]


def _likes(users: list[_User], plans: list[_Plan], seed: int, noise: float = 0.04) -> list[tuple[int, str, str, float]]:
    rng = _rng(seed, _STREAM_LIKES)
    shares = [p.shares() for p in plans]
    out = []
    for u in users:
        for p, sh in zip(plans, shares):
            s = sum(sh.get(c, 0.0) for c in u.preferred)
            p_pref = u.activity * 0.85 * min(1.0, s / (1.0 / 3.0))
            r = float(rng.random())
            ts = HISTORY_START + int(rng.integers(HISTORY_DAYS * 86400))
            watch = float(rng.random())
            if r < p_pref:
                out.append((ts, u.external_id, p.external_id, round(0.6 + 0.4 * watch, 3)))
            elif r < p_pref + noise:
                out.append((ts, u.external_id, p.external_id, round(0.1 + 0.5 * watch, 3)))
    out.sort()
    return out


@dataclass(frozen=True)
class IndependentResult:
    """What :func:`build_independent_workspace` made."""

    workspace: Path
    seed: int
    n_videos: int
    n_portrait: int
    n_crossfades: int
    fps: dict[int, int]  # frame rate -> videos
    n_users: int
    n_interactions: int
    ground_truth: Path
    timings: dict[str, float] = field(default_factory=dict)


def _readme(res: dict[str, object]) -> str:
    cats = "\n".join(f"- **{c}**: " + ", ".join(
        f"{p.name} (`{p.file}`" + (f" at {p.at:g} s" if p.at is not None else "")
        + (f", defocused σ={p.defocus:g}" if p.defocus else "") + ")" for p in PICTURES if p.category == c)
        for c in CATEGORIES)
    groups = "\n".join(f"- `{g}`: {', '.join(c)}" for g, c in GROUPS.items())
    return f"""# GeneRec independent evaluation workspace

Built by `generec demo create --independent` with seed {res['seed']}: {res['videos']} videos
({res['portrait']} portrait; {res['fades']} cross-fades), {res['users']} simulated users,
{res['likes']} interactions. Never used to tune the selection; report it beside the demo.

**{NOTE}**

## Pictures (OpenCV sample data from Debian's opencv-doc, {OPENCV_DATA})

Licence: OpenCV's sample data, see `/usr/share/doc/opencv-doc/copyright`.

{cats}

## Hidden groups

{groups}

## Files

- `interactions.csv`: `user_id,item_id,timestamp,weight` (external ids), also in the database.
- `ground_truth.json`: the demo's ground-truth format (categories per item and time span, cross-fades,
  covers, users' hidden tastes). Judge with `generec eval W --ground-truth W/{EVAL_DIR}/ground_truth.json`.
"""


def build_independent_workspace(path: Path | str, *, seed: int = 1, n_videos: int = 42, n_users: int = 180,
                                size: int = 448, with_profiles: bool = True, progress: Progress | None = None,
                                cancel: CancelToken | None = None) -> IndependentResult:
    """Build the independent evaluation workspace at ``path`` (new or empty folder); see the module docstring.

    ``size`` is the long side of the videos (the short side is 9/16 of it). Deterministic for a seed.
    """
    from generec_desktop import media
    from generec_desktop.corpus.schema import Item
    from generec_desktop.corpus.workspace import Workspace
    from generec_desktop.demo.ground_truth import GroundTruth, GroundTruthItem, GroundTruthSegment, GroundTruthUser

    t0 = time.perf_counter()
    dest = Path(path).expanduser().absolute()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise DemoError(f"{dest} already exists and is not an empty folder; choose a new folder.")
    if n_videos < 1:
        raise DemoError(f"The independent set needs at least one video, not {n_videos}.")
    if size < 64 or size % 2:
        raise DemoError(f"The video size must be even and at least 64, not {size}.")
    for pic in PICTURES:  # every picture readable before anything is written
        load_picture(pic.name)
    plans = _plan(n_videos, seed, size)
    users = _users(n_users, seed)
    steps = Steps(progress, {"render": 6.0, "import": 2.0, "profiles": 2.0 if with_profiles else 0.0})
    timings: dict[str, float] = {}
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.building-", dir=dest.parent))
    try:
        render_dir, ws_root = tmp / "render", tmp / "workspace"
        render_dir.mkdir()
        files = []
        for k, plan in enumerate(plans):
            check_cancel(cancel)
            out = render_dir / f"{plan.external_id}.mp4"
            media.encode_frames((_render(plan, f) for f in range(plan.n_frames)), out, plan.fps, crf=20,
                                metadata={"title": plan.title}, codec_options={"x264-params": "mbtree=0"},
                                cancel=cancel)
            files.append(out)
            report(steps["render"], (k + 1) / len(plans), f"Rendered {plan.external_id}")
        timings["render"] = time.perf_counter() - t0
        t = time.perf_counter()
        gt_items: dict[str, GroundTruthItem] = {}
        ws = Workspace.create(ws_root)
        try:
            for k, (plan, file) in enumerate(zip(plans, files)):
                check_cancel(cancel)
                item = ws.import_media([file], owner=OWNER, licence=LICENCE, title=plan.title, cancel=cancel).items[0]
                with ws.session() as s:
                    row = s.get(Item, item.id)
                    assert row is not None
                    row.external_id = plan.external_id
                fps = plan.fps
                segs = tuple(GroundTruthSegment(round(s.start_frame / fps, 6), round(s.end_frame / fps, 6),
                                                s.category, s.picture) for s in plan.segments)
                trans = tuple({"time": s.start, "kind": "crossfade" if f else "cut", "duration": round(f / fps, 6)}
                              for s, f in zip(segs[1:], plan.fades))
                gt_items[plan.external_id] = GroundTruthItem(
                    external_id=plan.external_id, item_id=item.id, sha256=item.sha256, title=plan.title,
                    duration=round(plan.n_frames / fps, 6), fps=float(fps), frame_count=plan.n_frames, segments=segs,
                    transitions=trans, category_shares=plan.shares(), cover_category=segs[0].category,
                    cover_time=0.0, cover_attached=False)
                report(steps["import"], (k + 1) / len(plans), f"Imported {plan.external_id}")
            likes = _likes(users, plans, seed)
            added = ws.add_users([{"external_id": u.external_id, "name": f"Simulated viewer {u.external_id[-3:]}"}
                                  for u in users])
            uid = {u.external_id: u.id for u in added}
            iid = {k: v.item_id for k, v in gt_items.items()}
            ws.add_interactions((uid[u], iid[i], datetime.fromtimestamp(ts, UTC), w) for ts, u, i, w in likes)
            timings["import"] = time.perf_counter() - t
            if with_profiles:
                t = time.perf_counter()
                from generec_desktop.profiles import build_profiles, train_recommender

                sub = Steps(steps["profiles"], {"build": 2.0, "train": 1.0})
                build_profiles(ws, progress=sub["build"], cancel=cancel)
                train_recommender(ws, progress=sub["train"], cancel=cancel)
                timings["profiles"] = time.perf_counter() - t
        finally:
            ws.close()
        gt = GroundTruth(seed=seed, note=NOTE, categories=CATEGORIES, groups=dict(GROUPS),
                         photos={p.name: p.category for p in PICTURES}, items=gt_items,
                         users={u.external_id: GroundTruthUser(u.external_id, uid[u.external_id], u.group,
                                                               u.preferred) for u in users},
                         human_items={})
        ev = ws_root / EVAL_DIR
        ev.mkdir()
        with open(ev / "interactions.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["user_id", "item_id", "timestamp", "weight"])
            for ts, u, i, wt in likes:
                w.writerow([u, i, ts, f"{wt:.3f}"])
        (ev / "ground_truth.json").write_text(json.dumps(gt.to_json(), indent=1) + "\n", encoding="utf-8")
        n_fades = sum(1 for p in plans for f in p.fades if f)
        fps_count: dict[int, int] = {}
        for p in plans:
            fps_count[p.fps] = fps_count.get(p.fps, 0) + 1
        n_portrait = sum(1 for p in plans if p.height > p.width)
        (ev / "README.md").write_text(_readme({"seed": seed, "videos": len(plans), "portrait": n_portrait,
                                               "fades": n_fades, "users": len(users), "likes": len(likes)}),
                                      encoding="utf-8")
        check_cancel(cancel)
        if dest.exists():
            dest.rmdir()
        os.rename(ws_root, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    timings["total"] = time.perf_counter() - t0
    report(progress, 1.0, "Independent evaluation workspace ready")
    return IndependentResult(dest, seed, len(plans), n_portrait, n_fades, dict(sorted(fps_count.items())),
                             len(users), len(likes), dest / EVAL_DIR / "ground_truth.json", timings)
