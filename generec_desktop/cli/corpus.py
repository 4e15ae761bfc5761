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

    _register_workspace(subparsers)

    p = subparsers.add_parser("items", help="list a workspace's items")
    p.add_argument("workspace", help="workspace folder")
    p.add_argument("--kind", choices=("human", "ai_edited", "ai_created"), help="only items of this kind")
    add_json_flag(p)
    p.set_defaults(func=_cmd_items)

    _register_corpus(subparsers)


def _register_corpus(subparsers: argparse._SubParsersAction) -> None:
    c = subparsers.add_parser("corpus", help="hand the item corpus to a recommender (RecBole, Parquet)")
    sub = c.add_subparsers(dest="corpus_command", metavar="ACTION", required=True)
    p = sub.add_parser("export", help="write RecBole atomic files or a Parquet set into a new folder")
    p.add_argument("workspace", help="workspace folder")
    p.add_argument("--format", required=True, choices=("recbole", "parquet"), help="what to write")
    p.add_argument("--out", required=True, metavar="DIR", help="the folder to create (built beside it, renamed in)")
    p.add_argument("--name", help="RecBole dataset name (default: the folder's name, where RecBole looks)")
    p.add_argument("--encoder", help="encoder of the visual features (default: the one the profiles use)")
    p.add_argument("--force", action="store_true", help="replace an earlier export in DIR")
    add_json_flag(p)
    p.set_defaults(func=_cmd_corpus_export)


def _cmd_corpus_export(args: argparse.Namespace) -> int:
    from generec_desktop.corpus.workspace import Workspace
    from generec_desktop.handoff import export_corpus

    with Workspace.open(args.workspace) as ws, progress_bar(args, "Exporting") as progress:
        res = export_corpus(ws, args.out, format=args.format, name=args.name, encoder=args.encoder,
                            force=args.force, progress=progress, cancel=args.cancel)
    emit(args, {"folder": res.folder, "format": res.format, "dataset": res.dataset, "encoder_id": res.encoder_id,
                "dim": res.dim, "rows": res.rows, "seconds": res.seconds}, res.summary)
    return 0


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
    from generec_desktop.versions import open_workspace

    with open_workspace(args.workspace) as ws:
        items = ws.items(args.kind)

    def text() -> str:
        if not items:
            return "No items."
        rows = [f"{'id':>5}  {'kind':<10}  {'duration':>8}  {'size':>9}  {'parent':>6}  title"]
        for it in items:
            size = f"{it.width}x{it.height}"
            rows.append(f"{it.id:>5}  {it.kind:<10}  {it.duration or 0:>7.1f}s  {size:>9}"
                        f"  {it.parent_id or '':>6}  {it.title or it.original_name or ''}"
                        + (f"  [damaged, repaired: {'; '.join(it.warnings)}]" if it.warnings else ""))
        return "\n".join(rows)

    emit(args, [_item_json(it) for it in items], text)
    return 0


def _register_workspace(subparsers: argparse._SubParsersAction) -> None:
    ws = subparsers.add_parser("workspace", help="check, repair, back up or rebuild a workspace")
    sub = ws.add_subparsers(dest="workspace_command", metavar="ACTION", required=True)
    p = sub.add_parser("create", help="a new, empty workspace (its catalogue in the folder, or on a PostgreSQL server)")
    p.add_argument("workspace", help="the new (or an empty) folder")
    p.add_argument("--database", metavar="URL", help="a shared corpus on PostgreSQL: postgresql://USER@HOST:5432/DB "
                   "(kept in workspace.json without the password; give that with PGPASSWORD or ~/.pgpass)")
    add_json_flag(p)
    p.set_defaults(func=_cmd_create)
    p = sub.add_parser("check", help="full integrity check (database, files, hashes, leftovers); changes nothing")
    p.add_argument("workspace", help="workspace folder")
    p.add_argument("--no-hashes", action="store_true", help="skip re-hashing every file (faster)")
    add_json_flag(p)
    p.set_defaults(func=_cmd_check)
    p = sub.add_parser("repair", help="remove the app's own crash leftovers, quarantine strays, rewrite sidecars")
    p.add_argument("workspace", help="workspace folder")
    add_json_flag(p)
    p.set_defaults(func=_cmd_repair)
    p = sub.add_parser("backup", help="an online copy of the database in W/backups/")
    p.add_argument("workspace", help="workspace folder")
    add_json_flag(p)
    p.set_defaults(func=_cmd_backup)
    p = sub.add_parser("rebuild", help="re-create a lost or damaged catalogue from media/, versions/, provenance/")
    p.add_argument("workspace", help="workspace folder")
    p.add_argument("--force", action="store_true", help="rebuild even when the catalogue is healthy")
    add_json_flag(p)
    p.set_defaults(func=_cmd_rebuild)


