"""``generec models [W] [--hash] [--json]``: which encoders this machine can use, and where weights are."""

from __future__ import annotations

import argparse
from pathlib import Path

from generec_desktop.cli_support import add_json_flag, emit


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the encoder subcommands."""
    p = subparsers.add_parser(
        "models", help="list the visual encoders and the open_clip weights found",
        description="List the built-in encoder and every open_clip weights file found, in search order: "
        "the workspace's models/, the repository's models/, the Hugging Face cache.",
    )
    p.add_argument("workspace", nargs="?", type=Path, help="a workspace folder (its models/ is searched first)")
    p.add_argument("--hash", action="store_true",
                   help="hash the weights files to show full encoder ids (slow the first time per file)")
    add_json_flag(p)
    p.set_defaults(func=_cmd_models)


def _cmd_models(args: argparse.Namespace) -> int:
    from generec_desktop.encoders.base import EncoderError
    from generec_desktop.encoders.builtin import BLOCK_DIMS, BUILTIN_ID
    from generec_desktop.encoders.discovery import file_sha256, list_weights, search_dirs

    ws = args.workspace
    if ws is not None and not ws.is_dir():
        raise EncoderError(f"The workspace folder {ws} does not exist; give an existing workspace or none.")
    rows: list[dict[str, object]] = [{
        "name": "builtin", "id": BUILTIN_ID, "dim": sum(BLOCK_DIMS.values()), "source": "built-in",
        "path": None, "size": 0, "text": False, "use": "builtin",
    }]
    for cand in list_weights(ws):
        sha = file_sha256(cand.path) if args.hash else None
        rows.append({
            "name": cand.name, "id": f"open_clip:{cand.name}:{sha[:8]}" if sha else None, "dim": None,
            "source": cand.source, "path": str(cand.path), "size": cand.size, "text": True,
            "tag": cand.tag, "config_dir": str(cand.config_dir) if cand.config_dir else None,
            "sha256": sha, "use": f"open_clip:{cand.name}",
        })
    searched = [str(d) for _, d in search_dirs(ws)]

    def text() -> str:
        lines = [f"{'use as':<28} {'source':<10} {'size':>9}  where"]
        for r in rows:
            size = f"{int(r['size']) / 1e6:.1f} MB" if r["size"] else "-"
            where = r["path"] or f"no weights needed ({r['id']}, {r['dim']}-d)"
            if r.get("id") and r["source"] != "built-in":
                where = f"{where}  [{r['id']}]"
            lines.append(f"{r['use']!s:<28} {r['source']!s:<10} {size:>9}  {where}")
        if len(rows) == 1:
            lines.append(
                "No open_clip weights found: put e.g. ViT-B-32.safetensors (or a Hugging Face open_clip folder "
                f"under open_clip/) in {' or '.join(searched)}."
            )
        return "\n".join(lines)

    emit(args, {"encoders": rows, "searched": searched}, text)
    return 0
