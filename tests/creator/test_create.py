"""MCVD creation on a workspace: frames, determinism, the condition's effect, errors, CLI."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from generec_desktop.jobs import GenerecError


def _open(w):
    from generec_desktop.corpus import Workspace

    return Workspace.open(w.root)


def test_create_video_writes_the_asked_frames(mcvd_ws, tmp_path) -> None:
    from generec_desktop import media
    from generec_desktop.creator import create_video

    seen = []
    with _open(mcvd_ws) as ws:
        r = create_video(ws, audience="segment:0", out_path=tmp_path / "new.mp4", n_frames=5, size=64, steps=4,
                         progress=lambda f, m: seen.append(f))
    info = media.probe(r.output)
    assert info.frame_count == 5 and (info.width, info.height) == (64, 64)
    assert abs(info.fps - r.fps) < 0.1 and r.fps == 8.0
    assert seen and seen[-1] == 1.0 and all(b >= a for a, b in itertools.pairwise(seen))


def test_creation_is_deterministic_and_depends_on_the_audience(mcvd_ws) -> None:
    from generec_desktop.creator import create_frames

    with _open(mcvd_ws) as ws:
        a, _, _ = create_frames(ws, audience="segment:0", n_frames=2, steps=3, seed=5)
        b, _, _ = create_frames(ws, audience="segment:0", n_frames=2, steps=3, seed=5)
        c, _, _ = create_frames(ws, audience="segment:1", n_frames=2, steps=3, seed=5)
    assert a.shape == (2, 32, 32, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)  # same noise, different condition


def test_creation_errors_are_clear(mcvd_ws, tmp_path) -> None:
    from generec_desktop.creator import CreatorError, create_video

    with _open(mcvd_ws) as ws:
        with pytest.raises(CreatorError, match="instruction"):
            create_video(ws, audience="segment:0", out_path=tmp_path / "x.mp4", n_frames=2, steps=2,
                         instruction="a red square")
        with pytest.raises(GenerecError, match="audience"):
            create_video(ws, audience="segment:9", out_path=tmp_path / "x.mp4", n_frames=2, steps=2)
        with pytest.raises(CreatorError):
            create_video(ws, audience="segment:0", out_path=tmp_path / "x.mp4", n_frames=0)
    assert not (tmp_path / "x.mp4").exists()


def test_cli_create_json(mcvd_ws, tmp_path, capsys) -> None:
    from generec_desktop.cli import main

    out = tmp_path / "c.mp4"
    code = main(["create", str(mcvd_ws.root), "--profile", "user:2", "--frames", "3", "--steps", "2",
                 "--size", "48", "--out", str(out), "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["n_frames"] == 3 and doc["audience"] == "user:2" and out.is_file()
    assert main(["create", str(mcvd_ws.root), "--profile", "nobody", "--frames", "3", "--out", str(out)]) == 2
