"""The pure content generator: plans, frames, audio, simulated users and likes (no encoding)."""

from __future__ import annotations

import numpy as np
import pytest

from generec_desktop.demo import CATEGORIES, PHOTOS, DemoError, load_photo
from generec_desktop.demo.content import (
    GROUPS,
    plan_videos,
    render_frame,
    simulate_interactions,
    simulate_users,
    synth_audio,
)


def test_every_photo_loads_offline_and_every_category_has_several() -> None:
    for photo in PHOTOS:
        image = load_photo(photo.name)
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3, photo.name
        assert min(image.shape[:2]) >= 100, photo.name
        assert image.std() > 10, photo.name  # a real picture, not a flat fill
    for cat in CATEGORIES:
        assert sum(p.category == cat for p in PHOTOS) >= 2, cat


def test_plans_are_deterministic_and_well_formed() -> None:
    plans = plan_videos(30, seed=3)
    assert plans == plan_videos(30, seed=3)
    assert plans != plan_videos(30, seed=4)
    for plan in plans:
        assert 6 * 25 <= plan.n_frames <= 12 * 25
        assert 2 <= len(plan.segments) <= 4
        cats = [s.category for s in plan.segments]
        assert len(set(cats)) == len(cats), "segments of one video show different categories"
        assert plan.segments[0].start_frame == 0 and plan.segments[-1].end_frame == plan.n_frames
        for a, b in zip(plan.segments, plan.segments[1:]):
            assert a.end_frame == b.start_frame
        assert all(s.end_frame - s.start_frame >= 50 for s in plan.segments)
        # Any cover taken from the first 25% of the video shows the first segment.
        assert plan.segments[0].end_frame - plan.crossfade_frames / 2 > plan.n_frames / 4
        assert plan.segment_at(plan.cover_frame) == 0
        assert abs(sum(plan.category_shares().values()) - 1.0) < 1e-5
    used = {s.category for p in plans for s in p.segments}
    assert used == set(CATEGORIES)
    assert any(p.crossfade_frames for p in plans) and any(not p.crossfade_frames for p in plans)
    assert any(p.attach_cover for p in plans) and any(not p.attach_cover for p in plans)


@pytest.mark.parametrize("kwargs", [{"n_videos": 0}, {"n_videos": 2, "seed": -1},
                                    {"n_videos": 2, "size": (641, 360)}])
def test_bad_plan_arguments_raise_demo_error(kwargs: dict) -> None:
    with pytest.raises(DemoError):
        plan_videos(**kwargs)


def _mad(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def test_frames_pan_slowly_within_a_segment_and_change_at_a_hard_cut() -> None:
    plan = next(p for p in plan_videos(20, seed=0, size=(320, 180)) if not p.crossfade_frames)
    cut = plan.segments[1].start_frame
    before, last, after = (render_frame(plan, k) for k in (cut - 2, cut - 1, cut))
    assert before.shape == (180, 320, 3) and before.dtype == np.uint8
    assert _mad(before, last) < 8.0, "consecutive frames of one segment are nearly the same"
    assert _mad(last, after) > 3 * max(1.0, _mad(before, last)), "a hard cut changes the picture"
    first, end = render_frame(plan, 0), render_frame(plan, plan.segments[0].end_frame - 1)
    assert _mad(first, end) > 1.0, "the camera moves over a segment"


def test_crossfade_blends_both_photos_at_the_boundary() -> None:
    plan = next(p for p in plan_videos(20, seed=0, size=(320, 180)) if p.crossfade_frames)
    b = plan.segments[1].start_frame
    half = plan.crossfade_frames // 2
    mid = render_frame(plan, b).astype(np.float32)
    outside_a = render_frame(plan, b - half - 1).astype(np.float32)
    outside_b = render_frame(plan, b + half + 1).astype(np.float32)
    # At the boundary the frame lies between the two photos (neither alone).
    assert _mad(mid, outside_a) > 2 and _mad(mid, outside_b) > 2
    assert _mad(mid, (outside_a + outside_b) / 2) < min(_mad(mid, outside_a), _mad(mid, outside_b))


def test_audio_has_the_video_length_and_changes_at_cuts() -> None:
    plan = plan_videos(1, seed=1)[0]
    audio = synth_audio(plan, 48000)
    assert audio.dtype == np.int16 and audio.shape == (round(plan.duration * 48000), 2)
    cut = round(plan.segments[1].start_frame / plan.fps * 48000)
    spec_a = np.abs(np.fft.rfft(audio[cut - 9600: cut - 4800, 0].astype(float)))
    spec_b = np.abs(np.fft.rfft(audio[cut + 4800: cut + 9600, 0].astype(float)))
    assert np.argmax(spec_a) != np.argmax(spec_b), "each segment has its own chord"


def test_users_fill_every_group_with_a_quarter_in_pairs() -> None:
    users = simulate_users(240, seed=0)
    assert users == simulate_users(240, seed=0)
    assert len({u.external_id for u in users}) == 240
    groups = {u.group for u in users}
    assert groups == set(GROUPS)
    pairs = sum(len(u.preferred) == 2 for u in users)
    assert 0.2 * 240 <= pairs <= 0.3 * 240
    with pytest.raises(DemoError):
        simulate_users(3)


def test_likes_follow_the_hidden_preferences() -> None:
    plans = plan_videos(40, seed=0)
    users = simulate_users(240, seed=0)
    likes = simulate_interactions(users, plans, extra_items=["sample-x"], seed=0)
    assert likes == sorted(likes) and likes == simulate_interactions(users, plans, extra_items=["sample-x"],
                                                                     seed=0)
    shares = {p.external_id: p.category_shares() for p in plans}
    liked = {(i.user, i.item) for i in likes}
    hit = {True: [0, 0], False: [0, 0]}  # shows a preferred category -> [likes, pairs]
    for u in users:
        for p in plans:
            shows = any(shares[p.external_id].get(c, 0.0) >= 0.2 for c in u.preferred)
            hit[shows][1] += 1
            hit[shows][0] += (u.external_id, p.external_id) in liked
    rate_pref, rate_other = hit[True][0] / hit[True][1], hit[False][0] / hit[False][1]
    assert rate_pref > 0.4 and rate_other < 0.1, (rate_pref, rate_other)
    assert all(0 < i.weight <= 1 for i in likes)
    assert any(i.item == "sample-x" for i in likes)
    assert len({u.external_id for u in users} - {i.user for i in likes}) < 5, "nearly every user likes something"
