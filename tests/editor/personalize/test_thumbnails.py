"""Eq. 1 selection: score matrix, quality-gated candidates, diversity; ``personalize`` on the demo."""

from __future__ import annotations

import shutil

import numpy as np
import pytest


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def test_eq1_user_vector_and_argmax_match_the_paper_formula():
    from generec_desktop.editor.personalize.thumbnails import (
        build_candidates,
        score_matrix,
        select_thumbnails,
        user_vector,
    )

    rng = np.random.default_rng(0)
    liked = _unit(rng.normal(size=(7, 16)))
    frames = _unit(rng.normal(size=(30, 16)))
    t = user_vector(liked)
    assert np.allclose(t, _unit(liked.mean(axis=0)))
    s = score_matrix(t[None], frames)
    assert np.allclose(s[0], frames @ t, atol=1e-6)
    cand = build_candidates(30, [], np.ones(30, bool))
    chosen, ranked = select_thumbnails(s, cand, top_k=4)
    assert chosen[0] == int(np.argmax(frames @ t))
    assert ranked[0].tolist() == np.argsort(-(frames @ t))[:4].tolist()


def test_frames_failing_the_gates_are_never_chosen_and_shot_starts_are_candidates():
    from generec_desktop.editor.personalize.thumbnails import build_candidates, select_thumbnails

    s = np.array([[0.9, 0.1, 0.2, 0.3, 0.8, 0.5]], np.float32)
    passed = np.array([False, True, True, True, False, True])
    cand = build_candidates(6, [4], passed, regular_every=3)
    # regular samples 0 and 3, first passing frame of each shot: 1 (shot 0-3) and 5 (shot 4-5)
    assert cand.index.tolist() == [0, 1, 3, 5]
    assert cand.source == ("regular", "shot", "regular", "shot")
    chosen, _ = select_thumbnails(s, cand)
    assert chosen.tolist() == [5]  # 0 and 4 score higher but failed a gate
    relaxed = build_candidates(6, [], np.zeros(6, bool))
    assert relaxed.gates_relaxed and relaxed.eligible.all()


def test_diversity_spreads_near_ties_but_not_clear_winners():
    from generec_desktop.editor.personalize.thumbnails import build_candidates, select_thumbnails

    emb = np.eye(4, dtype=np.float32)
    cand = build_candidates(4, [], np.ones(4, bool))
    near = np.array([[1.0, 0.98, 0.0, 0.0], [1.0, 0.99, 0.0, 0.0]], np.float32)
    same, _ = select_thumbnails(near, cand)
    assert same.tolist() == [0, 0]
    spread, _ = select_thumbnails(near, cand, frame_embeddings=emb, diversity=0.1)
    assert sorted(spread.tolist()) == [0, 1]
    clear = np.array([[1.0, 0.2, 0.0, 0.0], [1.0, 0.3, 0.0, 0.0]], np.float32)
    kept, _ = select_thumbnails(clear, cand, frame_embeddings=emb, diversity=0.1)
    assert kept.tolist() == [0, 0]


def test_mismatched_encoder_dimensions_are_a_clear_error():
    from generec_desktop.editor.personalize.errors import EditorError
    from generec_desktop.editor.personalize.thumbnails import score_matrix

    with pytest.raises(EditorError, match="same encoder"):
        score_matrix(np.ones((2, 8)), np.ones((5, 16)))


