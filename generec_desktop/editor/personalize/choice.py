"""Is there a real choice? Score noise measured on the video, and a diversity term that spends only noise.

Eq. 1 takes each audience's argmax. On a video with one scene, or whose frames all score alike, that
argmax is decided by noise, and every audience silently gets (nearly) the same frame. This module
measures the noise and says so, and when there *is* a choice it uses the slack the noise leaves to
give audiences different frames (and clips) at no measurable cost.

**Noise, measured** (:func:`score_noise`). Near-duplicates are two samples of one shot that look
alike: consecutive samples (0.25 s apart at the default rate), and samples up to 10 s apart whose
embeddings are as close as consecutive ones usually are (:func:`near_duplicate_pairs`). They show
the same content, so whatever separates their scores (compression, a little motion, rate control,
the encoder's sensitivity to all of it) is what a score difference looks like when nothing changed.
Per audience the noise is the 95th percentile of ``|s(j) - s(i)|`` over those pairs: two frames are
**within noise** when their scores differ by no more than 95 % of near-duplicate pairs do. An
empirical quantile rather than a fitted σ, because the differences are far from normal: a static
scene encoded by x264 gives runs of identical frames (differences of exactly 0, left out: the same
picture twice measures nothing) and a slow drift that consecutive frames alone would miss.
Consecutive pairs whose embeddings moved far more than the others' are transitions the hard-cut
detector misses — cross-fades — and are left out: on the demo they would triple the noise. Fewer
than :data:`MIN_PAIRS` consecutive pairs (a video sampled fewer times than it has shots) measures
nothing: the noise is then 0 and every difference counts.

A second measurement (:func:`perturbation_noise`, used by ``personalize``): a few candidate frames are
copied the ways a viewer would not notice (JPEG quality 75, a one-pixel shake, a slight defocus)
and the 95th percentile of those copies' score changes is a floor under the noise — a still scene's
frames can be so alike, or repeated by the encoder, that they show the encoder's sensitivity only
partly.

**Clips** (Eq. 2) average ``L`` frame scores. Their noise is taken to be the frames' own: averaging
would shrink independent noise by ``sqrt(L)``, but near-duplicates' differences are not independent
(a keyframe step or a slow drift lasts many samples), so two clips count as within noise when their
scores differ by no more than two near-duplicate frames' do.

**Decisions** (:func:`choose`), over the eligible candidates and each audience's *near set* (the
candidates within noise of its best):

* one candidate: ``one_frame``;
* *flat* for every audience — its candidates' scores vary no more than near-duplicates do (an F test
  at 95 % of their variance against the near-duplicates', :func:`_flat`) — no frame is measurably
  better for anyone, so every audience gets the same frame: ``one_scene`` when the candidates lie in
  one shot (the video's only scene, or the only one whose frames pass the quality gates), else
  ``within_noise``;
* one shot whose scores do vary: ``agree`` when one frame is in every near set, else ``moments``;
  each audience keeps its own best;
* several shots: a real choice. With ``diversity="auto"`` (the default) audiences are served
  fewest-options first; one whose best lies in a shot another audience already has takes, from its
  near set, a frame of a shot nobody has yet (for clips also: a window that overlaps no clip taken),
  the least similar to what others took: ``diversified`` when that moved anyone. A move to another
  frame of the same shot is never made (a person would see the same picture). When every audience's
  best still lies in one shot, ``agree`` (each keeps its own best: giving them all one frame inside
  the noise lost ground-truth hits on the demo, see below); else ``clear``.

The shared frame is the one in every near set with the least mean score loss. ``diversity=0`` keeps
the paper's plain argmax and still reports what it found; a number ``> 0`` replaces the noise by the
older tolerance (a share of each audience's score range, as in
:func:`generec_desktop.editor.personalize.thumbnails.select_thumbnails`) for wider diversification.

Measured (``benchmarks/bench_choice.py``, demo workspace: 43 videos, its 6 segments): the noise is
0.005-0.03 of Eq. 1 score while the segments prefer one shot over the next by 0.02-0.5, so the default
moves few audiences — pairs of audiences given frames of different shots 0.208 -> 0.231, clips that
do not overlap 0.264 -> 0.336 — at a mean Eq. 1 cost of 0.0005 (Eq. 2: 0.001); the ground-truth hit
rate 0.510 -> 0.508 (4 of 2,014 pairs worse, none better), clips 0.533 -> 0.533.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "MIN_PAIRS",
    "NOISE_QUANTILE",
    "NOISE_Z",
    "ChoiceReport",
    "choose",
    "near_duplicate_pairs",
    "near_duplicate_versions",
    "noise_of_copies",
    "perturbation_embeddings",
    "perturbation_noise",
    "score_noise",
    "shot_ids",
    "with_distinct",
]

#: near-duplicate pairs' score differences stay below this quantile of theirs 95 % of the time: the noise
NOISE_QUANTILE = 0.95
#: the 95 % quantile of a normal: the noise is NOISE_Z * sqrt(2) * sigma when frame scores are normal
NOISE_Z = 1.96
#: median absolute deviation -> standard deviation of a normal distribution
MAD_TO_SD = 1.4826
#: a pair's embedding distance this many robust σ above the median is a transition, not a near-duplicate
#: (the usual outlier rule)
OUTLIER_MADS = 3.0
#: degrees of freedom of the noise estimate per near-duplicate pair: the 95th percentile of |d| of n
#: normal differences has the sampling variance of a variance estimate on about 0.55 n degrees of
#: freedom (asymptotic variance of a sample quantile), a little less as consecutive pairs share a frame
DOF_PER_PAIR = 0.5
#: near-duplicates are looked for up to this many samples apart (10 s at the default 4 samples/s)
MAX_LAG = 40
#: at most this many near-duplicate pairs measure the noise (evenly spread over the video)
MAX_PAIRS = 4000
#: near-duplicate pairs needed before the noise counts as measured
MIN_PAIRS = 3

KINDS = ("one_frame", "one_scene", "within_noise", "moments", "agree", "diversified", "clear")
#: the kinds that mean the video offered these audiences no real choice
NO_CHOICE = ("one_frame", "one_scene", "within_noise")


@dataclass(frozen=True)
class ChoiceReport:
    """What the selection found about the video's choice, for people (``message``) and for code.

    ``kind``: one of ``one_frame``, ``one_scene``, ``within_noise`` (no real choice), ``moments``,
    ``diversified``, ``clear`` (a real choice). ``noise[a]``: the score difference near-duplicates reach
    for audience ``a``; ``pairs``: near-duplicate pairs measured; ``shots``: shots among the
    candidates; ``moved``: audiences given something other than their own argmax; ``cost``: the mean
    Eq. 1/2 score they lose for it (``best - chosen`` averaged over all audiences, >= 0);
    ``distinct``: how many different frames (clips) the audiences got.
    """

    kind: str
    message: str
    noise: tuple[float, ...]
    pairs: int
    shots: int
    moved: int
    cost: float
    distinct: int
    audiences: int
    unit: str = "frame"  # "frame" or "clip"
    scenes: int = 1  # shots in the video (``shots`` counts those with an eligible candidate)

    @property
    def real_choice(self) -> bool:
        """False when the video offered nothing to choose between for these audiences."""
        return self.kind not in NO_CHOICE

    @property
    def shared(self) -> bool:
        """Every audience got the same frame (clip)."""
        return self.distinct <= 1


def shot_ids(n_samples: int, cut_after: Sequence[int]) -> np.ndarray:
    """The shot each sample belongs to (0 for the first), from the samples that start new shots."""
    cuts = np.sort(np.asarray(cut_after, np.int64))
    return np.searchsorted(cuts, np.arange(n_samples), side="right").astype(np.int64)


def near_duplicate_pairs(n_samples: int, cut_after: Sequence[int],
                         embeddings: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The near-duplicate sample pairs ``(i, j)``, ``i < j``: two samples of one shot that look alike.

    Without ``embeddings``: consecutive samples of one shot. With them, "alike" is measured: a pair is
    a near-duplicate when its embedding distance ``1 - cos`` is no larger than consecutive samples'
    usually is — at most :data:`OUTLIER_MADS` robust σ above the median over the consecutive pairs of
    one shot that changed at all. Consecutive pairs further apart are transitions the hard-cut
    detector misses (cross-fades, flashes); pairs up to :data:`MAX_LAG` samples apart that are that
    close are near-duplicates too, so a still scene's slow drift (rate control, light) counts as the
    noise it is. At most :data:`MAX_PAIRS` pairs, evenly spread.
    """
    if n_samples < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    shot = shot_ids(n_samples, cut_after)
    i = np.arange(n_samples - 1)
    same = shot[i] == shot[i + 1]
    if embeddings is None:
        return i[same], i[same] + 1
    e = np.asarray(embeddings, np.float64)
    # every pair's cosine from one product (N x N, N = samples: 240 for a minute) rather than a row-wise
    # product per lag: 40 lags at 240 x 409 cost 17 ms per call, the product 1 ms
    gram = e @ e.T

    def dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.asarray(1.0 - gram[a, b], np.float64)

    d1 = dist(i, i + 1)
    moved = same & (d1 > 1e-9)  # repeated frames (distance 0) say nothing about what is typical
    if moved.sum() < MIN_PAIRS:
        return i[same], i[same] + 1
    med = float(np.median(d1[moved]))
    bound = med + OUTLIER_MADS * MAD_TO_SD * float(np.median(np.abs(d1[moved] - med))) + 1e-12
    out_i, out_j = [], []
    for lag in range(1, min(MAX_LAG, n_samples - 1) + 1):
        a = np.arange(n_samples - lag)
        ok = (shot[a] == shot[a + lag]) & (dist(a, a + lag) <= bound)
        out_i.append(a[ok])
        out_j.append(a[ok] + lag)
    pi, pj = np.concatenate(out_i), np.concatenate(out_j)
    if pi.size > MAX_PAIRS:
        pick = np.linspace(0, pi.size - 1, MAX_PAIRS).astype(np.int64)
        pi, pj = pi[pick], pj[pick]
    return pi, pj


