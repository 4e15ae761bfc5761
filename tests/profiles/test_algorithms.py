"""Pure algorithms on arrays: User_Hist (Eq. 1), segments on planted groups, the BPR recommender."""

from __future__ import annotations

import numpy as np
import pytest

from generec_desktop.jobs import Cancelled, CancelToken
from generec_desktop.profiles.algorithms import cluster_users, describe_segments, user_hist
from generec_desktop.profiles.errors import ProfilesError
from generec_desktop.profiles.recommender import InteractionArrays, Recommender, auc, train_arrays
from generec_desktop.profiles.synthetic import planted, split_holdout


def test_user_hist_is_eq1_normalised_mean():
    rng = np.random.default_rng(1)
    emb = rng.normal(size=(5, 8)).astype(np.float32)
    users = np.array([0, 0, 1, 2, 2, 2])
    items = np.array([1, 3, 4, 0, 1, 2])
    out = user_hist(users, items, emb, n_users=4)
    for u in range(3):
        mean = emb[items[users == u]].mean(0)
        np.testing.assert_allclose(out[u], mean / np.linalg.norm(mean), rtol=1e-5)
    assert not out[3].any()  # a user without likes has no direction
    w = np.array([1, 3, 1, 1, 1, 1], np.float32)
    out_w = user_hist(users, items, emb, 4, w)
    m = emb[1] + 3 * emb[3]
    np.testing.assert_allclose(out_w[0], m / np.linalg.norm(m), rtol=1e-5)


def test_segments_recover_planted_groups_and_are_labelled():
    from sklearn.metrics import adjusted_rand_score

    d = planted(240, 120, 3000, n_groups=4, feature_dim=16, seed=3)
    a = d.arrays
    hist = user_hist(a.user_idx, a.item_idx, a.item_features, a.n_users)
    assign = cluster_users(hist, k_range=range(2, 7), seed=0)  # k chosen by silhouette
    ari = adjusted_rand_score(d.user_group, assign)
    assert ari > 0.7, ari
    assert np.unique(assign).size == 4
    names = [f"Video {k:03d}: g{g}-topic, everyday" for k, g in enumerate(d.item_group)]
    segs = describe_segments(assign, a.user_idx, a.item_idx, names)
    assert sum(s.size for s in segs) == a.n_users
    for s in segs:
        members = assign == s.index
        majority = np.bincount(d.user_group[members]).argmax()
        # the over-represented word leads; words every title has ("video", "everyday") and numbers never show
        assert s.label.split(" · ")[0] == f"g{majority}-topic", (s.label, majority)
        assert "video" not in s.label and "everyday" not in s.label and "0" not in s.label.replace("g0", "")
        assert all(d.item_group[i] == majority for i in s.top_items)
    assert len({s.label for s in segs}) == len(segs)


def test_segment_labels_are_short_and_unique_even_for_twin_segments():
    # Two segments liking exactly the same items (same words) and very long names.
    names = ["Demo 001: supercalifragilisticexpialidocious-astronaut, camera, coffee",
             "Demo 002: retina, orbital-mechanics-lecture, telescope", "Demo 003: kitten, garden, sunflower"]
    assignment = np.array([0, 1, 2, 2])
    user_idx = np.array([0, 0, 1, 1, 2, 3])
    item_idx = np.array([0, 1, 0, 1, 2, 2])
    segs = describe_segments(assignment, user_idx, item_idx, names)
    labels = [s.label for s in segs]
    print(labels)
    assert len(set(labels)) == 3
    assert all(0 < len(x) <= 40 for x in labels)
    assert {"kitten", "garden", "sunflower"} <= set(labels[2].split(" · "))
    # Names without any word still give a label, never the file name itself.
    assert describe_segments(np.array([0]), np.array([0]), np.array([0]), ["123"])[0].label == "no distinct tags"


def test_frame_augmentation_teaches_the_visual_pathway_what_covers_do_not_show():
    """Covers carry no group signal, other frames do: only a model trained on frames scores a frame of the
    user's group above a frame of another group (what PS@K of a personalised thumbnail needs)."""
    d = planted(200, 120, 3000, n_groups=4, feature_dim=32, seed=0)
    a = d.arrays
    rng = np.random.default_rng(5)
    covers = rng.normal(size=a.item_features.shape).astype(np.float32)
    covers /= np.linalg.norm(covers, axis=1, keepdims=True)
    n_frames = 4
    frames = np.repeat(a.item_features, n_frames, 0) + 0.3 * rng.normal(size=(a.n_items * n_frames, 32)) / np.sqrt(32)
    frame_item = np.repeat(np.arange(a.n_items), n_frames)
    users = np.arange(200)
    item = np.zeros(200, np.int64)
    wins = {}
    for name, extra in (("covers", {}), ("frames", {"frame_features": frames, "frame_item": frame_item})):
        data = InteractionArrays(a.user_idx, a.item_idx, a.n_users, a.n_items, item_features=covers, **extra)
        model = train_arrays(data, dim=16, epochs=5, batch_size=1024, seed=0)
        own = model.score(users, item, d.group_centroids[d.user_group])
        other = model.score(users, item, d.group_centroids[(d.user_group + 1) % 4])
        wins[name] = float((own > other).mean())
        if name == "frames":
            assert model.metrics["n_frames"] == a.n_items * n_frames
    print(wins)
    assert wins["frames"] > 0.8
    assert wins["covers"] < 0.7


def test_frame_arrays_are_validated():
    d = planted(20, 10, 60, feature_dim=8, seed=0)
    a = d.arrays
    with pytest.raises(ProfilesError):
        InteractionArrays(a.user_idx, a.item_idx, 20, 10, item_features=a.item_features,
                          frame_features=np.zeros((3, 8)))
    with pytest.raises(ProfilesError):
        InteractionArrays(a.user_idx, a.item_idx, 20, 10, item_features=a.item_features,
                          frame_features=np.zeros((3, 7)), frame_item=np.zeros(3))
    with pytest.raises(ProfilesError):
        InteractionArrays(a.user_idx, a.item_idx, 20, 10, item_features=a.item_features,
                          frame_features=np.zeros((3, 8)), frame_item=np.array([0, 1, 10]))
    with pytest.raises(ProfilesError):
        train_arrays(a, epochs=1, id_dropout=1.0)


def test_recommender_learns_planted_preferences_and_thumbnail_features(tmp_path):
    d = planted(200, 120, 3000, n_groups=4, feature_dim=32, seed=0)
    train, hu, hi = split_holdout(d.arrays)
    fractions = []
    model = train_arrays(train, dim=32, epochs=8, batch_size=1024, seed=0,
                         progress=lambda f, m: fractions.append(f))
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert model.user_embeddings.shape == (200, 32)
    assert auc(model, hu, hi, train) > 0.75
    # PS@K: the same item shown with a thumbnail of the user's group scores higher than with another group's.
    users = np.arange(200)
    item = np.zeros(200, np.int64)
    own = model.score(users, item, d.group_centroids[d.user_group])
    other = model.score(users, item, d.group_centroids[(d.user_group + 1) % 4])
    assert (own > other).mean() > 0.8
    # Persistence: same scores after a save/load round trip.
    path = model.save(tmp_path / "models")
    again = Recommender.load(path)
    np.testing.assert_allclose(again.score(users, item), model.score(users, item), rtol=1e-6)
    assert isinstance(model.score(3, 5), float)


def test_recommender_cancel():
    d = planted(50, 30, 400, seed=1)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        train_arrays(d.arrays, epochs=2, cancel=token)
