"""``generec personalize W ITEM --audiences A1,A2 [--thumbnails] [--clips] [--show WORDS] [--artwork [generated]]
--out DIR [--json]`` (``--profiles`` is kept as the older name of ``--audiences``)."""

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
    p.add_argument("--audiences", "--profiles", dest="profiles", required=True, metavar="AUDIENCES",
                   help="comma-separated audiences (--profiles is the older name of this flag): ids "
                        "(segment:0,examples:1,user:12) or names ('Segment 1,Cyclists'); see `generec audiences list` "
                        "and `generec profiles list`")
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
    p.add_argument("--generator", choices=("auto", "palette", "diffusion"), default="auto",
                   help="how the generated thumbnails are made: auto (default: Stable Diffusion img2img steered by "
                        "an IP-Adapter toward the audience's liked pictures when both are on disk, see `generec "
                        "models`; else the palette transfer), palette, or diffusion (an error when the weights are "
                        "missing)")
    p.add_argument("--show", default=None, metavar="WORDS",
                   help='what the thumbnail should show, e.g. "food": each audience\'s vector is moved toward the '
                        "words' text embedding (needs an encoder with a text tower; otherwise a note says so and "
                        "the audiences' taste alone decides)")
    p.add_argument("--artwork", nargs="?", const="selected", default=None, choices=("selected", "generated"),
                   help="also store each audience's chosen thumbnail (or, with --artwork generated, its generated "
                        "one) as the item's artwork for that audience: full resolution, watermarked, replacing "
                        "an earlier one (see `generec artwork W ITEM`)")
    p.add_argument("--shots", default=None, metavar="NAME",
                   help="shot detector: auto (default, or $GENEREC_SHOTS), hsv, content, adaptive, hash, transnetv2")
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
    from generec_desktop.editor.personalize.analysis import DEFAULT_RATE
    from generec_desktop.editor.personalize.clips import DEFAULT_CLIP_FRAMES, export_clip
    from generec_desktop.editor.personalize.errors import EditorError
    from generec_desktop.editor.personalize.pipeline import personalize
    from generec_desktop.jobs import Steps
    from generec_desktop.safefiles import atomic_path, atomic_write_text

    ids = [s.strip() for s in args.profiles.split(",") if s.strip()]
    if not ids:
        raise EditorError("Give at least one audience with --audiences, e.g. 'Segment 1,Cyclists' or "
                          "segment:0,segment:1.")
    both = not (args.thumbnails or args.clips)
    do_thumbs, do_clips = both or args.thumbnails, both or args.clips
    aspects = tuple(a.strip() for a in args.aspects.split(",") if a.strip())
    if args.shots is not None:  # a bad name is refused before anything is written
        from generec_desktop.editor.personalize.shotdetect import choose_detector

        choose_detector(args.shots, 0.0)
    out: Path = args.out
    with Workspace.open(args.workspace) as ws, progress_bar(args, "personalize") as bar:
        from generec_desktop.cli.audiences import resolve_audience_ids
        from generec_desktop.profiles import load_profiles

        profiles = load_profiles(ws, encoder_id=None)
        ids = resolve_audience_ids(ws, ids, profiles=profiles)
        encoder = args.encoder
        if encoder is None:
            encoder = profiles.encoder_id
        show_note = None
        if args.show:
            from generec_desktop.editor.personalize.pipeline import resolve_targets
            from generec_desktop.encoders import get_encoder
            from generec_desktop.encoders.text import has_text_tower
            from generec_desktop.instructor.content import CONTENT_WEIGHT, steer_targets

            encoder = get_encoder(encoder, workspace_root=ws.root) if isinstance(encoder, str) else encoder
            if has_text_tower(encoder):
                ids = steer_targets(resolve_targets(ws, ids, encoder.id), args.show, encoder)
                show_note = (f"Thumbnails and clips lean toward '{args.show}' ({CONTENT_WEIGHT:g} of the way from "
                             f"each audience's taste, through {encoder.id}'s text tower).")
            else:
                show_note = (f"Cannot look for '{args.show}' in the frames: the encoder {encoder.id} has no text "
                             "tower (download one: `generec models get ViT-B-32`); the audiences' taste alone "
                             "decided.")
        if args.artwork:
            from generec_desktop.editor.personalize.pipeline import resolve_item
            from generec_desktop.fidelity.still_mark import MIN_HEIGHT, MIN_WIDTH, too_small

            info = resolve_item(ws, args.item)
            if too_small(info.width or 0, info.height or 0):
                raise EditorError(f"Item {info.id} is {info.width}×{info.height}; artwork needs a video of at least "
                                  f"{MIN_WIDTH}×{MIN_HEIGHT} (its watermark is not reliable below). Nothing was "
                                  "written; leave out --artwork.")
            if not do_thumbs:
                raise EditorError("--artwork stores the chosen thumbnails: leave out --clips (or add --thumbnails).")
        failed_art = 0
        out.mkdir(parents=True, exist_ok=True)
        steps = Steps(bar, {"select": 1.0, "export": 2.0 if do_clips else 0.01})
        res = personalize(ws, args.item, ids, thumbnails=do_thumbs, clips=do_clips, generate=not args.no_generate,
                          encoder=encoder, rate=args.rate or DEFAULT_RATE,
                          clip_frames=args.clip_frames or DEFAULT_CLIP_FRAMES, min_clip=args.min_clip,
                          max_clip=args.max_clip, diversity=args.diversity, aspects=aspects, shots=args.shots,
                          selection=args.selection, generator=args.generator, progress=steps["select"],
                          cancel=args.cancel)
        summary: dict[str, Any] = {"item_id": res.item_id, "video": str(res.video), "encoder_id": res.encoder_id,
                                   "rate": res.rate, "cut_times": res.cut_times,
                                   "cut_spans": res.cut_spans, "shot_detector": res.shot_detector,
                                   "choice": _choice(res.choice), "clip_choice": _choice(res.clip_choice),
                                   "selection": res.selection,
                                   "notices": res.notices() + ([show_note] if show_note else []),
                                   "show": args.show, "audiences": []}
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
                     "method": a.generated.method,
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
            if args.artwork and a.thumbnail is not None:
                from generec_desktop.versions import use_thumbnail

                thumb = a.generated if args.artwork == "generated" and a.generated is not None else a.thumbnail
                if args.artwork == "generated" and a.generated is None:
                    entry.setdefault("notes", []).append("no generated thumbnail: the chosen one is stored")
                from generec_desktop.fidelity.artwork import ArtworkError

                try:
                    stored = use_thumbnail(ws, res.item_id, a.audience_id, thumb, label=a.label,
                                           encoder_id=res.encoder_id, cancel=args.cancel)
                except ArtworkError as exc:  # this audience's frame (too flat to carry the mark): say so, go on
                    entry["artwork_error"] = str(exc)
                    failed_art += 1
                else:
                    entry["artwork"] = {**stored.row.to_dict(), "file": str(ws.root / stored.row.path),
                                        "replaced": stored.previous.path if stored.previous else None,
                                        "psnr": stored.psnr}
            summary["audiences"].append(entry)
        atomic_write_text(out / "summary.json", json.dumps(to_jsonable(summary), indent=1) + "\n")

    def text() -> str:
        lines = [f"Personalised item {res.item_id} for {len(res.audiences)} audiences into {out}"]
        lines += [f"Note: {n}" for n in summary["notices"]]
        gradual = sum(1 for a, b in res.cut_spans if b > a)
        lines.append(f"  {len(res.cut_times)} shot transitions ({gradual} gradual) by {res.shot_detector or 'hsv'}")
        for e in summary["audiences"]:
            parts = [e["label"] or e["audience"]]
            if "thumbnail" in e:
                parts.append(f"thumbnail at {e['thumbnail']['timestamp']:.2f} s (score {e['thumbnail']['score']:.3f})")
            if "clip" in e:
                parts.append(f"clip {e['clip']['start']:.2f}-{e['clip']['end']:.2f} s")
            if "artwork" in e:
                parts.append(f"artwork {e['artwork']['path']} ({e['artwork']['width']}×{e['artwork']['height']})")
            if "artwork_error" in e:
                parts.append(f"artwork NOT stored: {e['artwork_error']}")
            lines.append("  " + "; ".join(parts))
        return "\n".join(lines)

    emit(args, summary, text)
    return 1 if failed_art else 0
