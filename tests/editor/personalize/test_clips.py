"""Eq. 2 done right (all N - L + 1 windows), snapping, and frame-exact export with audio."""

from __future__ import annotations

import numpy as np
import pytest


def test_window_scores_cover_every_start_and_equal_brute_force():
    from generec_desktop.editor.personalize.clips import clip_window_scores

    rng = np.random.default_rng(1)
    s = rng.normal(size=(3, 23)).astype(np.float32)
    for L in (1, 4, 8, 23):
        w = clip_window_scores(s, L)
        assert w.shape == (3, 23 - L + 1)
        brute = np.array([[s[a, i:i + L].mean() for i in range(23 - L + 1)] for a in range(3)])
        assert np.allclose(w, brute, atol=1e-5)
    assert clip_window_scores(s, 40).shape == (3, 1)  # L > N: the whole video


def test_eq2_picks_the_window_the_audience_likes_and_snaps_to_cuts():
    from generec_desktop.editor.personalize.clips import select_clips

    n, rate = 40, 4.0
    times = np.arange(n) / rate
    frame_times = np.arange(n * 6) / 24.0
    s = np.zeros((1, n), np.float32)
    s[0, 21:29] = 1.0  # the liked shot starts at sample 21 (5.25 s) and a cut is at 5.2 s
    clip = select_clips(s, times, frame_times, 10.0, window=8, cuts=np.array([5.2]), sample_period=1 / rate)[0]
    assert clip.first_sample == 21 and clip.window == 8
    assert clip.snapped_start and clip.start == pytest.approx(5.2083333, abs=1e-6)  # the frame at/after 5.2
    assert clip.end == pytest.approx(7.25)
    assert np.isclose(frame_times, clip.start).any() and np.isclose(frame_times, clip.end).any()
    short = select_clips(s, times, frame_times, 10.0, window=2, sample_period=1 / rate, min_duration=3.0)[0]
    assert short.duration >= 3.0 - 1e-9
    long = select_clips(s, times, frame_times, 10.0, window=8, sample_period=1 / rate, max_duration=1.0)[0]
    assert long.duration <= 1.0 + 1e-9


def test_exported_clip_has_exact_duration_keeps_audio_and_decodes(small_demo, tmp_path):
    from generec_desktop import media
    from generec_desktop.corpus import Workspace
    from generec_desktop.demo import load_ground_truth
    from generec_desktop.editor.personalize.clips import export_clip
    from generec_desktop.editor.personalize.pipeline import personalize

    gt = load_ground_truth(small_demo)
    item = next(iter(gt.items.values()))
    with Workspace.open(small_demo) as ws:
        res = personalize(ws, item.external_id, ["segment:0"], thumbnails=False, generate=False, min_clip=2.0)
        src = ws.media_path(item.item_id)
    clip = res.audiences[0].clip
    out = export_clip(src, clip, tmp_path / "clip.mp4")
    expected = round(clip.duration * item.fps)
    assert out.frame_count == expected
    assert out.duration == pytest.approx(clip.duration, abs=1e-3)
    assert out.has_audio and out.audio_duration == pytest.approx(clip.duration, abs=0.05)
    frames = media.decode_range(out.path, 0, None)
    assert len(frames) == expected
    # the first exported frame is the source frame at the clip start
    ref = media.sample_frames(src, timestamps=[clip.start])[0].image.astype(int)
    assert np.abs(frames[0].image.astype(int) - ref).mean() < 6
    vertical = export_clip(src, clip, tmp_path / "vertical.mp4", reframe="9:16")
    assert vertical.frame_count == expected and vertical.has_audio
    assert abs(vertical.width / vertical.height - 9 / 16) < 0.06
