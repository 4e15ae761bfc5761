"""Per-segment choices, plain argmax vs the noise-aware default, judged by the demo's ground truth."""

from __future__ import annotations

import json

import numpy as np


def test_choice_rows_compare_both_policies_with_the_ground_truth(small_demo):
    from generec_desktop.corpus import Workspace
    from generec_desktop.evaluation.choice_eval import evaluate_choice, format_choice

    with Workspace.open(small_demo) as ws:
        rows = evaluate_choice(ws)
        n_videos = sum(1 for it in ws.items(kind="human") if (it.duration or 0) > 0)
    assert [r.mode for r in rows] == ["plain", "auto"]
    plain, auto = rows
    assert plain.videos == auto.videos == n_videos
    assert plain.cost == 0.0 and plain.clip_cost == 0.0  # the argmax loses nothing by definition
    assert auto.cost >= 0.0 and auto.clip_cost >= 0.0
    assert plain.gt_pairs == auto.gt_pairs > 0
    for r in rows:
        assert 0.0 <= r.gt_hit <= 1.0 and 0.0 <= r.clip_gt_hit <= 1.0
        assert 0.0 <= r.pairs_other_shot <= r.pairs_different <= 1.0
        assert sum(r.kinds.values()) == r.videos
    # diversifying spends at most the measured noise, so what users see does not get measurably worse
    assert auto.gt_hit >= plain.gt_hit - 0.05
    text = format_choice(rows)
    assert "plain" in text and "auto" in text and "GT hit" in text


def test_video_choices_on_a_two_scene_video_diversify_only_within_the_noise():
    from types import SimpleNamespace

    from generec_desktop.evaluation.choice_eval import choice_rows, video_choices

    rng = np.random.default_rng(0)
    n = 40
    e = np.zeros((n, 4))
    e[:20, 0], e[20:, 1] = 1.0, 1.0
    e[:, 2] = rng.normal(0, 0.02, n)
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    times = np.arange(n) / 4.0
    an = SimpleNamespace(embeddings=e, cut_after=np.array([20]), passed=np.ones(n, bool), sample_times=times,
                         frame_times=times, video_end=n / 4.0, cut_times=times[[20]], cut_ends=times[[20]], rate=4.0)
    halfway = np.array([1.0, 1.0, 0.0, 0.0]) / np.sqrt(2)
    vc = video_choices(an, np.stack([halfway, halfway]))
    plain, auto = choice_rows([vc])
    assert plain.pairs_other_shot == 0.0 and auto.pairs_other_shot == 1.0
    assert auto.cost <= max(vc.frame_reports["auto"].noise) + 1e-9


def test_eval_cli_prints_the_segment_choice_table(small_demo, capsys):
    import argparse

    from generec_desktop.cli import evaluation as commands
    from generec_desktop.cli_support import run_command

    parser = argparse.ArgumentParser()
    commands.register(parser.add_subparsers())
    assert run_command(parser.parse_args(["eval", str(small_demo), "--runs", "2", "--no-generated"])) == 0
    assert "Table 1b. Per-segment" in capsys.readouterr().out
    assert run_command(parser.parse_args(["eval", str(small_demo), "--runs", "2", "--no-generated", "--json"])) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["mode"] for r in data["segment_choice"]] == ["plain", "auto"]
