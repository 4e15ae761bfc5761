"""The paper's metrics (§5.1.1): Cosine@K, PS@K over K random non-interacted items, averaged over runs.

Pure numpy on precomputed (users × items) value matrices, so every method is judged on exactly the
same sampled items: ``value[u, i]`` is the method's cosine (or prediction score) for user ``u`` and
item ``i``; ``-`` entries for interacted items are never sampled.
"""

from __future__ import annotations

import numpy as np

__all__ = ["at_k", "at_k_users", "sample_items"]


def sample_items(candidates: np.ndarray, k: int, runs: int, seed: int = 0) -> np.ndarray:
    """For each run and user, ``k`` distinct random columns among ``candidates[u]`` (a boolean (U, I) mask).

    Returns a (runs, U, k) int array; -1 pads users with fewer than ``k`` candidates (they get all of them).
    """
    cand = np.asarray(candidates, bool)
    n_users, n_items = cand.shape
    out = np.full((runs, n_users, k), -1, np.int64)
    rng = np.random.default_rng(seed)
    for r in range(runs):
        # random keys, non-candidates pushed to the end: the first k of the argsort are a uniform sample
        keys = rng.random((n_users, n_items)) + (~cand) * 2.0
        order = np.argsort(keys, axis=1)[:, :k]
        valid = np.take_along_axis(cand, order, axis=1)
        out[r, :, : order.shape[1]] = np.where(valid, order, -1)
    return out


def at_k(values: np.ndarray, picks: np.ndarray) -> float:
    """Mean over runs of the mean over users of the mean over their picked items of ``values[u, i]``.

    ``values`` is (U, I), or (runs, U, I) when the method itself is random per run (Random Frame).
    Users with no pick are left out.
    """
    v = np.asarray(values, np.float64)
    runs, _n_users, _ = picks.shape
    per_run = []
    for r in range(runs):
        vr = v[r] if v.ndim == 3 else v
        p = picks[r]
        mask = p >= 0
        got = np.take_along_axis(vr, np.where(mask, p, 0), axis=1)
        counts = mask.sum(axis=1)
        users = counts > 0
        per_user = np.where(mask, got, 0.0).sum(axis=1)[users] / counts[users]
        per_run.append(per_user.mean() if per_user.size else np.nan)
    return float(np.nanmean(per_run))


def at_k_users(values: np.ndarray, picks: np.ndarray) -> np.ndarray:
    """Per user: the mean over runs of the mean of ``values[u, i]`` over the user's picked items (NaN for a
    user with no pick) — what :func:`at_k` averages, kept per user for intervals over users."""
    v = np.asarray(values, np.float64)
    runs, n_users, _ = picks.shape
    out = np.zeros((runs, n_users))
    for r in range(runs):
        vr = v[r] if v.ndim == 3 else v
        p = picks[r]
        mask = p >= 0
        got = np.take_along_axis(vr, np.where(mask, p, 0), axis=1)
        counts = mask.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[r] = np.where(mask, got, 0.0).sum(axis=1) / counts
    with np.errstate(invalid="ignore"):
        return np.asarray(np.nanmean(out, axis=0) if runs else np.full(n_users, np.nan))
