"""Personalised thumbnail selection: the paper's Eq. 1 over quality-gated candidate frames.

Eq. 1 (paper §5.1.1): ``t* = mean_j f(t_j)`` over the audience's liked thumbnails (User_Hist, from
:mod:`generec_desktop.profiles`), and the thumbnail is ``argmax_i t*·f(v_i)`` over the candidate frames.
Here every audience is scored at once: ``S = T F^T`` is an (audiences × frames) matrix, so one
decode and one encode pass of the video serve any number of audiences.

Further than the paper (DESIGN §6): candidates are the regular samples plus the first good frame
after each shot cut; frames failing the quality gates are excluded while any frame passes; and an
diversity term lets an audience take a different frame from the ones other audiences already got
when its score is within the noise of its best (the noise is measured on the video, and a video
with no real choice says so: :func:`choose_thumbnails`, :mod:`generec_desktop.editor.personalize.choice`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from generec_desktop.editor.personalize.choice import ChoiceReport

__all__ = [
    "Candidates",
    "build_candidates",
    "choose_thumbnails",
    "score_matrix",
    "select_thumbnails",
    "user_vector",
]


def user_vector(liked_embeddings: np.ndarray) -> np.ndarray:
    """Eq. 1's ``t*``: the mean of the liked thumbnails' embeddings, L2-normalised (cosine ranking)."""
    v = np.asarray(liked_embeddings, np.float32).mean(axis=0)
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def score_matrix(audience_vectors: np.ndarray, frame_embeddings: np.ndarray) -> np.ndarray:
    """``S[a, i] = t*_a · f(v_i)``: (A, d) × (N, d) -> (A, N) float32."""
    t = np.asarray(audience_vectors, np.float32)
    f = np.asarray(frame_embeddings, np.float32)
    if t.ndim != 2 or f.ndim != 2 or t.shape[1] != f.shape[1]:
        from generec_desktop.editor.personalize.errors import EditorError

        raise EditorError(
            f"Audience vectors have dimension {t.shape[-1]} but frame embeddings {f.shape[-1]}; "
            "build the profiles with the same encoder as the frames."
        )
    return t @ f.T


@dataclass(frozen=True)
class Candidates:
    """Thumbnail candidates among the sampled frames.

    ``index`` are sample indices (sorted); ``source[k]`` is "shot" for the first good frame after a
    cut (or the first frame of the video), "regular" otherwise; ``eligible`` marks those that passed
    the quality gates (all of them when none passed, with ``gates_relaxed`` set).
    """

    index: np.ndarray
    source: tuple[str, ...]
    eligible: np.ndarray
    gates_relaxed: bool


def build_candidates(n_samples: int, cut_after: Sequence[int], passed: np.ndarray, *,
                     regular_every: int = 1) -> Candidates:
    """Candidates = every ``regular_every``-th sample + the first passing sample of each shot."""
    passed = np.asarray(passed, bool)
    relaxed = not bool(passed.any())
    ok = np.ones(n_samples, bool) if relaxed else passed
    regular = set(range(0, n_samples, max(1, int(regular_every))))
    starts = [0, *[int(c) for c in cut_after]]
    ends = [*starts[1:], n_samples]
    shot = set()
    for a, b in zip(starts, ends):
        good = np.flatnonzero(ok[a:b])
        if good.size:
            shot.add(a + int(good[0]))
    idx = np.array(sorted(regular | shot), np.int64)
    source = tuple("shot" if int(i) in shot else "regular" for i in idx)
    return Candidates(index=idx, source=source, eligible=ok[idx], gates_relaxed=relaxed)


def select_thumbnails(scores: np.ndarray, candidates: Candidates, *, frame_embeddings: np.ndarray | None = None,
                      diversity: float = 0.0, top_k: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Per audience: the chosen sample index, and its ``top_k`` ranked eligible candidates.

    ``scores`` is the (A, N) matrix over all samples. With ``diversity`` > 0 (a fraction of each
    audience's score range among candidates), audiences are served in order of how decided they are
    (largest margin first); each takes, among its candidates scoring within the tolerance of its best,
    the one least similar (cosine of frame embeddings) to the frames already chosen for others.
    Returns ``(chosen (A,), ranked (A, k))`` as sample indices.
    """
    s = np.asarray(scores, np.float32)
    cand = candidates.index[candidates.eligible]
    sub = s[:, cand]  # (A, C)
    k = min(int(top_k), cand.size)
    part = np.argpartition(-sub, k - 1, axis=1)[:, :k] if k < cand.size else np.tile(np.arange(cand.size), (len(s), 1))
    order = np.take_along_axis(sub, part, axis=1).argsort(axis=1)[:, ::-1]
    ranked = cand[np.take_along_axis(part, order, axis=1)]
    best = cand[sub.argmax(axis=1)]
    if diversity <= 0 or frame_embeddings is None or len(s) < 2 or cand.size < 2:
        return best, ranked
    f = np.asarray(frame_embeddings, np.float32)[cand]
    sim = f @ f.T  # (C, C) cosine between candidates (unit rows)
    top = sub.max(axis=1)
    spread = top - sub.min(axis=1)
    srt = np.sort(sub, axis=1)
    margin = srt[:, -1] - srt[:, -2]
    chosen = np.empty(len(s), np.int64)
    taken = np.full(cand.size, -np.inf, np.float32)  # max similarity to any frame taken so far
    any_taken = False
    for a in np.argsort(-margin, kind="stable"):
        near = np.flatnonzero(sub[a] >= top[a] - diversity * spread[a])
        if any_taken and near.size > 1:
            # least similar to what others got; ties broken by the audience's own score
            key = taken[near] - 1e-6 * sub[a, near]
            pick = int(near[np.argmin(key)])
        else:
            pick = int(sub[a].argmax())
        chosen[a] = pick
        taken = np.maximum(taken, sim[pick])
        any_taken = True
    return cand[chosen], ranked


