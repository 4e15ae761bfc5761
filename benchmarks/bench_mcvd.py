"""Benchmark the default MCVD model on CPU: train step, revision, creation, full-resolution transfer.

Targets (issue): revising 16 frames at 64×64 with the default model <= 15 s on 2 cores; the full-resolution
transfer >= 30 fps at 1080p. Weights are random (speed does not depend on them). Also the shipped
checkpoint (models/mcvd-demo, 2.8 M parameters, the model the app uses on the demo workspace) and the
editor's per-frame transfer with the change interpolated in time (what `generec revise` runs per frame).

    .venv/bin/python benchmarks/bench_mcvd.py [--threads 1 2] [--steps 25] [--strength 0.6] [--model DIR]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _timeit(fn, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--steps", type=int, default=25, help="sampling steps of the full schedule")
    parser.add_argument("--strength", type=float, default=0.6)
    parser.add_argument("--guidance", type=float, default=2.0)
    parser.add_argument("--batch", type=int, default=8, help="training batch size")
    parser.add_argument("--model", default=None, help="checkpoint folder to time too (default models/mcvd-demo)")
    args = parser.parse_args()

    import numpy as np
    import torch

    from generec_desktop.diffusion import MCVD, MCVDConfig, revise, sample, train_mcvd, transfer_to_full_resolution

    cfg = MCVDConfig()
    model = MCVD(cfg).eval()
    rng = np.random.default_rng(0)
    user = rng.standard_normal(cfg.user_dim).astype(np.float32)
    frames = rng.integers(0, 256, (16, cfg.size, cfg.size, 3), dtype=np.uint8)
    clips = rng.uniform(-1, 1, (8, cfg.window, 3, cfg.size, cfg.size)).astype(np.float32)
    users = rng.standard_normal((8, cfg.user_dim)).astype(np.float32)
    print(f"MCVD default: {model.num_parameters / 1e6:.1f} M parameters, {cfg.size}×{cfg.size}, "
          f"{cfg.n_cond} cond + {cfg.n_pred} pred frames; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    rows = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        r = train_mcvd(clips, users, config=cfg, steps=4, batch_size=args.batch, seed=0)
        rows.append((threads, f"train step (batch {args.batch})", r.seconds_per_step, "s/step"))
        t = _timeit(lambda: revise(model, frames, user_vector=user, strength=args.strength,
                                   guidance_scale=args.guidance, steps=args.steps, seed=0))
        rows.append((threads, f"revise 16 fr, strength {args.strength}, {args.steps} steps, cfg", t, "s"))
        t = _timeit(lambda: sample(model, user_vector=user, n_frames=16, guidance_scale=args.guidance,
                                   steps=args.steps, seed=0))
        rows.append((threads, f"create 16 fr, {args.steps} steps, cfg", t, "s"))
    from pathlib import Path

    ship = Path(args.model) if args.model else Path(__file__).resolve().parent.parent / "models" / "mcvd-demo"
    if (ship / "config.json").is_file():
        from generec_desktop.diffusion import load_checkpoint

        shipped = load_checkpoint(ship)
        su = rng.standard_normal(shipped.config.user_dim).astype(np.float32)
        sf = rng.integers(0, 256, (16, shipped.config.size, shipped.config.size, 3), dtype=np.uint8)
        for threads in args.threads:
            torch.set_num_threads(threads)
            t = _timeit(lambda: revise(shipped, sf, user_vector=su, strength=args.strength,
                                       guidance_scale=args.guidance, steps=args.steps, seed=0))
            rows.append((threads, f"revise 16 fr, shipped {shipped.num_parameters / 1e6:.1f} M model", t, "s"))
    else:
        print(f"(no checkpoint in {ship}: shipped-model rows skipped)")
    full = rng.integers(0, 256, (16, 1080, 1920, 3), dtype=np.uint8)
    revised = np.clip(frames.astype(int) + rng.integers(-20, 20, frames.shape), 0, 255).astype(np.uint8)
    transfer_to_full_resolution(full[:2], frames[:2], revised[:2])  # warm-up
    t = _timeit(lambda: transfer_to_full_resolution(full, frames, revised), repeat=3)
    rows.append(("cv2", "transfer 16 fr to 1920×1080", 16 / t, "fps"))
    import cv2

    from generec_desktop.mcvd.revise import _change_at

    diff = revised.astype(np.int16) - frames.astype(np.int16)
    stamps = np.arange(16) / 8.0

    def _editor() -> None:
        for i, f in enumerate(full):
            up = cv2.resize(_change_at(diff, stamps, i / 25.0), (f.shape[1], f.shape[0]),
                            interpolation=cv2.INTER_LINEAR)
            cv2.add(f, up, dtype=cv2.CV_8U)

    t = _timeit(_editor, repeat=3)
    rows.append(("cv2", "editor transfer (time-interpolated) 1080p", 16 / t, "fps"))
    print(f"{'threads':>7}  {'task':<48} {'value':>8}")
    for threads, task, value, unit in rows:
        print(f"{threads!s:>7}  {task:<48} {value:8.2f} {unit}")


if __name__ == "__main__":
    main()
