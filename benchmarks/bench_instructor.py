"""Instructor accuracy and speed on the labelled instruction set (tests/instructor/instructions.json).

Prints, for MiniLM matching and for the keyword fallback: operation accuracy, whole-plan accuracy,
the held-out subset (written after the rules were tuned), every failure, and timings (model load,
one plan at a time, a batch). Run: ``.venv/bin/python benchmarks/bench_instructor.py``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generec_desktop.instructor import make_plan, semantic  # noqa: E402
from generec_desktop.instructor.evaluate import evaluate, load_cases  # noqa: E402


def main() -> int:
    audiences, cases = load_cases(ROOT / "tests" / "instructor" / "instructions.json")
    timings: list[tuple[str, float]] = []
    t0 = time.perf_counter()
    try:
        semantic.get_model()
        have_model = True
    except semantic.ModelUnavailable as exc:
        print(f"MiniLM unavailable ({exc}); keyword fallback only")
        have_model = False
    timings.append(("model load (s)", time.perf_counter() - t0))
    if have_model:
        texts = [c["text"] or "x" for c in cases]
        t0 = time.perf_counter()
        for t in texts[:20]:
            semantic.embed([t + " "])  # uncached, one at a time
        timings.append(("embed one sentence (ms)", 1000 * (time.perf_counter() - t0) / 20))
        t0 = time.perf_counter()
        semantic.embed([t + "  " for t in texts])
        timings.append((f"embed batch of {len(texts)} (ms/sentence)", 1000 * (time.perf_counter() - t0) / len(texts)))
        make_plan("warm the prototype cache: a cartoon look")
        t0 = time.perf_counter()
        for c in cases[:20]:
            make_plan(c["text"] + " ", audiences=audiences, feedback=c.get("feedback", ()))
        timings.append(("make_plan, MiniLM, uncached (ms)", 1000 * (time.perf_counter() - t0) / 20))
    t0 = time.perf_counter()
    for c in cases:
        make_plan(c["text"], audiences=audiences, feedback=c.get("feedback", ()), use_model=False)
    timings.append(("make_plan, keywords (ms)", 1000 * (time.perf_counter() - t0) / len(cases)))

    for use_model in ([True, False] if have_model else [False]):
        report = evaluate(cases, audiences, use_model=use_model)
        held = [r for r in report.results if r.case.get("category") == "held-out"]
        print(f"\n{report.table()}")
        print(f"held-out subset: operation {sum(r.op_ok for r in held)}/{len(held)}")
        ops = report.failures(operation_only=True)
        print(f"operation failures ({len(ops)}):")
        for line in ops:
            print("  ", line)
        other = [f for f in report.failures() if f not in ops]
        if other:
            print(f"other plan failures ({len(other)}):")
            for line in other:
                print("  ", line)
    print(f"\n{'timing':42s} value")
    for name, value in timings:
        print(f"{name:42s} {value:8.2f}")
    print("(2 shared CPU cores; numbers measured under contention)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
