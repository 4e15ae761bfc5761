"""``generec personalize W ITEM --profiles P1,P2 [--thumbnails] [--clips] --out DIR [--json]``."""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path
from typing import Any

from generec_desktop.cli_support import add_json_flag, emit, progress_bar


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "personalize", help="personalised thumbnails and clips of one item for several audiences",
        description="Select (Eq. 1) and generate thumbnails and pick clips (Eq. 2) of ITEM for each audience; "
                    "writes images, clips and summary.json into --out.")
    p.add_argument("workspace", type=Path)
    p.add_argument("item", help="item id or external id (e.g. demo-007)")
    p.add_argument("--profiles", required=True,
                   help="comma-separated audiences: ids (segment:0,examples:1,user:12) or names "
                        "('Segment 1,Cyclists'); see `generec audiences list` and `generec profiles list`")
    p.add_argument("--thumbnails", action="store_true", help="thumbnails only (default: both)")
    p.add_argument("--clips", action="store_true", help="clips only (default: both)")
    p.add_argument("--out", type=Path, required=True, help="output folder (created)")
    p.add_argument("--encoder", default=None, help="encoder of the profiles (default: the profiles' own)")
    p.add_argument("--rate", type=float, default=None, help="candidate frames per second (default 4)")
    p.add_argument("--clip-frames", type=int, default=None, help="L of Eq. 2 in sampled frames (default 8)")
    p.add_argument("--min-clip", type=float, default=1.0, help="minimum clip length, seconds")
    p.add_argument("--max-clip", type=float, default=60.0, help="maximum clip length, seconds")
    p.add_argument("--diversity", type=_diversity, default="auto",
                   help="auto (default): one frame for all when the video offers no real choice, different "
                        "scenes within the score noise measured on the video when scores are close; off: the "
                        "paper's plain argmax; a number (e.g. 0.1): different frames within that share of "
                        "each audience's score range")
    p.add_argument("--reframe", default=None, help="crop the exported clips to this aspect, e.g. 9:16")
    p.add_argument("--aspects", default="16:9,9:16,1:1", help="aspect variants of the generated thumbnail")
    p.add_argument("--no-generate", action="store_true", help="skip the generated thumbnails")
    p.add_argument("--selection", choices=("centred", "projected", "eq1"), default="centred",
                   help="how frames are scored: centred (default: the audience's liked videos and the frames "
                        "centred on the workspace's mean), projected (also projected on where audiences differ), "
                        "eq1 (the paper's Eq. 1/2, the baseline)")
    add_json_flag(p)
    p.set_defaults(func=_cmd_personalize)


def _diversity(text: str) -> float | str:
    """``auto``, ``off`` (0) or a non-negative number (argparse turns a ValueError into one line)."""
    t = text.strip().lower()
    if t in ("auto", ""):
        return "auto"
    if t in ("off", "none", "0"):
        return 0.0
    value = float(t)
    if not value >= 0:
        raise ValueError(text)
    return value


def _choice(rep: Any) -> dict[str, Any] | None:
    if rep is None:
        return None
    return {"kind": rep.kind, "real_choice": rep.real_choice, "message": rep.message, "noise": list(rep.noise),
            "near_duplicate_pairs": rep.pairs, "shots": rep.shots, "scenes": rep.scenes, "moved": rep.moved,
            "cost": rep.cost, "distinct": rep.distinct, "audiences": rep.audiences}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "audience"


def _save_image(image: Any, path: Path) -> Path:
    from PIL import Image

    from generec_desktop.safefiles import atomic_path

    with atomic_path(path) as tmp:
        Image.fromarray(image).save(tmp, format="JPEG", quality=92)
    return path


