"""``generec eval W [--json]``: the paper's Tables 1 and 2 (+ a ground-truth column on the demo)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from generec_desktop.cli.mcvd import add_revision_sampling_flags
from generec_desktop.cli_support import add_json_flag, emit, progress_bar


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "eval", help="paper Tables 1 and 2 (Cosine@K, PS@K, ground-truth hit rate) on a workspace",
        description="Evaluate personalised thumbnails and clips against the baselines, following the paper's "
                    "protocol (K random non-interacted items per user, averaged over runs).")
    p.add_argument("workspace", type=Path)
    p.add_argument("--encoder", default="builtin")
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--k", default="5,10", help="comma-separated K values")
    p.add_argument("--clip-frames", type=int, default=None, help="L of Eq. 2 (default 8)")
    p.add_argument("--tune", action="store_true",
                   help="also report Table 2's Personalized Cosine@5 and GT hit for L in 4, 8, 16, 32")
    p.add_argument("--rate", type=float, default=None, help="samples per second (default 4)")
    p.add_argument("--no-generated", action="store_true", help="skip the Generated row")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--ground-truth", type=Path, default=None, metavar="FILE",
                   help="judge against this ground-truth file (categories per item and time span, users' hidden "
                        "tastes; e.g. W/evaluation/ground_truth.json of `generec demo create --independent`); "
                        "default: the demo's W/demo/ground_truth.json when there is one")
    p.add_argument("--selection", choices=("centred", "projected", "eq1"), default="centred",
                   help="the Personalized rows' scoring (default centred; the paper's Eq. 1/2 rows are always shown)")
    p.add_argument("--mcvd", action="store_true",
                   help="print Tables 3 and 4 (MCVD revision and creation) instead of Tables 1 and 2")
    p.add_argument("--users", type=int, default=3, help="with --mcvd: simulated users to evaluate")
    p.add_argument("--strength", type=float, default=0.5, help="with --mcvd: revision strength (default 0.5)")
    p.add_argument("--guidance", type=float, default=2.0,
                   help="with --mcvd: classifier-free guidance scale (default 2)")
    add_revision_sampling_flags(p, context="with --mcvd: ")
    p.add_argument("--i3d", type=Path, default=None,
                   help="with --mcvd: a local I3D TorchScript file for true FVD (else Fréchet on encoder features)")
    add_json_flag(p)
    p.set_defaults(func=_cmd_eval)


def _cmd_eval(args: argparse.Namespace) -> int:
    from generec_desktop.corpus import Workspace
    from generec_desktop.evaluation.editor_eval import evaluate_editor, format_tables, tune_clip_frames

    ks = tuple(int(k) for k in args.k.split(",") if k.strip())
    if args.mcvd:
        from generec_desktop.evaluation.mcvd_eval import evaluate_mcvd
        from generec_desktop.evaluation.mcvd_eval import format_tables as format_mcvd

        with Workspace.open(args.workspace) as ws, progress_bar(args, "eval mcvd") as bar:
            tables = evaluate_mcvd(ws, ks=ks, n_users=args.users, strength=args.strength,
                                   guidance_scale=args.guidance, steps=args.steps, sampler=args.sampler,
                                   keyframe_stride=args.keyframe_stride,
                                   audience_weight=args.audience_guidance,
                                   i3d=args.i3d, progress=bar, cancel=args.cancel)
        emit(args, tables, lambda: format_mcvd(tables))
        return 0
    truth: Any = True
    if args.ground_truth is not None:  # a bad file is one line before any work
        from generec_desktop.demo.ground_truth import read_ground_truth

        truth = read_ground_truth(args.ground_truth)
    with Workspace.open(args.workspace) as ws, progress_bar(args, "eval") as bar:
        res = evaluate_editor(ws, encoder=args.encoder, ks=ks, runs=args.runs, clip_frames=args.clip_frames,
                              rate=args.rate, generated=not args.no_generated, seed=args.seed,
                              ground_truth=truth, selection=args.selection, progress=bar,
                              cancel=args.cancel)
        tuning = tune_clip_frames(ws, encoder=args.encoder, rate=args.rate, runs=args.runs, seed=args.seed,
                                  cancel=args.cancel) if args.tune else None
        from generec_desktop.evaluation.choice_eval import evaluate_choice, format_choice

        choice = evaluate_choice(ws, encoder=args.encoder, rate=args.rate, clip_frames=args.clip_frames,
                                 ground_truth=truth, selection=args.selection,
                                 cancel=args.cancel)
    data: dict[str, Any] = {"result": res, "segment_choice": choice}
    if tuning is not None:
        data["clip_frames_tuning"] = tuning

    def text() -> str:
        out = format_tables(res)
        if choice:
            out += "\n\n" + format_choice(choice, "Table 1b. Per-segment thumbnails and clips: plain argmax vs "
                                                 f"the noise-aware default ({args.selection} selection)")
        if tuning:
            out += "\n\nTable 2 Personalized by L (Cosine@5 / GT hit): " + ", ".join(
                f"L={k}: {v['cosine@5']:.4f} / " + (f"{v['gt_hit']:.3f}" if v["gt_hit"] is not None else "-")
                for k, v in tuning.items())
        return out

    emit(args, data, text)
    return 0
