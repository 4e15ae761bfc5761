"""Per-audience rank preview of a new item among the corpus's human items (paper Fig. 2).

The paper contrasts two ways a generated item reaches users: *recommended directly* to the audience it
was made for, or *ranked* by the recommender among human-made items. The preview shows, for each
audience (segments, and the target audience), where the recommender would rank the new item.

Scores: the trained recommender's ``s(u, i, f)``. A new item has no ID embedding, so an ``ai_edited``
version is scored as its parent with the version's thumbnail features (how PS@K scores a new
thumbnail), and an ``ai_created`` item by the visual part alone. Without a trained recommender the
audience's User_Hist vector (Eq. 1) is compared with thumbnail embeddings (cosine) instead; so are
audiences built from examples always (they are no users of the recommender, only a User_Hist vector).

Artwork: where the item has artwork stored for an audience (``fidelity.artwork``), that audience sees
that image, so its thumbnail features are the artwork's (``RankPreview.artwork`` True); the others see the
item's cover.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from generec_desktop.corpus import ItemInfo, Workspace

__all__ = ["RankPreview", "rank_preview"]


@dataclass(frozen=True)
class RankPreview:
    """Where the new item ranks for one audience: 1 = first, among ``of`` items (the human ones + it)."""

    audience: str
    label: str
    rank: int
    of: int
    score: float
    targeted: bool  # the audience the version was made for (it would be recommended directly)
    method: str  # "recommender" or "profile-cosine"
    artwork: bool = False  # scored with the audience's stored artwork instead of the item's cover

    @property
    def percentile(self) -> float:
        """Share of human items ranked below the new item (1.0 = above all)."""
        return 1.0 - (self.rank - 1) / max(1, self.of - 1)


def _artwork_features(ws: Workspace, enc: object, item: ItemInfo) -> dict[str, np.ndarray]:
    """The encoder's features of each artwork stored for ``item``, by audience id (unreadable ones left out)."""
    import cv2

    from generec_desktop.fidelity.artwork import ArtworkError, list_artwork, read_image
    from generec_desktop.jobs import GenerecError

    out: dict[str, np.ndarray] = {}
    for row in list_artwork(ws, item.id):
        try:
            img = read_image(ws, row)
        except (ArtworkError, GenerecError):
            continue
        h, w = img.shape[:2]
        if max(h, w) > 448:  # the size the library's thumbnails are embedded at
            s = 448 / max(h, w)
            img = cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
        out[row.audience_id] = np.asarray(enc.encode_images([img])[0], np.float32)  # type: ignore[attr-defined]
    return out


def _rank(new: np.ndarray, humans: np.ndarray) -> tuple[int, float]:
    """Rank (1-based) of ``new`` (scalar per user, averaged) among per-user averaged human scores."""
    s_new = float(np.mean(new))
    s_h = humans.mean(axis=0) if humans.ndim == 2 else humans
    return 1 + int(np.sum(s_h > s_new)), s_new


