"""Tables 3 and 4 (MCVD evaluation) on the tiny workspace, and the Fréchet distance."""

from __future__ import annotations

import numpy as np
import pytest


def test_frechet_distance_properties() -> None:
    from generec_desktop.evaluation.mcvd_eval import frechet_distance

    rng = np.random.default_rng(0)
    a = rng.standard_normal((400, 3))
    assert frechet_distance(a, a, max_dims=None) == pytest.approx(0.0, abs=1e-6)
    shifted = a + np.array([2.0, 0.0, 0.0])
    assert frechet_distance(a, shifted, max_dims=None) == pytest.approx(4.0, rel=1e-6)
    scaled = a * 2.0  # covariance 4I vs I: trace term 3·(1 + 4 − 2·2) = 3
    assert frechet_distance(a, scaled, max_dims=None) == pytest.approx(3.0, rel=0.05)
    near = rng.standard_normal((400, 3))
    assert frechet_distance(a, near) < frechet_distance(a, shifted)


def test_tables_on_the_tiny_workspace(mcvd_ws) -> None:
    from generec_desktop.corpus import Workspace
    from generec_desktop.evaluation.mcvd_eval import evaluate_mcvd, format_tables

    with Workspace.open(mcvd_ws.root) as ws:
        t = evaluate_mcvd(ws, ks=(1, 2), n_users=2, n_frames=4, steps=3, strength=0.5)
    names = [r.name for r in t.revision]
    # no User_Emb model: left out with a note; Other_User: revised toward the other evaluated user
    assert names == ["Original", "User_Hist", "Unconditional", "Other_User"]
    assert any("user_emb" in n for n in t.notes) and any("PS@K" in n for n in t.notes)
    assert [r.name for r in t.creation] == ["Original", "User_Hist"]
    for row in t.revision + t.creation:
        assert set(row.cosine) == {1, 2} and all(-1.0 <= v <= 1.0 for v in row.cosine.values())
        assert row.clips == 4
        assert (row.frechet is None) == (row.name == "Original")
    assert t.revision[0].cosine == t.creation[0].cosine
    text = format_tables(t)
    assert "Table 3" in text and "Table 4" in text and "User_Hist" in text


def test_cli_eval_mcvd_json(mcvd_ws, capsys) -> None:
    import json

    from generec_desktop.cli import main

    rc = main(["eval", str(mcvd_ws.root), "--mcvd", "--k", "1", "--users", "2", "--steps", "2", "--guidance", "3",
               "--json"])
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    assert data["settings"]["guidance"] == 3.0 and data["settings"]["strength"] == 0.5
    assert [r["name"] for r in data["revision"]][:2] == ["Original", "User_Hist"]
    assert [r["name"] for r in data["creation"]] == ["Original", "User_Hist"]
