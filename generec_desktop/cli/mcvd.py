"""``generec train mcvd``, ``generec revise`` and ``generec create`` (heavy imports inside the handlers).

    generec train mcvd W [--steps N] [--resume] [--condition user_hist|user_emb] [--batch B] [--json]
    generec revise W ITEM --audience A --strength S [--guidance G] --out FILE [--json]
    generec create W --audience A --frames N --out FILE [--json]
(``--profile`` is kept as the older name of ``--audience``.)
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from generec_desktop.cli_support import add_json_flag, emit, progress_bar
from generec_desktop.diffusion.config import (
    DEFAULT_AUDIENCE_WEIGHT,
    DEFAULT_KEYFRAME_STRIDE,
    DEFAULT_SAMPLER,
    DEFAULT_STEPS,
    SAMPLING_THREADS,
)
from generec_desktop.jobs import GenerecError

CONDITION_HELP = "condition vectors: User_Hist (profiles) or User_Emb (recommender) (default user_hist)"


def _train_subparsers(subparsers: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """The shared ``generec train`` group (created by whichever package registers first)."""
    from generec_desktop.cli.profiles import train_subparsers

    return train_subparsers(subparsers)


def _one_thread() -> None:
    # Small models on a shared 2-core machine: one torch thread avoids spinning (measured 10× faster).
    import torch

    torch.set_num_threads(1)



def add_revision_sampling_flags(p: argparse.ArgumentParser, *, context: str = "") -> None:
    """``--steps --sampler --keyframe-stride --audience-guidance`` with the defaults `generec revise` uses, for
    every command that revises (``context`` prefixes each help, e.g. "with --mcvd: ")."""
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS,
                   help=f"{context}sampling steps of the full schedule (default {DEFAULT_STEPS}); strength S runs "
                        "S × steps")
    p.add_argument("--sampler", choices=("ddim", "dpm"), default=DEFAULT_SAMPLER,
                   help=f"{context}DDIM or DPM-Solver++ (default {DEFAULT_SAMPLER})")
    p.add_argument("--keyframe-stride", type=int, default=DEFAULT_KEYFRAME_STRIDE, metavar="K",
                   help=f"{context}the model revises every K-th frame of the 8 fps clip and the change is "
                        f"interpolated in time between them: K times fewer blocks (default {DEFAULT_KEYFRAME_STRIDE})")
    p.add_argument("--audience-guidance", type=float, default=DEFAULT_AUDIENCE_WEIGHT, metavar="W",
                   help=f"{context}classifier guidance by the audience's score of the predicted frames (built-in "
                        f"encoder, user_hist): W per step (default {DEFAULT_AUDIENCE_WEIGHT:g}; 0 = off)")

def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``train mcvd``, ``revise`` and ``create``."""
    p = _train_subparsers(subparsers).add_parser(
        "mcvd", help="train the MCVD video diffusion model (revise/create)",
        description="Train MCVD on the workspace's videos (64×64, 8 fps) to reconstruct users' liked videos "
        "conditioned on their vector. Checkpoints to W/models/mcvd every 50 steps; Ctrl-C saves and stops; "
        "--resume continues up to --steps.")
    p.add_argument("workspace", type=Path, help="workspace folder")
    p.add_argument("--steps", type=int, default=1000, help="total optimisation steps (default 1000)")
    p.add_argument("--resume", action="store_true", help="continue the run in the checkpoint folder")
    p.add_argument("--condition", choices=("user_hist", "user_emb"), default="user_hist", help=CONDITION_HELP)
    p.add_argument("--batch", type=int, default=8, help="clips per step (default 8)")
    p.add_argument("--lr", type=float, default=5e-4, help="learning rate (default 5e-4)")
    p.add_argument("--self-condition", type=float, default=0.5,
                   help="share of examples conditioned on the clip's own embedding (User_Hist only; default 0.5)")
    p.add_argument("--seed", type=int, default=0)
    add_json_flag(p)
    p.set_defaults(func=_cmd_train)

    p = subparsers.add_parser(
        "revise", help="revise a video toward an audience with MCVD (SDEdit)",
        description="Noise the item's video (64×64, 8 fps) to --strength, denoise it conditioned on the "
        "audience, and apply the change to the full-resolution frames; audio kept.")
    p.add_argument("workspace", type=Path, help="workspace folder")
    p.add_argument("item", type=int, help="item id (see `generec items`)")
    p.add_argument("--audience", "--profile", dest="profile", metavar="AUDIENCE", required=True,
                   help="audience (--profile is the older name of this flag): an id (segment:0, examples:1, "
                        "user:42) or a name ('Segment 1', 'Cyclists')")
    p.add_argument("--strength", type=float, required=True, help="noise level in [0, 1] (0 = unchanged)")
    p.add_argument("--guidance", type=float, default=2.0, help="classifier-free guidance scale (default 2)")
    add_revision_sampling_flags(p)
    p.add_argument("--threads", type=int, default=SAMPLING_THREADS,
                   help=f"torch threads while sampling (default {SAMPLING_THREADS}: the model is small, more threads "
                        "help only on idle cores)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--start", type=float, default=0.0, help="start of the span to revise (s)")
    p.add_argument("--end", type=float, default=None, help="end of the span (s; default start + 12 s)")
    p.add_argument("--condition", choices=("user_hist", "user_emb"), default="user_hist", help=CONDITION_HELP)
    p.add_argument("--model", type=Path, default=None, help="an MCVD checkpoint folder (default: discovered)")
    p.add_argument("--out", type=Path, default=None, help="output video file (.mp4)")
    p.add_argument("--version", action="store_true", help="make a pending version (prints its id) to check and export")
    add_json_flag(p)
    p.set_defaults(func=_cmd_revise)

    p = subparsers.add_parser(
        "create", help="create a new video for an audience with MCVD",
        description="Sample --frames frames from noise conditioned on the audience (8 fps, upscaled to --size).")
    p.add_argument("workspace", type=Path, help="workspace folder")
    p.add_argument("--audience", "--profile", dest="profile", metavar="AUDIENCE", required=True,
                   help="audience (--profile is the older name of this flag): an id (segment:0, examples:1, "
                        "user:42) or a name ('Segment 1', 'Cyclists')")
    p.add_argument("--frames", type=int, default=16, help="number of frames (default 16)")
    p.add_argument("--size", type=int, default=256, help="output width and height in pixels (default 256)")
    p.add_argument("--guidance", type=float, default=2.0, help="classifier-free guidance scale (default 2)")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS, help=f"sampling steps (default {DEFAULT_STEPS})")
    p.add_argument("--sampler", choices=("ddim", "dpm"), default=DEFAULT_SAMPLER,
                   help=f"DDIM or DPM-Solver++ (default {DEFAULT_SAMPLER})")
    p.add_argument("--threads", type=int, default=SAMPLING_THREADS,
                   help=f"torch threads while sampling (default {SAMPLING_THREADS}: the model is small, more threads "
                        "help only on idle cores)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--instruction", default=None, help="a text instruction (needs a model trained with one)")
    p.add_argument("--condition", choices=("user_hist", "user_emb"), default="user_hist", help=CONDITION_HELP)
    p.add_argument("--model", type=Path, default=None, help="an MCVD checkpoint folder (default: discovered)")
    p.add_argument("--out", type=Path, default=None, help="output video file (.mp4)")
    p.add_argument("--version", action="store_true", help="make a pending version (prints its id) to check and export")
    add_json_flag(p)
    p.set_defaults(func=_cmd_create)


