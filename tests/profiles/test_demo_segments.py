"""On the demo workspace, segments recover the hidden preference groups better than chance (ARI)."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory: pytest.TempPathFactory):
    from generec_desktop.demo import build_demo_workspace

    root = tmp_path_factory.mktemp("demo") / "ws"
    build_demo_workspace(root, seed=0, n_videos=8, n_users=120, size=(128, 72), sample_videos=False,
                         with_profiles=False)
    return root


def test_segments_recover_hidden_groups_better_than_chance(demo_ws):
    from sklearn.metrics import adjusted_rand_score

    from generec_desktop.corpus import Workspace
    from generec_desktop.demo import load_ground_truth
    from generec_desktop.profiles import build_profiles, load_profiles

    gt = load_ground_truth(demo_ws)
    with Workspace.open(demo_ws) as ws:
        ext = {u.id: u.external_id for u in ws.users()}
        ps = build_profiles(ws)  # the interactions were imported by the demo builder
        assert load_profiles(ws).encoder_id == ps.encoder_id
    truth = np.array([gt.users[ext[int(u)]].group for u in ps.user_ids])
    ari = adjusted_rand_score(truth, ps.user_segment)
    # Chance level, measured: ARI of the same segments against shuffled group labels.
    rng = np.random.default_rng(0)
    chance = [adjusted_rand_score(rng.permutation(truth), ps.user_segment) for _ in range(200)]
    print(f"demo ARI {ari:.3f}; chance 99th percentile {np.quantile(chance, 0.99):.3f}; "
          f"{len(ps.segments)} segments for {len(set(truth))} hidden groups")
    assert ari > 0.15
    assert ari > np.quantile(chance, 0.99)
    print([s.label for s in ps.segments])
    assert all(0 < len(s.label) <= 40 and "Demo" not in s.label and s.size > 0 for s in ps.segments)
    assert len({s.label for s in ps.segments}) == len(ps.segments)
    assert sum(s.size for s in ps.segments) == len(ps.user_ids)


def test_workspace_training_uses_cached_frames_of_every_video(demo_ws):
    """train_recommender samples FRAMES_PER_ITEM frames of each video for the visual pathway, through the
    encoders' embedding cache, so retraining decodes nothing."""
    from generec_desktop.corpus import Workspace
    from generec_desktop.profiles import load_recommender, train_recommender
    from generec_desktop.profiles.service import FRAMES_PER_ITEM

    with Workspace.open(demo_ws) as ws:
        n_videos = sum(1 for it in ws.items() if (it.duration or 0) > 0 and ws.media_path(it).is_file())
        model = train_recommender(ws, epochs=2)
        assert n_videos > 0 and model.metrics["n_frames"] == FRAMES_PER_ITEM * n_videos
        cached = list((ws.cache_dir / "embeddings").rglob("ts*.npz"))
        assert len(cached) == n_videos
        mtimes = {p: p.stat().st_mtime_ns for p in cached}
        again = train_recommender(ws, epochs=2, frames_per_item=FRAMES_PER_ITEM)
        assert again.metrics["n_frames"] == model.metrics["n_frames"]
        assert {p: p.stat().st_mtime_ns for p in cached} == mtimes  # cache hits, nothing rewritten
        assert load_recommender(ws).params["id_dropout"] == 0.5
        covers_only = train_recommender(ws, epochs=2, frames_per_item=0)
        assert covers_only.metrics["n_frames"] == 0 and covers_only.params["frame_prob"] == 0.0
