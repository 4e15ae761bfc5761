"""Scoring the instructor on a labelled set of instructions (used by the tests and the benchmark).

A case is a dict: ``text``, expected ``op``, and optionally ``audiences`` (expected ids),
``params`` (expected values; ``strength_max``/``strength_min`` bounds and ``style_in`` alternatives),
``start_generator``, ``delivery``, ``feedback`` (events, oldest first) and ``category``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generec_desktop.instructor.plan import Plan, make_plan, prepare


@dataclass
class CaseResult:
    case: dict[str, Any]
    plan: Plan
    op_ok: bool
    problems: list[str]  # every expected field the plan got wrong (empty: the whole plan is right)


@dataclass
class EvalReport:
    n: int
    op_accuracy: float           # share of cases whose operation is right
    plan_accuracy: float         # share of cases whose every expected field is right
    seconds: float
    matched_by: str
    results: list[CaseResult] = field(default_factory=list)

    def failures(self, *, operation_only: bool = False) -> list[str]:
        out = []
        for r in self.results:
            if (not r.op_ok) if operation_only else r.problems:
                out.append(f"[{r.case.get('category', '')}] {r.case['text']!r}: " + "; ".join(r.problems))
        return out

    def table(self) -> str:
        lines = [f"{'matcher':9s} {'cases':>5s} {'op acc':>7s} {'plan acc':>8s} {'ms/instr':>8s}",
                 f"{self.matched_by:9s} {self.n:5d} {self.op_accuracy:7.1%} {self.plan_accuracy:8.1%} "
                 f"{1000 * self.seconds / max(1, self.n):8.1f}"]
        return "\n".join(lines)


def load_cases(path: str | Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(audiences, cases) from a JSON file ``{"audiences": [...], "cases": [...]}``."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return data.get("audiences", []), data["cases"]


def check_case(plan: Plan, case: dict[str, Any]) -> list[str]:
    """What in ``plan`` differs from the expectations of ``case``."""
    problems: list[str] = []
    if plan.operation != case["op"]:
        problems.append(f"operation {plan.operation} (expected {case['op']})")
    if "audiences" in case and sorted(plan.audiences) != sorted(case["audiences"]):
        problems.append(f"audiences {plan.audiences} (expected {case['audiences']})")
    if "start_generator" in case and plan.start_generator != case["start_generator"]:
        problems.append(f"start_generator {plan.start_generator}")
    if "delivery" in case and plan.delivery != case["delivery"]:
        problems.append(f"delivery {plan.delivery} (expected {case['delivery']})")
    for key, want in case.get("params", {}).items():
        p = plan.params
        if key == "strength_max":
            ok = p.get("strength") is not None and p["strength"] <= want
        elif key == "strength_min":
            ok = p.get("strength") is not None and p["strength"] >= want
        elif key == "style_in":
            ok = p.get("style") in want
        elif isinstance(want, float | int) and not isinstance(want, bool):
            ok = isinstance(p.get(key), float | int) and abs(float(p[key]) - want) < 1e-6
        else:
            ok = p.get(key) == want
        if not ok:
            problems.append(f"{key}={p.get('strength' if key.startswith('strength_') else key.replace('_in', ''))!r}"
                            f" (expected {want!r})")
    return problems


def evaluate(cases: Sequence[dict[str, Any]], audiences: Sequence[Any] = (), *, use_model: bool = True) -> EvalReport:
    """Plan every case and score the plans."""
    t0 = time.perf_counter()
    if use_model:
        prepare([c["text"] for c in cases], audiences=audiences)
    results = []
    for case in cases:
        plan = make_plan(case["text"], audiences=audiences, feedback=case.get("feedback", ()), use_model=use_model)
        problems = check_case(plan, case)
        results.append(CaseResult(case, plan, plan.operation == case["op"], problems))
    seconds = time.perf_counter() - t0
    n = len(results)
    return EvalReport(
        n=n,
        op_accuracy=sum(r.op_ok for r in results) / max(1, n),
        plan_accuracy=sum(not r.problems for r in results) / max(1, n),
        seconds=seconds,
        matched_by=results[0].plan.matched_by if results else "keywords",
        results=results,
    )