def choose_thumbnails(scores: np.ndarray, candidates: Candidates, *, cut_after: Sequence[int] = (),
                      frame_embeddings: np.ndarray | None = None, diversity: float | str | None = "auto",
                      top_k: int = 5, noise_floor: tuple[np.ndarray, int] | None = None,
                      noise: tuple[np.ndarray, int] | None = None,
                      ) -> tuple[np.ndarray, np.ndarray, ChoiceReport]:
    """:func:`select_thumbnails` that knows when the video offers no real choice (:mod:`.choice`).

    The score noise is measured on this video's near-duplicate frames (consecutive samples of one
    shot); one scene, or scores within that noise for every audience, gives every audience the same
    frame and a report saying why; with ``diversity="auto"`` close scores on a video with several
    shots give audiences frames of different shots, each within the noise of its own best.
    ``diversity=0`` is the paper's plain argmax (reported the same way). ``noise_floor``: ``(noise (A,),
    copies)`` from :func:`generec_desktop.editor.personalize.choice.perturbation_noise`, a floor under the measured
    noise. ``noise``: :func:`generec_desktop.editor.personalize.choice.score_noise` of these scores when the
    caller measured it already (Eq. 2 reads the same). Returns ``(chosen (A,), ranked (A, k), report)``.
    """
    from generec_desktop.editor.personalize.choice import choose, score_noise, shot_ids

    s = np.asarray(scores, np.float32)
    _, ranked = select_thumbnails(s, candidates, top_k=top_k)
    cand = candidates.index[candidates.eligible]
    noise, pairs = noise if noise is not None else score_noise(s, cut_after, frame_embeddings)
    if noise_floor is not None and noise_floor[1]:
        noise, pairs = np.maximum(noise, noise_floor[0]), pairs + int(noise_floor[1])
    shots = shot_ids(s.shape[1], cut_after)
    sim = None
    if frame_embeddings is not None:
        f = np.asarray(frame_embeddings, np.float32)[cand]

        def sim(k: int) -> np.ndarray:
            return f @ f[k]

    chosen, report = choose(s, cand, noise, shots, pairs=pairs, diversity=diversity, similarity=sim)
    return chosen, ranked, report
