"""A recommender in the spirit of MMGCN, trained with BPR on CPU (paper §5, §5.1.1 PS@K).

Model (all linear, so a new thumbnail's features can be scored without retraining):

* item representation   ``h_i(f) = e_i + P f + c``   (item ID embedding + projected visual features)
* user representation   ``u = e_u + mean_{j in N(u)} h_j(f_j)``   (User_Emb: ID embedding plus one
  graph-convolution hop over the user-item graph, the neighbour aggregation MMGCN does per modality)
* prediction score      ``s(u, i, f) = u · h_i(f) + b_i``

``f`` may be any picture of the item, not only its cover: PS@K (paper §5.1.1) scores other frames
and generated thumbnails with the same model, so training also shows it frames sampled across each
video (``InteractionArrays.frame_features``): a pair uses a random frame instead of the cover with
probability ``frame_prob``. ``id_dropout`` drops the item ID embedding from a share of the training
pairs, so the visual term ``u · P f`` alone must rank a user's likes above random items and carries
weight at scoring time (otherwise ``e_i`` memorises each item and ``P f`` barely moves the score).
Measured on the 40-video demo: ID dropout is what makes PS@5 rank Personalized above Random Frame
and Original; frames alone barely move it, but they are what teaches ``P`` about frames whose content
the covers never show (tests/profiles: covers without the signal, frames with it).

``s`` is linear in ``f``, so PS@K with a replaced thumbnail is a dot product; the reference MMGCN keeps
separate towers per modality and several hops, which buys little with one (visual) modality and would
make scoring a new thumbnail depend on re-propagating the graph.

Training: BPR loss, uniform negatives sampled in one vectorised draw per batch (collisions with a
user's positives resampled once), large batches, Adam; the whole item table is recomputed per step
(``n_items x F x dim`` flops, cheap at the paper's 4,570 items).
"""

from __future__ import annotations

import json
import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from generec_desktop.jobs import CancelToken, Progress, check_cancel, report
from generec_desktop.profiles.errors import ModelNotFoundError, NoInteractionsError, ProfilesError

FORMAT = "generec-recommender"
FORMAT_VERSION = 1


@dataclass
class InteractionArrays:
    """Interactions as index arrays: the input of :func:`train_arrays` (and of tests and benchmarks).

    ``user_idx[k], item_idx[k]`` is one positive interaction (weight > 0); ``item_features`` holds one
    row of visual (thumbnail) features per item, or is ``None`` for an ID-only model. ``user_ids`` and
    ``item_ids`` map indices back to corpus ids (default: the indices themselves).
    ``frame_features`` (optional, ``(n_frames, F)``) are features of other frames of the items, for
    augmentation; ``frame_item[k]`` is the item index of frame row ``k``.
    """

    user_idx: np.ndarray
    item_idx: np.ndarray
    n_users: int
    n_items: int
    item_features: np.ndarray | None = None
    weight: np.ndarray | None = None
    user_ids: np.ndarray | None = None
    item_ids: np.ndarray | None = None
    encoder_id: str = ""
    frame_features: np.ndarray | None = None
    frame_item: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.user_idx = np.asarray(self.user_idx, dtype=np.int64)
        self.item_idx = np.asarray(self.item_idx, dtype=np.int64)
        if self.user_idx.shape != self.item_idx.shape or self.user_idx.ndim != 1:
            raise ProfilesError("user_idx and item_idx must be 1-D arrays of the same length.")
        if self.user_idx.size and (self.user_idx.min() < 0 or self.user_idx.max() >= self.n_users):
            raise ProfilesError("A user index is outside 0..n_users-1; check the interaction arrays.")
        if self.item_idx.size and (self.item_idx.min() < 0 or self.item_idx.max() >= self.n_items):
            raise ProfilesError("An item index is outside 0..n_items-1; check the interaction arrays.")
        if self.item_features is not None:
            self.item_features = np.asarray(self.item_features, dtype=np.float32)
            if self.item_features.shape[0] != self.n_items or self.item_features.ndim != 2:
                raise ProfilesError("item_features must have one row per item (shape n_items x F).")
        if (self.frame_features is None) != (self.frame_item is None):
            raise ProfilesError("frame_features and frame_item must be given together.")
        if self.frame_features is not None:
            self.frame_features = np.asarray(self.frame_features, dtype=np.float32)
            self.frame_item = np.asarray(self.frame_item, dtype=np.int64)
            if self.item_features is None or self.frame_features.ndim != 2 \
                    or self.frame_features.shape[1] != self.item_features.shape[1]:
                raise ProfilesError("frame_features must have the item features' width (shape n_frames x F).")
            if self.frame_item.shape != (self.frame_features.shape[0],):
                raise ProfilesError("frame_item must give one item index per frame_features row.")
            if self.frame_item.size and (self.frame_item.min() < 0 or self.frame_item.max() >= self.n_items):
                raise ProfilesError("A frame's item index is outside 0..n_items-1; check frame_item.")
        if self.user_ids is None:
            self.user_ids = np.arange(self.n_users, dtype=np.int64)
        if self.item_ids is None:
            self.item_ids = np.arange(self.n_items, dtype=np.int64)


