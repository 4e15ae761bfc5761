"""Pure array algorithms: User_Hist (paper Eq. 1) and audience segments (KMeans + readable labels)."""

from __future__ import annotations

import re
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


#: longest segment label (it fits a list row / combo box next to the segment's size)
LABEL_MAX_CHARS = 40
LABEL_SEP = " · "


@dataclass(frozen=True)
class SegmentSummary:
    """One cluster: its index, size, a short label (its characteristic words) and its characteristic items."""

    index: int
    size: int
    label: str
    top_items: tuple[int, ...]      # item indices, most characteristic first


def _characteristic(counts: np.ndarray) -> np.ndarray:
    """Per segment row, ``count × log lift`` of each column (lift: share in the segment / share overall).

    High when many members like it *and* it is liked more in the segment than overall, so globally
    popular items (or words every title has, like "video") label no segment. Absent columns: -inf.
    """
    overall = counts.sum(0) / max(1.0, counts.sum())
    share = counts / np.maximum(1.0, counts.sum(1, keepdims=True))
    lift = np.divide(share, overall, out=np.zeros_like(share), where=overall > 0)
    score = counts * np.log(np.maximum(lift, 1e-12))
    score[counts == 0] = -np.inf
    return score


def name_terms(name: str) -> list[str]:
    """The tags of an item name: its comma-separated list ("Demo 004: retina, deep field" -> retina,
    deep field; the part before a colon is a heading), else its real words. Lower case; English stop
    words, tokens without a letter and file-name parts (``IMG_2041``, ``VID_20240101_1200``: see
    :func:`generec_desktop.profiles.tags.title_words`) dropped, so "Demo 001" or a camera's file name
    never labels anything."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from generec_desktop.profiles.tags import title_words

    _head, colon, tail = str(name).partition(":")
    text = tail if colon and tail.strip() else str(name)
    parts = [" ".join(p.split()).lower() for p in re.split(r"[,;|]", text)]
    if len(parts) < 2:
        return title_words(text)
    return [p for p in parts if p and p not in ENGLISH_STOP_WORDS and re.search(r"[^\W\d_]", p)
            and title_words(p)]


def _item_terms(item_names: Sequence[str],
                item_tags: Sequence[Sequence[str]] | None = None) -> tuple[np.ndarray, list[str]]:
    """Binary item × term matrix (counted by scikit-learn) and the terms: each item's name terms
    (:func:`name_terms`) together with its content tags."""
    from sklearn.feature_extraction.text import CountVectorizer

    tags = list(item_tags) if item_tags is not None else [()] * len(item_names)

    def terms(doc: tuple[str, Sequence[str]]) -> list[str]:
        return list(dict.fromkeys([*name_terms(doc[0]), *(str(t) for t in doc[1])]))

    vec = CountVectorizer(analyzer=terms, binary=True)
    try:
        m = vec.fit_transform([(str(n), tuple(g)) for n, g in zip(item_names, tags)])
    except ValueError:  # no term at all for any item
        return np.zeros((len(item_names), 0), np.float64), []
    return m.toarray().astype(np.float64), list(vec.get_feature_names_out())


def _compose(words: list[str], max_chars: int) -> str:
    """As many of ``words`` as fit in ``max_chars`` joined by " · " (the first one cut if alone too long)."""
    out: list[str] = []
    for w in words:
        cand = LABEL_SEP.join([*out, w])
        if len(cand) <= max_chars:
            out.append(w)
        elif not out:
            return w[: max_chars - 1] + "…"
    return LABEL_SEP.join(out)


def describe_segments(
    assignment: np.ndarray,
    user_idx: np.ndarray,
    item_idx: np.ndarray,
    item_names: Sequence[str],
    *,
    item_tags: Sequence[Sequence[str]] | None = None,
    top: int = 3,
    max_chars: int = LABEL_MAX_CHARS,
) -> list[SegmentSummary]:
    """A short, unique label per segment: the terms of its liked items it over-represents.

    An item's terms are its name's real words (:func:`name_terms`) and its content tags
    (``item_tags``, e.g. "red", "fast-moving": :mod:`generec_desktop.profiles.tags`). Items and terms
    are ranked by ``count × log lift`` (:func:`_characteristic`); the label joins the ``top`` best
    ("red · fast-moving", at most ``max_chars`` characters). Two segments with the same terms get more
    terms, then a " #n" suffix, so labels stay unique. Without any over-represented term the segment's
    most frequent terms are used, then the best item's name if it is not a file name, else "no
    distinct tags".
    """
    assignment = np.asarray(assignment, dtype=np.int64)
    user_idx = np.asarray(user_idx, dtype=np.int64)
    item_idx = np.asarray(item_idx, dtype=np.int64)
    n_items = len(item_names)
    k = int(assignment.max()) + 1 if assignment.size else 0
    counts = np.zeros((k, n_items), np.float64)
    np.add.at(counts, (assignment[user_idx], item_idx), 1.0)
    item_score = _characteristic(counts)
    terms, vocab = _item_terms(item_names, item_tags)
    term_score = _characteristic(counts @ terms) if vocab else np.full((k, 0), -np.inf)
    out: list[SegmentSummary] = []
    used: set[str] = set()
    for s in range(k):
        size = int((assignment == s).sum())
        c = counts[s]
        order = [int(i) for i in np.argsort(-item_score[s], kind="stable")
                 if np.isfinite(item_score[s, i]) and item_score[s, i] > 0]
        if not order:  # one segment, or no item over-represented: fall back to the most liked
            order = [int(i) for i in np.argsort(-c, kind="stable") if c[i] > 0]
        words = [vocab[j] for j in np.argsort(-term_score[s], kind="stable")
                 if np.isfinite(term_score[s, j]) and term_score[s, j] > 0]
        if not words and vocab:  # nothing over-represented (one segment): its most frequent terms
            seg_counts = (counts[s] @ terms) if c.any() else np.zeros(len(vocab))
            words = [vocab[j] for j in np.argsort(-seg_counts, kind="stable") if seg_counts[j] > 0]
        if not words:
            from generec_desktop.profiles.tags import is_file_name

            name = str(item_names[order[0]]).strip() if order else ""
            words = ([name] if name and not is_file_name(name) else ["no distinct tags"]) if order else \
                ["no likes yet"]
        label = _compose(words[:top], max_chars)
        n = top
        while label in used and n < len(words):  # a twin label: add the next word (fits or replaces)
            n += 1
            label = _compose(words[:top - 1] + words[n - 1:n], max_chars)
        if label in used:
            suffix = f" #{s + 1}"
            label = _compose(words[:top], max_chars - len(suffix)) + suffix
        used.add(label)
        out.append(SegmentSummary(index=s, size=size, label=label, top_items=tuple(order[:top])))
    return out
