"""MCVD on a workspace: training data, training, checkpoint discovery and condition vectors.

The glue between the model (:mod:`generec_desktop.diffusion`, which knows only arrays) and the
workspace (videos, likes, profiles). Used by ``generec train mcvd``, the editor's revision, the creator
and the MCVD evaluation.

Training data (issue 7.2): every human video is cut into 64×64 clips; each training example pairs a clip
with the condition vector of one user who liked that video (drawn anew every step), so the model learns
to reconstruct users' liked videos conditioned on their vector. With User_Hist, a share
(``self_condition``) of the examples is conditioned instead on the clip's own embedding, normalised: the
User_Hist of a user who liked only that clip (User_Hist is by definition the normalised mean of liked
items' embeddings). A real user's vector mixes many liked videos, so on its own it says little about any
one clip and the model learns to ignore it (measured at 4,100 steps: revising with and without the
condition gave the same Cosine@5, 0.426 vs 0.428); single-clip histories make the condition informative.
``condition="user_hist"`` uses User_Hist (encoder space, what audiences/segments are), ``"user_emb"`` the
recommender's user embeddings.

Checkpoint discovery (same spirit as the encoders): an explicit folder, then ``W/models/mcvd`` (or
``W/models/mcvd-user_emb``), then the repository's ``models/mcvd-demo``; a candidate is only taken if its
condition kind, encoder and vector width match the workspace's profiles.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from generec_desktop.diffusion.config import DiffusionError, MCVDConfig
from generec_desktop.jobs import Cancelled, CancelToken, Progress, Steps, check_cancel
from generec_desktop.profiles.audience_id import AudienceId

if TYPE_CHECKING:
    from generec_desktop.corpus.workspace import Workspace
    from generec_desktop.diffusion.model import MCVD
    from generec_desktop.diffusion.train import TrainResult

__all__ = [
    "AUDIENCE_PUSH",
    "CONDITIONS",
    "COST_S",
    "REPO_MODELS_DIR",
    "ConditionSource",
    "TrainingData",
    "audience_score",
    "condition_source",
    "find_mcvd_checkpoint",
    "load_workspace_model",
    "train_workspace_mcvd",
    "training_data",
    "workspace_checkpoint_dir",
    "workspace_config",
]

CONDITIONS = ("user_hist", "user_emb")
#: The repository's shipped models (``models/`` beside the package).
REPO_MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
DEMO_CHECKPOINT = "mcvd-demo"
#: Sampling of training clips: 8 frames per second of video, 12 frames per clip (windows are drawn inside).
CLIP_FPS = 8.0
CLIP_FRAMES = 12
#: Guessed cost of one unit of the parts of an MCVD job (seconds of one core), for the progress of
#: :class:`~generec_desktop.jobs.TimedSteps`; measured on the shipped 2.8 M model revising a 10 s 1280×720 clip
#: (benchmarks/bench_mcvd.py, load average 5, CPU seconds). Only their ratios matter: the time of the first
#: denoising steps rescales them.
COST_S = {
    "load": 3.0,            # torch + diffusers imports, the profiles and the checkpoint
    "lowres_frame": 0.009,  # one low-resolution frame decoded and squashed
    "eval": 0.025,          # one UNet evaluation of one 64×64 block (classifier-free guidance runs two)
    "write_mpixel": 0.022,  # one megapixel of output frame: decode, add the change, encode
}


def workspace_checkpoint_dir(root: Path, condition: str = "user_hist") -> Path:
    """Where ``generec train mcvd`` writes the checkpoint of a workspace."""
    _check_condition(condition)
    return Path(root) / "models" / ("mcvd" if condition == "user_hist" else f"mcvd-{condition}")


def _check_condition(condition: str) -> None:
    if condition not in CONDITIONS:
        raise DiffusionError(f"Unknown condition {condition!r}; use one of {', '.join(CONDITIONS)}.")


def workspace_config(cond_dim: int, *, condition: str, encoder_id: str, **overrides: Any) -> MCVDConfig:
    """The model trained on a workspace: 64×64, 4 past + 4 predicted frames, ~2.8 M parameters.

    Smaller than :class:`MCVDConfig`'s default (9 M) so that it trains in minutes on two CPU cores and
    revises 16 frames in seconds; ``overrides`` change any field.
    """
    base: dict[str, Any] = dict(
        size=64, n_cond=4, n_pred=4, user_dim=cond_dim, block_out_channels=(32, 64, 128),
        attention_levels=(False, False, True), attention_head_dim=32, norm_num_groups=16, ema_decay=0.995,
        extra={"condition": condition, "encoder_id": encoder_id, "clip_fps": CLIP_FPS},
    )
    base.update(overrides)
    return MCVDConfig(**base)


# --- condition vectors ------------------------------------------------------------------------------


@dataclass
class ConditionSource:
    """Condition vectors of one kind for a workspace: per corpus user, and per audience id.

    ``audiences`` holds the vectors of audiences built from examples ("examples:<id>", User_Hist only: they
    have no recommender embedding); ``aliases`` maps what a person calls an audience ("segment 2",
    "cyclists", lower case) to its id.
    """

    condition: str
    encoder_id: str
    user_ids: np.ndarray        # (U,) corpus user ids
    vectors: np.ndarray         # (U, D) float32
    segment_of_user: np.ndarray  # (U,) segment index or -1
    audiences: dict[str, np.ndarray] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def user_vector(self, user_id: int) -> np.ndarray:
        idx = np.flatnonzero(self.user_ids == int(user_id))
        if idx.size == 0:
            raise DiffusionError(f"User {user_id} has no {self.condition} vector; rebuild the profiles.")
        return self.vectors[idx[0]]

    def audience_vector(self, audience_id: str) -> np.ndarray:
        """``"user:<id>"`` -> that user's vector; ``"segment:<k>"`` -> mean of its users' vectors;
        ``"examples:<id>"`` -> the example audience's User_Hist; a name ("Segment 2") -> its audience's."""
        audience_id = self.aliases.get(" ".join(str(audience_id).split()).casefold(), str(audience_id))
        if audience_id in self.audiences:
            return self.audiences[audience_id]
        aid = AudienceId.parse(audience_id)
        kind, n = (aid.kind, aid.number) if aid is not None else ("", -10**9)
        if kind == "user":
            return self.user_vector(n)
        if kind == "segment":
            members = self.vectors[self.segment_of_user == n]
            if len(members) == 0:
                raise DiffusionError(f"There is no audience {audience_id!r}; list them with `generec profiles list`.")
            v = members.mean(0)
            if self.condition == "user_hist":  # User_Hist vectors are unit vectors; keep the segment one so too
                v = v / max(float(np.linalg.norm(v)), 1e-8)
            return v.astype(np.float32)
        if kind == "examples":
            if self.condition != "user_hist":
                raise DiffusionError(f"An audience from examples has no recommender embedding ({self.condition}); "
                                     "use the user_hist condition for it.")
            raise DiffusionError(f"There is no audience {audience_id!r}; list them with `generec audiences list`.")
        raise DiffusionError(f"Audience ids look like 'segment:0', 'examples:1' or 'user:42', got {audience_id!r}.")


def condition_source(ws: Workspace, condition: str = "user_hist") -> ConditionSource:
    """Load the workspace's User_Hist profiles (and, for ``"user_emb"``, the recommender)."""
    from generec_desktop.profiles import load_profiles, load_recommender

    _check_condition(condition)
    prof = load_profiles(ws)
    aliases: dict[str, str] = {}
    for a in reversed(prof.audiences()):  # ids first, then names; segments win over users with the same name
        aliases[" ".join(a.name.split()).casefold()] = a.id
    if condition == "user_hist":
        extra = {a.id: np.asarray(a.vector, np.float32) for a in prof.audiences(users=False)
                 if a.kind == "examples"}
        return ConditionSource(condition, prof.encoder_id, prof.user_ids, prof.user_hist.astype(np.float32),
                               prof.user_segment, extra, aliases)
    rec = load_recommender(ws, encoder_id=prof.encoder_id)
    emb = np.asarray(rec.user_embeddings, dtype=np.float32)
    rows = [rec.user_index(int(u)) for u in prof.user_ids]
    vectors = emb[rows] if rows else np.zeros((0, emb.shape[1]), np.float32)
    return ConditionSource(condition, prof.encoder_id, prof.user_ids, vectors, prof.user_segment, {}, aliases)


