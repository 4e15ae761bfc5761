"""Paper Tables 1 and 2 on a workspace, plus a ground-truth judge on the demo's simulated users.

Protocol (paper §5.1.1-5.1.2): for each user, K random non-interacted items (K = 5, 10); each method
picks a thumbnail (Table 1) or a clip (Table 2) of every such item for that user; Cosine@K is the mean
cosine between the picks and the user's liked thumbnails, PS@K the trained recommender's prediction
score with the picks' features; both averaged over 10 runs. Cosine@K and PS@K flatter the selector
(it maximises the same cosine), so on the demo workspace a "GT hit" column also reports the share
of picks that show one of the user's hidden preferred categories, over every (user, non-interacted
demo item that shows a preferred category) pair (DESIGN §6).

Table 2 scores the clips as Eq. 2 defines them (windows of L samples, no shot snapping) so the
methods differ only in which window they take; a clip's feature is the mean of its frames'.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from generec_desktop.evaluation.metrics import at_k, at_k_users, sample_items
from generec_desktop.jobs import CancelToken, Progress, Steps, check_cancel, report

if TYPE_CHECKING:
    from generec_desktop.corpus import Workspace

__all__ = ["EvalRow", "EvaluationResult", "evaluate_editor", "format_tables", "tune_clip_frames"]

THUMB_METHODS = ("Random Frame", "Original", "Eq. 1 (paper)", "Personalized", "Generated")
CLIP_METHODS = ("Random", "1st Clip", "Unclipped", "Eq. 2 (paper)", "Personalized")
#: rows that are the paper's own selection (Eq. 1 / Eq. 2 in the encoder's raw space); "Personalized" is the
#: app's default selection (:mod:`generec_desktop.profiles.space`), unless ``selection="eq1"`` is asked for
PAPER_ROWS = {"Eq. 1 (paper)": "Personalized", "Eq. 2 (paper)": "Personalized"}


def interval(values: Any) -> tuple[float, float]:
    """The mean of per-user values and the half-width of its 95 % interval (normal approximation,
    1.96 standard errors; 0 for fewer than two users)."""
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan"), float("nan")
    if v.size < 2:
        return float(v.mean()), 0.0
    return float(v.mean()), float(1.96 * v.std(ddof=1) / np.sqrt(v.size))


def pair_interval(users: Any, values: Any) -> tuple[float, float, int]:
    """``(mean over pairs, half-width of its 95 % interval, users)`` for values of (user, item) pairs, the
    interval taken over users: pairs of one user are not independent, so the standard error is the
    cluster-robust one of a ratio, ``sqrt(sum_u (S_u - m n_u)^2) / N`` (``S_u`` the user's sum, ``n_u`` its
    pairs, ``N`` all pairs), times 1.96. The mean stays the pair mean the earlier tables reported."""
    v = np.asarray(values, np.float64)
    if v.size == 0:
        return float("nan"), float("nan"), 0
    _u, inv = np.unique(np.asarray(users), return_inverse=True)
    sums, counts = np.bincount(inv, v), np.bincount(inv)
    m = float(v.mean())
    k = sums.size
    se = float(np.sqrt(np.sum((sums - m * counts) ** 2) * k / max(k - 1, 1)) / v.size) if k > 1 else 0.0
    return m, 1.96 * se, int(k)





@dataclass(frozen=True)
class EvalRow:
    """One method's scores: ``cosine[K]``, ``ps[K]`` and the ground-truth hit rate (None without one)."""

    method: str
    cosine: dict[int, float]
    ps: dict[int, float]
    gt_hit: float | None = None
    #: half-widths of the 95 % intervals over users (same keys; None where not measured)
    cosine_ci: dict[int, float] = field(default_factory=dict)
    ps_ci: dict[int, float] = field(default_factory=dict)
    gt_ci: float | None = None
    gt_users: int = 0


