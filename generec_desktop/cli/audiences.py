"""``generec audiences add|list|rename|remove|add-examples|remove-examples``: audiences built from examples.

Also :func:`resolve_audience_ids`, which every command taking an audience (``--audiences``, ``--audience``,
and their older names ``--profiles``, ``--profile``) uses, so that an audience may be given by id (``segment:1``,
``examples:2``, ``user:42``) or by what a person calls it ("Segment 2", "Cyclists", a user's external id).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from typing import Any

from generec_desktop.cli_support import add_json_flag, emit, progress_bar
from generec_desktop.jobs import GenerecError

_ID = re.compile(r"^(?:segment|user|examples):\d+$")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``generec audiences ...``."""
    aud = subparsers.add_parser(
        "audiences", help="audiences from examples (people who like these): add, list, rename, remove",
        description="An audience from examples needs no platform data: give library items (ids or external ids), "
                    "image or video files, or folders of them; its vector is User_Hist (Eq. 1) of the examples.")
    sub = aud.add_subparsers(dest="audiences_command", metavar="ACTION", required=True)

    p = sub.add_parser("add", help="a new audience from example items, images, videos or folders")
    p.add_argument("workspace", metavar="W", help="workspace folder")
    p.add_argument("--name", required=True, help='what to call it, e.g. "Cyclists"')
    p.add_argument("--examples", nargs="+", default=None, metavar="PATH_OR_ITEM",
                   help="item ids or external ids of the library, image/video files, folders (searched recursively)")
    p.add_argument("--text", action="append", default=None, metavar="WORDS",
                   help='describe the audience in words, e.g. "people who like skateboarding" (repeatable; needs '
                        "an encoder with a text tower, e.g. `generec models get ViT-B-32`); with --examples, "
                        "pictures and words count half each")
    p.add_argument("--encoder", default=None,
                   help="encoder (default: the workspace's, i.e. its profiles' or the built-in one)")
    add_json_flag(p)
    p.set_defaults(func=_cmd_add)

    p = sub.add_parser("list", help="list the audiences from examples with their examples")
    p.add_argument("workspace", metavar="W", help="workspace folder")
    add_json_flag(p)
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("rename", help="rename an audience from examples")
    p.add_argument("workspace", metavar="W", help="workspace folder")
    p.add_argument("audience", metavar="AUDIENCE", help="its id (examples:2) or name")
    p.add_argument("new_name", metavar="NEW_NAME")
    add_json_flag(p)
    p.set_defaults(func=_cmd_rename)

    p = sub.add_parser("remove", help="remove an audience from examples (the example files are not touched)")
    p.add_argument("workspace", metavar="W", help="workspace folder")
    p.add_argument("audience", metavar="AUDIENCE", help="its id (examples:2) or name")
    add_json_flag(p)
    p.set_defaults(func=_cmd_remove)

    p = sub.add_parser("add-examples", help="add examples to an audience")
    p.add_argument("workspace", metavar="W", help="workspace folder")
    p.add_argument("audience", metavar="AUDIENCE", help="its id (examples:2) or name")
    p.add_argument("examples", nargs="*", metavar="PATH_OR_ITEM")
    p.add_argument("--text", action="append", default=None, metavar="WORDS",
                   help="add a description in words (repeatable; needs an encoder with a text tower)")
    p.add_argument("--encoder", default=None, help="encoder (default: the workspace's)")
    add_json_flag(p)
    p.set_defaults(func=_cmd_add_examples)

    p = sub.add_parser("remove-examples", help="take examples out of an audience")
    p.add_argument("workspace", metavar="W", help="workspace folder")
    p.add_argument("audience", metavar="AUDIENCE", help="its id (examples:2) or name")
    p.add_argument("examples", nargs="+", metavar="PATH_OR_ITEM",
                   help="item ids / external ids, file paths, or the words of a description")
    add_json_flag(p)
    p.set_defaults(func=_cmd_remove_examples)


# ------------------------------------------------------------------------------------------ shared helpers

def resolve_audience_ids(ws: Any, refs: Sequence[str], *, profiles: Any = None) -> list[str]:
    """Audience ids for ``refs``: ids are kept (checked against the profiles when there are any), names
    ("Segment 2", "Cyclists") are looked up; an unknown one is a one-line error."""
    from generec_desktop.profiles import ModelNotFoundError, ProfilesError
    from generec_desktop.profiles.service import load_profiles

    out: list[str] = []
    tried = False
    for ref in refs:
        text = " ".join(str(ref).split())
        if not text:
            continue
        if profiles is None and not tried:
            tried = True
            try:
                profiles = load_profiles(ws)
            except ModelNotFoundError:
                profiles = None
        if profiles is None:
            if _ID.match(text):
                out.append(text)  # nothing to check it against (no audiences yet): the command says more
                continue
            raise GenerecError(f"There is no audience {text!r}: this workspace has no audiences yet; make one with "
                               "`generec audiences add W --name NAME --examples ...`.")
        try:
            out.append(profiles.resolve(text).id)
        except ProfilesError as exc:
            raise GenerecError(str(exc)) from exc
    return out


def audience_name(audience_id: str | None, profiles: Any = None) -> str:
    """What a person reads for an audience id (numbering from 1): "Segment 2: travel", "Cyclists"."""
    from generec_desktop.profiles.service import audience_title

    return audience_title(audience_id, profiles)


def _example_row(e: Any) -> dict[str, Any]:
    return {"id": e.id, "kind": e.kind, "item_id": e.item_id, "path": e.path, "label": e.label,
            "description": e.description, "sha256": e.sha256, "reachable": e.reachable, "encoders": list(e.encoders),
            "added_at": e.added_at}


