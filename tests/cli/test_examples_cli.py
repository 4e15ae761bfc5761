"""``generec audiences ...`` and audiences given by name wherever the CLI takes one, on a workspace that has
only audiences from examples (no interactions, no built profiles)."""

from __future__ import annotations

import json

import pytest
from examplemedia import write_photos, write_scenes_video, write_video

from generec_desktop.cli import main
from generec_desktop.corpus import Workspace


@pytest.fixture
def fresh(tmp_path):
    """A new workspace with one three-shot video, and example pictures that are not in it."""
    root = tmp_path / "W"
    with Workspace.create(root) as ws:
        ws.import_media([write_scenes_video(tmp_path / "src" / "three-shots.mp4")])
    pics = write_photos(tmp_path / "space", ("astronaut", "rocket", "hubble_deep_field"))
    cats = write_photos(tmp_path / "cats", ("chelsea",))
    return root, pics, cats, tmp_path


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def test_audiences_commands(fresh, capsys):
    root, pics, cats, tmp = fresh
    assert main(["audiences", "add", str(root), "--name", "Space fans", "--examples", str(pics[0].parent),
                 "--json"]) == 0
    data = _json(capsys)
    assert data["audience"]["id"] == "examples:1" and data["audience"]["examples"] == 3
    assert data["encoder_id"] == "builtin-v1"
    assert main(["audiences", "add", str(root), "--name", "Cats", "--examples", str(cats[0]), "1"]) == 0
    out = capsys.readouterr().out
    assert "Audience 'Cats' (examples:2) from 2 examples (1 image, 1 library item)" in out
    assert main(["audiences", "list", str(root), "--json"]) == 0
    rows = _json(capsys)["audiences"]
    assert [(r["id"], r["name"], r["examples"]) for r in rows] == [("examples:1", "Space fans", 3),
                                                                   ("examples:2", "Cats", 2)]
    assert rows[1]["items"] == [1] and rows[1]["paths"] == [str(cats[0].resolve())]
    assert main(["audiences", "list", str(root)]) == 0
    text = capsys.readouterr().out
    assert "examples:1   Space fans  (3 examples: 3 images)" in text and "item #1" in text
    assert main(["audiences", "rename", str(root), "space FANS", "Astronomers", "--json"]) == 0
    assert _json(capsys)["audience"]["name"] == "Astronomers"
    video = write_video(tmp / "rocket.mp4", "rocket")
    assert main(["audiences", "add-examples", str(root), "Astronomers", str(video), str(pics[0])]) == 0
    out = capsys.readouterr().out
    assert "Added 1 examples to 'Astronomers'" in out and "already an example" in out
    assert main(["audiences", "remove-examples", str(root), "examples:1", str(video), "--json"]) == 0
    assert [r["path"] for r in _json(capsys)["removed"]] == [str(video.resolve())]
    assert main(["audiences", "remove", str(root), "Cats"]) == 0
    assert "Removed the audience 'Cats'" in capsys.readouterr().out
    assert cats[0].exists()


@pytest.mark.parametrize("argv, words", [
    (["audiences", "add", "{W}", "--name", "Segment 2", "--examples", "{pic}"], "reserved"),
    (["audiences", "add", "{W}", "--name", "X", "--examples", "42"], "no item 42"),
    (["audiences", "add", "{W}", "--name", "X", "--examples", "{junk}"], "nothing was written"),
    (["audiences", "rename", "{W}", "Nobody", "Y"], "no audience from examples called 'Nobody'"),
    (["audiences", "remove", "{W}", "examples:9"], "no audience from examples"),
    (["personalize", "{W}", "1", "--profiles", "Nobody", "--out", "{out}"], "no audiences yet"),
])
def test_bad_input_is_one_line_and_exit_2(fresh, capsys, argv, words):
    root, pics, _cats, tmp = fresh
    junk = tmp / "junk.png"
    junk.write_bytes(b"not a picture")
    args = [a.format(W=root, pic=pics[0], junk=junk, out=tmp / "out") for a in argv]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and "\n" not in err and "Traceback" not in err


def test_no_audiences_at_all_says_how_to_make_one(fresh, capsys):
    root, *_ = fresh
    assert main(["profiles", "list", str(root)]) == 2
    err = capsys.readouterr().err
    assert "generec audiences add" in err and "generec profiles build" in err


def test_personalize_style_plan_with_only_example_audiences(fresh, capsys):
    root, pics, cats, tmp = fresh
    assert main(["audiences", "add", str(root), "--name", "Space fans", "--examples", *map(str, pics)]) == 0
    assert main(["audiences", "add", str(root), "--name", "Cat people", "--examples", str(cats[0])]) == 0
    capsys.readouterr()
    out = tmp / "out"
    assert main(["personalize", str(root), "1", "--profiles", "Space fans,examples:2", "--thumbnails",
                 "--out", str(out), "--json"]) == 0
    summary = _json(capsys)
    assert [a["audience"] for a in summary["audiences"]] == ["examples:1", "examples:2"]
    assert [a["label"] for a in summary["audiences"]] == ["Space fans", "Cat people"]
    times = [a["thumbnail"]["timestamp"] for a in summary["audiences"]]
    assert times[0] < 1.0 <= 2.0 <= times[1], times  # astronaut shot vs the cat shot
    assert (out / "examples-1" / "thumbnail.jpg").is_file()

    assert main(["profiles", "list", str(root)]) == 0
    listed = capsys.readouterr().out
    assert "Space fans" in listed and "(examples:1)" in listed

    assert main(["style", str(root), "1", "--style", "noir", "--version", "--audience", "cat people", "--json"]) == 0
    assert _json(capsys)["target_profile"] == "examples:2"

    assert main(["plan", str(root), "a thumbnail for the cat people", "--no-model", "--json"]) == 0
    plan = _json(capsys)
    assert plan["audiences"] == ["examples:2"] and plan["audience_names"] == {"examples:2": "Cat people"}
    assert main(["plan", str(root), "a 5 second clip", "--profile", "Space fans", "--no-model"]) == 0
    assert capsys.readouterr().out.startswith("clip for Space fans")


def test_package_for_an_example_audience_by_name(fresh, capsys):
    root, pics, _cats, tmp = fresh
    assert main(["audiences", "add", str(root), "--name", "Space fans", "--examples", *map(str, pics)]) == 0
    capsys.readouterr()
    assert main(["package", str(root), "1", "--audience", "space fans", "--out", str(tmp / "pkg"),
                 "--preset", "square", "--json"]) == 0
    data = _json(capsys)
    assert data["audience_id"] == "examples:1" and data["audience_label"] == "Space fans"
    summary = json.loads((tmp / "pkg" / "summary.json").read_text())
    assert summary["audience"] == {"id": "examples:1", "label": "Space fans"}
