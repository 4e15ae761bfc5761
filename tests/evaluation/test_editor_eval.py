"""Tables 1 and 2 on the small demo: Personalized beats Random and Original (GT hit rate, Cosine@5, PS@5)."""

from __future__ import annotations

import json

import pytest


def test_personalized_beats_random_and_original_on_the_small_demo(small_demo):
    from generec_desktop.corpus import Workspace
    from generec_desktop.evaluation.editor_eval import evaluate_editor, format_tables

    with Workspace.open(small_demo) as ws:
        res = evaluate_editor(ws, runs=10)
    print(format_tables(res))
    t1 = {r.method: r for r in res.table1}
    t2 = {r.method: r for r in res.table2}
    assert list(t1) == ["Random Frame", "Original", "Eq. 1 (paper)", "Personalized", "Generated"]
    assert list(t2) == ["Random", "1st Clip", "Unclipped", "Eq. 2 (paper)", "Personalized"]
    assert res.gt_pairs >= 50
    p = t1["Personalized"]
    for base in ("Random Frame", "Original"):
        assert p.gt_hit > t1[base].gt_hit
        assert p.cosine[5] > t1[base].cosine[5]
    c = t2["Personalized"]
    for base in ("Random", "1st Clip", "Unclipped"):
        assert c.cosine[5] > t2[base].cosine[5]
        assert c.gt_hit > t2[base].gt_hit
    # PS@5 (the recommender's score with the picks' features, paper §5.1.1): measured on this demo over
    # training seeds 0-4, Personalized led Random Frame by 0.17-0.21 and Original by 0.38-0.47 (Table 1),
    # Random / Unclipped by 0.12-0.20 (Table 2); a cover-only recommender had it last.
    for base in ("Random Frame", "Original"):
        assert p.ps[5] > t1[base].ps[5], (base, p.ps, t1[base].ps)
    for base in ("Random", "1st Clip", "Unclipped"):
        assert c.ps[5] > t2[base].ps[5], (base, c.ps, t2[base].ps)
    for row in res.table1 + res.table2:
        assert set(row.cosine) == {5, 10} and set(row.ps) == {5, 10}
        assert all(-1.0 <= v <= 1.0 for v in row.cosine.values())


def test_eval_cli_prints_both_tables_and_json(small_demo, capsys):
    import argparse

    from generec_desktop.cli import evaluation as commands
    from generec_desktop.cli_support import run_command

    parser = argparse.ArgumentParser()
    commands.register(parser.add_subparsers())
    assert run_command(parser.parse_args(["eval", str(small_demo), "--runs", "2", "--no-generated"])) == 0
    text = capsys.readouterr().out
    assert "Table 1" in text and "Table 2" in text and "Cosine@5" in text and "GT hit" in text
    assert run_command(parser.parse_args(["eval", str(small_demo), "--runs", "2", "--no-generated", "--json"])) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["method"] for r in data["result"]["table2"]] == ["Random", "1st Clip", "Unclipped", "Eq. 2 (paper)",
                                                               "Personalized"]
    assert "±" in text and "Chance:" in text


def test_clip_length_tuning_reports_cosine_and_gt_and_cosine_cannot_rise_with_L(small_demo):
    """With t* = normalised mean of the liked thumbnails, the best L-window mean can only fall as L
    doubles (a 2L window averages two L windows), so Cosine@5 alone always prefers the shortest L."""
    from generec_desktop.corpus import Workspace
    from generec_desktop.evaluation.editor_eval import tune_clip_frames

    with Workspace.open(small_demo) as ws:
        tuning = tune_clip_frames(ws, lengths=(4, 16), runs=2)
    cos = [tuning[L]["cosine@5"] for L in (4, 16)]
    print(tuning)
    assert cos[0] >= cos[1] - 1e-9
    assert all(v["gt_hit"] is not None and 0 <= v["gt_hit"] <= 1 for v in tuning.values())


@pytest.mark.slow
def test_personalized_beats_baselines_on_the_full_demo(tmp_path):
    """The default demo (40 videos, 240 users, 3 real sample videos): minutes on 2 cores."""
    from generec_desktop.corpus import Workspace
    from generec_desktop.demo import build_demo_workspace
    from generec_desktop.evaluation.editor_eval import evaluate_editor, format_tables

    build_demo_workspace(tmp_path / "demo", seed=0)
    with Workspace.open(tmp_path / "demo") as ws:
        res = evaluate_editor(ws)
    print(format_tables(res))
    t1 = {r.method: r for r in res.table1}
    for base in ("Random Frame", "Original"):
        assert t1["Personalized"].gt_hit > t1[base].gt_hit
        assert t1["Personalized"].cosine[5] > t1[base].cosine[5]
