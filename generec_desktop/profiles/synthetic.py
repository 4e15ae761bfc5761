"""Synthetic interactions with a planted structure, for tests and the benchmark (no corpus needed)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generec_desktop.profiles.recommender import InteractionArrays


@dataclass
class PlantedData:
    """Interactions plus the hidden truth: each user's and each item's preference group."""

    arrays: InteractionArrays
    user_group: np.ndarray      # (n_users,)
    item_group: np.ndarray      # (n_items,)
    group_centroids: np.ndarray  # (n_groups, F) unit vectors in feature space


def planted(
    n_users: int = 300,
    n_items: int = 200,
    n_interactions: int = 6000,
    *,
    n_groups: int = 4,
    feature_dim: int = 32,
    in_group: float = 0.85,
    feature_noise: float = 0.6,
    seed: int = 0,
) -> PlantedData:
    """Users and items in ``n_groups`` hidden groups; a user's likes fall in its group with prob ``in_group``.

    Item features are the group's centroid plus Gaussian noise, L2-normalised (like encoder outputs).
    Users get a long-tailed number of interactions (at least 2), as in real logs.
    """
    rng = np.random.default_rng(seed)
    user_group = rng.integers(0, n_groups, n_users)
    item_group = rng.integers(0, n_groups, n_items)
    centroids = rng.normal(size=(n_groups, feature_dim)).astype(np.float32)
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    noise = rng.normal(size=(n_items, feature_dim)).astype(np.float32) / np.sqrt(feature_dim)
    feats = centroids[item_group] + feature_noise * noise
    feats /= np.linalg.norm(feats, axis=1, keepdims=True)

    activity = rng.pareto(2.0, n_users) + 1.0
    counts = np.maximum(2, np.round(activity / activity.sum() * n_interactions)).astype(np.int64)
    users = np.repeat(np.arange(n_users), counts)[:n_interactions]
    if users.size < n_interactions:
        users = np.concatenate([users, rng.integers(0, n_users, n_interactions - users.size)])
    popularity = rng.pareto(1.5, n_items) + 1.0
    items_by_group = [np.flatnonzero(item_group == g) for g in range(n_groups)]
    probs = [popularity[ix] / popularity[ix].sum() for ix in items_by_group]
    same = rng.random(users.size) < in_group
    target_group = np.where(same, user_group[users], rng.integers(0, n_groups, users.size))
    items = np.empty(users.size, np.int64)
    for g in range(n_groups):
        sel = np.flatnonzero(target_group == g)
        items[sel] = rng.choice(items_by_group[g], size=sel.size, p=probs[g])
    arrays = InteractionArrays(users, items, n_users, n_items, item_features=feats, encoder_id="synthetic")
    return PlantedData(arrays, user_group, item_group, centroids)


def split_holdout(data: InteractionArrays, *, seed: int = 0) -> tuple[InteractionArrays, np.ndarray, np.ndarray]:
    """Hold out one interaction per user with at least 3; returns (train, held_users, held_items)."""
    rng = np.random.default_rng(seed)
    keys = np.unique(data.user_idx * data.n_items + data.item_idx)
    u, i = keys // data.n_items, keys % data.n_items
    order = rng.permutation(keys.size)
    u_o = u[order]
    _, first = np.unique(u_o, return_index=True)
    counts = np.bincount(u, minlength=data.n_users)
    held = order[first[counts[u_o[first]] >= 3]]
    mask = np.ones(keys.size, bool)
    mask[held] = False
    train = InteractionArrays(u[mask], i[mask], data.n_users, data.n_items, item_features=data.item_features,
                              encoder_id=data.encoder_id)
    return train, u[held], i[held]