@dataclass
class EvaluationResult:
    """Table 1 (thumbnails) and Table 2 (clips), with the protocol's settings."""

    table1: list[EvalRow]
    table2: list[EvalRow]
    ks: tuple[int, ...]
    runs: int
    clip_frames: int
    rate: float
    encoder_id: str
    n_users: int
    n_items: int
    gt_pairs: int = 0
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    selection: str = "centred"
    #: ground-truth hit rate of a frame (a window) drawn uniformly from the video: the judge's chance level
    gt_chance: float | None = None
    clip_gt_chance: float | None = None
    ground_truth: str | None = None  # the file the judge read


def _liked(ws: Workspace) -> dict[int, set[int]]:
    from sqlalchemy import select

    from generec_desktop.corpus.schema import Interaction

    out: dict[int, set[int]] = {}
    with ws.session() as s:
        for u, i in s.execute(select(Interaction.user_id, Interaction.item_id).where(Interaction.weight > 0)):
            out.setdefault(int(u), set()).add(int(i))
    return out


def _window_means(x: np.ndarray, L: int) -> np.ndarray:
    """Running means of ``x`` (…, N) over L: (…, N - L + 1)."""
    c = np.concatenate([np.zeros((*x.shape[:-1], 1)), np.cumsum(x, axis=-1)], axis=-1)
    return (c[..., L:] - c[..., :-L]) / L


