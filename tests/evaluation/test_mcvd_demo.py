"""Issue 7's must-show with the shipped checkpoint on the demo workspace (slow: builds the full demo)."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_revision_with_the_shipped_model_moves_clips_toward_the_audience(tmp_path):
    """Table 3 on the default demo with ``models/mcvd-demo``: revising toward each user raises Cosine@5
    above the original clips'. The Unconditional and Other_User rows are printed as controls."""
    import torch

    from generec_desktop.corpus import Workspace
    from generec_desktop.demo import build_demo_workspace
    from generec_desktop.evaluation.mcvd_eval import evaluate_mcvd, format_tables
    from generec_desktop.mcvd.workspace import REPO_MODELS_DIR

    if not (REPO_MODELS_DIR / "mcvd-demo" / "config.json").is_file():
        pytest.skip("no shipped checkpoint in models/mcvd-demo (a trimmed install)")
    torch.set_num_threads(1)
    build_demo_workspace(tmp_path / "demo", seed=0)
    with Workspace.open(tmp_path / "demo") as ws:
        t = evaluate_mcvd(ws, ks=(5,), n_users=3, creation=False, conditions=("user_hist",), strength=0.5,
                          guidance_scale=2.0)
    print(format_tables(t))
    rows = {r.name: r for r in t.revision}
    assert t.settings["checkpoints"]["user_hist"].endswith("mcvd-demo")
    assert rows["User_Hist"].cosine[5] > rows["Original"].cosine[5]
