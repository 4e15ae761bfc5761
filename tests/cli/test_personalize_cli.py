"""``generec personalize`` writes images, clips and a summary with scores."""

from __future__ import annotations

import json
from pathlib import Path


def _run(argv: list[str]) -> int:
    import argparse

    from generec_desktop.cli import personalize as personalize_commands
    from generec_desktop.cli_support import run_command

    parser = argparse.ArgumentParser()
    personalize_commands.register(parser.add_subparsers())
    return run_command(parser.parse_args(argv))


def test_cli_writes_thumbnails_clips_and_summary(small_demo, tmp_path, capsys):
    from generec_desktop import media

    out = tmp_path / "out"
    rc = _run(["personalize", str(small_demo), "demo-002", "--profiles", "segment:0,segment:1", "--out", str(out),
               "--json", "--aspects", "9:16"])
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    assert data == json.loads((out / "summary.json").read_text())
    assert [a["audience"] for a in data["audiences"]] == ["segment:0", "segment:1"]
    for a in data["audiences"]:
        for key in ("thumbnail", "generated"):
            assert Path(a[key]["path"]).is_file()
        assert set(a["baselines"]) == {"original", "random"}
        info = media.probe(a["clip"]["path"])
        assert info.has_audio and abs(info.duration - (a["clip"]["end"] - a["clip"]["start"])) < 1e-3


def test_cli_bad_audience_is_one_line_error(small_demo, tmp_path, capsys):
    rc = _run(["personalize", str(small_demo), "demo-002", "--profiles", "segment:99", "--out", str(tmp_path)])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("generec: error:") and err.count("\n") == 1
    rc = _run(["personalize", str(small_demo), "nope-1", "--profiles", "segment:0", "--out", str(tmp_path)])
    assert rc == 2 and "no item" in capsys.readouterr().err


def test_cli_show_without_a_text_tower_says_so(small_demo, tmp_path, capsys):
    out = tmp_path / "out"
    rc = _run(["personalize", str(small_demo), "demo-002", "--profiles", "Segment 1", "--out", str(out),
               "--thumbnails", "--no-generate", "--show", "food", "--json"])
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    assert data["show"] == "food"
    assert any("no text tower" in n and "food" in n for n in data["notices"])
    assert "showing food" not in data["audiences"][0]["label"]


def test_cli_show_leans_each_audience_toward_the_words(tmp_path, capsys, monkeypatch):
    """The path with a text tower (a tiny random CLIP): the targets are steered, the note names the encoder."""
    from examplemedia import write_scenes_video
    from tinyclip import write_tiny_hf_folder

    import generec_desktop.encoders as encoders
    from generec_desktop.corpus import Workspace
    from generec_desktop.profiles import examples

    write_tiny_hf_folder(tmp_path / "tiny")
    clip = encoders.get_encoder("open_clip:tiny", weights=tmp_path / "tiny", backend="torch")
    real = encoders.get_encoder
    monkeypatch.setattr(encoders, "get_encoder",
                        lambda name, *a, **k: clip if name in ("tiny", clip.id) else real(name, *a, **k))
    root = tmp_path / "W"
    with Workspace.create(root) as ws:
        (item,) = ws.import_media([write_scenes_video(tmp_path / "src" / "three.mp4")]).items
        examples.add_audience(ws, "Skaters", text="people who like skateboarding", encoder=clip)
    out = tmp_path / "out"
    rc = _run(["personalize", str(root), str(item.id), "--profiles", "Skaters", "--encoder", "tiny",
               "--out", str(out), "--thumbnails", "--no-generate", "--show", "food", "--json"])
    assert rc == 0, capsys.readouterr().err
    data = json.loads(capsys.readouterr().out)
    assert any("lean toward 'food'" in n and clip.id in n for n in data["notices"])
    (a,) = data["audiences"]
    assert a["audience"] == "examples:1" and a["label"].endswith("showing food")
    assert Path(a["thumbnail"]["path"]).is_file()