def test_personalize_on_the_demo_one_pass_for_all_audiences(small_demo):
    from generec_desktop.corpus import Workspace
    from generec_desktop.demo import load_ground_truth
    from generec_desktop.editor.personalize.pipeline import personalize
    from generec_desktop.profiles import load_profiles

    gt = load_ground_truth(small_demo)
    item = next(it for it in gt.items.values() if len(it.segments) >= 3)
    with Workspace.open(small_demo) as ws:
        ps = load_profiles(ws)
        ids = [a.id for a in ps.audiences()][:6]
        # other tests share this demo: start from a cold analysis cache for this item
        shutil.rmtree(ws.cache_dir / "editor" / ws.item(item.item_id).sha256, ignore_errors=True)
        calls = []
        res = personalize(ws, item.external_id, ids, aspects=("9:16", "1:1"),
                          progress=lambda f, m="": calls.append(f))
        again = personalize(ws, item.item_id, ids[:2], generate=False)
    assert calls and calls[-1] == 1.0 and all(0 <= f <= 1 for f in calls)
    n = len(res.sample_times)
    assert res.scores.shape == (len(ids), n)
    assert not res.from_cache and again.from_cache  # the second call decodes/encodes nothing new
    # float32 cosines: a product of 2 rows and one of 6 may round differently (BLAS picks its kernel by
    # shape; 6.7e-8 seen on an AMD EPYC), so the tolerance is absolute, a few float32 steps
    assert np.allclose(again.scores, res.scores[:2], rtol=0, atol=1e-6)
    true_cuts = np.array([t["time"] for t in item.transitions if t["kind"] == "cut"])
    # coarse cuts: the new shot surely starts at cut_times, the old one surely ends by cut_ends
    assert res.cut_times.shape == true_cuts.shape
    assert np.all(res.cut_times >= true_cuts - 1e-6) and np.all(res.cut_times < true_cuts + 0.5)
    for a, row in zip(res.audiences, res.scores):
        assert [c.score for c in a.candidates] == sorted((c.score for c in a.candidates), reverse=True)
        assert a.thumbnail.score == pytest.approx(a.candidates[0].score)
        assert a.thumbnail.score == pytest.approx(row[[c.sample for c in a.candidates]].max())
        assert a.thumbnail.image.ndim == 3 and a.thumbnail.image.dtype == np.uint8
        assert set(a.baselines) == {"original", "random"}
        assert a.generated is not None and a.generated.image.shape == a.thumbnail.image.shape
        h, w = a.generated.variants["9:16"].shape[:2]
        assert abs(w / h - 9 / 16) < 0.05
        assert a.clip is not None and 0 <= a.clip.start < a.clip.end <= item.duration + 1e-6


def test_generated_thumbnail_moves_toward_the_audience_palette():
    import skimage.data

    from generec_desktop.editor.personalize.thumbgen import palette_stats, transfer_palette

    frame = skimage.data.astronaut()
    liked = [skimage.data.coffee(), skimage.data.chelsea()]
    target = palette_stats(liked)
    before = palette_stats([frame])
    out = transfer_palette(frame, target, strength=0.6)
    after = palette_stats([out])
    assert np.linalg.norm(after.mean - target.mean) < 0.6 * np.linalg.norm(before.mean - target.mean)
    assert out.shape == frame.shape and out.dtype == np.uint8
    assert np.array_equal(transfer_palette(frame, target, strength=0.0), frame) or \
        np.abs(transfer_palette(frame, target, strength=0.0).astype(int) - frame).max() <= 2


def test_selection_default_differs_from_eq1_and_keeps_a_moved_vector(small_demo):
    """The default selection scores frames in the centred space (not Eq. 1's raw cosine); ``eq1`` is the
    paper's; a target whose vector was moved (e.g. toward words) keeps its own vector instead of its
    audience's, and a raw vector with no audience is mapped into the same space."""
    import numpy as np

    from generec_desktop.corpus import Workspace
    from generec_desktop.demo import load_ground_truth
    from generec_desktop.editor.personalize.pipeline import Target, personalize
    from generec_desktop.profiles import load_profiles

    item = next(iter(load_ground_truth(small_demo).items.values()))
    with Workspace.open(small_demo) as ws:
        ps = load_profiles(ws)
        seg = ps.audiences(users=False, examples=False)[0]
        plain = personalize(ws, item.item_id, [seg.id], generate=False, clips=False)
        eq1 = personalize(ws, item.item_id, [seg.id], generate=False, clips=False, selection="eq1")
        other = ps.audiences(users=False, examples=False)[1].vector
        moved = Target(seg.id, (seg.vector + other).astype(np.float32), seg.title)
        steered = personalize(ws, item.item_id, [moved], generate=False, clips=False)
        outside = personalize(ws, item.item_id, [("outside", seg.vector)], generate=False, clips=False)
    assert plain.selection == "centred" and eq1.selection == "eq1"
    assert not np.allclose(plain.scores, eq1.scores)
    frames = eq1.scores[0]  # Eq. 1: the stored User_Hist times the raw frames
    assert np.corrcoef(frames, plain.scores[0])[0, 1] < 0.999
    assert not np.allclose(steered.scores, plain.scores)
    assert outside.scores.shape == plain.scores.shape and np.all(np.abs(outside.scores) <= 1.0 + 1e-5)
