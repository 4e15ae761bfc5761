"""Pure array algorithms: User_Hist (paper Eq. 1) and audience segments (KMeans + readable labels)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def normalise_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm; all-zero rows stay zero (a user with no likes has no direction)."""
    x = np.asarray(x, dtype=np.float32)
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.divide(x, n, out=np.zeros_like(x), where=n > 0)


def user_hist(
    user_idx: np.ndarray,
    item_idx: np.ndarray,
    item_embeddings: np.ndarray,
    n_users: int,
    weight: np.ndarray | None = None,
) -> np.ndarray:
    """User_Hist, Eq. 1: ``t* = normalise(mean_j f(t_j))`` over each user's liked thumbnails.

    ``weight`` (optional, > 0) turns the mean into a weighted mean; all-ones gives Eq. 1 exactly.
    A (user, item) pair that appears twice counts twice (it was liked twice). Users without likes
    get a zero row. Returns ``(n_users, D)`` float32.
    """
    from scipy import sparse

    user_idx = np.asarray(user_idx, dtype=np.int64)
    item_idx = np.asarray(item_idx, dtype=np.int64)
    w = np.ones(user_idx.size, np.float32) if weight is None else np.asarray(weight, np.float32)
    a = sparse.csr_matrix((w, (user_idx, item_idx)), shape=(n_users, item_embeddings.shape[0]))
    sums = a @ np.asarray(item_embeddings, dtype=np.float32)
    # Normalising the sum equals normalising the mean: the 1/M of Eq. 1 cancels.
    return normalise_rows(np.asarray(sums))


def choose_k(vectors: np.ndarray, k_range: Sequence[int], *, seed: int = 0) -> int:
    """The k in ``k_range`` with the best silhouette score (on up to 3,000 sampled rows)."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    n = vectors.shape[0]
    best_k, best_s = min(k_range), -2.0
    rng = np.random.default_rng(seed)
    sample = rng.choice(n, size=min(n, 3000), replace=False)
    for k in k_range:
        if k < 2 or k >= n:
            continue
        labels = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(vectors)
        if np.unique(labels[sample]).size < 2:
            continue
        s = float(silhouette_score(vectors[sample], labels[sample]))
        if s > best_s:
            best_k, best_s = k, s
    return best_k


def cluster_users(
    vectors: np.ndarray, *, k: int | None = None, k_range: Sequence[int] = range(2, 13), seed: int = 0
) -> np.ndarray:
    """KMeans cluster index per row of ``vectors`` (rows L2-normalised first, i.e. cosine geometry).

    With ``k=None`` the number of segments is chosen by silhouette score over ``k_range``.
    """
    from sklearn.cluster import KMeans

    x = normalise_rows(vectors)
    n = x.shape[0]
    if n == 0:
        return np.empty(0, np.int64)
    if k is None:
        k = choose_k(x, [kk for kk in k_range if kk < n], seed=seed) if n > 2 else 1
    k = max(1, min(int(k), n))
    if k == 1:
        return np.zeros(n, np.int64)
    return KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(x).astype(np.int64)


@dataclass(frozen=True)
class SegmentSummary:
    """One cluster: its index, size, and the items its members like more than everyone else does."""

    index: int
    size: int
    label: str
    top_items: tuple[int, ...]      # item indices, most characteristic first


def describe_segments(
    assignment: np.ndarray,
    user_idx: np.ndarray,
    item_idx: np.ndarray,
    item_names: Sequence[str],
    *,
    top: int = 3,
) -> list[SegmentSummary]:
    """A human-readable label per segment from its most characteristic liked items.

    An item is characteristic when many members like it *and* it is liked more in the segment than
    overall (score = members' like count × log lift), so globally popular items do not label every
    segment. Names that repeat (e.g. a category shared by several items) are merged.
    """
    assignment = np.asarray(assignment, dtype=np.int64)
    user_idx = np.asarray(user_idx, dtype=np.int64)
    item_idx = np.asarray(item_idx, dtype=np.int64)
    n_items = len(item_names)
    k = int(assignment.max()) + 1 if assignment.size else 0
    seg_of_like = assignment[user_idx]
    counts = np.zeros((k, n_items), np.float64)
    np.add.at(counts, (seg_of_like, item_idx), 1.0)
    overall = counts.sum(0) / max(1.0, counts.sum())
    out = []
    for s in range(k):
        size = int((assignment == s).sum())
        c = counts[s]
        share = c / max(1.0, c.sum())
        lift = np.divide(share, overall, out=np.zeros_like(share), where=overall > 0)
        score = c * np.log(np.maximum(lift, 1e-12))
        score[c == 0] = -np.inf
        order = [int(i) for i in np.argsort(-score, kind="stable") if np.isfinite(score[i]) and score[i] > 0]
        if not order:  # one segment, or no item over-represented: fall back to the most liked
            order = [int(i) for i in np.argsort(-c, kind="stable") if c[i] > 0]
        names: list[str] = []
        for i in order:
            name = str(item_names[i]).strip() or f"item {i}"
            if name not in names:
                names.append(name)
            if len(names) == top:
                break
        label = "likes " + "; ".join(names) if names else "no likes yet"
        out.append(SegmentSummary(index=s, size=size, label=label, top_items=tuple(order[:top])))
    return out
