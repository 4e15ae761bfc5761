"""The chaos run of issue 13 (the slow test ``tests/corpus/test_chaos.py`` as a report): real ``generec``
processes SIGKILLed at random moments, a damaged, deleted or emptied database, hand-placed files and
symbolic links; prints a markdown table (user files before/after, outcomes, whether the integrity
check told the truth) and every problem found.

    .venv/bin/python benchmarks/chaos.py [--smoke] [--seed 13] [--keep DIR]

Exit code 1 when a problem was found (a lost file, a traceback, a check that lied, a write outside).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # tests/chaos_harness.py and tests/mediagen.py


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="the fast variant (a few kills, under 20 s)")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--keep", type=Path, default=None, help="run in this (new) folder and keep it")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    import chaos_harness

    plan = chaos_harness.SMOKE_PLAN if args.smoke else chaos_harness.SLOW_PLAN
    t = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="generec-chaos-") as tmp:
        base = args.keep or Path(tmp) / "chaos"
        stats = chaos_harness.run_plan(base, plan, seed=args.seed, full=not args.smoke,
                                       log=lambda m: print(m, file=sys.stderr, flush=True))
    print(chaos_harness.markdown_table(stats))
    print(f"\nwall time {time.perf_counter() - t:.0f} s, seed {args.seed}")
    problems = [p for s in stats for p in s.problems]
    for p in problems:
        print(f"- {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
