"""The data-loading seam: videos -> low-resolution training clips, through ``generec_desktop.media``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from generec_desktop.diffusion.config import DiffusionError
from generec_desktop.diffusion.frames import resize_frames, to_model_frames
from generec_desktop.jobs import CancelToken, Progress, check_cancel, report, sub_progress

__all__ = ["clips_from_videos"]


def clips_from_videos(
    paths: Sequence[str | Path],
    *,
    n_frames: int = 8,
    fps: float = 8.0,
    size: int = 64,
    stride: int | None = None,
    max_clips_per_video: int | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Cut every video into clips of ``n_frames`` frames sampled at ``fps``, resized to ``size × size``.

    Returns ``(clips, video_index)``: clips float32 (N, n_frames, 3, size, size) in [-1, 1] (the format of
    :func:`train_mcvd`), and for each clip the index of its video in ``paths`` (to look up its user vector).
    Windows start every ``stride`` sampled frames (default ``n_frames``, no overlap); a video shorter than
    one clip gives none. Frames are squashed to a square (aspect not kept) so that
    :func:`transfer_to_full_resolution` maps a change back by a plain resize.
    """
    from generec_desktop import media

    if n_frames < 1 or fps <= 0 or size < 8:
        raise DiffusionError("n_frames must be >= 1, fps > 0 and size >= 8.")
    stride = stride or n_frames
    clips: list[np.ndarray] = []
    owners: list[int] = []
    n = max(1, len(paths))
    for i, path in enumerate(paths):
        check_cancel(cancel)
        frames = media.sample_frames(
            path, rate=fps, max_side=max(4 * size, 256), progress=sub_progress(progress, i / n, (i + 1) / n),
            cancel=cancel,
        )
        small = to_model_frames(resize_frames([f.image for f in frames], size)) if frames else None
        taken = 0
        for start in range(0, len(frames) - n_frames + 1, stride):
            if max_clips_per_video is not None and taken >= max_clips_per_video:
                break
            assert small is not None
            clips.append(small[start : start + n_frames])
            owners.append(i)
            taken += 1
        report(progress, (i + 1) / n, f"{Path(path).name}: {taken} clips")
    if not clips:
        return np.empty((0, n_frames, 3, size, size), np.float32), np.empty(0, np.int64)
    return np.stack(clips), np.asarray(owners, dtype=np.int64)
