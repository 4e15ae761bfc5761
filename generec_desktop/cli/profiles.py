"""``generec profiles import|build|list`` and ``generec train recommender`` (heavy imports inside handlers)."""

from __future__ import annotations

import argparse
from typing import Any

from generec_desktop.cli_support import add_json_flag, emit, progress_bar


def train_subparsers(subparsers: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """The ``generec train`` group's subparsers, created by whichever package registers first.

    Several packages add ``generec train <model>``; argparse allows one ``train`` parser, so each
    reuses the one that exists.
    """
    train = subparsers.choices.get("train")
    if train is None:
        train = subparsers.add_parser("train", help="train a model on a workspace")
        return train.add_subparsers(dest="train_model", metavar="MODEL", required=True)
    for action in train._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return train.add_subparsers(dest="train_model", metavar="MODEL", required=True)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the profiles subcommands."""
    prof = subparsers.add_parser("profiles", help="audience profiles: import interactions, build, list")
    sub = prof.add_subparsers(dest="profiles_command", metavar="ACTION", required=True)

    p = sub.add_parser("import", help="import interactions (CSV/TSV/Parquet; default columns "
                                      "user_id,item_id[,timestamp][,weight])")
    p.add_argument("workspace", help="workspace folder")
    p.add_argument("file", help="interactions file (.csv, .tsv or .parquet; any common delimiter and encoding)")
    p.add_argument("--user-col", default=None, help="the column of user ids (default: user_id)")
    p.add_argument("--item-col", default=None, help="the column of items (default: item_id)")
    p.add_argument("--item-match", choices=("id", "external", "filename", "auto"), default=None,
                   help="match items by corpus id, external id or the imported file's name "
                        "(default auto: external id, else corpus id)")
    p.add_argument("--weight-col", default=None, help="the column of weights (default: weight if present, else 1)")
    p.add_argument("--time-col", default=None, help="the column of timestamps (default: timestamp if present)")
    p.add_argument("--max-rows", type=int, default=5_000_000, help="refuse larger files (default 5,000,000)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true",
                      help="only check the file: print every bad row's line number, write nothing (exit 1 if any)")
    mode.add_argument("--build", action="store_true",
                      help="then build the profiles and train the recommender, as one job")
    p.add_argument("--encoder", default=None,
                   help="with --build: encoder name (default: the workspace's, else builtin)")
    p.add_argument("--segments", type=int, default=None, help="with --build: number of segments (default: chosen)")
    p.add_argument("--epochs", type=int, default=20, help="with --build: recommender epochs (default 20)")
    p.add_argument("--threads", type=int, default=None, help="with --build: torch threads")
    add_json_flag(p)
    p.set_defaults(func=_cmd_import)

    p = sub.add_parser("build", help="compute User_Hist per user and audience segments (incremental)")
    p.add_argument("workspace", help="workspace folder")
    p.add_argument("--encoder", default=None,
                   help="encoder name (default: the workspace's, i.e. its latest profiles', else builtin)")
    p.add_argument("--segments", type=int, default=None, help="number of segments (default: chosen by silhouette)")
    p.add_argument("--basis", choices=("items", "hist", "both"), default="items",
                   help="what users are clustered on: liked items (collaborative), User_Hist, or both (default: items)")
    p.add_argument("--seed", type=int, default=0)
    add_json_flag(p)
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("list", help="list audiences (segments, audiences from examples, then users with --users)")
    p.add_argument("workspace", help="workspace folder")
    p.add_argument("--users", action="store_true", help="also list every user")
    p.add_argument("--encoder-id", default=None, help="profiles of this encoder id (default: latest built)")
    add_json_flag(p)
    p.set_defaults(func=_cmd_list)

    p = train_subparsers(subparsers).add_parser("recommender", help="train the recommender (User_Emb, PS@K)")
    p.add_argument("workspace", help="workspace folder")
    p.add_argument("--encoder", default=None,
                   help="encoder for item thumbnail features (default: the workspace's, else builtin)")
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="torch threads (1 is fastest on a busy machine)")
    add_json_flag(p)
    p.set_defaults(func=_cmd_train)


def _mapping(args: argparse.Namespace) -> Any:
    """The ColumnMapping the flags ask for (roles not given keep the standard names), or None."""
    flags = (args.user_col, args.item_col, args.item_match, args.weight_col, args.time_col)
    if all(f is None for f in flags):
        return None
    from pathlib import Path

    from generec_desktop.profiles.interaction_files import read_table, standard_mapping

    columns = read_table(args.file, nrows=1).columns
    return standard_mapping(columns, Path(args.file).name, user=args.user_col, item=args.item_col,
                            item_match=args.item_match, weight=args.weight_col, timestamp=args.time_col)


def _cmd_import(args: argparse.Namespace) -> int:
    from generec_desktop.corpus import Workspace

    mapping = _mapping(args)
    if args.dry_run:
        return _dry_run(args, mapping)
    if args.build:
        return _import_build(args, mapping)
    from generec_desktop.profiles.interactions import import_interactions

    with Workspace.open(args.workspace) as ws, progress_bar(args, "Importing interactions") as progress:
        rep = import_interactions(ws, args.file, mapping=mapping, max_rows=args.max_rows, progress=progress,
                                  cancel=args.cancel)
    emit(args, rep, _import_text(rep))
    return 0


def _import_text(rep: Any) -> str:
    return (f"{rep.imported:,} interactions imported from {rep.path.name} ({rep.new_users} new users); "
            f"skipped {rep.skipped_duplicates} repeated rows and {rep.skipped_existing} already present "
            f"({rep.seconds:.2f} s)" + "".join(f"\nwarning: {w}" for w in rep.warnings))


def _dry_run(args: argparse.Namespace, mapping: Any) -> int:
    from generec_desktop.corpus import Workspace
    from generec_desktop.profiles.interactions import validate_interactions

    with Workspace.open(args.workspace) as ws, progress_bar(args, "Checking interactions") as progress:
        check = validate_interactions(ws, args.file, mapping, max_rows=args.max_rows, max_errors=1000,
                                      progress=progress, cancel=args.cancel)

    def text() -> str:
        m = check.mapping
        lines = [f"{check.path.name} ({check.file_format}; user {m.user!r}, item {m.item!r} by {m.item_match}, "
                 f"weight {m.weight!r}, timestamp {m.timestamp!r}): {check.summary()}"]
        lines += [f"  {check.unit} {n}: {msg}" for n, msg in check.errors]
        if check.bad_rows > len(check.errors):
            lines.append(f"  … and {check.bad_rows - len(check.errors):,} more")
        lines += [f"warning: {w}" for w in check.warnings]
        return "\n".join(lines)

    emit(args, check, text)
    return 0 if check.ok else 1


def _import_build(args: argparse.Namespace, mapping: Any) -> int:
    from generec_desktop.corpus import Workspace
    from generec_desktop.profiles.pipeline import import_and_build

    with Workspace.open(args.workspace) as ws, progress_bar(args, "Import + profiles + recommender") as progress:
        res = import_and_build(ws, args.file, mapping=mapping, encoder=args.encoder, n_segments=args.segments,
                               epochs=args.epochs, threads=args.threads, max_rows=args.max_rows,
                               progress=progress, cancel=args.cancel)
    ps = res.profiles
    data = {"imported": res.imported, "encoder_id": ps.encoder_id, "users": len(ps.user_ids),
            "segments": _audience_rows(ps, False, False), "recommender": res.recommender, "seconds": res.seconds}

    def text() -> str:
        lines = [_import_text(res.imported), res.summary()]
        lines += [f"  {s.name:<11} {s.size:5d} users  {s.label}   (id segment:{s.index})" for s in ps.segments]
        return "\n".join(lines)

    emit(args, data, text)
    return 0


def _audience_rows(ps: Any, users: bool, examples: bool = True,
                   external: dict[int, str] | None = None) -> list[dict[str, Any]]:
    """One row per audience; segments list their members (``members``: audience ids, ``member_external_ids``
    when ``external`` maps user ids to external ids), users name their segment and how many likes they have,
    and users and example audiences say whether that is too thin to trust (issue 22)."""
    from generec_desktop.profiles.space import THIN_LIKES

    by_seg: dict[int, list[int]] = {}
    for u, sg in zip(ps.user_ids, ps.user_segment):
        by_seg.setdefault(int(sg), []).append(int(u))
    likes = {int(u): int(n) for u, n in zip(ps.user_ids, ps.user_likes)}
    used = {e.audience.audience_id: int(e.used) for e in ps.examples}
    rows = []
    for a in ps.audiences(users=users, examples=examples):
        row: dict[str, Any] = {"id": a.id, "kind": a.kind, "name": a.name, "label": a.label, "size": a.size}
        if a.kind == "segment":
            members = by_seg.get(int(a.segment_index), [])
            row["members"] = [f"user:{u}" for u in members]
            if external is not None:
                row["member_external_ids"] = [external.get(u, "") for u in members]
        elif a.kind == "user":
            n = likes.get(int(a.user_id), 0)
            row |= {"segment": f"segment:{a.segment_index}" if (a.segment_index or 0) >= 0 else None,
                    "likes": n, "thin": n <= THIN_LIKES}
            if external is not None:
                row["external_id"] = external.get(int(a.user_id), "")
        elif a.kind == "examples":
            row["thin"] = used.get(a.id, a.size) <= THIN_LIKES
        rows.append(row)
    return rows


def _cmd_build(args: argparse.Namespace) -> int:
    from generec_desktop.corpus import Workspace
    from generec_desktop.profiles.service import build_profiles

    with Workspace.open(args.workspace) as ws, progress_bar(args, "Building profiles") as progress:
        ps = build_profiles(ws, encoder=args.encoder, n_segments=args.segments, basis=args.basis, seed=args.seed,
                            progress=progress, cancel=args.cancel)
    data = {"encoder_id": ps.encoder_id, "users": len(ps.user_ids), "recomputed_users": ps.recomputed_users,
            "reused_users": ps.reused_users, "seconds": ps.seconds, "segments": _audience_rows(ps, False, False)}

    def text() -> str:
        lines = [f"{len(ps.user_ids)} user profiles ({ps.recomputed_users} recomputed, {ps.reused_users} "
                 f"unchanged) with {ps.encoder_id}, {len(ps.segments)} segments ({ps.seconds:.1f} s):"]
        lines += [f"  {s.name:<11} {s.size:5d} users  {s.label}   (id segment:{s.index})" for s in ps.segments]
        lines += [f"note: {n}" for n in ps.notes]
        return "\n".join(lines)

    emit(args, data, text)
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from generec_desktop.corpus import Workspace
    from generec_desktop.profiles.service import load_profiles

    with Workspace.open(args.workspace) as ws:
        ps = load_profiles(ws, encoder_id=args.encoder_id)
        external = {u.id: u.external_id or "" for u in ws.users()}
    rows = _audience_rows(ps, args.users, external=external)
    unit = {"segment": "users", "user": "user", "examples": "examples"}

    def text() -> str:
        lines = []
        for r in rows:
            desc = f"  {r['label']}" if r["label"] and r["label"] != r["name"] else ""
            thin = "  [too thin to trust]" if r.get("thin") else ""
            seg = f"  in {r['segment']}" if r.get("segment") else ""
            lines.append(f"{r['name']:<20} {r['size']:5d} {unit.get(r['kind'], ''):<8}{desc}   ({r['id']}){seg}{thin}")
        return "\n".join(lines + [f"note: {n}" for n in ps.notes])

    emit(args, {"encoder_id": ps.encoder_id, "audiences": rows, "notes": ps.notes}, text)
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from generec_desktop.corpus import Workspace
    from generec_desktop.profiles.service import train_recommender

    with Workspace.open(args.workspace) as ws, progress_bar(args, "Training recommender") as progress:
        model = train_recommender(ws, encoder=args.encoder, dim=args.dim, epochs=args.epochs, seed=args.seed,
                                  threads=args.threads, progress=progress, cancel=args.cancel)
    data = {"encoder_id": model.encoder_id, "params": model.params, "metrics": model.metrics}
    m = model.metrics
    emit(args, data, f"Trained on {m['n_interactions']:,} interactions ({m['n_users']} users × {m['n_items']} "
                     f"items) in {m['train_seconds']:.1f} s; final BPR loss {m['loss_history'][-1]:.3f}")
    return 0