#: How far the guidance target is pushed from the workspace's mean audience: ``u + push · (u − mean)``.
AUDIENCE_PUSH = 3.0


def audience_score(vector: Any, encoder_id: str, centre: Any | None = None, *,
                   push: float = AUDIENCE_PUSH) -> Any | None:
    """A differentiable score of clean frames toward a User_Hist-space ``vector`` (the ``audience_score`` of
    :func:`generec_desktop.diffusion.revise`), or None when the encoder has no torch version.

    The score is the mean over frames of the dot product of the built-in encoder's smooth blocks (colour
    layout, spectrum, edge layout, global colour statistics; :mod:`generec_desktop.encoders.builtin_torch`)
    with the same dimensions of the target ``u + push · (u − centre)``: toward the audience and, beyond it,
    away from what every audience shares (``centre``: the mean of the workspace's users' vectors; without
    it the target is ``u``). Guiding toward ``u`` alone raised every audience's score alike.
    """
    if not str(encoder_id).startswith("builtin"):
        return None
    import torch

    from generec_desktop.encoders.builtin_torch import partial_dims, partial_embedding

    v = np.asarray(vector, np.float32).reshape(-1)
    if centre is not None:
        v = v + float(push) * (v - np.asarray(centre, np.float32).reshape(-1))
    u = torch.from_numpy(v[partial_dims()].copy())

    def score(frames: Any) -> Any:
        return (partial_embedding(frames) @ u).mean()

    return score


