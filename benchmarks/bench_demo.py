"""Time the full default demo build (``generec demo create``): per step, wall and CPU seconds.

Usage: ``.venv/bin/python benchmarks/bench_demo.py [--videos 40] [--users 240] [--seed 0]``.
The target is < 120 s on 2 free cores; note the load average printed with the table.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--videos", type=int, default=40)
    parser.add_argument("--users", type=int, default=240)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from generec_desktop.demo import build_demo_workspace

    with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp:
        cpu0, t0 = time.process_time(), time.perf_counter()
        result = build_demo_workspace(Path(tmp) / "ws", seed=args.seed, n_videos=args.videos, n_users=args.users)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
        size = sum(p.stat().st_size for p in (Path(tmp) / "ws").rglob("*") if p.is_file())
    print(f"demo build: {result.n_videos} videos + {result.n_sample_videos} samples, {result.n_users} users, "
          f"{result.n_interactions} interactions, {size / 1e6:.1f} MB")
    print(f"cores: {os.cpu_count()}, load average before/after: {os.getloadavg()[0]:.1f}")
    print(f"{'step':<16}{'wall s':>10}")
    for step, seconds in result.timings.items():
        print(f"{step:<16}{seconds:>10.1f}")
    print(f"{'(process CPU)':<16}{cpu:>10.1f}  (main process only; x264 threads included)")
    print(f"{'(wall)':<16}{wall:>10.1f}")


if __name__ == "__main__":
    main()
