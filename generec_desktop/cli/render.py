"""``generec render`` and ``generec package``: files to upload (issue 16 part 6).

``render W (ITEM | VERSION) --preset NAME --out FILE [--trim] [--fit crop|pad] [--force]``: an item (id or
external id) or a pending version (id or path) as an MP4 for a platform preset; ``render --list-presets``.
``package W ITEM --audience A --out DIR [--preset NAME]``: one audience's folder (clip, image, summary).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from generec_desktop.cli_support import add_json_flag, emit, progress_bar


def register(subparsers: Any) -> None:
    """Add the render / package commands."""
    r = subparsers.add_parser(
        "render", help="render an item or a pending version to a file to upload (platform presets)",
        description="Render ITEM (id or external id) or VERSION (pending version id or path) to --out with a "
                    "preset: H.264 High + AAC MP4 (fast start), the platform's size and duration limits, salient "
                    "reframing when the aspect changes, watermark and provenance (tags + FILE.provenance.json).")
    r.add_argument("workspace", nargs="?", type=Path, metavar="W")
    r.add_argument("target", nargs="?", metavar="ITEM|VERSION", help="item id / external id, or pending version")
    r.add_argument("--preset", default=None, help="vertical, square, landscape-1080, landscape-720 or original")
    r.add_argument("--out", type=Path, default=None, help="the file to write (.mp4)")
    r.add_argument("--trim", action="store_true", help="keep the first part of a video longer than the preset allows")
    r.add_argument("--fit", choices=("crop", "pad"), default="crop",
                   help="when the aspect changes: crop following the salient region (default) or letterbox")
    r.add_argument("--force", action="store_true", help="replace an existing output file")
    r.add_argument("--list-presets", action="store_true", help="list the presets with their limits and exit")
    add_json_flag(r)
    r.set_defaults(func=_cmd_render)

    p = subparsers.add_parser(
        "package", help="one audience's upload folder: its clip rendered, its artwork or thumbnail, a summary",
        description="Choose AUDIENCE's clip of ITEM (Eq. 2), render it with --preset, add the audience's stored "
                    "artwork (else its personalised thumbnail as JPEG) and summary.json, into the new folder --out.")
    p.add_argument("workspace", type=Path, metavar="W")
    p.add_argument("item", metavar="ITEM", help="item id or external id")
    p.add_argument("--audience", required=True,
                   help="audience: an id (segment:0, examples:1, user:12) or a name ('Segment 1', 'Cyclists')")
    p.add_argument("--out", type=Path, required=True, help="the folder to create (must not exist)")
    p.add_argument("--preset", default="vertical", help="render preset (default vertical)")
    p.add_argument("--fit", choices=("crop", "pad"), default="crop")
    p.add_argument("--encoder", default=None, help="encoder of the audiences (default: the profiles' own)")
    add_json_flag(p)
    p.set_defaults(func=_cmd_package)


def _cmd_render(args: argparse.Namespace) -> int:
    from generec_desktop.versions.render import PRESETS, RenderError, describe_presets, render

    if args.list_presets:
        emit(args, describe_presets(), "\n".join(p.describe() for p in PRESETS.values()))
        return 0
    missing = [name for name, value in (("W", args.workspace), ("ITEM|VERSION", args.target),
                                        ("--preset", args.preset), ("--out", args.out)) if value is None]
    if missing:
        raise RenderError(f"render needs {', '.join(missing)} (e.g. `generec render W 3 --preset vertical --out "
                          "clip.mp4`; presets: `generec render --list-presets`).")
    from generec_desktop.versions import open_workspace

    with open_workspace(args.workspace) as ws, progress_bar(args, "render") as bar:
        res = render(ws, args.target, args.preset, args.out, fit=args.fit, trim=args.trim, force=args.force,
                     progress=bar, cancel=args.cancel)
    data = {"path": res.path, "sidecar": res.sidecar, "preset": res.preset, "width": res.width,
            "height": res.height, "fps": res.fps, "frames": res.frames, "duration": res.duration, "size": res.size,
            "sha256": res.sha256, "watermark_payload": f"{res.payload:08x}", "fit": res.fit, "trimmed": res.trimmed,
            "start": res.start, "end": res.end, "video_kbps": res.video_kbps, "has_audio": res.has_audio,
            "crop": res.crop, "warnings": list(res.warnings), "seconds": res.seconds,
            "realtime_factor": res.realtime_factor}

    def text() -> str:
        lines = [f"Rendered {res.path} ({res.preset}: {res.width}×{res.height}, {res.fps:g} fps, "
                 f"{res.duration:.2f} s, {res.size / 1e6:.1f} MB{', trimmed' if res.trimmed else ''}; "
                 f"watermark {res.payload:08x}; provenance {res.sidecar.name})"]
        lines += [f"  note: {w}" for w in res.warnings]
        return "\n".join(lines)

    emit(args, data, text)
    return 0


def _cmd_package(args: argparse.Namespace) -> int:
    from generec_desktop.versions import open_workspace
    from generec_desktop.versions.package import package

    with open_workspace(args.workspace) as ws, progress_bar(args, "package") as bar:
        res = package(ws, args.item, args.audience, args.out, preset=args.preset, fit=args.fit,
                      encoder=args.encoder, progress=bar, cancel=args.cancel)
    data = {"folder": res.folder, "item_id": res.item_id, "audience_id": res.audience_id,
            "audience_label": res.audience_label, "clip": [res.clip_start, res.clip_end],
            "video": res.render.path, "image": res.image, "image_kind": res.image_kind,
            "summary": res.folder / "summary.json", "files": res.summary["files"], "warnings": list(res.warnings),
            "seconds": res.seconds}

    def text() -> str:
        lines = [f"Packaged item {res.item_id} for {res.audience_label or res.audience_id} into {res.folder}:",
                 f"  {res.render.path.name}: clip {res.clip_start:.2f}–{res.clip_end:.2f} s, {res.render.preset} "
                 f"{res.render.width}×{res.render.height}",
                 f"  {res.image.name}: {'stored artwork' if res.image_kind == 'artwork' else 'personalised thumbnail'}",
                 "  summary.json"]
        lines += [f"  note: {w}" for w in res.warnings]
        return "\n".join(lines)

    emit(args, data, text)
    return 0