def evaluate_editor(
    ws: Workspace,
    *,
    encoder: str = "builtin",
    ks: tuple[int, ...] = (5, 10),
    runs: int = 10,
    clip_frames: int | None = None,
    rate: float | None = None,
    generated: bool = True,
    ground_truth: Any = True,
    selection: str = "centred",
    seed: int = 0,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> EvaluationResult:
    """Compute Tables 1 and 2 (see the module docstring). Builds profiles and trains the recommender
    when the workspace has none for this encoder (noted in ``notes``).

    ``ground_truth``: True reads the demo's (``W/demo/ground_truth.json``) when there is one; a path (or a
    :class:`~generec_desktop.demo.ground_truth.GroundTruth`) judges any workspace whose truth is in that
    file (e.g. the independent set's); False skips the judge. ``selection``: the "Personalized" rows'
    scoring (:mod:`generec_desktop.profiles.space`); the paper's Eq. 1 / Eq. 2 rows are always there.
    Every value comes with a 95 % interval over users."""
    from generec_desktop import profiles as prof
    from generec_desktop.editor.personalize.analysis import DEFAULT_RATE, analyze_video
    from generec_desktop.editor.personalize.clips import DEFAULT_CLIP_FRAMES
    from generec_desktop.editor.personalize.thumbnails import build_candidates
    from generec_desktop.encoders import get_encoder
    from generec_desktop.profiles.store import thumbnail_embeddings

    t_start = time.perf_counter()
    L = int(clip_frames or DEFAULT_CLIP_FRAMES)
    rate = float(rate or DEFAULT_RATE)
    notes: list[str] = []
    steps = Steps(progress, {"models": 2, "analyse": 6, "generate": 2 if generated else 0.01, "score": 1})
    enc = get_encoder(encoder, workspace_root=ws.root)
    try:
        ps_set = prof.load_profiles(ws, encoder_id=enc.id)
    except prof.ModelNotFoundError:
        ps_set = None
    if ps_set is None or len(ps_set.user_ids) == 0:  # audiences from examples alone: the tables need users
        ps_set = prof.build_profiles(ws, encoder=encoder, cancel=cancel)
        notes.append("profiles were built for this evaluation")
    try:
        rec = prof.load_recommender(ws, encoder_id=enc.id)
    except prof.ModelNotFoundError:
        rec = prof.train_recommender(ws, encoder=encoder, seed=seed, cancel=cancel)
        notes.append("the recommender was trained for this evaluation")
    report(steps["models"], 1.0, "Profiles and recommender ready")

    items = [it for it in ws.items(kind="human") if (it.duration or 0) > 0]
    items = [it for it in items if it.id in set(rec.item_ids.tolist())]
    all_items = ws.items()
    cover_all = thumbnail_embeddings(ws, enc, all_items, cancel=cancel)
    cover_of = {it.id: cover_all[k] for k, it in enumerate(all_items)}
    liked = _liked(ws)
    users = [int(u) for u in ps_set.user_ids if int(u) in set(rec.user_ids.tolist())]
    uidx = {int(u): k for k, u in enumerate(ps_set.user_ids)}
    H = np.stack([ps_set.user_hist[uidx[u]] for u in users]).astype(np.float32)  # t*, unit rows
    from generec_desktop.profiles.space import selection_vectors

    sel = selection_vectors(ws, ps_set, [f"user:{u}" for u in users], enc, method=selection, cancel=cancel)
    Hs = sel.vectors  # the default selection's audience vectors, in its space
    M = np.stack([np.mean([cover_of[i] for i in liked.get(u, ()) if i in cover_of] or [np.zeros(enc.dim)], axis=0)
                  for u in users]).astype(np.float32)  # mean liked-thumbnail embedding (Cosine@K)
    U, n_items = len(users), len(items)
    rec_u = np.array([rec.user_index(u) for u in users])
    rec_i = np.array([rec.item_index(it.id) for it in items])
    cand_mask = np.array([[it.id not in liked.get(u, set()) for it in items] for u in users], bool)

    gt, gt_file = _ground_truth(ws, ground_truth)
    by_sha = {it.sha256: it.id for it in all_items}  # the truth names videos by content, whatever their ids
    gt_items = {by_sha[v.sha256]: v for v in gt.items.values() if v.sha256 in by_sha} if gt is not None else {}
    if gt is not None and not gt_items:
        notes.append("the ground truth names no video of this workspace")
    ext_user = {u.id: u.external_id for u in ws.users()} if gt is not None else {}

    rng = np.random.default_rng(seed)
    # value matrices (U, I) per method; Random methods have (runs, U, n_items)
    cos1 = {m: np.zeros((U, n_items)) for m in THUMB_METHODS}  # (U, I) per method
    ps1 = {m: np.zeros((U, n_items)) for m in THUMB_METHODS}
    cos1["Random Frame"] = np.zeros((runs, U, n_items))
    ps1["Random Frame"] = np.zeros((runs, U, n_items))
    cos2 = {m: np.zeros((U, n_items)) for m in CLIP_METHODS}
    ps2 = {m: np.zeros((U, n_items)) for m in CLIP_METHODS}
    cos2["Random"] = np.zeros((runs, U, n_items))
    ps2["Random"] = np.zeros((runs, U, n_items))
    hits: dict[str, list[tuple[int, float]]] = ({f"t:{m}": [] for m in THUMB_METHODS}
                                                | {f"c:{m}": [] for m in CLIP_METHODS})
    chance: dict[str, list[tuple[int, float]]] = {"t": [], "c": []}
    chosen_frames: dict[int, np.ndarray] = {}
    analyses = []

    def _ps(item_col: int, feats: np.ndarray) -> np.ndarray:
        return np.asarray(rec.score(rec_u, np.full(U, rec_i[item_col]), feats), np.float64)

    def _unit(x: np.ndarray) -> np.ndarray:
        return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)

    for col, it in enumerate(items):
        check_cancel(cancel)
        an = analyze_video(ws.media_path(it), enc, sha256=it.sha256, cache_dir=ws.cache_dir, rate=rate,
                           keep_images=False, cancel=cancel)
        analyses.append(an)
        E = an.embeddings
        N = E.shape[0]
        S = H @ E.T  # (U, N) Eq. 1 scores
        Ss = Hs @ sel.space.transform(E).T  # (U, N) the default selection's scores
        C = M @ E.T  # (U, N) cosine with liked thumbnails (mean over them)
        cand = build_candidates(N, an.cut_after, an.passed)
        elig = cand.index[cand.eligible]
        pick_eq1 = elig[S[:, elig].argmax(axis=1)]
        pick = elig[Ss[:, elig].argmax(axis=1)]
        chosen_frames[col] = pick
        rows = np.arange(U)
        for m, pk in (("Personalized", pick), ("Eq. 1 (paper)", pick_eq1)):
            cos1[m][:, col] = C[rows, pk]
            ps1[m][:, col] = _ps(col, E[pk])
        cos1["Original"][:, col] = M @ cover_of[it.id]
        ps1["Original"][:, col] = _ps(col, np.tile(cover_of[it.id], (U, 1)))
        rand = rng.integers(0, N, size=(runs, U))
        for r in range(runs):
            cos1["Random Frame"][r, :, col] = C[rows, rand[r]]
            ps1["Random Frame"][r, :, col] = _ps(col, E[rand[r]])
        # Table 2: Eq. 2 windows
        Lc = min(L, N)
        W = _window_means(S, Lc)  # (U, N-L+1)
        Wc = _window_means(C, Lc)
        starts = {"Personalized": _window_means(Ss, Lc).argmax(axis=1), "Eq. 2 (paper)": W.argmax(axis=1),
                  "1st Clip": np.zeros(U, np.int64)}
        cE = np.concatenate([np.zeros((1, E.shape[1])), np.cumsum(E, axis=0)])
        for m, st in starts.items():
            cos2[m][:, col] = Wc[rows, st]
            ps2[m][:, col] = _ps(col, _unit((cE[st + Lc] - cE[st]) / Lc))
        cos2["Unclipped"][:, col] = C.mean(axis=1)
        ps2["Unclipped"][:, col] = _ps(col, np.tile(_unit(E.mean(axis=0)), (U, 1)))
        rstart = rng.integers(0, N - Lc + 1, size=(runs, U))
        for r in range(runs):
            cos2["Random"][r, :, col] = Wc[rows, rstart[r]]
            ps2["Random"][r, :, col] = _ps(col, _unit((cE[rstart[r] + Lc] - cE[rstart[r]]) / Lc))
        gi = gt_items.get(it.id)
        if gi is not None:
            cats = np.array([gi.category_at(float(t)) or "" for t in an.sample_times])
            for row, u in enumerate(users):
                gu = gt.users.get(ext_user.get(u, ""))  # type: ignore[union-attr]
                if gu is None or not cand_mask[row, col]:
                    continue
                pref = set(gu.preferred)
                if not any(gi.category_shares.get(c, 0) > 0 for c in pref):
                    continue
                good = np.isin(cats, list(pref)).astype(np.float64)
                hits["t:Personalized"].append((row, good[pick[row]]))
                hits["t:Eq. 1 (paper)"].append((row, good[pick_eq1[row]]))
                hits["t:Generated"].append((row, good[pick[row]]))
                hits["t:Original"].append((row, float(gi.cover_category in pref)))
                hits["t:Random Frame"].append((row, float(good[rand[:, row]].mean())))
                gw = _window_means(good[None, :], Lc)[0]
                for m in ("Personalized", "Eq. 2 (paper)"):
                    hits[f"c:{m}"].append((row, gw[starts[m][row]]))
                hits["c:1st Clip"].append((row, gw[0]))
                hits["c:Unclipped"].append((row, good.mean()))
                hits["c:Random"].append((row, float(gw[rstart[:, row]].mean())))
                chance["t"].append((row, float(good.mean())))
                chance["c"].append((row, float(gw.mean())))
        report(steps["analyse"], (col + 1) / max(n_items, 1), f"Analysed {col + 1} of {n_items} items")

    if generated:
        _generated_rows(ws, enc, items, users, liked, analyses, chosen_frames, H, M, cand_mask, cos1, ps1, _ps,
                        steps["generate"], cancel)
    else:
        cos1.pop("Generated")
        notes.append("Generated thumbnails were skipped")

    table1, table2 = [], []
    picks = {k: sample_items(cand_mask, k, runs, seed=seed + k) for k in ks}
    for methods, cos, ps, prefix, table in ((THUMB_METHODS, cos1, ps1, "t:", table1),
                                            (CLIP_METHODS, cos2, ps2, "c:", table2)):
        for m in methods:
            if m not in cos:
                continue
            h = hits[prefix + m]
            gt_mean: float | None = None
            gt_ci: float | None = None
            n_u = 0
            if h:
                gt_mean, gt_ci, n_u = pair_interval([u for u, _ in h], [x for _, x in h])
            table.append(EvalRow(m, {k: at_k(cos[m], picks[k]) for k in ks}, {k: at_k(ps[m], picks[k]) for k in ks},
                                 gt_mean, {k: interval(at_k_users(cos[m], picks[k]))[1] for k in ks},
                                 {k: interval(at_k_users(ps[m], picks[k]))[1] for k in ks}, gt_ci, n_u))
    report(steps["score"], 1.0, "Tables ready")
    n_gt = len(hits["t:Personalized"])
    if gt is not None and not n_gt:
        notes.append("the ground truth had no eligible (user, item) pairs")
    t_ch = np.array([x for _, x in chance["t"]])
    c_ch = np.array([x for _, x in chance["c"]])
    return EvaluationResult(table1, table2, tuple(ks), runs, L, rate, enc.id, U, n_items, n_gt, notes,
                            round(time.perf_counter() - t_start, 3), selection,
                            float(t_ch.mean()) if t_ch.size else None, float(c_ch.mean()) if c_ch.size else None,
                            gt_file)