@dataclass
class Recommender:
    """A trained model: User_Emb for every user and a vectorised prediction score.

    Arrays are float32 numpy; ``user_ids[k]``/``item_ids[k]`` are the corpus ids of row ``k``.
    """

    user_embeddings: np.ndarray          # (n_users, dim) User_Emb (ID + graph hop), the MCVD condition
    item_id_embeddings: np.ndarray       # (n_items, dim)
    item_bias: np.ndarray                # (n_items,)
    projection: np.ndarray               # (F, dim), zeros-size (0, dim) for an ID-only model
    projection_bias: np.ndarray          # (dim,)
    item_features: np.ndarray            # (n_items, F) the features the model was trained with
    user_ids: np.ndarray
    item_ids: np.ndarray
    encoder_id: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def dim(self) -> int:
        return int(self.user_embeddings.shape[1])

    @property
    def feature_dim(self) -> int:
        return int(self.projection.shape[0])

    def user_index(self, user_id: int) -> int:
        """Row of corpus user ``user_id``; raises :class:`ProfilesError` if the model has not seen it."""
        hits = np.flatnonzero(self.user_ids == user_id)
        if hits.size == 0:
            raise ProfilesError(f"User {user_id} is not in the trained recommender; retrain it.")
        return int(hits[0])

    def item_index(self, item_id: int) -> int:
        """Row of corpus item ``item_id``; raises :class:`ProfilesError` if the model has not seen it."""
        hits = np.flatnonzero(self.item_ids == item_id)
        if hits.size == 0:
            raise ProfilesError(
                f"Item {item_id} is not in the trained recommender (new items have no ID embedding); retrain it."
            )
        return int(hits[0])

    def item_vectors(self, item_idx: np.ndarray | int, thumb_features: np.ndarray | None = None) -> np.ndarray:
        """``h_i(f)`` for items (with their own features when ``thumb_features`` is None)."""
        idx = np.asarray(item_idx, dtype=np.int64)
        feats = self.item_features[idx] if thumb_features is None else np.asarray(thumb_features, np.float32)
        if self.feature_dim and feats.shape[-1] != self.feature_dim:
            raise ProfilesError(
                f"Thumbnail features have {feats.shape[-1]} values but the model expects {self.feature_dim}; "
                f"use the encoder it was trained with ({self.encoder_id or 'unknown'})."
            )
        vis = feats @ self.projection + self.projection_bias if self.feature_dim else 0.0
        return self.item_id_embeddings[idx] + vis

    def score(
        self,
        user_idx: np.ndarray | int,
        item_idx: np.ndarray | int,
        thumb_features: np.ndarray | None = None,
    ) -> float | np.ndarray:
        """Prediction score ``s(u, i, f)``; inputs broadcast like numpy (PS@K averages these).

        ``thumb_features`` (``(..., F)``) replaces the items' stored visual features, e.g. with a
        candidate thumbnail's embedding; a scalar comes back for scalar inputs.
        """
        u = np.asarray(user_idx, dtype=np.int64)
        i = np.asarray(item_idx, dtype=np.int64)
        h = self.item_vectors(i, thumb_features)
        out = np.sum(self.user_embeddings[u] * h, axis=-1) + self.item_bias[i]
        return float(out) if np.ndim(out) == 0 else out.astype(np.float32)

    def score_all_items(self, user_idx: int) -> np.ndarray:
        """Scores of one user against every item with their stored features, shape (n_items,)."""
        h = self.item_vectors(np.arange(len(self.item_ids)))
        return (h @ self.user_embeddings[int(user_idx)] + self.item_bias).astype(np.float32)

    # -- persistence: safetensors (arrays) + json (metadata), both written atomically ------------------

    def save(self, directory: Path | str, name: str = "recommender") -> Path:
        """Write ``<name>.safetensors`` and ``<name>.json`` into ``directory``; returns the json path."""
        from safetensors.numpy import save_file

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        arrays = {
            "user_embeddings": self.user_embeddings,
            "item_id_embeddings": self.item_id_embeddings,
            "item_bias": self.item_bias,
            "projection": self.projection,
            "projection_bias": self.projection_bias,
            "item_features": self.item_features,
            "user_ids": self.user_ids.astype(np.int64),
            "item_ids": self.item_ids.astype(np.int64),
        }
        arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
        st_path = directory / f"{name}.safetensors"
        js_path = directory / f"{name}.json"
        tmp_st = st_path.with_name(st_path.name + ".tmp")
        tmp_js = js_path.with_name(js_path.name + ".tmp")
        save_file(arrays, str(tmp_st), metadata={"format": FORMAT, "version": str(FORMAT_VERSION)})
        meta = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "weights": st_path.name,
            "encoder_id": self.encoder_id,
            "dim": self.dim,
            "feature_dim": self.feature_dim,
            "n_users": len(self.user_ids),
            "n_items": len(self.item_ids),
            "params": self.params,
            "metrics": self.metrics,
        }
        tmp_js.write_text(json.dumps(meta, indent=2))
        tmp_st.replace(st_path)
        tmp_js.replace(js_path)
        return js_path

    @classmethod
    def load(cls, path: Path | str) -> Recommender:
        """Load from the ``.json`` written by :meth:`save` (or its directory, name ``recommender``)."""
        from safetensors.numpy import load_file

        path = Path(path)
        if path.is_dir():
            path = path / "recommender.json"
        if not path.exists():
            raise ModelNotFoundError(f"No trained recommender at {path}; run `generec train recommender` first.")
        try:
            meta = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ProfilesError(f"The recommender file {path} is unreadable ({exc}); retrain it.") from exc
        if meta.get("format") != FORMAT or int(meta.get("version", 0)) > FORMAT_VERSION:
            raise ProfilesError(f"{path} is not a recommender this version can read; retrain it.")
        arrays = load_file(str(path.with_name(meta["weights"])))
        return cls(
            user_embeddings=arrays["user_embeddings"],
            item_id_embeddings=arrays["item_id_embeddings"],
            item_bias=arrays["item_bias"],
            projection=arrays["projection"],
            projection_bias=arrays["projection_bias"],
            item_features=arrays["item_features"],
            user_ids=arrays["user_ids"],
            item_ids=arrays["item_ids"],
            encoder_id=meta.get("encoder_id", ""),
            params=meta.get("params", {}),
            metrics=meta.get("metrics", {}),
        )