# --- training ---------------------------------------------------------------------------------------


@dataclass
class TrainingData:
    """Clips of the workspace's liked videos and, per clip, the rows of ``source`` of the users who liked it."""

    clips: np.ndarray              # (N, T, 3, S, S) float32 in [-1, 1]
    clip_item: np.ndarray          # (N,) item id of each clip
    likers: list[np.ndarray]       # per clip: row indices into source.vectors
    source: ConditionSource
    clip_vectors: np.ndarray | None = None  # (N, D) each clip's own User_Hist-space vector (user_hist only)


def clip_vectors(clips: np.ndarray, encoder: Any) -> np.ndarray:
    """Each clip's normalised mean frame embedding: the User_Hist of a user who liked only that clip."""
    n, t = clips.shape[:2]
    frames = np.clip(np.rint((clips.transpose(0, 1, 3, 4, 2) + 1.0) * 127.5), 0, 255).astype(np.uint8)
    emb = encoder.encode_images(list(frames.reshape(n * t, *frames.shape[2:]))).reshape(n, t, -1).mean(1)
    return (emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-8)).astype(np.float32)


def training_data(ws: Workspace, source: ConditionSource, *, size: int = 64, max_clips_per_video: int = 8,
                  progress: Progress | None = None, cancel: CancelToken | None = None) -> TrainingData:
    """Cut every human video that some profiled user liked into clips (see the module docstring)."""
    from generec_desktop.diffusion.data import clips_from_videos

    row_of = {int(u): k for k, u in enumerate(source.user_ids)}
    likers: dict[int, set[int]] = {}
    for it in ws.interactions():
        if it.weight > 0 and int(it.user_id) in row_of:
            likers.setdefault(int(it.item_id), set()).add(row_of[int(it.user_id)])
    items = [it for it in ws.items("human") if it.id in likers]
    if not items:
        raise DiffusionError("No video of this workspace is liked by a profiled user; import interactions and "
                             "run `generec profiles build` first.")
    check_cancel(cancel)
    clips, owner = clips_from_videos([ws.media_path(it) for it in items], n_frames=CLIP_FRAMES, fps=CLIP_FPS,
                                     size=size, stride=CLIP_FRAMES // 2, max_clips_per_video=max_clips_per_video,
                                     progress=progress, cancel=cancel)
    if len(clips) == 0:
        raise DiffusionError(f"The liked videos are all shorter than {CLIP_FRAMES / CLIP_FPS:.1f} s; nothing to "
                             "train on.")
    item_ids = np.array([items[i].id for i in owner], np.int64)
    own = None
    if source.condition == "user_hist":
        from generec_desktop.encoders import get_encoder

        own = clip_vectors(clips, get_encoder(source.encoder_id, workspace_root=ws.root))
    return TrainingData(clips, item_ids, [np.array(sorted(likers[int(i)]), np.int64) for i in item_ids], source,
                        own)