def score_noise(scores: np.ndarray, cut_after: Sequence[int],
                embeddings: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Per audience, the score difference near-duplicate frames reach (see the module docstring).

    Returns ``(noise (A,), pairs)``: the :data:`NOISE_QUANTILE` quantile of ``|s(j) - s(i)|`` over the
    :func:`near_duplicate_pairs` that are not the same picture twice (every audience's score
    unchanged: a static scene's encoder repeats frames between keyframes), and how many of those are
    consecutive samples (what the estimate is worth, see :func:`_flat`); zeros when fewer than
    :data:`MIN_PAIRS` consecutive pairs exist.
    """
    s = np.atleast_2d(np.asarray(scores, np.float64))
    pi, pj = near_duplicate_pairs(s.shape[1], cut_after, embeddings)
    # in place (A x up to MAX_PAIRS float64: 32 MB for 1,000 audiences, each pass counts)
    d = s[:, pj]
    d -= s[:, pi]
    np.abs(d, out=d)
    changed = np.any(d > 0, axis=0)  # a repeated frame (same picture decoded twice) measures nothing
    pairs = int((changed & (pj - pi == 1)).sum())
    if pairs < MIN_PAIRS:
        return np.zeros(s.shape[0]), pairs
    # d is ours: the quantile may reorder it in place instead of copying it again
    return np.quantile(d if changed.all() else d[:, changed], NOISE_QUANTILE, axis=1, overwrite_input=True), pairs


def near_duplicate_versions(image: np.ndarray) -> list[np.ndarray]:
    """Copies of ``image`` a viewer would call the same picture: a JPEG quality-75 round trip, a one-pixel
    camera shake (shifted, edges kept by resampling) and a slight defocus (Gaussian, σ 0.6 px)."""
    import cv2

    img = np.ascontiguousarray(image)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 75])
    decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else None
    jpeg = cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB) if decoded is not None else img
    h, w = img.shape[:2]
    shaken = cv2.resize(img[1:, 1:], (w, h), interpolation=cv2.INTER_LINEAR) if h > 2 and w > 2 else img
    soft = cv2.GaussianBlur(img, (0, 0), 0.6)
    return [jpeg, shaken, soft]


def perturbation_noise(encode_images: Callable[[list[np.ndarray]], np.ndarray], images: Sequence[np.ndarray],
                       vectors: np.ndarray) -> tuple[np.ndarray, int]:
    """Per audience, the 95th percentile of ``|t·f(copy) - t·f(frame)|`` over :func:`near_duplicate_versions`
    of ``images``: how much a score moves for a picture nobody would tell apart. Returns ``(noise (A,),
    copies)``; zeros and 0 without images.

    The second measurement of near-duplicates besides the video's own frames: a still scene's frames
    can be so alike (or repeated by the encoder) that they show the encoder's sensitivity only partly.
    """
    if not len(images):
        return np.zeros(np.atleast_2d(np.asarray(vectors)).shape[0]), 0
    emb, counts = perturbation_embeddings(encode_images, images)
    return noise_of_copies(emb, counts, vectors)


def perturbation_embeddings(encode_images: Callable[[list[np.ndarray]], np.ndarray],
                            images: Sequence[np.ndarray]) -> tuple[np.ndarray, list[int]]:
    """The embeddings :func:`perturbation_noise` compares: ``images`` then each one's
    :func:`near_duplicate_versions`, and how many copies each has (what a caller may keep and reuse)."""
    copies = [near_duplicate_versions(im) for im in images]
    emb = np.asarray(encode_images([*images, *(c for cs in copies for c in cs)]))
    return emb, [len(cs) for cs in copies]


def noise_of_copies(emb: np.ndarray, counts: Sequence[int], vectors: np.ndarray) -> tuple[np.ndarray, int]:
    """:func:`perturbation_noise` from :func:`perturbation_embeddings`' output (in the scores' space)."""
    v = np.atleast_2d(np.asarray(vectors, np.float64))
    n = len(counts)
    if not n:
        return np.zeros(v.shape[0]), 0
    emb = np.asarray(emb, np.float64)
    orig = np.repeat(emb[:n], list(counts), axis=0)
    d = np.abs(v @ (emb[n:] - orig).T)
    return np.quantile(d, NOISE_QUANTILE, axis=1), int(sum(counts))


def _fmt(noise: np.ndarray) -> str:
    return f"±{float(np.median(noise)):.3f}" if noise.size else "±0"


def _message(kind: str, unit: str, distinct: int, moved: int, n_aud: int, cost: float, noise: np.ndarray,
             scenes: int = 1, usable: int = 1) -> str:
    every = f"every audience gets the same {unit}"
    if kind == "one_frame":
        return f"one {unit}: {every}" if unit == "frame" else f"the video is too short for a choice: {every}"
    if kind == "one_scene":
        scene = "one scene" if scenes <= 1 else (
            f"one usable scene (the frames of the other {scenes - usable} failed the quality gates)")
        if distinct <= 1:
            return f"{scene}: {every} (its {unit}s' scores vary no more than near-duplicate frames' do, {_fmt(noise)})"
        return f"{scene}: the audiences' {unit}s differ by less than the noise ({_fmt(noise)})"
    if kind == "within_noise":
        tail = every if distinct <= 1 else f"the differences between their {unit}s are not measurable"
        return (f"the audiences' scores differ by less than the noise ({_fmt(noise)}): no {unit} is measurably "
                f"better for any audience, so {tail}")
    if kind == "moments":
        return "one scene: the audiences prefer different moments of it"
    if kind == "agree":
        tail = f", so {every}" if distinct <= 1 else ""
        if usable <= 1:
            scene = "one shot (no cut found)" if scenes <= 1 else (
                f"one usable scene (the frames of the other {scenes - usable} failed the quality gates)")
            return f"{scene}: every audience prefers the same moment of it{tail}"
        return f"every audience prefers the same scene (beyond the noise, {_fmt(noise)}){tail}"
    if kind == "diversified":
        where = "scene" if unit == "frame" else "part of the video"
        return (f"close scores: {moved} of {n_aud} audiences were given a different {where}, within the noise "
                f"of their best (mean Eq. {1 if unit == 'frame' else 2} score cost {cost:.4f})")
    return ""


def choose(
    scores: np.ndarray,
    candidates: np.ndarray,
    noise: np.ndarray,
    shots: np.ndarray,
    *,
    pairs: int = MIN_PAIRS,
    diversity: float | str | None = "auto",
    similarity: Callable[[int], np.ndarray] | None = None,
    unit: str = "frame",
    spacing: int = 1,
) -> tuple[np.ndarray, ChoiceReport]:
    """Pick one candidate per audience and report on the choice (see the module docstring).

    ``scores`` (A, N) over all positions; ``candidates`` the eligible positions (sorted); ``noise`` (A,)
    the score noise of one position; ``shots`` (N,) the shot of each position; ``similarity(k)`` an
    optional row of similarities of candidate ``k`` to every candidate (cosine of frame embeddings;
    for clips the overlap of windows) that diversification avoids. ``diversity``: ``"auto"`` (or None),
    ``0`` (plain argmax) or a tolerance ``> 0`` as a share of each audience's score range. ``spacing``:
    positions closer than this share their noise (an Eq. 2 window overlaps the next ``L - 1``), for the
    flatness test. Returns
    ``(chosen positions (A,), report)``.
    """
    s = np.atleast_2d(np.asarray(scores, np.float64))
    cand = np.asarray(candidates, np.int64)
    n_aud = s.shape[0]
    noise = np.asarray(noise, np.float64)
    sub = s[:, cand]  # (A, C)
    top = sub.max(axis=1)
    best = sub.argmax(axis=1)
    all_shots = np.asarray(shots, np.int64)
    cshots = all_shots[cand]
    n_shots = int(np.unique(cshots).size)  # shots with an eligible candidate
    scenes = int(np.unique(all_shots).size)
    auto = diversity is None or diversity == "auto"
    tol = float(diversity) if not auto else 0.0  # type: ignore[arg-type]
    near = sub >= (top - noise)[:, None] - 1e-9
    common = near.all(axis=0)
    flat = _flat(sub, noise, spacing, pairs) if pairs >= MIN_PAIRS else np.all(sub.max(axis=1) == sub.min(axis=1))
    pick = best.copy()

    def shared() -> np.ndarray:
        # one frame for all: an audience's own best that is in every near set if there is one, else any
        # frame in every near set, else any; the one that costs least on average
        own = np.unique(best[common[best]])
        idx = own if own.size else (np.flatnonzero(common) if common.any() else np.arange(cand.size))
        loss = (top[:, None] - sub[:, idx]).mean(axis=0)
        return np.full(n_aud, int(idx[int(np.argmin(loss))]))

    if cand.size == 1:
        kind = "one_frame"
    elif bool(np.all(flat)):
        kind = "one_scene" if n_shots == 1 else "within_noise"
        if auto:
            pick = shared()
    elif n_shots == 1:
        kind = "agree" if common.any() else "moments"
    else:
        kind = "clear"
        if (auto or tol > 0) and n_aud > 1:
            if not auto:  # the older rule: within a share of each audience's candidate score range
                near = sub >= (top - tol * (top - sub.min(axis=1)))[:, None] - 1e-9
            pick = _diversify(sub, near, cshots, similarity, apart=unit == "clip")
        if n_aud > 1 and np.unique(cshots[pick]).size == 1:
            kind = "agree"
    chosen = cand[pick]
    moved = int(np.sum(sub[np.arange(n_aud), pick] < top - 1e-12))
    if kind == "clear" and moved:
        kind = "diversified"
    cost = float(np.mean(top - sub[np.arange(n_aud), pick]))
    distinct = int(np.unique(chosen).size)
    msg = _message(kind, unit, distinct, moved, n_aud, cost, noise, scenes, n_shots)
    return chosen, ChoiceReport(kind, msg, tuple(float(x) for x in noise), int(pairs), n_shots, moved, cost,
                                distinct, n_aud, unit, scenes)


def _flat(sub: np.ndarray, noise: np.ndarray, spacing: int, pairs: int) -> np.ndarray:
    """Per audience: do its candidates' scores vary no more than near-duplicates do?

    The noise is the 95 % bound of a near-duplicate pair's difference; were it normal that is
    ``NOISE_Z * sqrt(2) * sigma`` with ``sigma`` one frame's score noise. Under "nothing but noise"
    the candidates' score variance estimates ``sigma**2`` too, so their ratio follows an F law:
    ``n - 1`` degrees of freedom above (n: independent candidates, ``C / spacing``) and, below, those of
    the quantile estimate (:data:`DOF_PER_PAIR` per pair). Flat unless the ratio exceeds its 95 %
    quantile. (Comparing the best and worst single frames would not do: the extremes of n noisy
    scores spread further apart as n grows.)
    """
    from scipy.stats import f as f_dist

    c = sub.shape[1]
    distinct = 1 + int(np.any(np.diff(sub, axis=1) != 0, axis=0).sum()) if c > 1 else 1  # repeats count once
    dof = max(1, int(np.ceil(distinct / max(1, spacing))) - 1)
    dof_noise = max(1.0, DOF_PER_PAIR * pairs)
    sigma = np.asarray(noise, np.float64) / (NOISE_Z * np.sqrt(2.0))
    var = sub.var(axis=1, ddof=1) if c > 1 else np.zeros(sub.shape[0])
    return np.asarray(var <= sigma ** 2 * float(f_dist.ppf(0.95, dof, dof_noise)) + 1e-18)


def _diversify(sub: np.ndarray, near: np.ndarray, cshots: np.ndarray,
               similarity: Callable[[int], np.ndarray] | None, *, apart: bool) -> np.ndarray:
    """Serve audiences with the fewest near options first (ties: the most decided first). Each keeps its
    own best unless its near set holds a candidate of a shot nobody took yet while its best's shot is
    taken, or (``apart``, for clips) a candidate that overlaps nothing taken while its best does; among
    those it takes the least similar to what others took, then its own best score. A move to another
    frame of a shot someone already has would change nothing a person sees, so it is never made."""
    n_aud, c = sub.shape
    # the best two of each row (a partial sort: the rest of the order is not needed)
    top2 = np.partition(sub, c - 2, axis=1)[:, -2:] if c > 1 else None
    margin = top2[:, 1] - top2[:, 0] if top2 is not None else np.zeros(n_aud)
    options = near.sum(axis=1)
    order = np.lexsort((-margin, options))
    best = sub.argmax(axis=1).tolist()  # once for all rows: the loop below is per audience
    options_l = options.tolist()
    taken_shot = np.zeros(int(cshots.max()) + 1 if cshots.size else 1, bool)
    taken_sim = np.zeros(c)
    merged: set[int] = set()  # candidates whose similarity row is already in taken_sim
    pick = np.empty(n_aud, np.int64)
    for a in order.tolist():
        k = best[a]
        if options_l[a] > 1:
            opts = np.flatnonzero(near[a])
            fresh = opts[~taken_shot[cshots[opts]]]
            if taken_shot[cshots[k]] and fresh.size:
                pool = fresh
            elif apart and taken_sim[k] > 0 and np.any(taken_sim[opts] <= 0):
                pool = opts[taken_sim[opts] <= 0]
            else:
                pool = np.array([k])
            # least similar to what others took, then the audience's own score
            k = int(pool[np.lexsort((-sub[a, pool], taken_sim[pool]))[0]])
        pick[a] = k
        taken_shot[cshots[k]] = True
        # a candidate taken again changes nothing (the maximum holds its row already): 1,000 audiences
        # take ~140 distinct frames, so most rows need not be computed
        if similarity is not None and k not in merged:
            taken_sim = np.maximum(taken_sim, np.asarray(similarity(k), np.float64))
            merged.add(k)
    return pick


def with_distinct(report: ChoiceReport, distinct: int) -> ChoiceReport:
    """The report with ``distinct`` recounted (e.g. after clip ends snapped two windows onto one range)."""
    import dataclasses

    msg = _message(report.kind, report.unit, distinct, report.moved, report.audiences, report.cost,
                   np.asarray(report.noise), report.scenes, report.shots)
    return dataclasses.replace(report, distinct=int(distinct), message=msg)
