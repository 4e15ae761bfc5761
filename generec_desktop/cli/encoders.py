"""``generec models``: which encoders this machine can use, and getting one from the Hugging Face hub.

    generec models [list] [W] [--hash]          the built-in encoder and every open_clip weights set found
    generec models catalog                      the checkpoints `get` knows (open_clip, SigLIP, MobileCLIP)
    generec models get NAME [--endpoint URL] [--yes] [--rebuild W]
                                                download (licence shown and accepted first), resume, verify
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from generec_desktop.cli_support import add_json_flag, emit, progress_bar

_SUBCOMMANDS = ("list", "catalog", "get")


class _ModelsParser(argparse.ArgumentParser):
    """``generec models [W] [--hash]`` (the older form, no subcommand) means ``generec models list ...``."""

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        args = list(args or [])
        if args and args[0] not in (*_SUBCOMMANDS, "-h", "--help"):
            args = ["list", *args]
        return super().parse_known_args(args, namespace)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``generec models`` and its subcommands."""
    p = subparsers.add_parser(
        "models", help="list the visual encoders found, show the catalogue, download one",
        description="List the built-in encoder and every open_clip weights file found, in search order (the "
        "workspace's models/, the repository's models/, your downloads, the Hugging Face cache); `get` downloads "
        "a checkpoint from the Hugging Face hub. Nothing is downloaded unless you run `get`.",
    )
    p.__class__ = _ModelsParser  # argparse has no per-parser class for add_parser(); the subclass adds no state
    p.set_defaults(func=_cmd_list, workspace=None, hash=False, json=False)
    sub = p.add_subparsers(dest="models_command", metavar="{list,catalog,get}", parser_class=argparse.ArgumentParser)

    ls = sub.add_parser("list", help="the encoders this machine can use (default)")
    ls.add_argument("workspace", nargs="?", type=Path, help="a workspace folder (its models/ is searched first)")
    ls.add_argument("--hash", action="store_true",
                    help="hash the weights files to show full encoder ids (slow the first time per file)")
    add_json_flag(ls)
    ls.set_defaults(func=_cmd_list)

    cat = sub.add_parser("catalog", help="the checkpoints `generec models get` can download")
    add_json_flag(cat)
    cat.set_defaults(func=_cmd_catalog)

    get = sub.add_parser("get", help="download an open_clip checkpoint from the Hugging Face hub",
                         description="Download NAME (see `generec models catalog`, or hf-hub:<org>/<repo>) into "
                         "your models folder: the licence is shown first and must be accepted; an interrupted "
                         "download resumes; every file is checked against the hub's sha256.")
    get.add_argument("name", metavar="NAME", help="a catalogue name (e.g. ViT-B-32) or hf-hub:<org>/<repo>")
    get.add_argument("--endpoint", default=None, metavar="URL",
                     help="the hub to download from (default: $HF_ENDPOINT, else huggingface.co)")
    get.add_argument("--yes", action="store_true", help="accept the model's licence without asking")
    get.add_argument("--rebuild", type=Path, default=None, metavar="W",
                     help="then rebuild the audience profiles of workspace W with the new encoder")
    add_json_flag(get)
    get.set_defaults(func=_cmd_get)


def _cmd_list(args: argparse.Namespace) -> int:
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
    diffusion = _diffusion_row(ws)

    def text() -> str:
        lines = [f"{'use as':<28} {'source':<10} {'size':>9}  where"]
        for r in rows:
            size = f"{int(r['size']) / 1e6:.1f} MB" if r["size"] else "-"
            where = r["path"] or f"no weights needed ({r['id']}, {r['dim']}-d)"
            if r.get("id") and r["source"] != "built-in":
                where = f"{where}  [{r['id']}]"
            lines.append(f"{r['use']!s:<28} {r['source']!s:<10} {size:>9}  {where}")
        if diffusion["model_dir"] and diffusion["ip_adapter_dir"]:
            lines.append(f"Generated thumbnails: Stable Diffusion {diffusion['model_dir']} ({diffusion['source']}) "
                         f"with the IP-Adapter {diffusion['ip_adapter_dir']}")
        else:
            missing = ("an IP-Adapter (ip_adapter/models/ip-adapter_sd15.safetensors) beside "
                       f"{diffusion['model_dir']}" if diffusion["model_dir"] else
                       "a Stable Diffusion folder (stable_diffusion/<name>/model_index.json) and an IP-Adapter "
                       "(ip_adapter/models/ip-adapter_sd15.safetensors)")
            lines.append(f"Generated thumbnails: palette transfer (for diffusion thumbnails put {missing} in "
                         f"{' or '.join(searched)})")
        if len(rows) == 1:
            lines.append(
                "No open_clip weights found: put e.g. ViT-B-32.safetensors (or a Hugging Face open_clip folder "
                f"under open_clip/) in {' or '.join(searched)}, or download one: `generec models get ViT-B-32` "
                "(see `generec models catalog`)."
            )
        return "\n".join(lines)

    emit(args, {"encoders": rows, "searched": searched, "diffusion": diffusion}, text)
    return 0


