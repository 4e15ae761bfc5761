"""``generec profiles import``: the mapping flags, ``--dry-run`` (the validator's lines) and ``--build``."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from generec_desktop.corpus.schema import Interaction, User


def _run(argv: list[str]) -> int:
    import argparse

    from generec_desktop.cli import profiles as profiles_commands
    from generec_desktop.cli_support import run_command

    parser = argparse.ArgumentParser()
    profiles_commands.register(parser.add_subparsers())
    return run_command(parser.parse_args(argv))


def _counts(ws):
    with ws.session() as s:
        return s.scalar(select(func.count()).select_from(Interaction)), s.scalar(select(func.count()).select_from(User))


def _viewers_csv(tmp_path, bad: bool):
    f = tmp_path / "viewers.csv"
    rows = ["Viewer;Video;Stars"] + [f"u{k};v{k % 12:02d};{1 + k % 5}" for k in range(24)]
    if bad:
        rows[5] = "u4;v77;3"     # line 6: unknown item
        rows[9] = "u8;v08;many"  # line 10: bad weight
    f.write_text("\n".join(rows) + "\n", encoding="utf-8-sig")
    return f


def test_dry_run_prints_line_numbered_errors_and_writes_nothing(planted_ws, tmp_path, capsys):
    f = _viewers_csv(tmp_path, bad=True)
    flags = ["--user-col", "Viewer", "--item-col", "Video", "--item-match", "external", "--weight-col", "Stars"]
    rc = _run(["profiles", "import", str(planted_ws.ws.root), str(f), *flags, "--dry-run"])
    out = capsys.readouterr().out
    assert rc == 1
    assert "line 6: unknown item 'v77'" in out and "line 10: weight 'many' is not a finite number" in out
    assert "2 of 24 rows have a problem" in out
    assert _counts(planted_ws.ws) == (0, 0)

    rc = _run(["profiles", "import", str(planted_ws.ws.root), str(f), *flags, "--dry-run", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert rc == 1 and data["bad_rows"] == 2 and [e[0] for e in data["errors"]] == [6, 10]

    # without --dry-run the import refuses in one line, exit 2
    rc = _run(["profiles", "import", str(planted_ws.ws.root), str(f), *flags])
    err = capsys.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "line 6" in err
    assert _counts(planted_ws.ws) == (0, 0)


def test_mapping_flags_import_and_build(planted_ws, tmp_path, capsys):
    f = _viewers_csv(tmp_path, bad=False)
    flags = ["--user-col", "viewer", "--item-col", "video", "--weight-col", "stars"]  # case is forgiven
    rc = _run(["profiles", "import", str(planted_ws.ws.root), str(f), *flags, "--dry-run"])
    assert rc == 0 and "All 24 rows are good" in capsys.readouterr().out
    rc = _run(["profiles", "import", str(planted_ws.ws.root), str(f), *flags, "--build", "--segments", "2",
               "--epochs", "1", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert rc == 0 and data["imported"]["imported"] == 24 and data["users"] == 24
    assert [s["id"] for s in data["segments"]] == ["segment:0", "segment:1"]
    assert data["recommender"]["n_interactions"] == 24
    assert _counts(planted_ws.ws) == (24, 24)


def test_missing_standard_columns_name_the_flags(planted_ws, tmp_path, capsys):
    f = _viewers_csv(tmp_path, bad=False)
    rc = _run(["profiles", "import", str(planted_ws.ws.root), str(f)])
    err = capsys.readouterr().err
    assert rc == 2 and "--user-col" in err and "'Viewer'" in err
