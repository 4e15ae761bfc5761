"""Recommender training time at the paper's dataset size (7,895 users × 4,570 items × 64,643 interactions).

Synthetic interactions with planted preference groups and 512-d item features (CLIP-sized); prints
training time, seconds per epoch and held-out AUC (target: ≤ 60 s on 2 CPU cores), and the time to
validate and import the same interactions as a CSV into a workspace of 4,570 items (``--no-import``
skips that part).
Run: .venv/bin/python benchmarks/bench_recommender.py [--epochs 20] [--feature-dim 512]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch

from generec_desktop.profiles.recommender import auc, train_arrays
from generec_desktop.profiles.synthetic import planted, split_holdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--feature-dim", type=int, default=512)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--no-import", action="store_true", help="skip the CSV import timing")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    d = planted(7895, 4570, 64643, n_groups=8, feature_dim=args.feature_dim, seed=0)
    if not args.no_import:
        bench_import(d.arrays.user_idx, d.arrays.item_idx, d.arrays.n_items)
    train, hu, hi = split_holdout(d.arrays)
    t = time.perf_counter()
    model = train_arrays(train, dim=args.dim, epochs=args.epochs, seed=0)
    seconds = time.perf_counter() - t
    score = auc(model, hu, hi, train)
    print(f"torch threads: {torch.get_num_threads()}")
    print(f"{'users':>6} {'items':>6} {'train pairs':>11} {'F':>4} {'dim':>4} {'epochs':>6} "
          f"{'train s':>8} {'s/epoch':>8} {'AUC':>6} {'target':>7}")
    print(f"{train.n_users:>6} {train.n_items:>6} {model.metrics['n_interactions']:>11} {args.feature_dim:>4} "
          f"{args.dim:>4} {args.epochs:>6} {seconds:>8.1f} {seconds / args.epochs:>8.2f} {score:>6.3f} "
          f"{'OK' if seconds <= 60 else 'SLOW':>7}")


def bench_import(users, items, n_items: int) -> None:
    """Time ``import_interactions`` of the interactions as CSV into a workspace with item rows only."""
    from generec_desktop.corpus import Workspace
    from generec_desktop.corpus.schema import Item
    from generec_desktop.profiles import import_interactions

    with tempfile.TemporaryDirectory() as tmp, Workspace.create(Path(tmp) / "ws") as ws:
        with ws.session() as s:
            s.add_all([Item(kind="human", sha256=f"{k:064x}", stored_path=f"media/x/{k}.mp4",
                            external_id=f"v{k}") for k in range(n_items)])
        csv = Path(tmp) / "interactions.csv"
        csv.write_text("user_id,item_id,timestamp,weight\n" + "".join(
            f"{u},v{i},{1_700_000_000 + k},1\n" for k, (u, i) in enumerate(zip(users, items))))
        t = time.perf_counter()
        rep = import_interactions(ws, csv)
        seconds = time.perf_counter() - t
    print(f"{'import rows':>11} {'imported':>8} {'new users':>9} {'import s':>8} {'rows/s':>8}")
    print(f"{rep.rows_read:>11} {rep.imported:>8} {rep.new_users:>9} {seconds:>8.1f} {rep.rows_read / seconds:>8.0f}")


if __name__ == "__main__":
    main()
