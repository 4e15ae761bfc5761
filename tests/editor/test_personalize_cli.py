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
