"""Issue 7's must-show with the shipped checkpoint on the demo workspace (slow: builds the full demo)."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_revision_with_the_shipped_model_moves_clips_toward_the_audience(tmp_path):
    """Table 3 on the default demo with ``models/mcvd-demo`` at the default settings: revising toward each user
    raises Cosine@5 above the original clips', and (issue 20, the audience guidance) more toward *that* user
    than a revision toward another user (by >= .05) or an unconditional one; PS@5 above the original, Fréchet
    within 1.5× the unconditional revision's. Measured: gaps +.063 / +.036, Fréchet 1.27×."""
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
    uh = rows["User_Hist"]
    assert uh.cosine[5] > rows["Original"].cosine[5]
    assert uh.cosine[5] - rows["Other_User"].cosine[5] >= 0.05
    assert uh.cosine[5] - rows["Unconditional"].cosine[5] >= 0.02
    assert uh.ps[5] > rows["Original"].ps[5]
    assert uh.frechet <= 1.5 * rows["Unconditional"].frechet