def _diffusion_row(ws: Path | None) -> dict[str, object]:
    """The Stable Diffusion + IP-Adapter weights the generated thumbnails would use (paths or None)."""
    from generec_desktop.editor.personalize.diffusion_thumbs import find_diffusion_weights

    found = find_diffusion_weights(ws)
    return {"model_dir": str(found.model_dir) if found else None,
            "ip_adapter_dir": str(found.ip_adapter_dir) if found and found.ip_adapter_dir else None,
            "source": found.source if found else None}


def _cmd_catalog(args: argparse.Namespace) -> int:
    from generec_desktop.encoders.catalog import CATALOGUE
    from generec_desktop.encoders.hub import installed_models

    have = {m["name"]: m for m in installed_models()}
    rows = [{"name": e.name, "repo_id": e.repo_id, "family": e.family, "licence": e.licence,
             "approx_mb": e.approx_mb, "description": e.description, "installed": e.name in have} for e in CATALOGUE]

    def text() -> str:
        lines = [f"{'name':<18} {'family':<11} {'licence':<11} {'size':>7}  repository"]
        for r in rows:
            mark = "  (downloaded)" if r["installed"] else ""
            lines.append(f"{r['name']!s:<18} {r['family']!s:<11} {r['licence']!s:<11} {r['approx_mb']:>4} MB  "
                         f"{r['repo_id']}{mark}")
        lines.append("Download one with `generec models get NAME` (any open_clip repository: hf-hub:<org>/<repo>).")
        return "\n".join(lines)

    emit(args, {"catalog": rows}, text)
    return 0


def _confirm(args: argparse.Namespace, plan: Any) -> bool:
    """Show what will be downloaded and its licence (on stderr); ask unless --yes."""
    from generec_desktop.encoders.base import EncoderError

    err = sys.stderr
    err.write(f"{plan.name}: {plan.model.repo_id} at {plan.commit[:12]} from {plan.endpoint}, "
              f"{plan.total_bytes / 1e6:,.1f} MB in {len(plan.files)} files"
              + (f" ({plan.resumable_bytes / 1e6:,.1f} MB already here, resumed)" if plan.resumable_bytes else "")
              + "\n")
    err.write(f"Licence: {plan.licence_summary()}\n")
    if plan.licence_text:
        lines = plan.licence_text.strip().splitlines()
        for line in lines[:12]:
            err.write(f"  | {line}\n")
        if len(lines) > 12:
            err.write(f"  | … ({len(lines) - 12} more lines: {plan.page})\n")
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise EncoderError(f"Accept the licence of {plan.name} ({plan.licence or 'see its model card'}) to download "
                           "it: run again with --yes.")
    answer = input(f"Accept this licence and download {plan.total_bytes / 1e6:,.1f} MB? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def _cmd_get(args: argparse.Namespace) -> int:
    from generec_desktop.encoders.base import EncoderError
    from generec_desktop.encoders.hub import download_model, plan_download

    if args.rebuild is not None and not (args.rebuild / "workspace.json").is_file():
        raise EncoderError(f"{args.rebuild} is not a workspace; give the folder of one to --rebuild.")
    plan = plan_download(args.name, endpoint=args.endpoint)
    if plan.installed:
        accepted = True
    else:
        accepted = _confirm(args, plan)
        if not accepted:
            sys.stderr.write("generec: nothing downloaded (licence not accepted)\n")
            return 1
    with progress_bar(args, f"Downloading {plan.name}") as bar:
        result = download_model(plan, accept_licence=accepted, progress=bar, cancel=args.cancel)
    data: dict[str, Any] = {
        "name": result.name, "encoder": result.encoder, "folder": str(result.folder), "weights": str(result.weights),
        "commit": result.commit, "total_bytes": result.total_bytes, "downloaded_bytes": result.downloaded_bytes,
        "resumed_bytes": result.resumed_bytes, "sha256": result.sha256, "already_installed": result.already_installed,
        "licence": plan.licence, "rebuilt": None,
    }
    lines = [
        (f"{result.name} is already downloaded in {result.folder}." if result.already_installed else
         f"Downloaded {result.name} to {result.folder} ({result.downloaded_bytes / 1e6:,.1f} MB fetched"
         + (f", {result.resumed_bytes / 1e6:,.1f} MB resumed" if result.resumed_bytes else "")
         + "; every file matches the hub's checksum)."),
    ]
    if args.rebuild is not None:
        from generec_desktop.corpus import Workspace
        from generec_desktop.profiles import build_profiles

        with Workspace.open(args.rebuild) as ws, progress_bar(args, "Rebuilding profiles") as bar:
            built = build_profiles(ws, encoder=result.encoder, progress=bar, cancel=args.cancel)
        data["rebuilt"] = {"workspace": str(args.rebuild), "encoder_id": built.encoder_id,
                           "users": int(built.user_ids.size), "segments": len(built.segments)}
        lines.append(f"Profiles of {args.rebuild} rebuilt with {built.encoder_id}: {built.user_ids.size} users, "
                     f"{len(built.segments)} segments. Select it in the window with Preferences ▸ Encoder "
                     f"'{result.encoder}'.")
    else:
        lines.append(f"Use it in a workspace: `generec profiles build W --encoder {result.encoder}` "
                     f"(or `generec models get {args.name} --rebuild W`).")
    emit(args, data, "\n".join(lines))
    return 0
