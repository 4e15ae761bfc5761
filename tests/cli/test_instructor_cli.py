"""``generec plan`` and ``generec style --instruction``."""

from __future__ import annotations

import json

import pytest

from generec_desktop.cli import build_parser, main


@pytest.fixture
def workspace(tmp_path):
    from generec_desktop.corpus import Workspace

    root = tmp_path / "ws"
    Workspace.create(root).close()
    return root


def test_plan_json(workspace, capsys):
    assert main(["plan", str(workspace), "a 10 second clip for user 42", "--no-model", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["operation"] == "clip" and data["params"]["length_s"] == 10
    assert data["audiences"] == ["user:42"] and data["start_generator"] and data["delivery"] == "rank"
    assert any("No audience profiles" in e for e in data["explanations"])  # fresh workspace: none built


def test_plan_text_with_feedback_file_and_profile(workspace, tmp_path, capsys):
    fb = tmp_path / "fb.json"
    fb.write_text(json.dumps([{"item_kind": "human", "signal": "negative"}] * 3))
    assert main(["plan", str(workspace), "make it cartoonn", "--profile", "segment:2", "--feedback", str(fb),
                 "--no-model"]) == 0
    out = capsys.readouterr().out
    # segment:2 is what a person reads as Segment 3
    assert out.startswith("style for Segment 3") and "delivery direct" in out and "'cartoonn' as 'cartoon'" in out


def test_plan_bad_inputs_exit_2(workspace, tmp_path, capsys):
    bad = tmp_path / "fb.json"
    bad.write_text("{not json")
    assert main(["plan", str(workspace), "a clip", "--feedback", str(bad), "--no-model"]) == 2
    assert "feedback file" in capsys.readouterr().err
    assert main(["plan", str(tmp_path / "nope"), "a clip", "--no-model"]) == 2


def test_style_instruction_fills_the_request(monkeypatch):
    pytest.importorskip("generec_desktop.cli.editor", reason="the editor's commands are not there")
    from generec_desktop.cli.editor import REQUEST_HOOKS, request_from_args
    from generec_desktop.jobs import GenerecError

    monkeypatch.setenv("GENEREC_INSTRUCTOR_NO_MODEL", "1")
    parser = build_parser()
    build_parser()  # registering twice must not add the hook twice
    assert sum(h.__name__ == "style_request_hook" for h in REQUEST_HOOKS) == 1
    args = parser.parse_args(["style", "W", "1", "--instruction", "not too cartoonish, keep faces natural",
                              "--out", "x.mp4"])
    req = request_from_args(args)
    assert (req.style, req.face_aware) == ("toon", True) and req.strength < 1.0
    args = parser.parse_args(["style", "W", "1", "--instruction", "a cartoon look", "--style", "noir",
                              "--strength", "0.7", "--out", "x.mp4"])
    req = request_from_args(args)
    assert (req.style, req.strength) == ("noir", 0.7)  # explicit options win
    args = parser.parse_args(["style", "W", "1", "--instruction", "noir on the first 5 seconds", "--out", "x.mp4"])
    req = request_from_args(args)
    assert (req.style, req.start, req.end) == ("noir", 0.0, 5.0)
    args = parser.parse_args(["style", "W", "1", "--instruction", "upload it to TikTok", "--out", "x.mp4"])
    with pytest.raises(GenerecError, match="not a style"):
        request_from_args(args)
