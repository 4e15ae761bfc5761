"""MCVD configuration and errors (no torch here, so it is cheap to import)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generec_desktop.jobs import GenerecError

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
    "CONFIG_NAME",
    "DEFAULT_AUDIENCE_WEIGHT",
    "DEFAULT_KEYFRAME_STRIDE",
    "DEFAULT_SAMPLER",
    "DEFAULT_STEPS",
    "SAMPLING_THREADS",
    "DiffusionError",
    "MCVDConfig",
    "read_checkpoint_info",
]

#: The ``format`` tag written into a checkpoint's ``config.json``.
CHECKPOINT_FORMAT = "generec-mcvd"
CHECKPOINT_VERSION = 1
CONFIG_NAME = "config.json"

# Sampling defaults shared by `generec revise` / `create`, the window and `generec eval --mcvd` (so the evaluation
# measures what a user gets). Chosen in issue 20 from benchmarks/bench_mcvd.py and `generec eval --mcvd` on the
# demo (numbers in models/mcvd-demo/MODEL_CARD.md, "Speed"): DDIM with 10 steps gave the Cosine@5 of 25 steps
# (User_Hist .5014 vs .5037, gaps to Other_User / Unconditional +.014 / +.006 vs +.012 / +.006) with 2.5×
# fewer denoising steps; DPM-Solver++ at 10 steps measured the same within noise (.5034, +.013 / +.005); a
# keyframe stride of 2 lost 40 % of the gain over the original (.4852 vs .5014), so it stays a choice
# (--keyframe-stride), not the default.
#: Sampler of the full schedule ("ddim" or "dpm").
DEFAULT_SAMPLER = "ddim"
#: Steps of the full schedule; a revision at strength s runs round(s · steps) of them per block.
DEFAULT_STEPS = 10
#: A revision runs the model on every k-th low-resolution frame (8 fps / k) and interpolates the change in time
#: between them: k times fewer autoregressive blocks.
DEFAULT_KEYFRAME_STRIDE = 1
#: Classifier guidance by the audience's score of the predicted clean frames (``mcvd.workspace.audience_score``):
#: how far the clean frames move along its gradient per step (model units, RMS); 0 = off. Measured on the demo
#: (DDIM 10 steps, strength 0.5): 0.02 raised Cosine@5 of User_Hist − Other_User from +.014 to +.063 and
#: User_Hist − Unconditional from +.006 to +.036, PS@5 from −.515 to −.424 (original −.532), Fréchet .121
#: (1.27× the unconditional revision's); 0.04 reached +.074 / +.044 but Fréchet 1.54×, over the 1.5× limit.
DEFAULT_AUDIENCE_WEIGHT = 0.02
#: torch intra-op threads while sampling. The models are small (2.8 M parameters at 64×64, batch 2): on the
#: shared 2-core machine two threads spun instead of working — a 10 s clip's 240 denoising steps took 181 s with
#: two threads and 13 s with one (load average 5-7).
SAMPLING_THREADS = 1


class DiffusionError(GenerecError):
    """Bad input to the MCVD model (wrong shapes, missing or damaged checkpoint, bad parameters)."""


@dataclass
class MCVDConfig:
    """Everything needed to rebuild an MCVD model; stored as JSON beside its weights.

    Frames are stacked in channels: the UNet sees ``n_cond`` past frames, ``n_future`` future frames and
    ``n_pred`` noisy frames (``3 * (n_cond + n_future + n_pred)`` channels) and predicts the noise of the
    ``n_pred`` frames. Past and future frames are each masked (zeroed) with probability ``p_mask`` in
    training, so one model predicts (past only), generates (nothing) and interpolates (past + future).
    The condition (user vector, plus an instruction vector when ``instruction_dim > 0``) is projected to the
    timestep-embedding width and added to it (UNet2DModel ``class_embed_type="identity"``); in training it is
    replaced by a learned null vector with probability ``p_uncond`` for classifier-free guidance.
    """

    size: int = 64
    n_cond: int = 4
    n_pred: int = 4
    n_future: int = 0
    user_dim: int = 64
    instruction_dim: int = 0
    block_out_channels: tuple[int, ...] = (64, 128, 128, 192)
    layers_per_block: int = 1
    attention_levels: tuple[bool, ...] = (False, False, True, True)
    attention_head_dim: int = 32
    norm_num_groups: int = 16
    p_mask: float = 0.5
    p_uncond: float = 0.1
    num_train_timesteps: int = 1000
    beta_schedule: str = "linear"
    ema_decay: float = 0.999
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.block_out_channels = tuple(int(c) for c in self.block_out_channels)
        self.attention_levels = tuple(bool(a) for a in self.attention_levels)
        problems = []
        if len(self.block_out_channels) != len(self.attention_levels):
            problems.append("block_out_channels and attention_levels must have the same length")
        if self.size % (2 ** (len(self.block_out_channels) - 1)) != 0:
            problems.append("size must be divisible by 2 ** (number of levels - 1)")
        if any(c % self.norm_num_groups for c in self.block_out_channels):
            problems.append("every block_out_channels entry must be a multiple of norm_num_groups")
        if self.n_pred < 1 or self.n_cond < 0 or self.n_future < 0:
            problems.append("n_pred must be >= 1 and n_cond, n_future >= 0")
        if self.user_dim < 1 or self.instruction_dim < 0:
            problems.append("user_dim must be >= 1 and instruction_dim >= 0")
        if not (0.0 <= self.p_mask <= 1.0 and 0.0 <= self.p_uncond <= 1.0):
            problems.append("p_mask and p_uncond must lie in [0, 1]")
        if problems:
            raise DiffusionError(f"Invalid MCVD configuration: {'; '.join(problems)}.")

    @property
    def window(self) -> int:
        """Frames one training example spans: past + predicted + future."""
        return self.n_cond + self.n_pred + self.n_future

    @property
    def cond_dim(self) -> int:
        """Width of the condition vector: user vector, then the instruction vector if any."""
        return self.user_dim + self.instruction_dim

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["block_out_channels"] = list(self.block_out_channels)
        d["attention_levels"] = list(self.attention_levels)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MCVDConfig:
        """Build from a dict, rejecting unknown keys (a newer or foreign checkpoint)."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise DiffusionError(f"Unknown MCVD configuration keys {unknown}; the checkpoint is from a newer version.")
        return cls(**data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_json(cls, text: str) -> MCVDConfig:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DiffusionError(f"The MCVD configuration is not valid JSON ({exc.msg}).") from exc
        if not isinstance(data, dict):
            raise DiffusionError("The MCVD configuration must be a JSON object.")
        return cls.from_dict(data)

    @classmethod
    def tiny(cls, **overrides: Any) -> MCVDConfig:
        """A very small model (32×32, ~0.3 M parameters) for tests."""
        base: dict[str, Any] = dict(
            size=32, n_cond=2, n_pred=2, user_dim=8, block_out_channels=(16, 32),
            attention_levels=(False, True), attention_head_dim=8, norm_num_groups=8, ema_decay=0.9,
        )
        base.update(overrides)
        return cls(**base)

    def save(self, path: Path) -> None:
        Path(path).write_text(self.to_json(), encoding="utf-8")


def read_checkpoint_info(directory: str | Path) -> dict[str, Any]:
    """The parsed ``config.json`` of a checkpoint (format checked), without loading weights."""
    path = Path(directory) / CONFIG_NAME
    if not path.is_file():
        raise DiffusionError(f"{directory} is not an MCVD checkpoint (no {CONFIG_NAME}); pick a checkpoint folder.")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DiffusionError(f"The checkpoint configuration {path} is unreadable ({exc}).") from exc
    if not isinstance(doc, dict) or doc.get("format") != CHECKPOINT_FORMAT:
        raise DiffusionError(f"{path} is not a {CHECKPOINT_FORMAT} checkpoint configuration.")
    if int(doc.get("version", 0)) > CHECKPOINT_VERSION:
        raise DiffusionError(f"The checkpoint {directory} was written by a newer version; update GeneRec Desktop.")
    return doc