class _Batches:
    """Batches for step ``start``, ``start + 1``, ...: each drawn from a generator seeded by (seed, step),
    so a resumed run sees exactly the batches an uninterrupted one would."""

    def __init__(self, data: TrainingData, batch_size: int, seed: int, start: int, self_condition: float = 0.0) -> None:
        self.data, self.batch_size, self.seed, self.step = data, batch_size, seed, start
        self.self_condition = float(self_condition) if data.clip_vectors is not None else 0.0

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        return self

    def __next__(self) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng([self.seed, self.step, 7919])
        self.step += 1
        idx = rng.integers(0, len(self.data.clips), self.batch_size)
        rows = [int(rng.choice(self.data.likers[i])) for i in idx]
        vectors = self.data.source.vectors[rows]
        if self.self_condition > 0:
            own = rng.random(self.batch_size) < self.self_condition
            vectors = np.where(own[:, None], self.data.clip_vectors[idx], vectors)
        return self.data.clips[idx], vectors


def train_workspace_mcvd(
    ws: Workspace,
    *,
    steps: int = 1000,
    condition: str = "user_hist",
    resume: bool = False,
    batch_size: int = 8,
    lr: float = 5e-4,
    seed: int = 0,
    checkpoint_dir: Path | None = None,
    checkpoint_every: int = 50,
    config_overrides: dict[str, Any] | None = None,
    self_condition: float = 0.5,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> TrainResult:
    """Train (or resume) the workspace's MCVD model; checkpoint in ``W/models/mcvd`` unless given.

    ``self_condition``: share of User_Hist examples conditioned on the clip's own embedding (module docstring).

    ``steps`` is the total; ``resume=True`` continues the run in the checkpoint folder up to it. Cancel
    checkpoints before raising :class:`~generec_desktop.jobs.Cancelled`, so a later ``resume`` loses nothing.
    """
    import time

    from generec_desktop.diffusion.checkpoint import TRAIN_STATE_NAME, read_checkpoint_info
    from generec_desktop.diffusion.train import train_mcvd

    ckpt = Path(checkpoint_dir) if checkpoint_dir is not None else workspace_checkpoint_dir(ws.root, condition)
    parts = Steps(progress, {"profiles": 1, "clips": 10, "train": 89})
    source = condition_source(ws, condition)
    start = 0
    config: MCVDConfig | None
    if resume:
        if not (ckpt / TRAIN_STATE_NAME).is_file():
            raise DiffusionError(f"Nothing to resume in {ckpt}; run `generec train mcvd` without --resume first.")
        info = read_checkpoint_info(ckpt)
        start = int(info.get("step", 0))
        saved = MCVDConfig.from_dict(info["config"])
        if saved.extra.get("condition") != condition or saved.user_dim != source.dim:
            raise DiffusionError(f"The checkpoint in {ckpt} was trained with another condition or encoder.")
        config, size = None, saved.size
    else:
        config = workspace_config(source.dim, condition=condition, encoder_id=source.encoder_id,
                                  **(config_overrides or {}))
        size = config.size
    data = training_data(ws, source, size=size, progress=parts["clips"], cancel=cancel)
    t0 = time.perf_counter()
    try:
        if not 0.0 <= self_condition <= 1.0:
            raise DiffusionError(f"self_condition must lie in [0, 1], got {self_condition}.")
        result = train_mcvd(_Batches(data, batch_size, seed, start, self_condition), None, config=config, steps=steps,
                            batch_size=batch_size, lr=lr, seed=seed, checkpoint_dir=ckpt,
                            checkpoint_every=checkpoint_every, resume=resume, progress=parts["train"], cancel=cancel)
    except Cancelled:
        info = read_checkpoint_info(ckpt) if (ckpt / "config.json").is_file() else {}
        _write_training_note(ckpt, data, start, int(info.get("step", start)), time.perf_counter() - t0,
                             info.get("final_loss"), cancelled=True, self_condition=self_condition)
        raise
    _write_training_note(ckpt, data, result.resumed_from, result.steps, time.perf_counter() - t0,
                         float(np.mean(result.losses[-50:])) if result.losses else None,
                         self_condition=self_condition)
    return result


def _write_training_note(ckpt: Path, data: TrainingData, from_step: int, to_step: int, seconds: float,
                         loss: float | None, *, cancelled: bool = False, self_condition: float = 0.0) -> None:
    """Append this run to ``training.json`` beside the checkpoint (data, steps, time), for the model card."""
    path = ckpt / "training.json"
    runs = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
    runs.append({"from_step": from_step, "to_step": to_step, "seconds": round(seconds, 1),
                 "seconds_per_step": round(seconds / max(1, to_step - from_step), 3), "cancelled": cancelled,
                 "clips": len(data.clips), "videos": len(set(data.clip_item.tolist())),
                 "users": len(data.source.user_ids), "loss": loss,
                 "self_condition": self_condition if data.clip_vectors is not None else 0.0})
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(runs, indent=2), encoding="utf-8")
    tmp.replace(path)


