"""Tables 3 and 4 of the paper for MCVD: revision and creation per user (Cosine@K, PS@K, Fréchet).

Protocol (paper 5.1.3 / 5.2.1, DESIGN §6): for each of ``n_users`` random profiled users, K random human
items the user has not interacted with. Each item contributes a clip (the first ``n_frames`` frames at the
model's 8 fps, 64×64).

- Table 3 (revision): rows *Original* (the clips as they are), *User_Hist* / *User_Emb* (each clip revised
  toward the user with the model conditioned on that kind of vector) and *Unconditional* (revised with the
  null condition: the same noise and denoising without the user, the control that separates the effect of
  the condition from that of the denoising itself) and *Other_User* (revised toward another evaluated
  user, still scored against the clip's own user: User_Hist above it means the revision moves toward *that*
  audience, not toward every audience).
- Table 4 (creation): *Original* as above; *User_Hist* / *User_Emb*: K clips created from noise for the user.

Cosine@K: mean over the K clips of the cosine between the clip's embedding (normalised mean of the app
encoder's frame embeddings) and the user's User_Hist vector. PS@K: mean recommender score of the user with
the clip's embedding as the item's visual features (revision only: created items have no ID embedding,
paper footnote 8). Fréchet: the Fréchet distance between the real clips and the rows' clips, on the app
encoder's clip features (mean frame embedding ‖ mean frame-to-frame change) projected on the top principal
axes of the real features (a covariance over hundreds of dimensions from tens of clips is singular); with a
user-supplied I3D TorchScript file (``i3d=``) the features are I3D's, which makes it FVD proper.

``generec eval W --mcvd`` should call :func:`evaluate_mcvd` and print :func:`format_tables`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from generec_desktop.diffusion.config import (
    DEFAULT_AUDIENCE_WEIGHT,
    DEFAULT_KEYFRAME_STRIDE,
    DEFAULT_SAMPLER,
    DEFAULT_STEPS,
)
from generec_desktop.jobs import CancelToken, GenerecError, Progress, check_cancel, report

if TYPE_CHECKING:
    from generec_desktop.corpus.workspace import Workspace

__all__ = ["McvdRow", "McvdTables", "clip_features", "evaluate_mcvd", "format_tables", "frechet_distance",
           "i3d_features"]


class EvaluationError(GenerecError):
    """Bad input to the MCVD evaluation (too few users or items, unusable I3D file)."""


@dataclass
class McvdRow:
    """One row of Table 3 or 4."""

    name: str
    cosine: dict[int, float]
    ps: dict[int, float] | None
    frechet: float | None
    clips: int


@dataclass
class McvdTables:
    """Tables 3 (revision) and 4 (creation) and how they were made."""

    revision: list[McvdRow]
    creation: list[McvdRow]
    ks: tuple[int, ...]
    users: list[int]
    features: str
    settings: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def frechet_distance(real: np.ndarray, fake: np.ndarray, *, max_dims: int | None = 16) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (rows are samples).

    ``max_dims``: project both onto the top principal axes of ``real`` first (at most ``n_real - 1``), so
    the covariances are full rank; ``None`` keeps every dimension (needs many more samples than dimensions).
    """
    from scipy import linalg

    a = np.asarray(real, np.float64)
    b = np.asarray(fake, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or len(a) < 2 or len(b) < 2:
        raise EvaluationError("Fréchet distance needs two (N, D) feature sets with the same D and N >= 2.")
    if max_dims is not None:
        mu = a.mean(0)
        _, _, vt = np.linalg.svd(a - mu, full_matrices=False)
        axes = vt[: max(1, min(max_dims, len(a) - 1, a.shape[1]))]
        a, b = (a - mu) @ axes.T, (b - mu) @ axes.T
    m1, m2 = a.mean(0), b.mean(0)
    s1 = np.atleast_2d(np.cov(a, rowvar=False))
    s2 = np.atleast_2d(np.cov(b, rowvar=False))
    covmean = linalg.sqrtm(s1 @ s2)
    if not np.isfinite(covmean).all():  # the usual FID fix: nudge the diagonals when the product is singular
        eps = np.eye(len(s1)) * 1e-6
        covmean = linalg.sqrtm((s1 + eps) @ (s2 + eps))
    covmean = np.real(covmean)
    return float(max(0.0, ((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean)))


def clip_features(encoder: Any, clips: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per clip: (embedding (N, D) — the normalised mean frame embedding, features (N, 2D) for Fréchet)."""
    clips = np.asarray(clips)
    n, t = clips.shape[:2]
    emb = encoder.encode_images(list(clips.reshape(n * t, *clips.shape[2:]))).reshape(n, t, -1)
    mean = emb.mean(1)
    unit = mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-8)
    motion = np.abs(np.diff(emb, axis=1)).mean(1) if t > 1 else np.zeros_like(mean)
    return unit.astype(np.float32), np.concatenate([mean, motion], 1).astype(np.float32)


def i3d_features(clips: np.ndarray, torchscript: str | Path) -> np.ndarray:
    """I3D features of uint8 clips (N, T, H, W, 3) from a local TorchScript file (the FVD feature network).

    The file is called with a float tensor (N, 3, T, 224, 224) in [-1, 1]; files exported with the
    StyleGAN-V convention also get ``rescale=False, resize=False, return_features=True``.
    """
    import cv2
    import torch

    path = Path(torchscript)
    if not path.is_file():
        raise EvaluationError(f"No I3D TorchScript file at {path}; give the path of one you have locally.")
    try:
        net = torch.jit.load(str(path), map_location="cpu").eval()
    except (RuntimeError, ValueError) as exc:
        raise EvaluationError(f"{path} is not a TorchScript model ({str(exc).splitlines()[0]}).") from exc
    big = np.stack([[cv2.resize(f, (224, 224), interpolation=cv2.INTER_LINEAR) for f in c] for c in clips])
    x = torch.from_numpy(big).permute(0, 4, 1, 2, 3).float() / 127.5 - 1.0
    with torch.inference_mode():
        try:
            out = net(x, rescale=False, resize=False, return_features=True)
        except (RuntimeError, TypeError):
            out = net(x)
    return np.asarray(out.reshape(len(clips), -1).float().numpy(), np.float32)


def _random_items(ws: Workspace, user_id: int, k: int, candidates: list[int], rng: np.random.Generator) -> list[int]:
    seen = {it.item_id for it in ws.interactions(user_id=user_id)}
    pool = [i for i in candidates if i not in seen]
    if len(pool) < k:
        raise EvaluationError(f"User {user_id} has only {len(pool)} non-interacted videos; use a smaller K.")
    return [int(i) for i in rng.choice(pool, k, replace=False)]


def evaluate_mcvd(
    ws: Workspace,
    *,
    ks: tuple[int, ...] = (5, 10),
    n_users: int = 3,
    n_frames: int = 8,
    strength: float = 0.5,
    guidance_scale: float = 2.0,
    steps: int = DEFAULT_STEPS,
    sampler: str = DEFAULT_SAMPLER,
    keyframe_stride: int = DEFAULT_KEYFRAME_STRIDE,
    audience_weight: float = DEFAULT_AUDIENCE_WEIGHT,
    seed: int = 0,
    conditions: tuple[str, ...] = ("user_hist", "user_emb"),
    unconditional: bool = True,
    other_user: bool = True,
    creation: bool = True,
    checkpoints: dict[str, Path] | None = None,
    i3d: Path | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> McvdTables:
    """Tables 3 and 4 (see the module docstring); a condition whose model is missing is left out with a note."""
    from generec_desktop.diffusion import DiffusionError, revise, sample
    from generec_desktop.encoders import get_encoder
    from generec_desktop.mcvd.revise import lowres_clip
    from generec_desktop.mcvd.workspace import audience_score, load_workspace_model
    from generec_desktop.profiles import load_profiles, load_recommender

    t0 = time.perf_counter()
    ks = tuple(sorted({int(k) for k in ks}))
    if not ks or ks[0] < 1:
        raise EvaluationError("K must be at least 1.")
    kmax = ks[-1]
    notes: list[str] = []
    prof = load_profiles(ws)
    if len(prof.user_ids) == 0:  # only audiences from examples: Tables 3 and 4 are measured on users' likes
        raise EvaluationError("No profiled user to evaluate; import interactions and run `generec profiles build` "
                              "first (audiences from examples have no likes to measure against).")
    enc = get_encoder(prof.encoder_id, workspace_root=ws.root)
    try:
        rec = load_recommender(ws, encoder_id=prof.encoder_id)
    except GenerecError:
        rec = None
        notes.append("PS@K left out: no trained recommender (run `generec train recommender W`).")
    models: dict[str, Any] = {}
    for cond in conditions:
        try:
            models[cond] = load_workspace_model(ws, checkpoint=(checkpoints or {}).get(cond), condition=cond)
        except (DiffusionError, GenerecError) as exc:
            notes.append(f"{cond} left out: {exc}")
    if not models:
        raise EvaluationError("No MCVD model fits this workspace; train one with `generec train mcvd W`.")
    first_model = next(iter(models.values()))[0]
    fps = float(first_model.config.extra.get("clip_fps", 8.0))
    size = first_model.config.size

    rng = np.random.default_rng(seed)
    users = [int(u) for u in prof.user_ids if rec is None or int(u) in set(rec.user_ids.tolist())]
    if len(users) < 1:
        raise EvaluationError("No profiled user to evaluate; run `generec profiles build` first.")
    users = [int(u) for u in rng.choice(users, min(n_users, len(users)), replace=False)]
    min_len = n_frames / fps
    candidates = [it.id for it in ws.items("human") if (it.duration or 0.0) >= min_len]
    plan = {u: _random_items(ws, u, kmax, candidates, rng) for u in users}
    clip_cache: dict[int, np.ndarray] = {}

    def clip_of(item_id: int) -> np.ndarray:
        if item_id not in clip_cache:
            clip_cache[item_id] = lowres_clip(ws.media_path(ws.item(item_id)), fps=fps, size=size,
                                              max_frames=n_frames, cancel=cancel)[0]
        return clip_cache[item_id]

    rows_rev = ["Original", *[c for c in conditions if c in models]] + (["Unconditional"] if unconditional else []) \
        + (["Other_User"] if other_user and len(users) > 1 else [])
    rows_cre = ["Original", *[c for c in conditions if c in models]] if creation else []
    total = len(users) * kmax * (len(rows_rev) - 1 + max(0, len(rows_cre) - 1)) + 1
    done = 0
    clips: dict[tuple[str, str], list[np.ndarray]] = {}
    owners: dict[tuple[str, str], list[tuple[int, int]]] = {}

    def add(table: str, row: str, clip: np.ndarray, user: int, item: int) -> None:
        clips.setdefault((table, row), []).append(clip)
        owners.setdefault((table, row), []).append((user, item))

    for ui, u in enumerate(users):
        cond_vec = {c: models[c][1].user_vector(u) for c in models}
        other = users[(ui + 1) % len(users)]
        for j, item in enumerate(plan[u]):
            check_cancel(cancel)
            original = clip_of(item)
            add("rev", "Original", original, u, item)
            for row in rows_rev[1:]:
                cond = row if row in models else next(iter(models))
                model = models[cond][0]
                vec = None if row == "Unconditional" else (models[cond][1].user_vector(other) if row == "Other_User"
                                                           else cond_vec[cond])
                score = None
                if audience_weight > 0 and vec is not None and cond == "user_hist":
                    score = audience_score(vec, prof.encoder_id, models[cond][1].vectors.mean(0))
                frames = revise(model, original, user_vector=vec, strength=strength, guidance_scale=guidance_scale,
                                steps=steps, sampler=sampler, keyframe_stride=keyframe_stride,
                                audience_score=score, audience_weight=audience_weight if score is not None else 0.0,
                                seed=seed + 1000 * j + u, cancel=cancel)
                add("rev", row, frames, u, item)
                done += 1
                report(progress, done / total, f"revised {done} of {total - 1} clips")
            for row in rows_cre[1:]:
                frames = sample(models[row][0], user_vector=cond_vec[row], n_frames=len(original),
                                guidance_scale=guidance_scale, steps=steps, sampler=sampler,
                                seed=seed + 1000 * j + u, output="uint8",
                                cancel=cancel)
                add("cre", row, frames, u, item)
                done += 1
                report(progress, done / total, f"made {done} of {total - 1} clips")

    feats: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
    for key, cl in clips.items():
        emb, f = clip_features(enc, np.stack(cl))
        if i3d is not None:
            f = i3d_features(np.stack(cl), i3d)
        feats[key] = (emb, f)
    u_row = {int(u): k for k, u in enumerate(prof.user_ids)}

    def make_row(table: str, row: str, with_ps: bool) -> McvdRow:
        emb, f = feats[(table, row)]
        pairs = owners[(table, row)]
        cos = np.array([float(emb[i] @ prof.user_hist[u_row[u]]) for i, (u, _) in enumerate(pairs)])
        ps_vals = None
        if with_ps and rec is not None:
            ps_vals = np.array([float(rec.score(rec.user_index(u), rec.item_index(it), emb[i]))
                                for i, (u, it) in enumerate(pairs)])
        by_user = {u: [i for i, (uu, _) in enumerate(pairs) if uu == u] for u in users}
        cosine = {k: float(np.mean([cos[idx[:k]].mean() for idx in by_user.values()])) for k in ks}
        ps = None if ps_vals is None else {k: float(np.mean([ps_vals[idx[:k]].mean() for idx in by_user.values()]))
                                           for k in ks}
        real = feats[("rev", "Original")][1]
        fr = None if row == "Original" else frechet_distance(real, f)
        return McvdRow(row if row in ("Original", "Unconditional", "Other_User") else {"user_hist": "User_Hist",
                                                                         "user_emb": "User_Emb"}[row],
                       cosine, ps, fr, len(pairs))

    revision = [make_row("rev", r, True) for r in rows_rev]
    created = [make_row("rev", "Original", False)] + [make_row("cre", r, False) for r in rows_cre[1:]] \
        if creation else []
    report(progress, 1.0, "done")
    return McvdTables(
        revision=revision, creation=created, ks=ks, users=users,
        features=("I3D (FVD)" if i3d is not None else f"app encoder {enc.id} (mean ‖ motion, PCA ≤ 16)"),
        settings={"n_frames": n_frames, "fps": fps, "strength": strength, "guidance": guidance_scale,
                  "steps": steps, "sampler": sampler, "keyframe_stride": keyframe_stride,
                  "audience_weight": audience_weight, "seed": seed,
                  "checkpoints": {c: str(m[2]) for c, m in models.items()}},
        notes=notes, seconds=time.perf_counter() - t0,
    )


def format_tables(t: McvdTables) -> str:
    """Tables 3 and 4 as text (the paper's layout)."""
    def fmt(rows: list[McvdRow], with_ps: bool) -> list[str]:
        head = "".join(f"{'Cosine@' + str(k):>11}" for k in t.ks)
        if with_ps:
            head += "".join(f"{'PS@' + str(k):>9}" for k in t.ks)
        lines = [f"{'':<14}{head}{'Fréchet':>10}"]
        for r in rows:
            line = f"{r.name:<14}" + "".join(f"{r.cosine[k]:>11.4f}" for k in t.ks)
            if with_ps:
                line += "".join(f"{r.ps[k]:>9.4f}" if r.ps else f"{'-':>9}" for k in t.ks)
            lines.append(line + (f"{r.frechet:>10.4f}" if r.frechet is not None else f"{'-':>10}"))
        return lines

    out = [f"Table 3. MCVD revision ({len(t.users)} users, {t.settings.get('n_frames')} frames, strength "
           f"{t.settings.get('strength')}, guidance {t.settings.get('guidance')})", *fmt(t.revision, True)]
    if t.creation:
        out += ["", "Table 4. MCVD creation", *fmt(t.creation, False)]
    out += ["", f"Fréchet features: {t.features}; {t.seconds:.0f} s", *t.notes]
    return "\n".join(out)
