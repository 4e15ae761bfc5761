"""Where audiences differ: the selection space and audience vectors that see it (issue 22 part 2 and 3).

Eq. 1 (``t* = mean f(liked thumbnail)``, argmax of ``t*·f(frame)``) works in the encoder's raw space,
where the built-in descriptor's vectors are dominated by the look every video shares; what tells one
audience from another is a small part of them, and a liked video's cover often does not even show what
the viewer liked in it. Measured on the demo and on the independent set
(:mod:`generec_desktop.evaluation.independent`; ground-truth hit rate of the chosen thumbnail / clip,
built-in encoder, every (user, non-interacted video showing a preferred category) pair; measured with the
quality gates of analysis v3, before cross-fade frames were gated — with v5 the default reaches 0.697 / 0.695 on
the demo and 0.692 / 0.688 on the independent set; ``benchmarks/bench_selection.py`` re-measures the rows kept):

==========================================================  ================  ================
selection                                                    demo thumb/clip   independent
==========================================================  ================  ================
Eq. 1 (the paper; ``selection="eq1"``)                       0.504 / 0.522     0.553 / 0.604
Eq. 1, User_Hist and frames centred on the corpus mean       0.538 / 0.553     0.593 / 0.647
Eq. 1, centred + projection on the users' top 8 PCs          0.555 / 0.571     0.605 / 0.648
Fisher projection (between users / within frames), 16 dims   0.402 / 0.396     0.404 / 0.439
**liked videos' frames, centred** (``"centred"``, default)   0.657 / 0.695     0.639 / 0.690
liked videos' frames, centred + top 8 PCs (``"projected"``)  0.682 / 0.714     0.631 / 0.694
==========================================================  ================  ================

So the default audience vector is the mean, over the videos the audience liked, of each video's content
vector (the mean of :data:`~generec_desktop.profiles.service.FRAMES_PER_ITEM` frames spread over it, the
recommender's cached frame features), minus the population mean (the mean content vector of every
video in the workspace); frames are scored by the cosine of their centred embedding with it. The
projected variant (the first :data:`PROJECTION_DIMS` principal components of the users' centred vectors,
re-learned from the workspace's interactions whenever the profiles are loaded) is selectable; it is not
the default because it lost on the independent set. Eq. 1 stays selectable as the paper's baseline.

Thin audiences (part 3): a user with at most :data:`THIN_LIKES` likes, or an example audience with at
most that many examples, is shrunk toward its segment (``(n·t + k·t_segment) / (n + k)``, ``k`` =
:data:`SHRINK_PRIOR`; an example audience's segment is the nearest one) and flagged ``thin``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from generec_desktop.profiles.audience_id import AudienceId
from generec_desktop.profiles.errors import ProfilesError

if TYPE_CHECKING:
    from generec_desktop.corpus import Workspace
    from generec_desktop.encoders.base import Encoder
    from generec_desktop.jobs import CancelToken
    from generec_desktop.profiles.service import ProfileSet

__all__ = ["PROJECTION_DIMS", "SELECTIONS", "SHRINK_PRIOR", "THIN_LIKES", "AudienceVectors", "SelectionSpace",
           "selection_vectors"]

#: selection methods: the default first
SELECTIONS = ("centred", "projected", "eq1")
PROJECTION_DIMS = 8
THIN_LIKES = 3
SHRINK_PRIOR = 3.0


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    out: np.ndarray = x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)
    return out


@dataclass(frozen=True)
class SelectionSpace:
    """``transform(x) = unit((x - mean) @ projection)``; the identity (Eq. 1) when ``mean`` is None."""

    method: str
    mean: np.ndarray | None = None
    projection: np.ndarray | None = None  # (d, k)

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Embeddings (…, d) -> unit vectors in the selection space."""
        y = np.asarray(x, np.float32)
        if self.mean is None:
            return y
        y = y - self.mean
        if self.projection is not None:
            y = y @ self.projection
        return _unit(y)


@dataclass(frozen=True)
class AudienceVectors:
    """Audience vectors in a selection space, with how much each rests on (``support``: likes or
    examples) and whether that is too little to trust (``thin``)."""

    space: SelectionSpace
    ids: tuple[str, ...]
    vectors: np.ndarray  # (A, d or k), unit rows, already in the space
    support: tuple[int, ...]
    thin: tuple[bool, ...]


