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

The videos are planned and rendered, and the users and their likes simulated, by the demo's code
(:mod:`generec_desktop.demo.content`) with this set's rules (:data:`PLAN`, :data:`USERS`) and pictures.
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

from generec_desktop.demo.content import (
    PlanSpec,
    UserSpec,
    plan_videos,
    render_frame,
    simulate_interactions,
    simulate_users,
)
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


#: The independent set's videos, planned by the demo's planner with these rules: 25, 30 or 60 fps, every
#: fourth video portrait, cross-fades in about a third of the videos (per boundary, 0.6-1 s), no covers.
PLAN = PlanSpec(pictures={c: tuple(p.name for p in PICTURES if p.category == c) for c in CATEGORIES},
                id_prefix="ind", title_prefix="Clip", stream=_STREAM_VIDEOS, fps_choices=(25, 30, 60),
                portrait_every=4, fade_chance=0.35, fade_seconds=(0.6, 1.0), boundary_fade_chance=0.8,
                wide=(0.9, 1.0), close=(0.6, 0.8), covers=False)
#: Its simulated users: other groups, activity from 0.08 to 1 (the least active like only 1-3 videos: thin
#: audiences), a little more noise, another month.
USERS = UserSpec(groups=GROUPS, id_prefix="ind-user", what="The independent set", pair_share=_PAIR_SHARE,
                 activity=(0.08, 1.0), noise=0.04, user_stream=_STREAM_USERS, like_stream=_STREAM_LIKES,
                 history_start=HISTORY_START, history_days=HISTORY_DAYS)


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
    plans = plan_videos(n_videos, seed=seed, size=(size, (size * 9 // 16) // 2 * 2), min_seconds=6.0,
                        max_seconds=10.0, spec=PLAN)
    users = simulate_users(n_users, seed=seed, spec=USERS)
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
            frames = (render_frame(plan, f, load_picture) for f in range(plan.n_frames))
            media.encode_frames(frames, out, plan.fps, crf=20, metadata={"title": plan.title},
                                codec_options={"x264-params": "mbtree=0"}, cancel=cancel)
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
                                                s.category, s.photo) for s in plan.segments)
                trans = tuple({"time": s.start, "kind": "crossfade" if f else "cut", "duration": round(f / fps, 6)}
                              for s, f in zip(segs[1:], plan.fades))
                gt_items[plan.external_id] = GroundTruthItem(
                    external_id=plan.external_id, item_id=item.id, sha256=item.sha256, title=plan.title,
                    duration=round(plan.n_frames / fps, 6), fps=float(fps), frame_count=plan.n_frames, segments=segs,
                    transitions=trans, category_shares=plan.category_shares(), cover_category=segs[0].category,
                    cover_time=0.0, cover_attached=False)
                report(steps["import"], (k + 1) / len(plans), f"Imported {plan.external_id}")
            likes = [(like.timestamp, like.user, like.item, like.weight)
                     for like in simulate_interactions(users, plans, seed=seed, spec=USERS)]
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