def _positive_keys(data: InteractionArrays) -> np.ndarray:
    return np.unique(data.user_idx * data.n_items + data.item_idx)


def _sample_negatives(
    rng: np.random.Generator, users: np.ndarray, n_items: int, pos_keys: np.ndarray
) -> np.ndarray:
    """Uniform negative items; draws that hit a positive of the user are redrawn (twice at most)."""
    neg = rng.integers(0, n_items, size=users.shape[0])
    for _ in range(2):
        keys = users * n_items + neg
        pos = np.searchsorted(pos_keys, keys)
        pos[pos >= pos_keys.size] = 0
        clash = pos_keys[pos] == keys if pos_keys.size else np.zeros_like(keys, dtype=bool)
        if not clash.any():
            break
        neg[clash] = rng.integers(0, n_items, size=int(clash.sum()))
    return neg


def _csr_tensor(m: Any) -> Any:
    """A scipy CSR matrix as a torch sparse CSR tensor (float32)."""
    import torch

    with warnings.catch_warnings():  # "sparse CSR is beta": sparse.mm on CSR is what we need, and it works
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(
            torch.from_numpy(m.indptr.astype(np.int64)), torch.from_numpy(m.indices.astype(np.int64)),
            torch.from_numpy(m.data.astype(np.float32)), size=m.shape, check_invariants=False,
        )


def _sparse_mm_function() -> Any:
    import torch

    class SparseMM(torch.autograd.Function):
        """``adj @ h`` whose backward uses a precomputed ``adj.T`` (no per-step transpose)."""

        @staticmethod
        def forward(ctx: Any, adj: Any, adj_t: Any, h: Any) -> Any:
            ctx.adj_t = adj_t
            return torch.sparse.mm(adj, h)

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            return None, None, torch.sparse.mm(ctx.adj_t, grad)

    return SparseMM