def _ground_truth(ws: Workspace, ground_truth: Any) -> tuple[Any, str | None]:
    """``(GroundTruth or None, the file it came from)`` for :func:`evaluate_editor`'s ``ground_truth``."""
    from pathlib import Path

    from generec_desktop.demo.ground_truth import GroundTruth, ground_truth_path, read_ground_truth

    if ground_truth is False or ground_truth is None:
        return None, None
    if isinstance(ground_truth, GroundTruth):
        return ground_truth, "the given ground truth"
    if ground_truth is True:
        path = ground_truth_path(ws.root)
        if not path.is_file():
            return None, None  # not a demo workspace: no ground-truth column
        return read_ground_truth(path), str(path)
    return read_ground_truth(Path(ground_truth)), str(ground_truth)


def _generated_rows(ws: Workspace, enc: Any, items: list[Any], users: list[int], liked: dict[int, set[int]],
                    analyses: list[Any], chosen: dict[int, np.ndarray], H: np.ndarray, M: np.ndarray,
                    cand_mask: np.ndarray, cos1: dict[str, np.ndarray], ps1: dict[str, np.ndarray], ps_fn: Any,
                    progress: Progress | None, cancel: CancelToken | None) -> None:
    """The "Generated" row: each user's Eq. 1 frame recoloured toward that user's liked covers."""
    from PIL import Image

    from generec_desktop import media
    from generec_desktop.editor.personalize.thumbgen import PaletteStats, palette_stats, transfer_palette

    side = 224  # what CLIP sees; the built-in encoder works at 64 px
    cover_stats: dict[int, PaletteStats] = {}
    for it in ws.items():
        p = ws.cover_path(it)
        if p is not None and p.exists():
            with Image.open(p) as im:
                cover_stats[it.id] = palette_stats([np.asarray(im.convert("RGB"))])
    user_pal: list[PaletteStats | None] = []
    for u in users:
        st = [cover_stats[i] for i in liked.get(u, ()) if i in cover_stats]
        if not st:
            user_pal.append(None)
            continue
        m = np.mean([s.mean for s in st], axis=0)
        var = np.mean([s.std ** 2 + s.mean ** 2 for s in st], axis=0) - m ** 2
        user_pal.append(PaletteStats(m, np.sqrt(np.maximum(var, 1e-6)), len(st)))
    cos1["Generated"][:] = cos1["Personalized"]
    ps1["Generated"][:] = ps1["Personalized"]
    for col, it in enumerate(items):
        check_cancel(cancel)
        pick = chosen[col]
        need = sorted(set(pick.tolist()))
        an = analyses[col]
        frames = media.sample_frames(ws.media_path(it), timestamps=[float(an.sample_times[i]) for i in need],
                                     max_side=side, cancel=cancel)
        pic = {i: f.image for i, f in zip(need, frames)}
        rows = [r for r in range(len(users)) if cand_mask[r, col] and user_pal[r] is not None]
        if not rows:
            continue
        imgs = [transfer_palette(pic[int(pick[r])], user_pal[r]) for r in rows]  # type: ignore[arg-type]
        emb = enc.encode_images(imgs)
        r_arr = np.array(rows)
        cos1["Generated"][r_arr, col] = np.sum(M[r_arr] * emb, axis=1)
        full = np.tile(an.embeddings[pick[0]], (len(users), 1)).astype(np.float32)
        full[r_arr] = emb
        full_ps = ps_fn(col, full)
        ps1["Generated"][r_arr, col] = full_ps[r_arr]
        report(progress, (col + 1) / len(items), f"Generated thumbnails for item {col + 1} of {len(items)}")