def _cmd_create(args: argparse.Namespace) -> int:
    from generec_desktop.corpus.database import public_url
    from generec_desktop.corpus.workspace import Workspace

    with Workspace.create(args.workspace, db_url=args.database) as ws:
        where = public_url(ws.db_url) if ws.db_path is None else str(ws.db_path)
        version = ws.schema_version()
    emit(args, {"workspace": ws.root, "database": where, "schema_version": version},
         f"Created the workspace {ws.root} (catalogue: {where}, schema {version}).")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from generec_desktop.corpus.workspace import Workspace

    with Workspace.open(args.workspace) as ws, progress_bar(args, "Checking") as progress:
        rep = ws.check_integrity(verify_hashes=not args.no_hashes, progress=progress, cancel=args.cancel)
        pending = _pending_problems(ws)
    data = {**dataclasses.asdict(rep), "ok": rep.ok and not pending, "pending_problems": pending,
            "read_only": ws.read_only}
    emit(args, data, lambda: rep.summary() + "".join(f"\n  pending: {p}" for p in pending))
    return 0 if data["ok"] else 1


def _pending_problems(ws: Any) -> list[str]:
    """Pending versions whose folder is unreadable (cheap; the fidelity package reads them)."""
    try:
        from generec_desktop.fidelity.export import PENDING_DIR, VersionError, _from_folder
    except ImportError:  # pragma: no cover - fidelity always ships
        return []
    root = ws.root / PENDING_DIR
    out = []
    if root.is_dir():
        for d in sorted(root.iterdir()):
            if d.is_dir() and not d.name.startswith("."):
                try:
                    _from_folder(d)
                except VersionError as exc:
                    out.append(str(exc))
    return out


def _cmd_repair(args: argparse.Namespace) -> int:
    from generec_desktop.corpus.workspace import Workspace
    from generec_desktop.fidelity.export import recover_exports

    with Workspace.open(args.workspace) as ws:
        rep = ws.last_recovery  # what the open itself recovered
        again = ws.recover(grace_s=0)  # and strays younger than the open's grace period
        written = recover_exports(ws)
        check = ws.check_integrity(verify_hashes=False)
    removed = rep.removed + again.removed
    quarantined = rep.quarantined + again.quarantined
    data = {"removed": removed, "quarantined": quarantined, "quarantine_folder": again.quarantine_folder
            or rep.quarantine_folder, "left": again.left, "sidecars_written_or_moved": written,
            "check": dataclasses.asdict(check), "ok": check.ok}

    def text() -> str:
        lines = [f"Removed {len(removed)} leftover temporary file(s) of crashed GeneRec processes.",
                 f"Moved {len(quarantined)} unreferenced file(s) to quarantine/ (nothing deleted)."
                 + (f" See {data['quarantine_folder']}/README.txt." if quarantined else ""),
                 f"Rewrote or moved {len(written)} provenance file(s)."]
        lines += [f"Left in place: {x}" for x in again.left[:10]]
        lines.append(check.summary())
        return "\n".join(lines)

    emit(args, data, text)
    return 0 if check.ok else 1


def _cmd_backup(args: argparse.Namespace) -> int:
    from generec_desktop.corpus.workspace import Workspace

    with Workspace.open(args.workspace) as ws:
        dest = ws.backup()
    emit(args, {"backup": dest}, f"Backed up the catalogue to {dest}")
    return 0


def _cmd_rebuild(args: argparse.Namespace) -> int:
    from generec_desktop.corpus.rebuild import rebuild_catalogue

    with progress_bar(args, "Rebuilding") as progress:
        result = rebuild_catalogue(args.workspace, force=args.force, progress=progress, cancel=args.cancel)
    emit(args, dataclasses.asdict(result), result.summary)
    return 0
