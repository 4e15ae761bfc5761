"""Workspace-level jobs: build/load audience profiles, train/load the recommender."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from generec_desktop.jobs import CancelToken, GenerecError, Progress, Steps, check_cancel, report
from generec_desktop.profiles import store
from generec_desktop.profiles.algorithms import cluster_users, describe_segments, normalise_rows, user_hist
from generec_desktop.profiles.audience_id import AudienceId
from generec_desktop.profiles.errors import ModelNotFoundError, NoInteractionsError, ProfilesError
from generec_desktop.profiles.examples import ExampleProfile, example_profiles
from generec_desktop.profiles.recommender import InteractionArrays, Recommender, train_arrays

if TYPE_CHECKING:
    from generec_desktop.corpus import Workspace

#: frames per video (besides the cover) that train the recommender's visual pathway
FRAMES_PER_ITEM = 16


@dataclass(frozen=True)
class Audience:
    """A target audience for the editor: one user (``"user:42"``), one segment (``"segment:3"``) or an
    audience built from examples (``"examples:2"``, kind ``"examples"``).

    ``vector`` is User_Hist (Eq. 1) in the encoder's space, unit length; ``size`` is the number of
    users (1 for a user) or of examples; ``user_id`` is the corpus user id of a user audience.
    ``name`` is what a person calls it: "Segment 2" (numbered from 1; the id stays ``segment:1``), the
    name given to an example audience, a user's external id or name. ``item_ids`` are items it likes
    most (a segment's characteristic items, an example audience's example items).
    """

    id: str
    kind: str
    label: str
    size: int
    vector: np.ndarray
    user_id: int | None = None
    segment_index: int | None = None
    name: str = ""
    examples_id: int | None = None
    item_ids: tuple[int, ...] = ()

    @property
    def title(self) -> str:
        """The name and, for a segment, its description: "Segment 2: astronaut · camera"."""
        name = self.name or self.label or self.id
        if self.label and self.label != name:
            return f"{name}: {self.label}"
        return name


def segment_name(index: int) -> str:
    """What a person calls segment ``index``: numbering starts at 1 (``segment:0`` is "Segment 1")."""
    return f"Segment {int(index) + 1}"


def audience_title(audience_id: str | None, profiles: ProfileSet | None = None) -> str:
    """A person's name for an audience id, without failing: the profiles' title when they know it, else
    "Segment k+1" for ``segment:k``, "user N", "audience N" for ``examples:N``, "everyone" for none/"all"."""
    if not audience_id or audience_id == "all":
        return "everyone"
    if profiles is not None:
        try:
            return profiles.audience(audience_id).title
        except ProfilesError:
            pass
    aid = AudienceId.parse(audience_id)
    if aid is not None:
        if aid.kind == "segment":
            return segment_name(aid.number)
        return f"audience {aid.number}" if aid.kind == "examples" else f"user {aid.number}"
    return str(audience_id)


def describe_audience(ws: Workspace, audience_id: str | None) -> str:
    """A person's name for an audience id read cheaply from the workspace (no profiles loaded): "Segment 2"
    for ``segment:1``, an example audience's name, a user's name or external id; else
    :func:`audience_title`'s fallback. For titles of versions and jobs."""
    aid = AudienceId.parse(audience_id)
    if aid is not None:
        try:
            if aid.kind == "examples":
                from generec_desktop.profiles.examples import get_audience

                return get_audience(ws, aid.number).name
            if aid.kind == "user":
                for u in ws.users():
                    if u.id == aid.number:
                        return str(u.name or u.external_id)
        except GenerecError:
            pass
    return audience_title(audience_id)


@dataclass(frozen=True)
class Segment:
    """A cluster of users with a readable label (its most characteristic liked items)."""

    index: int
    label: str
    size: int
    vector: np.ndarray
    top_item_ids: tuple[int, ...] = ()

    @property
    def audience_id(self) -> str:
        return f"segment:{self.index}"

    @property
    def name(self) -> str:
        return segment_name(self.index)


