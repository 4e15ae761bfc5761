"""MCVD revision of a workspace video toward an audience (paper 5.1.3, issue 7.3).

1. Sample the video (or ``[start, end)``) at the model's frame rate (8 fps) and squash each frame to
   64×64 — the format the model was trained on.
2. SDEdit (:func:`generec_desktop.diffusion.revise`): noise the clip to ``strength``, denoise it block by
   block, each block conditioned on the audience's vector (classifier-free guidance ``guidance``) and on
   the frames already revised.
3. Full resolution: for every original frame the low-resolution *change* (revised − input) at its time,
   linearly interpolated between the two nearest model frames, is upsampled and added to the original
   frame, so the original detail stays where the model changed nothing; the audio is kept
   (:func:`generec_desktop.media.transform_video`).

Progress is the share of the expected *time* (:class:`~generec_desktop.jobs.TimedSteps`): once the first
denoising steps are timed, the fraction and so the "about N s left" of the jobs panel and the command line's
bar hold the measured estimate, writing the full-resolution frames included.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from generec_desktop.diffusion.config import (
    DEFAULT_AUDIENCE_WEIGHT,
    DEFAULT_KEYFRAME_STRIDE,
    DEFAULT_SAMPLER,
    DEFAULT_STEPS,
    SAMPLING_THREADS,
    DiffusionError,
)
from generec_desktop.jobs import CancelToken, Progress, TimedSteps, report

if TYPE_CHECKING:
    from generec_desktop.corpus.workspace import Workspace

__all__ = ["ReviseResult", "lowres_clip", "revise_item"]

#: Longest span revised by default (seconds): the model is autoregressive, so time grows with length.
DEFAULT_MAX_SECONDS = 12.0


@dataclass
class ReviseResult:
    """A revised video written to ``output``."""

    output: Path
    item_id: int
    audience: str
    condition: str
    strength: float
    guidance: float
    steps: int
    seed: int
    sampler: str
    keyframe_stride: int
    audience_guidance: float
    start: float
    end: float
    model_frames: int           # low-resolution frames the model revised
    mean_change: float          # mean absolute low-res change, grey levels (0 = unchanged)
    checkpoint: Path
    seconds: float
    width: int
    height: int


def lowres_clip(path: Path, *, fps: float, size: int, start: float = 0.0, end: float | None = None,
                max_frames: int | None = None, cancel: CancelToken | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """uint8 (T, size, size, 3) frames sampled at ``fps`` over ``[start, end)``, and their timestamps."""
    from generec_desktop import media
    from generec_desktop.diffusion import resize_frames

    info = media.probe(path)
    stop = info.duration if end is None else min(float(end), info.duration)
    n = int(np.floor((stop - start) * fps + 1e-6))
    if max_frames is not None:
        n = min(n, max_frames)
    if n < 1:
        raise DiffusionError(f"[{start:g}, {stop:g}) s of {Path(path).name} holds no frame at {fps:g} fps; "
                          "widen the range.")
    frames = media.sample_frames(path, timestamps=[start + k / fps for k in range(n)], max_side=256, cancel=cancel)
    stamps = np.array([f.timestamp for f in frames], np.float64)
    return resize_frames([f.image for f in frames], size), stamps


def _change_at(diff: np.ndarray, stamps: np.ndarray, t: float) -> np.ndarray:
    """The low-res change (int16 (h, w, 3)) at time ``t``, linearly interpolated between model frames."""
    k = int(np.searchsorted(stamps, t, side="right")) - 1
    if k < 0:
        return np.asarray(diff[0])
    if k >= len(stamps) - 1:
        return np.asarray(diff[-1])
    a = float((t - stamps[k]) / max(stamps[k + 1] - stamps[k], 1e-9))
    return np.asarray(np.rint((1.0 - a) * diff[k] + a * diff[k + 1]).astype(np.int16))


def _plan(item: Any, *, start: float, end: float | None, strength: float, steps: int, guided: bool,
          keyframe_stride: int, fps: float = 8.0, n_pred: int = 4) -> dict[str, tuple[float, float]]:
    """The parts of a revision and their guessed unit costs (:class:`TimedSteps`), from the catalogue's
    duration, size and frame rate of the item (rough values where it has none)."""
    duration = float(item.duration or 10.0)
    span = max(0.0, min(duration, end if end is not None else duration) - start)
    n_lo = max(1, int(np.floor(span * fps + 1e-6)))
    n_keys = -(-n_lo // max(1, keyframe_stride))
    n_steps = -(-n_keys // n_pred) * min(steps, round(float(strength) * steps))
    mpixels = float(item.width or 1280) * float(item.height or 720) / 1e6
    from generec_desktop.mcvd.workspace import COST_S

    return {"load": (1, COST_S["load"]), "sample": (n_lo, COST_S["lowres_frame"]),
            "revise": (n_steps, COST_S["eval"] * (2 if guided else 1)),
            "write": (span * float(item.fps or 25.0), COST_S["write_mpixel"] * mpixels)}


def revise_item(
    ws: Workspace,
    item_id: int,
    *,
    audience: str,
    out_path: str | Path,
    strength: float = 0.5,
    guidance_scale: float = 2.0,
    steps: int = DEFAULT_STEPS,
    seed: int = 0,
    sampler: str = DEFAULT_SAMPLER,
    keyframe_stride: int = DEFAULT_KEYFRAME_STRIDE,
    threads: int | None = SAMPLING_THREADS,
    audience_guidance: float = DEFAULT_AUDIENCE_WEIGHT,
    start: float = 0.0,
    end: float | None = None,
    max_seconds: float | None = DEFAULT_MAX_SECONDS,
    condition: str = "user_hist",
    checkpoint: Path | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> ReviseResult:
    """Revise item ``item_id`` toward ``audience`` ("segment:k" / "user:id") and write ``out_path``.

    ``strength`` in [0, 1]: the noise level the input is raised to (0 = unchanged, 1 = only the temporal
    context is kept). The output is an H.264 video at the original size and frame timing, audio kept.
    """
    t0 = time.perf_counter()
    item = ws.item(item_id)
    out = Path(out_path)
    src = ws.media_path(item)
    if out.resolve() == src.resolve():
        raise DiffusionError("The output must be a new file; originals are never modified.")
    if end is None and max_seconds is not None:
        end = start + max_seconds
    # first, so that the time of the heavy imports below counts as the job's ("load")
    parts = TimedSteps(progress, _plan(item, start=start, end=end, strength=strength, steps=steps,
                                       guided=guidance_scale != 1.0, keyframe_stride=keyframe_stride),
                       calibrate=("revise", "write"))
    import cv2

    from generec_desktop import media
    from generec_desktop.diffusion import revise as mcvd_revise
    from generec_desktop.mcvd.workspace import audience_score, load_workspace_model

    model, source, folder = load_workspace_model(ws, checkpoint=checkpoint, condition=condition)
    vector = source.audience_vector(audience)
    score = (audience_score(vector, source.encoder_id, source.vectors.mean(0))
             if audience_guidance > 0 and condition == "user_hist" and len(source.vectors) else None)
    report(parts["load"], 1.0, f"model {folder.name}")
    c = model.config
    fps = float(c.extra.get("clip_fps", 8.0))
    lo_in, stamps = lowres_clip(src, fps=fps, size=c.size, start=start, end=end, cancel=cancel)
    report(parts["sample"], 1.0, f"{len(lo_in)} frames at {fps:g} fps")
    lo_rev = mcvd_revise(model, lo_in, user_vector=vector, strength=strength, guidance_scale=guidance_scale,
                         steps=steps, seed=seed, sampler=sampler, keyframe_stride=keyframe_stride, threads=threads,
                         audience_score=score, audience_weight=audience_guidance if score is not None else 0.0,
                         progress=parts["revise"], cancel=cancel)
    diff = lo_rev.astype(np.int16) - lo_in.astype(np.int16)

    def _apply(frame: np.ndarray, t: float) -> np.ndarray:
        # The same arithmetic as diffusion.transfer_to_full_resolution, but with the change interpolated in
        # time: the model runs at 8 fps while the video has its own rate.
        up = cv2.resize(_change_at(diff, stamps, t), (frame.shape[1], frame.shape[0]), interpolation=cv2.INTER_LINEAR)
        return cv2.add(frame, up, dtype=cv2.CV_8U)

    span_end = float(stamps[-1]) + 1.0 / fps
    meta = {"comment": json.dumps({"generator": "generec-mcvd", "item": item_id, "audience": audience,
                                   "strength": strength, "guidance": guidance_scale, "steps": steps, "seed": seed,
                                   "sampler": sampler, "keyframe_stride": keyframe_stride,
                                   "audience_guidance": audience_guidance if score is not None else 0.0,
                                   "condition": condition})}
    info = media.transform_video(src, out, _apply, start=start, end=span_end, metadata=meta,
                                 progress=parts["write"], cancel=cancel)
    report(progress, 1.0, "done")
    return ReviseResult(
        output=out, item_id=item_id, audience=audience, condition=condition, strength=float(strength),
        guidance=float(guidance_scale), steps=steps, seed=seed, sampler=sampler, keyframe_stride=keyframe_stride,
        audience_guidance=float(audience_guidance) if score is not None else 0.0, start=float(start), end=span_end,
        model_frames=len(lo_in), mean_change=float(np.abs(diff).mean()), checkpoint=folder,
        seconds=time.perf_counter() - t0, width=info.width, height=info.height,
    )


def revise_params(result: ReviseResult) -> dict[str, Any]:
    """The parameters a version's lineage should record for this revision."""
    return {"operation": "mcvd_revise", "audience": result.audience, "condition": result.condition,
            "strength": result.strength, "guidance": result.guidance, "steps": result.steps, "seed": result.seed,
            "sampler": result.sampler, "keyframe_stride": result.keyframe_stride,
            "audience_guidance": result.audience_guidance,
            "start": result.start, "end": result.end, "checkpoint": str(result.checkpoint)}