def _cmd_train(args: argparse.Namespace) -> int:
    from generec_desktop.corpus.workspace import Workspace
    from generec_desktop.mcvd.workspace import train_workspace_mcvd

    _one_thread()
    ws = Workspace.open(args.workspace)
    with progress_bar(args, "Training MCVD") as progress:
        r = train_workspace_mcvd(ws, steps=args.steps, condition=args.condition, resume=args.resume,
                                 batch_size=args.batch, lr=args.lr, seed=args.seed,
                                 self_condition=args.self_condition, progress=progress, cancel=args.cancel)
    data = {"checkpoint": r.checkpoint, "steps": r.steps, "resumed_from": r.resumed_from,
            "seconds_per_step": r.seconds_per_step, "final_loss": r.losses[-1] if r.losses else None,
            "parameters": r.model.num_parameters if r.model is not None else None, "config": r.config.to_dict()}
    emit(args, data, lambda: (
        f"MCVD trained to step {r.steps} (from {r.resumed_from}), {r.seconds_per_step:.2f} s/step, "
        f"final loss {data['final_loss'] if data['final_loss'] is not None else float('nan'):.4f}\n"
        f"  checkpoint: {r.checkpoint}"))
    return 0


def _resolve_profile(ws: Any, args: argparse.Namespace) -> str:
    """``--audience`` as an audience id (it may name the audience: "Segment 2", "Cyclists"); also sets
    ``args.profile_name`` to what a person reads."""
    from generec_desktop.cli.audiences import audience_name, resolve_audience_ids
    from generec_desktop.profiles import ProfilesError
    from generec_desktop.profiles.service import load_profiles

    try:
        profiles = load_profiles(ws)
    except ProfilesError:
        profiles = None
    ids = resolve_audience_ids(ws, [args.profile], profiles=profiles)
    if not ids:
        raise GenerecError("Give the audience with --audience, e.g. --audience 'Segment 1' or --audience segment:0.")
    args.profile = ids[0]
    args.profile_name = audience_name(ids[0], profiles)
    return ids[0]