@dataclass
class ProfileSet:
    """Profiles of every user with likes, in one encoder's space, the audience segments and the audiences
    built from examples (:mod:`.examples`). Any part may be empty: a workspace with only example
    audiences has no users and no segments.

    ``user_hist[k]`` is User_Hist of corpus user ``user_ids[k]``; ``user_segment[k]`` its segment.
    ``notes`` say what could not be used (e.g. examples that could not be embedded in this encoder).
    """

    encoder_id: str
    user_ids: np.ndarray
    user_labels: list[str]
    user_hist: np.ndarray
    user_likes: np.ndarray
    user_segment: np.ndarray
    segments: list[Segment]
    recomputed_users: int = 0
    reused_users: int = 0
    seconds: float = 0.0
    examples: list[ExampleProfile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _index: dict[int, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index = {int(u): k for k, u in enumerate(self.user_ids)}

    def _segment(self, s: Segment) -> Audience:
        return Audience(s.audience_id, "segment", s.label, s.size, s.vector, segment_index=s.index, name=s.name,
                        item_ids=tuple(s.top_item_ids))

    def _example(self, e: ExampleProfile) -> Audience:
        a = e.audience
        return Audience(a.audience_id, "examples", a.name, a.n_examples, e.vector, name=a.name, examples_id=a.id,
                        item_ids=a.item_ids)

    def _user(self, k: int) -> Audience:
        u = int(self.user_ids[k])
        seg = int(self.user_segment[k]) if k < len(self.user_segment) else -1
        return Audience(f"user:{u}", "user", self.user_labels[k], 1, self.user_hist[k], user_id=u,
                        segment_index=seg, name=self.user_labels[k])

    def audiences(self, *, users: bool = True, examples: bool = True) -> list[Audience]:
        """Segments first (they are what an uploader targets), then audiences from examples, then users."""
        out = [self._segment(s) for s in self.segments]
        if examples:
            out += [self._example(e) for e in self.examples]
        if users:
            out += [self._user(k) for k in range(len(self.user_ids))]
        return out

    def audience(self, audience_id: str) -> Audience:
        """One audience by id (``"user:<corpus user id>"``, ``"segment:<index>"``, ``"examples:<id>"``)."""
        aid = AudienceId.parse(audience_id)
        kind, n = (aid.kind, aid.number) if aid is not None else ("", -1)
        if kind == "segment":
            for s in self.segments:
                if s.index == n:
                    return self._segment(s)
        if kind == "examples":
            for e in self.examples:
                if e.audience.id == n:
                    return self._example(e)
        if kind == "user" and n in self._index:
            return self._user(self._index[n])
        raise ProfilesError(f"There is no audience {audience_id!r}; list them with `generec profiles list` or "
                            "`generec audiences list`.")

    def resolve(self, ref: str) -> Audience:
        """An audience by id or by what a person calls it (without case): "Segment 2", "segment 2",
        an example audience's name ("Cyclists"), a user's external id or name. Ids win, then segments,
        then example audiences, then users."""
        text = " ".join(str(ref).split())
        try:
            return self.audience(text)
        except ProfilesError:
            pass
        m = re.fullmatch(r"segment\s*(?:#|no\.?|number)?\s*(\d+)", text, re.IGNORECASE)
        if m is not None:
            index = int(m.group(1)) - 1
            for s in self.segments:
                if s.index == index:
                    return self._segment(s)
        folded = text.casefold()
        for s in self.segments:
            if s.label.casefold() == folded or s.name.casefold() == folded:
                return self._segment(s)
        for e in self.examples:
            if e.audience.name.casefold() == folded:
                return self._example(e)
        for k, label in enumerate(self.user_labels):
            if str(label).casefold() == folded:
                return self._user(k)
        names = [a.name for a in self.audiences(users=False)][:8]
        raise ProfilesError(f"There is no audience {ref!r}" + (f" (there are: {', '.join(names)})" if names else "")
                            + "; list them with `generec audiences list`.")

    def vector(self, audience_id: str) -> np.ndarray:
        """The audience's User_Hist vector (t* of Eq. 1)."""
        return self.audience(audience_id).vector


def _positive_interactions(ws: Workspace) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from sqlalchemy import select

    from generec_desktop.corpus.schema import Interaction

    with ws.session() as s:
        rows = s.execute(select(Interaction.user_id, Interaction.item_id, Interaction.weight)
                         .where(Interaction.weight > 0)).all()
    if not rows:
        raise NoInteractionsError(
            "This workspace has no positive interactions; import some with `generec profiles import`."
        )
    arr = np.asarray(rows, dtype=np.float64)
    return arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64), arr[:, 2].astype(np.float32)


def _segment_basis(hist: np.ndarray, u_rows: np.ndarray, i_rows: np.ndarray, n_items: int,
                   basis: str, seed: int) -> np.ndarray:
    """Vectors to cluster: User_Hist ("hist"), the users' liked-item profiles ("items"), or both.

    "items" is a low-rank (TruncatedSVD) view of the TF-IDF-weighted user×item matrix: the
    collaborative signal, which sees preferences the thumbnails alone do not show.
    """
    parts = []
    if basis in ("hist", "both"):
        parts.append(normalise_rows(hist))
    if basis in ("items", "both"):
        from scipy import sparse
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfTransformer

        m = sparse.csr_matrix((np.ones(u_rows.size, np.float32), (u_rows, i_rows)), shape=(hist.shape[0], n_items))
        m = TfidfTransformer().fit_transform(m)
        n_comp = max(1, min(32, n_items - 1, hist.shape[0] - 1))
        parts.append(normalise_rows(TruncatedSVD(n_components=n_comp, random_state=seed).fit_transform(m)))
    if not parts:
        raise ProfilesError(f"Unknown segment basis {basis!r}; use hist, items or both.")
    return np.concatenate(parts, axis=1) / np.sqrt(len(parts))


def workspace_encoder(ws: Workspace, encoder: str | None = None) -> str:
    """``encoder`` when given, else the encoder the workspace's audiences live in (that of its latest
    profiles, else the one its example audiences use), else ``"builtin"``."""
    if encoder:
        return encoder
    from generec_desktop.profiles.examples import workspace_encoder_id

    return workspace_encoder_id(ws) or "builtin"


def build_profiles(
    ws: Workspace,
    *,
    encoder: str | None = None,
    n_segments: int | None = None,
    basis: str = "items",
    seed: int = 0,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> ProfileSet:
    """Compute User_Hist for every user with likes, cluster users into segments, store all of it.

    Incremental: a user whose likes (items and weights) did not change since the last build with
    this encoder keeps its stored vector; segments are re-clustered on every build (seconds).
    ``n_segments=None`` picks the number by silhouette score. ``encoder=None``: the workspace's
    (:func:`workspace_encoder`), so a rebuild never silently changes the space the audiences live in.
    """
    from sqlalchemy import delete, insert, select

    start = time.perf_counter()
    steps = Steps(progress, {"load": 1, "thumbs": 6, "tags": 3, "hist": 1, "segments": 2, "store": 1})
    enc = store.get_encoder(workspace_encoder(ws, encoder), ws)
    users, items, weights = _positive_interactions(ws)
    report(steps["load"], 1.0, f"{users.size:,} likes")
    all_items = {it.id: it for it in ws.items()}
    liked_ids = np.unique(items)
    item_infos = [all_items[int(i)] for i in liked_ids]
    emb = store.thumbnail_embeddings(ws, enc, item_infos, progress=steps["thumbs"], cancel=cancel)
    check_cancel(cancel)
    from generec_desktop.profiles.tags import item_tags

    tags = item_tags(ws, item_infos, progress=steps["tags"], cancel=cancel)  # what each liked item shows

    user_ids, u_rows = np.unique(users, return_inverse=True)
    i_rows = np.searchsorted(liked_ids, items)
    order = np.lexsort((weights, i_rows, u_rows))
    bounds = np.searchsorted(u_rows[order], np.arange(user_ids.size + 1))
    prints = []
    for k in range(user_ids.size):
        sl = order[bounds[k]:bounds[k + 1]]
        prints.append(store.fingerprint(np.stack([liked_ids[i_rows[sl]], weights[sl]], axis=1)))

    with ws.session() as s:
        old = {r.user_id: r for r in s.execute(select(*profile_cols()).where(
            store.profile_users.c.encoder_id == enc.id))}
    hist = np.zeros((user_ids.size, enc.dim), np.float32)
    changed = np.array([not (int(u) in old and old[int(u)].fingerprint == prints[k] and old[int(u)].dim == enc.dim)
                        for k, u in enumerate(user_ids)], dtype=bool)
    for k in np.flatnonzero(~changed):
        hist[k] = store.from_blob(old[int(user_ids[k])].vector, enc.dim)
    if changed.any():
        sel = changed[u_rows]
        remap = np.full(user_ids.size, -1)
        remap[changed] = np.arange(int(changed.sum()))
        hist[changed] = user_hist(remap[u_rows[sel]], i_rows[sel], emb, int(changed.sum()), weights[sel])
    report(steps["hist"], 1.0, f"User_Hist: {int(changed.sum())} users recomputed")
    check_cancel(cancel)

    basis_vecs = _segment_basis(hist, u_rows, i_rows, liked_ids.size, basis, seed)
    assign = cluster_users(basis_vecs, k=n_segments, seed=seed)
    names = [(all_items[int(i)].title or all_items[int(i)].external_id or f"item {int(i)}") for i in liked_ids]
    summaries = describe_segments(assign, u_rows, i_rows, names, item_tags=tags)
    segments = []
    for sm in summaries:
        members = assign[u_rows] == sm.index
        vec = user_hist(np.zeros(int(members.sum()), np.int64), i_rows[members], emb, 1, weights[members])[0]
        segments.append(Segment(sm.index, sm.label, sm.size, vec, tuple(int(liked_ids[i]) for i in sm.top_items)))
    report(steps["segments"], 1.0, f"{len(segments)} segments")
    check_cancel(cancel)

    user_names = {u.id: (u.name or u.external_id) for u in ws.users()}
    n_likes = np.bincount(u_rows, minlength=user_ids.size)
    now = datetime.now(UTC).replace(tzinfo=None)
    with ws.session() as s:
        s.execute(delete(store.profile_users).where(store.profile_users.c.encoder_id == enc.id))
        s.execute(delete(store.profile_segments).where(store.profile_segments.c.encoder_id == enc.id))
        rows = [{"encoder_id": enc.id, "user_id": int(u), "fingerprint": prints[k], "n_likes": int(n_likes[k]),
                 "dim": enc.dim, "vector": store.to_blob(hist[k]), "segment_index": int(assign[k]),
                 "updated_at": now if changed[k] else old[int(u)].updated_at}
                for k, u in enumerate(user_ids)]
        for i in range(0, len(rows), 5000):
            s.execute(insert(store.profile_users), rows[i:i + 5000])
        if segments:
            s.execute(insert(store.profile_segments), [
                {"encoder_id": enc.id, "segment_index": sg.index, "label": sg.label[:512], "size": sg.size,
                 "dim": enc.dim, "vector": store.to_blob(sg.vector), "top_items_json": list(sg.top_item_ids),
                 "built_at": now} for sg in segments])
    report(steps["store"], 0.5, "Profiles stored")
    ex_profiles, notes = example_profiles(ws, enc.id, cancel=cancel)  # audiences from examples, in this encoder
    report(steps["store"], 1.0, "Profiles stored")
    return ProfileSet(
        encoder_id=enc.id, user_ids=user_ids, user_labels=[str(user_names.get(int(u), u)) for u in user_ids],
        user_hist=hist, user_likes=n_likes, user_segment=assign, segments=segments,
        recomputed_users=int(changed.sum()), reused_users=int((~changed).sum()),
        seconds=round(time.perf_counter() - start, 3), examples=ex_profiles, notes=notes,
    )


def profile_cols() -> Any:
    """The columns of ``profile_users`` needed to reuse a stored vector."""
    c = store.profile_users.c
    return (c.user_id, c.fingerprint, c.dim, c.vector, c.updated_at)


#: What to do when a workspace has no audience at all (both ways to get one).
NO_AUDIENCES = ("This workspace has no audiences yet: make one from example images, videos or library items with "
                "`generec audiences add W --name NAME --examples PATH_OR_ITEM...`, or import interactions and run "
                "`generec profiles build`.")


def load_profiles(ws: Workspace, *, encoder_id: str | None = None) -> ProfileSet:
    """The stored profiles and the audiences from examples, in one encoder's space.

    ``encoder_id`` None: the encoder of the most recently built profiles, else the one the example
    audiences were embedded with (:func:`~generec_desktop.profiles.examples.workspace_encoder_id`).
    Works with no interactions and no built profiles when example audiences exist (then there are no
    users or segments); :class:`ModelNotFoundError` when there is no audience of either kind.
    Examples with no vector in the encoder are embedded now when reachable; ``notes`` name the others.
    """
    from sqlalchemy import select

    from generec_desktop.profiles.examples import workspace_encoder_id

    pu, ps = store.profile_users, store.profile_segments
    if encoder_id is None:
        encoder_id = workspace_encoder_id(ws)
    if encoder_id is None:
        raise ModelNotFoundError(NO_AUDIENCES)
    with ws.session() as s:
        urows = s.execute(select(pu).where(pu.c.encoder_id == encoder_id).order_by(pu.c.user_id)).all()
        srows = s.execute(select(ps).where(ps.c.encoder_id == encoder_id).order_by(ps.c.segment_index)).all()
    ex_profiles, notes = example_profiles(ws, encoder_id)
    if not urows and not ex_profiles:
        raise ModelNotFoundError(f"No profiles were built with encoder {encoder_id} and no audience from examples "
                                 "has a vector in it; run `generec profiles build`, or make an audience with "
                                 "`generec audiences add W --name NAME --examples PATH_OR_ITEM...`."
                                 + (f" ({notes[0]})" if notes else ""))
    names = {u.id: (u.name or u.external_id) for u in ws.users()} if urows else {}
    segments = [Segment(r.segment_index, r.label, r.size, store.from_blob(r.vector, r.dim),
                        tuple(r.top_items_json or ())) for r in srows]
    dim = int(urows[0].dim) if urows else int(ex_profiles[0].vector.shape[0])
    return ProfileSet(
        encoder_id=encoder_id,
        user_ids=np.array([r.user_id for r in urows], np.int64),
        user_labels=[str(names.get(r.user_id, r.user_id)) for r in urows],
        user_hist=(np.stack([store.from_blob(r.vector, r.dim) for r in urows]) if urows
                   else np.zeros((0, dim), np.float32)),
        user_likes=np.array([r.n_likes for r in urows], np.int64),
        user_segment=np.array([-1 if r.segment_index is None else r.segment_index for r in urows], np.int64),
        segments=segments,
        examples=ex_profiles,
        notes=notes,
    )


def workspace_arrays(ws: Workspace, *, encoder: str = "builtin", frames_per_item: int = FRAMES_PER_ITEM,
                     progress: Progress | None = None,
                     cancel: CancelToken | None = None) -> tuple[InteractionArrays, str]:
    """Every user and item of the workspace as index arrays with thumbnail features; plus a fingerprint.

    With ``frames_per_item > 0`` the arrays also carry features of that many frames sampled evenly
    across each video (:func:`store.frame_embeddings`, cached), the recommender's augmentation.
    """
    users, items, weights = _positive_interactions(ws)
    enc = store.get_encoder(encoder, ws)
    all_users = np.array([u.id for u in ws.users()], np.int64)
    item_infos = ws.items()
    all_items = np.array([it.id for it in item_infos], np.int64)
    steps = Steps(progress, {"thumbs": 1, "frames": 3 if frames_per_item > 0 else 0.01})
    feats = store.thumbnail_embeddings(ws, enc, item_infos, progress=steps["thumbs"], cancel=cancel)
    frame_feats = frame_item = None
    if frames_per_item > 0:
        frame_feats, frame_item = store.frame_embeddings(ws, enc, item_infos, frames_per_item,
                                                         progress=steps["frames"], cancel=cancel)
    keys = np.stack([users, items, weights], 1).astype(np.float64)
    fp = store.fingerprint(keys[np.lexsort(keys.T[::-1])])
    arrays = InteractionArrays(np.searchsorted(all_users, users), np.searchsorted(all_items, items),
                               all_users.size, all_items.size, item_features=feats, weight=weights,
                               user_ids=all_users, item_ids=all_items, encoder_id=enc.id,
                               frame_features=frame_feats, frame_item=frame_item)
    return arrays, fp


def train_recommender(
    data: Workspace | InteractionArrays,
    *,
    encoder: str | None = None,
    dim: int = 64,
    epochs: int = 20,
    seed: int = 0,
    frames_per_item: int = FRAMES_PER_ITEM,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    **kwargs: Any,
) -> Recommender:
    """Train the recommender on a workspace (saved to ``W/models/`` and recorded) or on arrays.

    On a workspace, ``frames_per_item`` frames of every video (0: covers only) train the visual
    pathway besides the covers. ``kwargs`` go to :func:`~generec_desktop.profiles.recommender.train_arrays`
    (batch_size, lr, reg, frame_prob, id_dropout). ``encoder=None``: the workspace's (:func:`workspace_encoder`).
    """
    from sqlalchemy import insert

    if isinstance(data, InteractionArrays):
        return train_arrays(data, dim=dim, epochs=epochs, seed=seed, progress=progress, cancel=cancel, **kwargs)
    ws = data
    steps = Steps(progress, {"features": 2, "train": 4, "save": 0.2})
    arrays, fp = workspace_arrays(ws, encoder=workspace_encoder(ws, encoder), frames_per_item=frames_per_item,
                                  progress=steps["features"],
                                  cancel=cancel)
    model = train_arrays(arrays, dim=dim, epochs=epochs, seed=seed, progress=steps["train"], cancel=cancel, **kwargs)
    check_cancel(cancel)
    name = f"recommender-{store.slug(model.encoder_id)}"
    json_path = model.save(ws.models_dir, name)
    with ws.session() as s:
        s.execute(insert(store.recommender_runs).values(
            created_at=datetime.now(UTC).replace(tzinfo=None), encoder_id=model.encoder_id,
            path=json_path.relative_to(ws.root).as_posix(), fingerprint=fp, n_users=arrays.n_users,
            n_items=arrays.n_items, n_interactions=int(model.metrics["n_interactions"]),
            params_json={**model.params, "frames_per_item": frames_per_item},
            metrics_json={k: v for k, v in model.metrics.items() if k != "loss_history"}))
    report(steps["save"], 1.0, f"Saved {json_path.name}")
    return model


def load_recommender(ws: Workspace, *, encoder_id: str | None = None) -> Recommender:
    """The most recently trained recommender of this workspace (for ``encoder_id`` if given)."""
    from sqlalchemy import select

    rr = store.recommender_runs
    stmt = select(rr.c.path).order_by(rr.c.id.desc()).limit(1)
    if encoder_id is not None:
        stmt = stmt.where(rr.c.encoder_id == encoder_id)
    with ws.session() as s:
        rel = s.execute(stmt).scalar()
    if rel is None:
        raise ModelNotFoundError("No recommender was trained on this workspace; run `generec train recommender`.")
    from generec_desktop.corpus.recovery import contained

    return Recommender.load(contained(ws.root, str(rel), what="recommender checkpoint", allowed=("models",)))