# --- discovery ----------------------------------------------------------------------------------------


def _compatible(folder: Path, condition: str, source: ConditionSource | None) -> bool:
    from generec_desktop.diffusion.config import read_checkpoint_info  # torch-free

    try:
        cfg = read_checkpoint_info(folder)["config"]
    except DiffusionError:
        return False
    extra = cfg.get("extra") or {}
    if extra.get("condition", "user_hist") != condition:
        return False
    if source is None:
        return True
    return int(cfg.get("user_dim", -1)) == source.dim and extra.get("encoder_id", source.encoder_id) == \
        source.encoder_id


def find_mcvd_checkpoint(workspace_root: Path | None = None, *, explicit: Path | None = None,
                         condition: str = "user_hist", source: ConditionSource | None = None) -> Path:
    """The checkpoint folder to use: ``explicit``, else the workspace's, else the shipped demo one.

    Raises :class:`DiffusionError` saying how to get one when none fits.
    """
    _check_condition(condition)
    if explicit is not None:
        from generec_desktop.diffusion.config import read_checkpoint_info  # torch-free

        read_checkpoint_info(explicit)  # raises a clear error if it is not a checkpoint
        return Path(explicit)
    candidates = []
    if workspace_root is not None:
        candidates.append(workspace_checkpoint_dir(Path(workspace_root), condition))
    candidates.append(REPO_MODELS_DIR / (DEMO_CHECKPOINT if condition == "user_hist" else
                                         f"{DEMO_CHECKPOINT}-{condition}"))
    for c in candidates:
        if (c / "config.json").is_file() and _compatible(c, condition, source):
            return c
    raise DiffusionError(f"No MCVD model conditioned on {condition} fits this workspace; train one with "
                         f"`generec train mcvd W{' --condition ' + condition if condition != 'user_hist' else ''}`.")


def load_workspace_model(ws: Workspace, *, checkpoint: Path | None = None, condition: str = "user_hist"
                         ) -> tuple[MCVD, ConditionSource, Path]:
    """Condition vectors of the workspace and the MCVD model found for them (eval mode)."""
    from generec_desktop.diffusion.checkpoint import load_checkpoint

    source = condition_source(ws, condition)
    folder = find_mcvd_checkpoint(ws.root, explicit=checkpoint, condition=condition, source=source)
    model = load_checkpoint(folder)
    if model.config.user_dim != source.dim:
        raise DiffusionError(f"The model in {folder} takes {model.config.user_dim}-value vectors but this "
                             f"workspace's {condition} vectors have {source.dim}; train one on this workspace.")
    return model, source, folder