def item_content(ws: Workspace, encoder: Encoder, *,
                 cancel: CancelToken | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(item ids (I,), content vectors (I, d))``: each video's mean frame embedding (its cover's for stills or
    unreadable media), from the recommender's cached frame features."""
    from generec_desktop.profiles.service import FRAMES_PER_ITEM
    from generec_desktop.profiles.store import frame_embeddings, thumbnail_embeddings

    items = ws.items()
    if not items:
        raise ProfilesError("This workspace has no items to learn from; import some videos first.")
    cov = thumbnail_embeddings(ws, encoder, items, cancel=cancel)
    ff, fi = frame_embeddings(ws, encoder, items, FRAMES_PER_ITEM, cancel=cancel)
    out = np.asarray(cov, np.float32).copy()
    if ff.shape[0]:
        sums = np.zeros_like(out)
        np.add.at(sums, fi, ff)
        counts = np.bincount(fi, minlength=len(items))
        has = counts > 0
        out[has] = sums[has] / counts[has, None]
    return np.array([it.id for it in items], np.int64), out


def selection_vectors(ws: Workspace, profiles: ProfileSet, audience_ids: Sequence[str], encoder: Encoder, *,
                      method: str = "centred", cancel: CancelToken | None = None) -> AudienceVectors:
    """The vectors of ``audience_ids`` ("segment:k", "user:id", "examples:id") in ``method``'s space.

    ``"eq1"``: the stored User_Hist vectors as they are (the paper). ``"centred"`` / ``"projected"``: see the
    module docstring; the space is learned from this workspace's items and interactions.
    """
    if method not in SELECTIONS:
        raise ProfilesError(f"Unknown selection {method!r}; use one of {', '.join(SELECTIONS)}.")
    ids = tuple(str(a) for a in audience_ids)
    likes = {int(u): int(n) for u, n in zip(profiles.user_ids, profiles.user_likes)}
    seg_size = {s.audience_id: s.size for s in profiles.segments}

    def support(a: str) -> int:
        aid = AudienceId.parse(a)
        if aid is not None and aid.kind == "user":
            return likes.get(aid.number, 0)
        if aid is not None and aid.kind == "segment":
            return int(seg_size.get(a, 0))
        ex = next((e for e in profiles.examples if e.audience.audience_id == a), None)
        return int(ex.used) if ex is not None else 0

    sup = tuple(support(a) for a in ids)
    thin = tuple(getattr(AudienceId.parse(a), "kind", "") in ("user", "examples") and s <= THIN_LIKES
                 for a, s in zip(ids, sup))
    if method == "eq1":
        vec = np.stack([profiles.vector(a) for a in ids]).astype(np.float32)
        return AudienceVectors(SelectionSpace("eq1"), ids, vec, sup, thin)

    item_ids, content = item_content(ws, encoder, cancel=cancel)
    mean = content.mean(axis=0)
    row = {int(i): k for k, i in enumerate(item_ids)}
    liked: dict[int, list[int]] = {}
    for it in ws.interactions():
        if it.weight > 0 and it.item_id in row:
            liked.setdefault(int(it.user_id), []).append(row[it.item_id])
    users = [int(u) for u in profiles.user_ids]
    U = np.stack([content[liked[u]].mean(axis=0) if liked.get(u) else mean for u in users]) if users \
        else np.zeros((0, content.shape[1]), np.float32)
    seg_of = {u: int(s) for u, s in zip(users, profiles.user_segment)}
    segs: dict[int, np.ndarray] = {}
    for s in profiles.segments:
        members = [k for k, u in enumerate(users) if seg_of.get(u) == s.index]
        segs[s.index] = U[members].mean(axis=0) if members else mean
    projection = None
    if method == "projected" and len(users) > 2:
        D = _unit(U - mean)
        D = D - D.mean(axis=0)
        _, _, vt = np.linalg.svd(D, full_matrices=False)
        projection = vt[: min(PROJECTION_DIMS, vt.shape[0])].T.astype(np.float32)
    space = SelectionSpace(method, mean.astype(np.float32), projection)

    def nearest_segment(v: np.ndarray) -> np.ndarray | None:
        if not segs:
            return None
        keys = list(segs)
        sims = [float(space.transform(segs[k]) @ space.transform(v)) for k in keys]
        return segs[keys[int(np.argmax(sims))]]

    raw = []
    for a, n, t in zip(ids, sup, thin):
        aid = AudienceId.parse(a)
        if aid is not None and aid.kind == "segment":
            v = segs.get(aid.number)
            if v is None:
                v = profiles.vector(a)
            raw.append(v)
            continue
        if aid is not None and aid.kind == "user":
            u = aid.number
            v = content[liked[u]].mean(axis=0) if liked.get(u) else profiles.vector(a)
            prior = segs.get(seg_of.get(u, -1))
        else:  # an example audience: its examples' own embeddings (items' thumbnails, pictures, covers)
            v = profiles.vector(a)
            prior = nearest_segment(v)
        if t and prior is not None:
            v = (n * v + SHRINK_PRIOR * prior) / (n + SHRINK_PRIOR)
        raw.append(v)
    return AudienceVectors(space, ids, space.transform(np.stack(raw)), sup, thin)
