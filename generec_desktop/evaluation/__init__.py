"""Evaluation: the paper's Tables 1 and 2 (Cosine@K, PS@K) plus a ground-truth judge on the demo.

Public API (imported lazily, so ``import generec_desktop.evaluation`` stays cheap)::

    evaluate_editor(ws, *, encoder="builtin", ks=(5, 10), runs=10, clip_frames=None, rate=None,
                    generated=True, ground_truth=True | path | GroundTruth, selection="centred", seed=0,
                    progress, cancel) -> EvaluationResult
        EvaluationResult.table1 / .table2: list[EvalRow(method, cosine{K}, ps{K}, gt_hit, cosine_ci{K},
            ps_ci{K}, gt_ci, gt_users)]   # "Eq. 1 (paper)" / "Eq. 2 (paper)" rows beside "Personalized";
        .gt_chance / .clip_gt_chance (a uniformly drawn frame / window), .selection, .ground_truth
    pair_interval(users, values) / interval(values)   # 95 % intervals over users
    independent.build_independent_workspace(path, *, seed=1, n_videos=42, n_users=180, size=448, ...)
        -> IndependentResult   # the independent set (opencv-doc pictures); truth in W/evaluation/
    tune_clip_frames(ws, *, lengths=(4, 8, 16, 32), ...) -> {L: Personalized Cosine@5}
    format_tables(result) -> str
    sample_items(candidates_mask, k, runs, seed) / at_k(values, picks)     # the protocol, pure numpy
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from generec_desktop.evaluation.editor_eval import (
        EvalRow,
        EvaluationResult,
        evaluate_editor,
        format_tables,
        tune_clip_frames,
    )
    from generec_desktop.evaluation.metrics import at_k, sample_items

__all__ = ["EvalRow", "EvaluationResult", "at_k", "evaluate_editor", "format_tables", "sample_items",
           "tune_clip_frames"]

_LAZY = {
    **{n: "editor_eval" for n in ("EvalRow", "EvaluationResult", "evaluate_editor", "format_tables",
                                  "tune_clip_frames")},
    "at_k": "metrics", "sample_items": "metrics",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
