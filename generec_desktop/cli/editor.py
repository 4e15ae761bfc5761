"""``generec styles`` (list the styles) and ``generec style W ITEM`` (style one workspace item's video)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from generec_desktop.cli_support import add_json_flag, emit, progress_bar
from generec_desktop.jobs import GenerecError


def register(subparsers: Any) -> None:
    """Add the editor's subcommands to the ``generec`` parser."""
    p = subparsers.add_parser("styles", help="list the video styles")
    add_json_flag(p)
    p.set_defaults(func=_cmd_styles)

    p = subparsers.add_parser("style", help="restyle a workspace item's video (whole or a time range)")
    p.add_argument("workspace", metavar="W", help="workspace folder")
    p.add_argument("item", metavar="ITEM", type=int, help="item id (see `generec items`)")
    add_style_options(p)
    p.add_argument("--out", type=Path, help="output video file (.mp4)")
    p.add_argument("--version", action="store_true",
                   help="make a pending version in the workspace (prints its id) to check and export")
    p.add_argument("--audience", dest="target_profile", metavar="AUDIENCE",
                   help="the audience the version is for: an id (segment:1, examples:2) or a name ('Segment 2', "
                        "'Cyclists'); recorded with it")
    add_json_flag(p)
    p.set_defaults(func=_cmd_style)


def add_style_options(p: argparse.ArgumentParser) -> None:
    """The style options; the instructor adds ``--instruction`` next to them (see :func:`request_from_args`)."""
    p.add_argument("--style", help="style name (see `generec styles`)")
    p.add_argument("--strength", type=float, default=1.0, help="0 = original, 1 = full style (default 1)")
    p.add_argument("--start", type=float, default=0.0, help="start of the styled range, seconds")
    p.add_argument("--end", type=float, default=None, help="end of the styled range, seconds (default: end)")
    p.add_argument("--trim", action="store_true", help="write only the range instead of the whole video")
    p.add_argument("--face-aware", action="store_true", help="keep faces less stylised")
    p.add_argument("--reference", nargs="+", type=Path, default=[], metavar="IMG",
                   help="liked thumbnails (image files) for the 'personal' grade")
    p.add_argument("--reference-item", nargs="+", type=int, default=[], metavar="ID",
                   help="items whose covers are the liked thumbnails for the 'personal' grade")
    p.add_argument("--network", type=Path, default=None,
                   help="a TorchScript (.pt/.ts) or ONNX (.onnx) style network; used as --style NAME")


#: Hooks that turn extra arguments into a request; each takes ``(args, request)`` and returns a
#: request. The instructor hooks in from its own ``register(subparsers)``, which runs after this one:
#: ``subparsers.choices["style"].add_argument("--instruction")`` and
#: ``REQUEST_HOOKS.append(lambda args, req: plan_to_request(args.instruction, req))``.
REQUEST_HOOKS: list[Callable[[argparse.Namespace, Any], Any]] = []


def request_from_args(args: argparse.Namespace) -> Any:
    """The :class:`~generec_desktop.editor.styles.StyleRequest` the options describe."""
    from generec_desktop.editor.styles.stylize import StyleRequest

    request = StyleRequest(style=args.style or "", strength=args.strength, start=args.start, end=args.end,
                           trim=args.trim, face_aware=args.face_aware)
    for hook in REQUEST_HOOKS:
        request = hook(args, request)
    if not request.style:
        raise GenerecError("Give a style with --style NAME; list them with `generec styles`.")
    return request


def _load_images(paths: list[Path]) -> list[Any]:
    import numpy as np
    from PIL import Image

    images = []
    for path in paths:
        try:
            with Image.open(path) as im:
                images.append(np.asarray(im.convert("RGB")))
        except OSError as exc:
            raise GenerecError(f"Cannot read the reference image {path}; give a JPEG or PNG file.") from exc
    return images


def _cmd_styles(args: argparse.Namespace) -> int:
    from generec_desktop.editor.styles.stylize import list_styles

    styles = list_styles()
    emit(args, styles, lambda: "\n".join(
        f"{s.name:12s} {s.kind:8s} {s.description}" + ("  (needs --reference)" if s.needs_references else "")
        for s in styles))
    return 0


def _cmd_style(args: argparse.Namespace) -> int:
    from generec_desktop.editor.styles.stylize import register_network_style, run_style_request
    from generec_desktop.versions import open_workspace, style_version

    request = request_from_args(args)
    if args.network is not None:
        register_network_style(request.style, args.network)
    if args.out is None and not args.version:
        raise GenerecError("Give --out FILE to write the styled video, or --version to make a pending version.")
    out = Path(args.out) if args.out is not None else None
    if out is not None and out.suffix.lower() not in (".mp4", ".mov", ".mkv"):
        raise GenerecError(f"The output {out} should be an .mp4, .mov or .mkv file.")
    with open_workspace(args.workspace) as ws:
        src = ws.media_path(ws.item(args.item))
        ref_paths = list(args.reference)
        for ref_id in args.reference_item:
            cover = ws.cover_path(ws.item(ref_id))
            if cover is None:
                raise GenerecError(f"Item {ref_id} has no cover to use as a reference.")
            ref_paths.append(cover)
        refs = _load_images(ref_paths) or None
        if args.target_profile:
            from generec_desktop.cli.audiences import resolve_audience_ids

            args.target_profile = resolve_audience_ids(ws, [args.target_profile])[0]
        if args.version:
            with progress_bar(args, f"style {request.style}") as progress:
                pv = style_version(ws, args.item, request.style, strength=request.strength,
                                   face_aware=request.face_aware, start=request.start, end=request.end,
                                   trim=request.trim, reference_images=refs, target_profile=args.target_profile,
                                   instruction=({"text": args.instruction} if getattr(args, "instruction", None)
                                                else None), progress=progress,
                                   cancel=args.cancel)
            if out is not None:
                import shutil

                shutil.copyfile(pv.media, out)
            emit(args, {"version": pv.id, "operation": pv.operation, "parent_id": pv.parent_id,
                        "target_profile": pv.target_profile, "media": pv.media, "params": pv.params},
                 f"Made pending version {pv.id} ({request.style} of #{args.item}); check it with "
                 f"`generec check {args.workspace} {pv.id}`, export it with `generec export {args.workspace} {pv.id}`.")
            return 0
    assert out is not None
    with progress_bar(args, f"style {request.style}") as progress:
        result = run_style_request(src, out, request, reference_images=refs, progress=progress,
                                   cancel=args.cancel)
    ratio = "n/a" if result.flicker_ratio is None else f"{result.flicker_ratio:.2f}"
    emit(args, result, f"Wrote {result.output} ({result.styled_frames} of {result.total_frames} frames "
                       f"styled '{result.style}', flicker ratio {ratio}).")
    return 0
