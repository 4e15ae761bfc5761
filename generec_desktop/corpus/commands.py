"""``generec import`` and ``generec items`` (SQLAlchemy and media are imported only when they run)."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from generec_desktop.cli_support import add_json_flag, emit, progress_bar


def _item_json(item: Any) -> dict[str, Any]:
    """An ItemInfo as a JSON-ready dict (``cli_support.to_jsonable`` does not handle datetimes)."""
    data = dataclasses.asdict(item)
    data["created_at"] = item.created_at.isoformat()
    return data


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the corpus subcommands."""
    p = subparsers.add_parser("import", help="import video files into a workspace (created if absent)")
    p.add_argument("workspace", help="workspace folder")
    p.add_argument("files", nargs="+", metavar="FILE", help="video files")
    p.add_argument("--owner", help="uploader who owns (and authored) the videos")
    p.add_argument("--licence", help="licence of the videos, e.g. CC-BY-4.0")
    add_json_flag(p)
    p.set_defaults(func=_cmd_import)

    p = subparsers.add_parser("items", help="list a workspace's items")
    p.add_argument("workspace", help="workspace folder")
    p.add_argument("--kind", choices=("human", "ai_edited", "ai_created"), help="only items of this kind")
    add_json_flag(p)
    p.set_defaults(func=_cmd_items)


def _cmd_import(args: argparse.Namespace) -> int:
    import shutil

    from generec_desktop.corpus.workspace import Workspace

    target = Path(args.workspace)
    created = not target.exists()
    try:
        with Workspace.open_or_create(target) as ws, progress_bar(args, "Importing") as progress:
            result = ws.import_media(args.files, owner=args.owner, licence=args.licence,
                                     progress=progress, cancel=args.cancel)
    except BaseException:
        if created:  # nothing was imported: do not leave behind an empty workspace this command made
            shutil.rmtree(target, ignore_errors=True)
        raise

    def text() -> str:
        lines = [f"{'added' if f.new else 'already there'}: #{f.item.id} {f.source} "
                 f"({f.item.duration:.1f} s, {f.item.width}x{f.item.height})" for f in result.files]
        lines.append(f"{len(result.added)} added, {len(result.existing)} already in {args.workspace} "
                     f"({result.seconds:.2f} s)")
        return "\n".join(lines)

    emit(args, {"files": [{"source": f.source, "new": f.new, "item": _item_json(f.item)}
                          for f in result.files],
                "seconds": result.seconds}, text)
    return 0


def _cmd_items(args: argparse.Namespace) -> int:
    from generec_desktop.corpus.workspace import Workspace

    with Workspace.open(args.workspace) as ws:
        items = ws.items(args.kind)

    def text() -> str:
        if not items:
            return "No items."
        rows = [f"{'id':>5}  {'kind':<10}  {'duration':>8}  {'size':>9}  {'parent':>6}  title"]
        for it in items:
            size = f"{it.width}x{it.height}"
            rows.append(f"{it.id:>5}  {it.kind:<10}  {it.duration or 0:>7.1f}s  {size:>9}"
                        f"  {it.parent_id or '':>6}  {it.title or it.original_name or ''}")
        return "\n".join(rows)

    emit(args, [_item_json(it) for it in items], text)
    return 0