def rank_preview(ws: Workspace, item: ItemInfo, *, max_audiences: int = 12) -> list[RankPreview]:
    """Rank previews of ``item`` for the target audience, the audience segments and the audiences built
    from examples; [] without profiles. Labels are what a person reads ("Segment 2: …", "Cyclists")."""
    from generec_desktop.profiles import ModelNotFoundError, ProfilesError, load_profiles, load_recommender
    from generec_desktop.profiles.audience_id import AudienceId
    from generec_desktop.profiles.store import get_encoder, thumbnail_embeddings

    humans = [it for it in ws.items("human")]
    if not humans:
        return []
    try:
        rec = load_recommender(ws)
    except (ModelNotFoundError, ProfilesError, OSError):
        rec = None
    try:
        profiles = load_profiles(ws, encoder_id=rec.encoder_id if rec is not None else None)
    except (ProfilesError, OSError):
        profiles = None
    if rec is None and profiles is None:
        return []
    enc = get_encoder(rec.encoder_id if rec is not None else profiles.encoder_id, ws)  # type: ignore[union-attr]
    feat = thumbnail_embeddings(ws, enc, [item])[0]
    art = _artwork_features(ws, enc, item)
    audiences: list[tuple[str, str, np.ndarray]] = []  # (id, label, corpus user ids)
    by_examples: list[tuple[str, str, np.ndarray]] = []  # (id, label, User_Hist): always profile-cosine
    if profiles is not None:
        for seg in profiles.segments[:max_audiences]:
            users = profiles.user_ids[profiles.user_segment == seg.index]
            audiences.append((seg.audience_id, profiles.audience(seg.audience_id).title, users))
        for aud in profiles.audiences(users=False):
            if aud.kind == "examples" and len(by_examples) < max_audiences:
                by_examples.append((aud.id, aud.title, aud.vector))
        target = AudienceId.parse(item.target_profile)
        if target is not None and target.kind == "user":
            uid = target.number
            try:
                label = profiles.audience(item.target_profile).title
            except ProfilesError:
                label = f"user {uid}"
            audiences.append((item.target_profile, label, np.array([uid])))
        if item.target_profile and target is not None and target.kind == "examples" and not any(
                a == item.target_profile for a, _, _ in by_examples):
            try:
                aud = profiles.audience(item.target_profile)
                by_examples.append((aud.id, aud.title, aud.vector))
            except ProfilesError:
                pass
    elif rec is not None:
        audiences.append(("all", "all users", rec.user_ids))
    out: list[RankPreview] = []
    h_feat: np.ndarray | None = None
    if by_examples:
        h_feat = thumbnail_embeddings(ws, enc, humans)
        for aid, label, v in by_examples:
            rank, s = _rank(np.array([float(art.get(aid, feat) @ v)]), h_feat @ v)
            out.append(RankPreview(aid, label, rank, len(humans) + 1, s, aid == item.target_profile,
                                   "profile-cosine", aid in art))
    if rec is not None:
        known = set(rec.item_ids.tolist())
        h_idx = np.array([rec.item_index(it.id) for it in humans if it.id in known], np.int64)
        if h_idx.size == 0:
            return _ordered(out, by_examples)
        parent_idx = rec.item_index(item.parent_id) if item.parent_id in known else None
        for aid, label, users in audiences:
            f = art.get(aid, feat)
            vis = f @ rec.projection + rec.projection_bias if rec.feature_dim else np.zeros(rec.dim, np.float32)
            rows = np.array([rec.user_index(int(u)) for u in users if int(u) in set(rec.user_ids.tolist())], np.int64)
            if rows.size == 0:
                continue
            hs = np.stack([rec.score_all_items(int(r))[h_idx] for r in rows])
            if parent_idx is not None:
                new = np.asarray(rec.score(rows, np.full(rows.shape, parent_idx),
                                           np.broadcast_to(f, (rows.size, f.size))))
            else:
                new = rec.user_embeddings[rows] @ vis
            rank, s = _rank(new, hs)
            out.append(RankPreview(aid, label, rank, int(h_idx.size) + 1, s, aid == item.target_profile,
                                   "recommender", aid in art))
        return _ordered(out, by_examples)
    if h_feat is None:
        h_feat = thumbnail_embeddings(ws, enc, humans)
    for aid, label, _users in audiences:
        parsed = AudienceId.parse(aid)
        v = profiles.vector(aid) if parsed is not None and parsed.kind in ("segment", "user") else None  # type: ignore[union-attr]
        if v is None:
            continue
        rank, s = _rank(np.array([float(art.get(aid, feat) @ v)]), h_feat @ v)
        out.append(RankPreview(aid, label, rank, len(humans) + 1, s, aid == item.target_profile, "profile-cosine",
                               aid in art))
    return _ordered(out, by_examples)


def _ordered(out: list[RankPreview], by_examples: list[tuple[str, str, np.ndarray]]) -> list[RankPreview]:
    """Segments (and a target user) first, then the audiences from examples, as the audience panel lists them."""
    ex_ids = {a for a, _, _ in by_examples}
    return [r for r in out if r.audience not in ex_ids] + [r for r in out if r.audience in ex_ids]