def tune_clip_frames(ws: Workspace, *, lengths: tuple[int, ...] = (4, 8, 16, 32), encoder: str = "builtin",
                     rate: float | None = None, runs: int = 10, seed: int = 0,
                     cancel: CancelToken | None = None) -> dict[int, dict[str, float | None]]:
    """Table 2's Personalized Cosine@5 and ground-truth hit rate for each L.

    The paper tunes L on Cosine@5. Note that when the selector and the metric share the embedding
    space (t* is the normalised mean of the liked thumbnails, Cosine@K the cosine with them), the best
    window mean can only fall as L grows (a 2L window averages two L windows), so Cosine@5 always
    prefers the shortest L; the ground-truth hit rate is the informative criterion on the demo.
    """
    out: dict[int, dict[str, float | None]] = {}
    for L in lengths:
        res = evaluate_editor(ws, encoder=encoder, ks=(5,), runs=runs, clip_frames=L, rate=rate, generated=False,
                              seed=seed, cancel=cancel)
        row = next(r for r in res.table2 if r.method == "Personalized")
        out[L] = {"cosine@5": row.cosine[5], "gt_hit": row.gt_hit}
    return out


def format_tables(res: EvaluationResult) -> str:
    """Both tables as aligned text (as the paper prints them, plus the judge's column), each value with
    ± the half-width of its 95 % interval over users, and the chance levels under each table."""
    def pm(v: float | None, ci: float | None, width: int, digits: int) -> str:
        if v is None:
            return f"{'-':>{width}}"
        cell = f"{v:.{digits}f}" + (f"±{ci:.{digits}f}" if ci is not None and np.isfinite(ci) else "")
        return f"{cell:>{width}}"

    def block(title: str, rows: list[EvalRow]) -> list[str]:
        head = f"{title:<15}" + "".join(f"{f'Cosine@{k}':>16}" for k in res.ks) + \
            "".join(f"{f'PS@{k}':>16}" for k in res.ks) + f"{'GT hit':>14}"
        lines = [head, "-" * len(head)]
        for r in rows:
            lines.append(f"{r.method:<15}" + "".join(pm(r.cosine[k], r.cosine_ci.get(k), 16, 4) for k in res.ks)
                         + "".join(pm(r.ps[k], r.ps_ci.get(k), 16, 4) for k in res.ks)
                         + pm(r.gt_hit, r.gt_ci, 14, 3))
        return lines

    def chance(rows: list[EvalRow], random_row: str, gt: float | None, what: str) -> str:
        rnd = next((r for r in rows if r.method == random_row), None)
        parts = []
        if rnd is not None:
            parts.append(f"Cosine@K / PS@K of {random_row} (the metric's chance level)")
        if gt is not None:
            parts.append(f"GT hit of {what} drawn uniformly: {gt:.3f}")
        return "Chance: " + "; ".join(parts) if parts else ""

    sel = {"centred": "liked videos' frames, centred on the corpus mean", "projected":
           "liked videos' frames, centred and projected", "eq1": "the paper's Eq. 1 / Eq. 2"}.get(res.selection,
                                                                                           res.selection)
    out = [f"Encoder {res.encoder_id}; {res.n_users} users, {res.n_items} items; {res.runs} runs; "
           f"{res.rate:g} samples/s; L = {res.clip_frames}; GT pairs {res.gt_pairs}"
           + (f" ({res.ground_truth})" if res.ground_truth else ""),
           f"Personalized = {sel}; ± = 95 % interval over users"]
    out += ["", "Table 1. Thumbnail selection and generation", *block("Method", res.table1),
            chance(res.table1, "Random Frame", res.gt_chance, "a frame")]
    out += ["", "Table 2. Micro-video clipping", *block("Method", res.table2),
            chance(res.table2, "Random", res.clip_gt_chance, "a window")]
    if res.notes:
        out += ["", "Notes: " + "; ".join(res.notes)]
    return "\n".join(line for line in out if line is not None)
