"""Cosine@K / PS@K protocol helpers: sampling of non-interacted items and averaging."""

from __future__ import annotations

import numpy as np


def test_sample_items_only_non_interacted_distinct_and_uniform():
    from generec_desktop.evaluation.metrics import sample_items

    rng = np.random.default_rng(0)
    cand = rng.random((50, 20)) > 0.3
    cand[0] = False
    cand[1] = False
    cand[1, [3, 7]] = True  # fewer candidates than K
    picks = sample_items(cand, 5, runs=200, seed=1)
    assert picks.shape == (200, 50, 5)
    assert (picks[:, 0] == -1).all()
    assert sorted(set(picks[:, 1, :2].ravel().tolist())) == [3, 7] and (picks[:, 1, 2:] == -1).all()
    for r in range(3):
        for u in range(2, 50):
            row = picks[r, u]
            assert len(set(row.tolist())) == 5 and cand[u, row].all()
    counts = np.bincount(picks[:, 2].ravel(), minlength=20)[cand[2]]
    assert counts.min() > 0.6 * counts.mean()  # roughly uniform over the user's candidates


def test_at_k_averages_picked_values_per_user_then_runs():
    from generec_desktop.evaluation.metrics import at_k

    values = np.arange(12, dtype=float).reshape(3, 4)
    picks = np.array([[[0, 1], [2, -1], [-1, -1]]])
    assert at_k(values, picks) == (0.5 + 6.0) / 2  # user 0: (0+1)/2; user 1: 6; user 2 left out
    per_run = np.stack([values, values + 10])
    assert at_k(per_run, np.concatenate([picks, picks])) == ((0.5 + 6.0) / 2 + (10.5 + 16.0) / 2) / 2
