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

    p = sub.add_parser("import", help="import interactions (CSV/Parquet: user_id,item_id[,timestamp][,weight])")
    p.add_argument("workspace", help="workspace folder")
    p.add_argument("file", help="interactions file (.csv or .parquet)")
    p.add_argument("--max-rows", type=int, default=5_000_000, help="refuse larger files (default 5,000,000)")
    add_json_flag(p)
    p.set_defaults(func=_cmd_import)

    p = sub.add_parser("build", help="compute User_Hist per user and audience segments (incremental)")
    p.add_argument("workspace", help="workspace folder")
    p.add_argument("--encoder", default="builtin", help="encoder name (default: builtin)")
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
    p.add_argument("--encoder", default="builtin", help="encoder for item thumbnail features (default: builtin)")
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="torch threads (1 is fastest on a busy machine)")
    add_json_flag(p)
    p.set_defaults(func=_cmd_train)


def _cmd_import(args: argparse.Namespace) -> int:
    from generec_desktop.corpus import Workspace
    from generec_desktop.profiles.interactions import import_interactions

    with Workspace.open(args.workspace) as ws, progress_bar(args, "Importing interactions") as progress:
        rep = import_interactions(ws, args.file, max_rows=args.max_rows, progress=progress, cancel=args.cancel)
    text = (f"{rep.imported:,} interactions imported from {rep.path.name} ({rep.new_users} new users); "
            f"skipped {rep.skipped_duplicates} repeated rows and {rep.skipped_existing} already present "
            f"({rep.seconds:.2f} s)" + "".join(f"\nwarning: {w}" for w in rep.warnings))
    emit(args, rep, text)
    return 0


def _audience_rows(ps: Any, users: bool, examples: bool = True) -> list[dict[str, Any]]:
    return [{"id": a.id, "kind": a.kind, "name": a.name, "label": a.label, "size": a.size}
            for a in ps.audiences(users=users, examples=examples)]


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
    rows = _audience_rows(ps, args.users)
    unit = {"segment": "users", "user": "user", "examples": "examples"}

    def text() -> str:
        lines = []
        for r in rows:
            desc = f"  {r['label']}" if r["label"] and r["label"] != r["name"] else ""
            lines.append(f"{r['name']:<20} {r['size']:5d} {unit.get(r['kind'], ''):<8}{desc}   ({r['id']})")
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