def _cmd_personalize(args: argparse.Namespace) -> int:
    import json

    from generec_desktop.cli_support import to_jsonable
    from generec_desktop.corpus import Workspace
    from generec_desktop.editor.analysis import DEFAULT_RATE
    from generec_desktop.editor.clips import DEFAULT_CLIP_FRAMES, export_clip
    from generec_desktop.editor.errors import EditorError
    from generec_desktop.editor.personalize import personalize
    from generec_desktop.jobs import Steps
    from generec_desktop.safefiles import atomic_path, atomic_write_text

    ids = [s.strip() for s in args.profiles.split(",") if s.strip()]
    if not ids:
        raise EditorError("Give at least one audience with --profiles, e.g. segment:0,segment:1.")
    both = not (args.thumbnails or args.clips)
    do_thumbs, do_clips = both or args.thumbnails, both or args.clips
    aspects = tuple(a.strip() for a in args.aspects.split(",") if a.strip())
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    with Workspace.open(args.workspace) as ws, progress_bar(args, "personalize") as bar:
        from generec_desktop.cli.audiences import resolve_audience_ids
        from generec_desktop.profiles import load_profiles

        profiles = load_profiles(ws, encoder_id=None)
        ids = resolve_audience_ids(ws, ids, profiles=profiles)
        encoder = args.encoder
        if encoder is None:
            encoder = profiles.encoder_id
        steps = Steps(bar, {"select": 1.0, "export": 2.0 if do_clips else 0.01})
        res = personalize(ws, args.item, ids, thumbnails=do_thumbs, clips=do_clips, generate=not args.no_generate,
                          encoder=encoder, rate=args.rate or DEFAULT_RATE,
                          clip_frames=args.clip_frames or DEFAULT_CLIP_FRAMES, min_clip=args.min_clip,
                          max_clip=args.max_clip, diversity=args.diversity, aspects=aspects,
                          selection=args.selection, progress=steps["select"], cancel=args.cancel)
        summary: dict[str, Any] = {"item_id": res.item_id, "video": str(res.video), "encoder_id": res.encoder_id,
                                   "rate": res.rate, "cut_times": res.cut_times,
                                   "choice": _choice(res.choice), "clip_choice": _choice(res.clip_choice),
                                   "selection": res.selection, "notices": res.notices(), "audiences": []}
        exported: dict[tuple[float, float], tuple[Path, Any]] = {}
        for k, a in enumerate(res.audiences):
            folder = out / _slug(a.audience_id)
            folder.mkdir(exist_ok=True)
            entry: dict[str, Any] = {"audience": a.audience_id, "label": a.label, "folder": str(folder),
                                     "support": a.support, "thin": a.thin}
            if a.thumbnail is not None:
                entry["thumbnail"] = {"path": _save_image(a.thumbnail.image, folder / "thumbnail.jpg"),
                                      "timestamp": a.thumbnail.timestamp, "score": a.thumbnail.score}
                entry["candidates"] = [{"timestamp": c.timestamp, "score": c.score, "source": c.source}
                                       for c in a.candidates]
                entry["baselines"] = {name: {"path": _save_image(b.image, folder / f"{name}.jpg"),
                                             "timestamp": b.timestamp, "score": b.score}
                                      for name, b in a.baselines.items() if b.image is not None}
            if a.generated is not None:
                g = {"path": _save_image(a.generated.image, folder / "generated.jpg"), "score": a.generated.score,
                     "variants": {asp: _save_image(img, folder / f"generated-{asp.replace(':', 'x')}.jpg")
                                  for asp, img in a.generated.variants.items()}}
                entry["generated"] = g
            if a.clip is not None:
                clip_path = folder / "clip.mp4"
                key = (a.clip.start, a.clip.end)
                if key in exported:  # audiences that share a clip share one encode
                    with atomic_path(clip_path) as tmp_clip:
                        shutil.copyfile(exported[key][0], tmp_clip)
                    info = exported[key][1]
                else:
                    info = export_clip(res.video, a.clip, clip_path, reframe=args.reframe, cancel=args.cancel)
                    exported[key] = (clip_path, info)
                entry["clip"] = {"path": clip_path, "start": a.clip.start, "end": a.clip.end,
                                 "duration": info.duration, "score": a.clip.score,
                                 "snapped": [a.clip.snapped_start, a.clip.snapped_end]}
                if steps["export"] is not None:
                    steps["export"](k / len(res.audiences), f"Exported {k + 1} clips")  # type: ignore[misc]
            summary["audiences"].append(entry)
        atomic_write_text(out / "summary.json", json.dumps(to_jsonable(summary), indent=1) + "\n")

    def text() -> str:
        lines = [f"Personalised item {res.item_id} for {len(res.audiences)} audiences into {out}"]
        lines += [f"Note: {n}" for n in res.notices()]
        for e in summary["audiences"]:
            parts = [e["label"] or e["audience"]]
            if "thumbnail" in e:
                parts.append(f"thumbnail at {e['thumbnail']['timestamp']:.2f} s (score {e['thumbnail']['score']:.3f})")
            if "clip" in e:
                parts.append(f"clip {e['clip']['start']:.2f}-{e['clip']['end']:.2f} s")
            lines.append("  " + "; ".join(parts))
        return "\n".join(lines)

    emit(args, summary, text)
    return 0
