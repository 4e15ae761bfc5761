"""Condition vectors of audiences built from examples (User_Hist only) beside users and segments, and an MCVD
revision toward such an audience in a workspace that has no other kind."""

from __future__ import annotations

import numpy as np
import pytest


def test_example_audience_is_a_user_hist_condition(mcvd_ws, tmp_path):
    import shutil

    from examplemedia import write_photos

    from generec_desktop.corpus import Workspace
    from generec_desktop.diffusion import DiffusionError
    from generec_desktop.mcvd.workspace import condition_source
    from generec_desktop.profiles import examples as ex
    from generec_desktop.profiles import load_profiles

    root = tmp_path / "W"
    shutil.copytree(mcvd_ws.root, root)  # a private copy: the fixture's workspace is shared
    with Workspace.open(root) as ws:
        ex.add_audience(ws, "Coffee lovers", write_photos(tmp_path / "p", ("coffee",)))
        ps = load_profiles(ws)
        src = condition_source(ws)
        np.testing.assert_allclose(src.audience_vector("examples:1"), ps.vector("examples:1"))
        np.testing.assert_allclose(src.audience_vector("Segment 1"), src.audience_vector("segment:0"))
        assert src.vectors.shape[0] == len(ps.user_ids) > 0
        try:
            emb = condition_source(ws, "user_emb")
        except Exception as exc:  # no recommender in this workspace: a clear error, not a crash
            assert "recommender" in str(exc)
        else:
            with pytest.raises(DiffusionError, match="no recommender embedding"):
                emb.audience_vector("examples:1")


@pytest.fixture
def fresh(tmp_path):
    """A brand-new workspace whose only audiences are built from examples (no users, no segments)."""
    from examplemedia import example_audiences_workspace

    with example_audiences_workspace(tmp_path) as ws:
        yield ws


def test_mcvd_revision_toward_an_example_audience(fresh, tmp_path):
    import torch

    from generec_desktop.mcvd.revise import revise_item
    from generec_desktop.mcvd.workspace import condition_source
    from generec_desktop.profiles import load_profiles

    torch.set_num_threads(1)
    src = condition_source(fresh)
    ps = load_profiles(fresh)
    np.testing.assert_allclose(src.audience_vector("examples:2"), ps.vector("examples:2"))
    np.testing.assert_allclose(src.audience_vector("cat PEOPLE"), ps.vector("examples:2"))
    r = revise_item(fresh, 1, audience="Cat people", out_path=tmp_path / "rev.mp4", strength=0.6, steps=2,
                    end=1.0)
    assert r.output.is_file() and r.mean_change > 0.0 and r.width == 160
    from generec_desktop.diffusion import DiffusionError

    with pytest.raises(DiffusionError, match="no recommender embedding"):
        from generec_desktop.mcvd.workspace import ConditionSource

        ConditionSource("user_emb", ps.encoder_id, ps.user_ids, ps.user_hist, ps.user_segment).audience_vector(
            "examples:1")
