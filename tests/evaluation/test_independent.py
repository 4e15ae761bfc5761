"""The independent evaluation set (issue 22): built from pictures the demo never uses, judged by the same
ground-truth judge; and on it the default selection reaches the issue's targets against the baselines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generec_desktop.evaluation.independent import OPENCV_DATA

needs_opencv_doc = pytest.mark.skipif(not (OPENCV_DATA / "apple.jpg").is_file(),
                                      reason=f"Debian's opencv-doc is not installed ({OPENCV_DATA} missing)")


@needs_opencv_doc
def test_builder_makes_other_content_with_a_truth_the_judge_reads(tmp_path: Path) -> None:
    from generec_desktop import media
    from generec_desktop.corpus import Workspace
    from generec_desktop.demo import CATEGORIES as DEMO_CATEGORIES
    from generec_desktop.demo import PHOTOS
    from generec_desktop.demo.ground_truth import read_ground_truth
    from generec_desktop.evaluation.independent import CATEGORIES, build_independent_workspace

    res = build_independent_workspace(tmp_path / "ind", n_videos=4, n_users=11, size=128, with_profiles=False)
    assert res.n_videos == 4 and res.n_portrait == 1 and res.n_users == 11
    gt = read_ground_truth(res.ground_truth)
    assert not set(gt.categories) & set(DEMO_CATEGORIES) and set(gt.categories) == set(CATEGORIES)
    assert not set(gt.photos) & {p.name for p in PHOTOS}
    assert len(gt.users) == 11 and all(set(u.preferred) <= set(CATEGORIES) for u in gt.users.values())
    with Workspace.open(res.workspace) as ws:
        items = {it.sha256: it for it in ws.items()}
        for v in gt.items.values():
            info = media.probe(ws.media_path(items[v.sha256]))
            assert round(info.fps) == v.fps and v.fps in (25, 30, 60)
            assert (info.height > info.width) == (v.external_id == "ind-004")  # every fourth is portrait
            assert v.segments[0].start == 0 and abs(v.segments[-1].end - v.duration) < 1e-6
            assert len({s.category for s in v.segments}) == len(v.segments)  # different categories
    with pytest.raises(Exception, match="not an empty folder"):
        build_independent_workspace(res.workspace, n_videos=2, n_users=11, with_profiles=False)


def test_eval_with_a_bad_ground_truth_file_says_so_in_one_line(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    import argparse

    from generec_desktop.cli import evaluation as commands
    from generec_desktop.cli_support import run_command

    parser = argparse.ArgumentParser()
    commands.register(parser.add_subparsers())
    bad = tmp_path / "truth.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    for f in (bad, tmp_path / "missing.json"):
        assert run_command(parser.parse_args(["eval", str(tmp_path), "--ground-truth", str(f)])) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "Traceback" not in err and "ground" in err.lower(), err


@pytest.fixture(scope="module")
def small_independent(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from generec_desktop.evaluation.independent import build_independent_workspace

    return build_independent_workspace(tmp_path_factory.mktemp("ind") / "w", n_videos=24, n_users=90,
                                       size=192).workspace


@pytest.mark.slow
@needs_opencv_doc
def test_personalized_reaches_the_targets_on_a_small_independent_set(small_independent: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """Issue 22's "must show", on 24 videos and 90 users never tuned on (built-in encoder): thumbnails ≥
    Original + 0.15 and ≥ Random + 0.20, clips ≥ First clip + 0.15, segment thumbnails ≥ Original + 0.10,
    each with its interval; the paper's Eq. 1 row is kept. Measured when written: 0.591 vs 0.342 / 0.355,
    clips 0.596 vs 0.342, segments 0.606."""
    from generec_desktop.corpus import Workspace
    from generec_desktop.evaluation.choice_eval import evaluate_choice
    from generec_desktop.evaluation.editor_eval import evaluate_editor, format_tables

    truth = small_independent / "evaluation" / "ground_truth.json"
    with Workspace.open(small_independent) as ws:
        res = evaluate_editor(ws, runs=2, generated=False, ground_truth=truth)
        seg = evaluate_choice(ws, ground_truth=truth, modes=("auto",))
    print(format_tables(res))
    t1 = {r.method: r for r in res.table1}
    t2 = {r.method: r for r in res.table2}
    assert res.gt_pairs >= 200 and "Eq. 1 (paper)" in t1 and "Eq. 2 (paper)" in t2
    p, c = t1["Personalized"], t2["Personalized"]
    assert p.gt_hit >= t1["Original"].gt_hit + 0.15, (p.gt_hit, t1["Original"].gt_hit)
    assert p.gt_hit >= t1["Random Frame"].gt_hit + 0.20, (p.gt_hit, t1["Random Frame"].gt_hit)
    assert c.gt_hit >= t2["1st Clip"].gt_hit + 0.15, (c.gt_hit, t2["1st Clip"].gt_hit)
    assert seg[0].gt_hit is not None and seg[0].gt_hit >= t1["Original"].gt_hit + 0.10
    assert p.gt_hit > t1["Eq. 1 (paper)"].gt_hit  # better than the paper's own selection on unseen content
    for row in (p, c, t1["Original"]):
        assert row.gt_ci is not None and 0 < row.gt_ci < 0.15 and row.gt_users > 30
    assert 0.2 < (res.gt_chance or 0) < 0.6

    # thin audiences: flagged, shrunk toward their segment; segment membership listed for outside tools
    import argparse

    from generec_desktop.cli import profiles as prof_cmds
    from generec_desktop.cli_support import run_command

    parser = argparse.ArgumentParser()
    prof_cmds.register(parser.add_subparsers())
    capsys.readouterr()
    assert run_command(parser.parse_args(["profiles", "list", str(small_independent), "--users", "--json"])) == 0
    rows = json.loads(capsys.readouterr().out)["audiences"]
    users = [r for r in rows if r["kind"] == "user"]
    segs = {r["id"]: r for r in rows if r["kind"] == "segment"}
    assert all(r["external_id"] in segs[r["segment"]]["member_external_ids"] for r in users)
    assert sum(len(s["members"]) for s in segs.values()) == len(users)
    thin = [r for r in users if r["thin"]]
    assert thin and all(r["likes"] <= 3 for r in thin) and not any(r["likes"] <= 3 for r in users if not r["thin"])

    from generec_desktop.encoders import get_encoder
    from generec_desktop.profiles import load_profiles
    from generec_desktop.profiles.space import selection_vectors

    with Workspace.open(small_independent) as ws:
        ps = load_profiles(ws)
        enc = get_encoder("builtin")
        ids = [r["id"] for r in thin[:5]]
        av = selection_vectors(ws, ps, [*ids, thin[0]["segment"]], enc)
        assert av.thin[:len(ids)] == (True,) * len(ids) and av.support[0] == thin[0]["likes"]
        seg_vec = av.vectors[-1]
        import generec_desktop.profiles.space as space

        old = space.SHRINK_PRIOR
        try:
            space.SHRINK_PRIOR = 0.0
            raw = selection_vectors(ws, ps, ids[:1], enc)
        finally:
            space.SHRINK_PRIOR = old
        assert float(av.vectors[0] @ seg_vec) > float(raw.vectors[0] @ seg_vec)  # pulled toward the segment
