"""Which selection tells audiences apart? Ground-truth hit rates of every selection on the demo and on the
independent set (issue 22), built-in encoder, side by side with the baselines.

    python benchmarks/bench_selection.py DEMO_W IND_W     # workspaces from `generec demo create` and
                                                          # `generec demo create --independent`

Each workspace is judged against its own truth (W/demo/ground_truth.json or W/evaluation/ground_truth.json).
Prints, per selection (:data:`generec_desktop.profiles.space.SELECTIONS`), the Personalized thumbnail and clip
hit rates with their 95 % intervals, and the baselines once. CPU-heavy (minutes per workspace the first time;
analyses are cached in the workspaces).
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(paths: list[str]) -> int:
    from generec_desktop.corpus import Workspace
    from generec_desktop.evaluation.choice_eval import evaluate_choice
    from generec_desktop.evaluation.editor_eval import evaluate_editor
    from generec_desktop.profiles.space import SELECTIONS

    for p in paths:
        root = Path(p)
        truth = next((f for f in (root / "demo" / "ground_truth.json", root / "evaluation" / "ground_truth.json")
                      if f.is_file()), None)
        if truth is None:
            print(f"{root}: no ground truth (demo/ or evaluation/ground_truth.json)")
            return 2
        with Workspace.open(root) as ws:
            for k, sel in enumerate(SELECTIONS):
                res = evaluate_editor(ws, runs=2, generated=False, ground_truth=truth, selection=sel)
                seg = evaluate_choice(ws, ground_truth=truth, selection=sel, modes=("auto",))
                t1 = {r.method: r for r in res.table1}
                t2 = {r.method: r for r in res.table2}
                if k == 0:
                    print(f"\n{root.name}: {res.n_users} users, {res.n_items} videos, {res.gt_pairs} pairs; "
                          f"baselines: Original {t1['Original'].gt_hit:.3f}±{t1['Original'].gt_ci:.3f}, "
                          f"Random frame {t1['Random Frame'].gt_hit:.3f}±{t1['Random Frame'].gt_ci:.3f}, "
                          f"1st clip {t2['1st Clip'].gt_hit:.3f}±{t2['1st Clip'].gt_ci:.3f}")
                p1, p2 = t1["Personalized"], t2["Personalized"]
                s = seg[0] if seg else None
                print(f"  {sel:<10} thumbnails {p1.gt_hit:.3f}±{p1.gt_ci:.3f}  clips {p2.gt_hit:.3f}±{p2.gt_ci:.3f}  "
                      + (f"segment thumbnails {s.gt_hit:.3f}±{s.gt_ci:.3f}" if s and s.gt_hit is not None else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