def _audience_row(a: Any) -> dict[str, Any]:
    return {"id": a.audience_id, "name": a.name, "examples": a.n_examples, "items": list(a.item_ids),
            "paths": list(a.paths), "descriptions": list(a.descriptions), "created_at": a.created_at,
            "updated_at": a.updated_at,
            "example_list": [_example_row(e) for e in a.examples]}


def _change_data(change: Any) -> dict[str, Any]:
    return {"audience": _audience_row(change.audience), "encoder_id": change.encoder_id,
            "added": [_example_row(e) for e in change.added], "removed": [_example_row(e) for e in change.removed],
            "skipped": list(change.skipped), "seconds": change.seconds}


def _counts(a: Any) -> str:
    kinds: dict[str, int] = {}
    for e in a.examples:
        kinds[e.kind] = kinds.get(e.kind, 0) + 1
    words = {"item": ("library item", "library items"), "image": ("image", "images"), "video": ("video", "videos"),
             "text": ("description", "descriptions")}
    return ", ".join(f"{n} {words[k][n != 1]}" for k, n in kinds.items())


def _skipped_lines(skipped: Sequence[str]) -> list[str]:
    lines = [f"skipped: {s}" for s in skipped[:20]]
    if len(skipped) > 20:
        lines.append(f"skipped: … and {len(skipped) - 20} more")
    return lines


# ------------------------------------------------------------------------------------------ commands

def _cmd_add(args: argparse.Namespace) -> int:
    from generec_desktop.corpus import Workspace
    from generec_desktop.profiles.examples import add_audience

    with Workspace.open(args.workspace) as ws, progress_bar(args, "Embedding examples") as progress:
        if not args.examples and not args.text:
            raise GenerecError("Give --examples PATH_OR_ITEM... and/or --text WORDS.")
        change = add_audience(ws, args.name, args.examples, text=args.text, encoder=args.encoder,
                              progress=progress, cancel=args.cancel)
    a = change.audience
    emit(args, _change_data(change), lambda: "\n".join(
        [f"Audience '{a.name}' ({a.audience_id}) from {a.n_examples} examples ({_counts(a)}), encoder "
         f"{change.encoder_id}; use it as --audiences '{a.name}' or {a.audience_id}.",
         *_skipped_lines(change.skipped)]))
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from generec_desktop.corpus import Workspace
    from generec_desktop.profiles.examples import list_audiences

    with Workspace.open(args.workspace) as ws:
        auds = list_audiences(ws)

    def text() -> str:
        if not auds:
            return ("No audiences from examples yet; make one with "
                    "`generec audiences add W --name NAME --examples PATH_OR_ITEM...`.")
        lines = []
        for a in auds:
            lines.append(f"{a.audience_id:<12} {a.name}  ({a.n_examples} examples: {_counts(a)})")
            for e in a.examples:
                where = f"item #{e.item_id}  {e.label}" if e.kind == "item" and e.item_id is not None else \
                    (f"removed item  {e.label}" if e.kind == "item" else
                     f"words {e.label}" if e.kind == "text" else f"{e.kind:<5} {e.path}")
                lines.append(f"    {where}" + ("" if e.reachable else "  (moved or deleted; its vector still counts)"))
        return "\n".join(lines)

    emit(args, {"audiences": [_audience_row(a) for a in auds]}, text)
    return 0


def _cmd_rename(args: argparse.Namespace) -> int:
    from generec_desktop.corpus import Workspace
    from generec_desktop.profiles.examples import rename_audience

    with Workspace.open(args.workspace) as ws:
        old = None
        change = rename_audience(ws, args.audience, args.new_name)
        if change.before is not None:
            old = change.before.audience["name"]
    a = change.audience
    emit(args, _change_data(change), f"Renamed '{old}' to '{a.name}' ({a.audience_id}).")
    return 0


def _cmd_remove(args: argparse.Namespace) -> int:
    from generec_desktop.corpus import Workspace
    from generec_desktop.profiles.examples import remove_audience

    with Workspace.open(args.workspace) as ws:
        change = remove_audience(ws, args.audience)
    a = change.audience
    emit(args, _change_data(change), f"Removed the audience '{a.name}' ({a.audience_id}, {a.n_examples} examples; "
                                     "the example files were not touched).")
    return 0


def _cmd_add_examples(args: argparse.Namespace) -> int:
    from generec_desktop.corpus import Workspace
    from generec_desktop.profiles.examples import add_examples

    with Workspace.open(args.workspace) as ws, progress_bar(args, "Embedding examples") as progress:
        if not args.examples and not args.text:
            raise GenerecError("Give examples (PATH_OR_ITEM...) and/or --text WORDS.")
        change = add_examples(ws, args.audience, args.examples or None, text=args.text, encoder=args.encoder,
                              progress=progress, cancel=args.cancel)
    a = change.audience
    emit(args, _change_data(change), lambda: "\n".join(
        [f"Added {len(change.added)} examples to '{a.name}' ({a.audience_id}): now {a.n_examples} "
         f"({_counts(a)}).", *_skipped_lines(change.skipped)]))
    return 0


def _cmd_remove_examples(args: argparse.Namespace) -> int:
    from generec_desktop.corpus import Workspace
    from generec_desktop.profiles.examples import remove_examples

    with Workspace.open(args.workspace) as ws:
        change = remove_examples(ws, args.audience, args.examples)
    a = change.audience
    emit(args, _change_data(change), f"Removed {len(change.removed)} examples from '{a.name}' ({a.audience_id}): "
                                     f"now {a.n_examples} ({_counts(a)}).")
    return 0
