"""Condition vectors of audiences built from examples (User_Hist only) beside users and segments."""

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