def train_arrays(
    data: InteractionArrays,
    *,
    dim: int = 64,
    epochs: int = 20,
    batch_size: int = 8192,
    lr: float = 0.02,
    reg: float = 1e-2,
    frame_prob: float = 0.25,
    id_dropout: float = 0.5,
    seed: int = 0,
    threads: int | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> Recommender:
    """Train the model on index arrays with BPR; checks ``cancel`` every batch.

    Duplicate (user, item) pairs count once; pairs are visited once per epoch in a random order.
    ``threads`` sets torch's intra-op threads for this call (1 is much faster on a busy machine:
    measured 4.6 s vs 35 s at the paper's size with the 2 cores shared).
    ``frame_prob``: chance that a pair's item (positive or negative) is shown by a random one of its
    ``data.frame_features`` instead of its cover (no effect without frames). ``id_dropout``: chance that
    a pair is scored without the item ID embeddings (visual term, user and bias only).
    """
    import torch

    if threads is not None:
        previous = torch.get_num_threads()
        torch.set_num_threads(max(1, int(threads)))
        try:
            return train_arrays(data, dim=dim, epochs=epochs, batch_size=batch_size, lr=lr, reg=reg,
                                frame_prob=frame_prob, id_dropout=id_dropout, seed=seed,
                                progress=progress, cancel=cancel)
        finally:
            torch.set_num_threads(previous)

    _SparseMM = _sparse_mm_function()
    if data.user_idx.size == 0:
        raise NoInteractionsError("There are no positive interactions to train on; import interactions first.")
    if data.n_items < 2:
        raise NoInteractionsError("Training needs at least two items in the corpus; import more videos.")
    if not (0.0 <= frame_prob <= 1.0 and 0.0 <= id_dropout < 1.0):
        raise ProfilesError("frame_prob must be in [0, 1] and id_dropout in [0, 1).")
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    pos_keys = _positive_keys(data)
    users = (pos_keys // data.n_items).astype(np.int64)
    items = (pos_keys % data.n_items).astype(np.int64)
    n_pairs = users.size

    feats_np = data.item_features if data.item_features is not None else np.zeros((data.n_items, 0), np.float32)
    feat_dim = feats_np.shape[1]
    feats = torch.from_numpy(np.ascontiguousarray(feats_np))
    # Feature table for the batches: rows 0..n_items-1 are the covers, then every extra frame.
    # frame_start/frame_count locate an item's frames (sorted by item) inside that table.
    frame_count = np.zeros(data.n_items, np.int64)
    frame_start = np.zeros(data.n_items, np.int64)
    table = feats
    use_frames = bool(data.frame_features is not None and data.frame_features.shape[0] and frame_prob > 0 and feat_dim)
    drop = id_dropout if feat_dim else 0.0  # an ID-only model has nothing else to score with
    if use_frames:
        assert data.frame_item is not None and data.frame_features is not None
        by_item = np.argsort(data.frame_item, kind="stable")
        frame_count = np.bincount(data.frame_item, minlength=data.n_items).astype(np.int64)
        frame_start = data.n_items + np.concatenate([[0], np.cumsum(frame_count)[:-1]])
        table = torch.cat([feats, torch.from_numpy(np.ascontiguousarray(data.frame_features[by_item]))])

    # Row-normalised user-item adjacency (mean over a user's items) and its transpose, as CSR tensors.
    # The transpose is built once here: torch's own backward of sparse.mm transposes (sorts) every step.
    from scipy import sparse

    deg = np.bincount(users, minlength=data.n_users).astype(np.float32)
    a = sparse.csr_matrix(((1.0 / deg[users]).astype(np.float32), (users, items)), shape=(data.n_users, data.n_items))
    adj, adj_t = _csr_tensor(a), _csr_tensor(a.T.tocsr())

    std = 0.1
    e_u = torch.nn.Parameter(torch.randn(data.n_users, dim) * std)
    e_i = torch.nn.Parameter(torch.randn(data.n_items, dim) * std)
    b_i = torch.nn.Parameter(torch.zeros(data.n_items))
    proj = torch.nn.Parameter(torch.randn(feat_dim, dim) * (1.0 / math.sqrt(max(feat_dim, 1))))
    proj_b = torch.nn.Parameter(torch.zeros(dim))
    params = [e_u, e_i, b_i, proj, proj_b]
    opt = torch.optim.Adam(params, lr=lr)

    def forward_tables() -> tuple[torch.Tensor, torch.Tensor]:
        h = e_i + (feats @ proj + proj_b if feat_dim else 0.0)
        u = e_u + _SparseMM.apply(adj, adj_t, h)
        return u, h

    steps_per_epoch = max(1, math.ceil(n_pairs / batch_size))
    total = epochs * steps_per_epoch
    history: list[float] = []
    step = 0
    for epoch in range(epochs):
        order = rng.permutation(n_pairs)
        epoch_loss = 0.0
        for s in range(steps_per_epoch):
            check_cancel(cancel)
            b = order[s * batch_size:(s + 1) * batch_size]
            bu = users[b]
            bp = items[b]
            bn = _sample_negatives(rng, bu, data.n_items, pos_keys)
            tu = torch.from_numpy(bu)
            u_all, h_all = forward_tables()
            # index_select (backward: index_add_) is several times faster on CPU than u_all[idx]
            # (backward: a sorting index_put_); positives and negatives share one gather.
            u = u_all.index_select(0, tu)
            pn = np.concatenate([bp, bn])
            tpn = torch.from_numpy(pn)
            if use_frames or drop > 0:
                # The batch's items: cover or a random frame, ID embedding kept or dropped per pair.
                rows = pn
                if use_frames:
                    cnt = frame_count[pn]
                    pick = (rng.random(pn.size) < frame_prob) & (cnt > 0)
                    offset = (rng.random(pn.size) * np.maximum(cnt, 1)).astype(np.int64)
                    rows = np.where(pick, frame_start[pn] + offset, pn)
                fb = table.index_select(0, torch.from_numpy(rows))
                vis = fb @ proj + proj_b if feat_dim else 0.0
                keep = np.tile(rng.random(len(b)) >= drop, 2).astype(np.float32)
                hpn = e_i.index_select(0, tpn) * torch.from_numpy(keep)[:, None] + vis
            else:
                hpn = h_all.index_select(0, tpn)
            hp, hn = hpn[: len(b)], hpn[len(b):]
            bpn = b_i.index_select(0, tpn)
            x = (u * (hp - hn)).sum(-1) + bpn[: len(b)] - bpn[len(b):]
            loss = torch.nn.functional.softplus(-x).mean()
            # L2 on the representations the batch used (as LightGCN does), plus the projection.
            l2 = (u.pow(2).sum() + hpn.pow(2).sum()) / len(b)
            total_loss = loss + reg * l2 + reg * proj.pow(2).sum()
            opt.zero_grad(set_to_none=True)
            total_loss.backward()
            opt.step()
            epoch_loss += float(loss.detach()) * len(b)
            step += 1
            report(progress, step / total, f"epoch {epoch + 1}/{epochs}, BPR loss {float(loss.detach()):.3f}")
        history.append(epoch_loss / n_pairs)

    with torch.no_grad():
        u_all, _ = forward_tables()
    return Recommender(
        user_embeddings=u_all.numpy().astype(np.float32),
        item_id_embeddings=e_i.detach().numpy().astype(np.float32),
        item_bias=b_i.detach().numpy().astype(np.float32),
        projection=proj.detach().numpy().astype(np.float32),
        projection_bias=proj_b.detach().numpy().astype(np.float32),
        item_features=feats_np.astype(np.float32),
        user_ids=np.asarray(data.user_ids, dtype=np.int64),
        item_ids=np.asarray(data.item_ids, dtype=np.int64),
        encoder_id=data.encoder_id,
        params={"dim": dim, "epochs": epochs, "batch_size": batch_size, "lr": lr, "reg": reg, "seed": seed,
                "frame_prob": frame_prob if use_frames else 0.0, "id_dropout": drop},
        metrics={
            "loss_history": [round(x, 5) for x in history],
            "train_seconds": round(time.perf_counter() - start, 3),
            "n_users": data.n_users,
            "n_items": data.n_items,
            "n_interactions": int(n_pairs),
            "n_frames": int(frame_count.sum()),
        },
    )


def auc(model: Recommender, user_idx: np.ndarray, item_idx: np.ndarray, exclude: InteractionArrays | None = None,
        *, n_neg: int = 50, seed: int = 0) -> float:
    """Sampled AUC of held-out positives against random negatives (not in ``exclude``'s positives)."""
    rng = np.random.default_rng(seed)
    n_items = len(model.item_ids)
    u = np.asarray(user_idx, dtype=np.int64)
    pos_scores = model.score(u, np.asarray(item_idx, dtype=np.int64))
    uu = np.repeat(u, n_neg)
    keys = _positive_keys(exclude) if exclude is not None else np.empty(0, np.int64)
    neg = _sample_negatives(rng, uu, n_items, np.union1d(keys, u * n_items + np.asarray(item_idx)))
    neg_scores = model.score(uu, neg).reshape(-1, n_neg)
    wins = (pos_scores[:, None] > neg_scores).mean() + 0.5 * (pos_scores[:, None] == neg_scores).mean()
    return float(wins)