def _emit_version(args: argparse.Namespace, pv: Any) -> int:
    who = getattr(args, "profile_name", None) or pv.target_profile
    emit(args, {"version": pv.id, "operation": pv.operation, "parent_id": pv.parent_id,
                "target_profile": pv.target_profile, "media": pv.media, "params": pv.params},
         f"Made pending version {pv.id} ({pv.operation} for {who}); check it with "
         f"`generec check {args.workspace} {pv.id}`, export it with `generec export {args.workspace} {pv.id}`.")
    return 0


def _out_or_version(args: argparse.Namespace) -> None:
    if args.out is None and not args.version:
        raise GenerecError("Give --out FILE to write the video, or --version to make a pending version.")


def _cmd_revise(args: argparse.Namespace) -> int:
    from generec_desktop.corpus.workspace import Workspace
    from generec_desktop.mcvd.revise import revise_item

    _one_thread()
    _out_or_version(args)
    if args.version:
        from generec_desktop.versions import mcvd_version, open_workspace

        with open_workspace(args.workspace) as ws, progress_bar(args, "Revising") as progress:
            _resolve_profile(ws, args)
            pv = mcvd_version(ws, "revise", args.profile, args.model, revise_item, item_id=args.item,
                              progress=progress, cancel=args.cancel, strength=args.strength,
                              guidance_scale=args.guidance, steps=args.steps, seed=args.seed, start=args.start,
                              end=args.end, condition=args.condition, sampler=args.sampler,
                              keyframe_stride=args.keyframe_stride, threads=args.threads,
                              audience_guidance=args.audience_guidance)
        return _emit_version(args, pv)
    ws = Workspace.open(args.workspace)
    _resolve_profile(ws, args)
    with progress_bar(args, "Revising") as progress:
        r = revise_item(ws, args.item, audience=args.profile, out_path=args.out, strength=args.strength,
                        guidance_scale=args.guidance, steps=args.steps, seed=args.seed, start=args.start,
                        end=args.end, condition=args.condition, checkpoint=args.model, progress=progress,
                        cancel=args.cancel, sampler=args.sampler, keyframe_stride=args.keyframe_stride,
                        threads=args.threads, audience_guidance=args.audience_guidance)
    emit(args, r, lambda: (
        f"Revised item {r.item_id} toward {args.profile_name} (strength {r.strength:g}, guidance {r.guidance:g}): "
        f"{r.output} ({r.width}×{r.height}, {r.start:g}–{r.end:g} s, mean low-res change "
        f"{r.mean_change:.1f} grey levels, {r.seconds:.1f} s)"))
    return 0


def _cmd_create(args: argparse.Namespace) -> int:
    from generec_desktop.corpus.workspace import Workspace
    from generec_desktop.creator import create_video

    _one_thread()
    _out_or_version(args)
    if args.version:
        from generec_desktop.versions import mcvd_version, open_workspace

        with open_workspace(args.workspace) as ws, progress_bar(args, "Creating") as progress:
            _resolve_profile(ws, args)
            pv = mcvd_version(ws, "create", args.profile, args.model, create_video, progress=progress,
                              cancel=args.cancel, n_frames=args.frames, size=args.size,
                              guidance_scale=args.guidance, steps=args.steps, seed=args.seed,
                              instruction=args.instruction, condition=args.condition, sampler=args.sampler,
                              threads=args.threads)
        return _emit_version(args, pv)
    ws = Workspace.open(args.workspace)
    _resolve_profile(ws, args)
    with progress_bar(args, "Creating") as progress:
        r = create_video(ws, audience=args.profile, out_path=args.out, n_frames=args.frames, size=args.size,
                         guidance_scale=args.guidance, steps=args.steps, seed=args.seed,
                         instruction=args.instruction, condition=args.condition, checkpoint=args.model,
                         progress=progress, cancel=args.cancel, sampler=args.sampler,
                         threads=args.threads)
    emit(args, r, lambda: (
        f"Created {r.n_frames} frames for {args.profile_name} at {r.fps:g} fps, {r.size}×{r.size}: {r.output} "
        f"({r.seconds:.1f} s)"))
    return 0
