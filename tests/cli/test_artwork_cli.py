"""`generec personalize --artwork` and `generec artwork` on a workspace made from PyAV-generated media (three
real photos as scenes of a 640×360 video, audiences from example pictures), not the demo."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import examplemedia

from generec_desktop.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("artwork-cli")
    examplemedia.write_scenes_video(base / "scenes.mp4", ("astronaut", "coffee", "rocket"), size=(640, 360), fps=8)
    examplemedia.write_scenes_video(base / "tiny.mp4", ("astronaut", "coffee"), size=(320, 180), fps=8)
    for name, photo in (("cats", "chelsea"), ("coffee", "coffee"), ("space", "rocket")):
        examplemedia.write_photos(base / name, (photo,))
    return base


def test_personalize_artwork_then_list_and_remove(media, tmp_path, capsys):
    w = str(tmp_path / "W")
    assert _run(capsys, "workspace", "create", w)[0] == 0
    assert _run(capsys, "import", w, str(media / "scenes.mp4"))[0] == 0
    for name, folder in (("Cats", "cats"), ("Coffee lovers", "coffee"), ("Space fans", "space")):
        assert _run(capsys, "audiences", "add", w, "--name", name, "--examples", str(media / folder))[0] == 0
    code, out, err = _run(capsys, "personalize", w, "1", "--profiles", "Cats,Coffee lovers,Space fans",
                          "--thumbnails", "--artwork", "--out", str(tmp_path / "out"), "--json")
    assert code == 0, err
    summary = json.loads(out)
    stored = {a["label"]: a["artwork"] for a in summary["audiences"]}
    assert set(stored) == {"Cats", "Coffee lovers", "Space fans"}
    for label, a in stored.items():
        assert (a["width"], a["height"]) == (640, 360) and Path(a["file"]).is_file(), label
        assert a["audience_label"] == label and a["replaced"] is None
    # three scenes, three audiences that like one each: not all the same frame
    assert len({a["source_time"] for a in stored.values()}) > 1
    code, out, _ = _run(capsys, "artwork", w, "1", "--json")
    listed = json.loads(out)["artwork"]
    assert code == 0 and len(listed) == 3 and all(e["watermark_read_back"] and e["file_ok"] for e in listed)
    code, out, _ = _run(capsys, "artwork", w, "1", "--for", "coffee lovers")  # names like the rest of the CLI
    assert code == 0 and "Coffee lovers (examples:2)" in out and "watermark reads back" in out and "Cats" not in out
    # again: the pair's artwork is replaced, not added
    code, out, _ = _run(capsys, "personalize", w, "1", "--profiles", "Cats", "--thumbnails", "--artwork", "generated",
                        "--out", str(tmp_path / "out2"), "--json")
    again = json.loads(out)["audiences"][0]["artwork"]
    assert code == 0 and again["replaced"] == stored["Cats"]["path"] and again["generator"] == "personalize:generated"
    assert len(json.loads(_run(capsys, "artwork", w, "1", "--json")[1])["artwork"]) == 3
    code, out, _ = _run(capsys, "artwork", w, "1", "--remove", "--for", "Cats")
    assert code == 0 and "Removed the artwork of item 1 for Cats" in out
    assert len(json.loads(_run(capsys, "artwork", w, "1", "--json")[1])["artwork"]) == 2
    # errors: one line, exit 2
    code, _, err = _run(capsys, "artwork", w, "1", "--remove", "--for", "Cats")
    assert code == 2 and "has no artwork" in err and "Traceback" not in err
    code, _, err = _run(capsys, "artwork", w, "1", "--for", "Nobody")
    assert code == 2 and "no audience 'Nobody'" in err
    code, _, err = _run(capsys, "artwork", w, "1", "--remove")
    assert code == 2 and "--for" in err
    # a stored artwork file is found by `generec watermark detect`
    space = next(e["file"] for e in listed if e["audience_label"] == "Space fans")
    code, out, _ = _run(capsys, "watermark", "detect", space, "--json")
    assert code == 0 and json.loads(out)["still_mark"]["found"]


def test_personalize_artwork_refuses_a_video_too_small_before_writing(media, tmp_path, capsys):
    w = str(tmp_path / "W")
    _run(capsys, "workspace", "create", w)
    _run(capsys, "import", w, str(media / "tiny.mp4"))
    _run(capsys, "audiences", "add", w, "--name", "Cats", "--examples", str(media / "cats"))
    code, _, err = _run(capsys, "personalize", w, "1", "--profiles", "Cats", "--artwork",
                        "--out", str(tmp_path / "out"))
    assert code == 2 and "480×270" in err and "Nothing was written" in err
    assert not (tmp_path / "W" / "artwork").exists() and not (tmp_path / "out").exists()
    code, out, _ = _run(capsys, "artwork", w, "1")
    assert code == 0 and "no artwork" in out
