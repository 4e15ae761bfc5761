"""``generec plan W "TEXT" [--audience A] [--feedback FILE] [--no-model] [--json]``, and
``--instruction TEXT`` for ``generec style`` (through the editor's request hook)."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from generec_desktop.cli_support import add_json_flag, emit
from generec_desktop.jobs import GenerecError


def register(subparsers: Any) -> None:
    """Add ``generec plan`` and, when the editor registered ``generec style``, its ``--instruction``."""
    p = subparsers.add_parser("plan", help="turn an instruction (+ the audience's feedback) into an edit plan")
    p.add_argument("workspace", metavar="W", help="workspace folder (its audiences and feedback are read)")
    p.add_argument("text", metavar="TEXT", help='the instruction, e.g. "a 10 second clip for the teens"')
    p.add_argument("--audience", "--profile", dest="profile", metavar="AUDIENCE", default=None,
                   help="audience targeted when the text names none: an id (segment:2, examples:1, user:42) or a "
                        "name ('Segment 3', 'Cyclists'); its recent interactions are the feedback for a user")
    p.add_argument("--feedback", type=Path, default=None, metavar="FILE",
                   help='JSON list of feedback events, oldest first: [{"item_kind": "human", "signal": "negative"}]')
    p.add_argument("--no-model", action="store_true", help="keyword matching only (no MiniLM model)")
    p.add_argument("--encoder", default=None, metavar="NAME",
                   help="the workspace's encoder (e.g. open_clip:ViT-B-32): with a text tower, what a thumbnail "
                        "should show ('make the thumbnail show food') is looked for in the frames")
    add_json_flag(p)
    p.set_defaults(func=_cmd_plan)
    _add_style_instruction(subparsers)


def _read_feedback(path: Path) -> list[Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GenerecError(f"Cannot read the feedback file {path}; give a JSON list of events.") from exc
    if not isinstance(data, list):
        raise GenerecError(f"The feedback file {path} must hold a JSON list of events.")
    return data


def _cmd_plan(args: argparse.Namespace) -> int:
    from generec_desktop.cli.audiences import resolve_audience_ids
    from generec_desktop.corpus import Workspace
    from generec_desktop.instructor.plan import make_plan
    from generec_desktop.instructor.workspace import workspace_audiences, workspace_feedback

    notes: list[str] = []
    with Workspace.open(args.workspace) as ws:
        audiences, note = workspace_audiences(ws)
        if note:
            notes.append(note)
        if args.profile:
            args.profile = resolve_audience_ids(ws, [args.profile])[0]
        if args.feedback is not None:
            feedback: list[Any] = _read_feedback(args.feedback)
        elif args.profile:
            feedback = list(workspace_feedback(ws, args.profile))
        else:
            feedback = []
        encoder = None
        if args.encoder:
            from generec_desktop.encoders import get_encoder

            encoder = get_encoder(args.encoder, workspace_root=ws.root)
    plan = make_plan(args.text, audiences=audiences, feedback=feedback, use_model=not args.no_model,
                     default_audiences=[args.profile] if args.profile else (), encoder=encoder)
    plan.explanations.extend(notes)
    emit(args, plan.to_dict(), plan.summary)
    return 0


# ------------------------------------------------------------------------------ generec style --instruction

def _add_style_instruction(subparsers: Any) -> None:
    style = getattr(subparsers, "choices", {}).get("style")
    if style is None:
        return
    try:
        from generec_desktop.cli import editor as editor_commands
    except ImportError:
        return
    if not any("--instruction" in a.option_strings for a in style._actions):
        style.add_argument("--instruction", metavar="TEXT", default=None,
                           help='describe the style in words, e.g. "not too cartoonish, keep faces"; '
                                "explicit --style/--strength/--start/--end win")
    if style_request_hook not in editor_commands.REQUEST_HOOKS:
        editor_commands.REQUEST_HOOKS.append(style_request_hook)


def style_request_hook(args: argparse.Namespace, request: Any) -> Any:
    """Fill a style request from ``args.instruction``; options given explicitly on the command line win."""
    instruction = getattr(args, "instruction", None)
    if not instruction:
        return request
    from generec_desktop.instructor.plan import make_plan

    plan = make_plan(instruction)
    if plan.operation != "style":
        raise GenerecError(f"The instruction asks for '{plan.operation}', not a style: "
                           f"{plan.explanations[0]} Describe a look, e.g. 'a subtle watercolour'.")
    p = plan.params
    changes: dict[str, Any] = {}
    if not request.style:
        changes["style"] = p["style"]
    if request.strength == 1.0 and p.get("strength") is not None:  # 1.0 is the option's default
        changes["strength"] = p["strength"]
    if request.start == 0.0 and request.end is None and "start" in p:
        changes["start"], changes["end"] = p["start"], p.get("end")
    if p.get("face_aware"):
        changes["face_aware"] = True
    return replace(request, **changes)
