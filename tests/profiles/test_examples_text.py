"""Audiences described in words (issue 19 part 4): the text tower's vector, with and without pictures, and the
messages when the encoder has no text tower. The path is tested with a tiny random CLIP, not the quality."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from examplemedia import write_photos
from PIL import Image
from tinyclip import write_tiny_hf_folder

from generec_desktop.corpus import Workspace
from generec_desktop.encoders.text import combine, text_vector
from generec_desktop.profiles import examples as ex
from generec_desktop.profiles.errors import ProfilesError

WORDS = "people who like skateboarding"


@pytest.fixture
def clip(tmp_path: Path):  # type: ignore[no-untyped-def]
    from generec_desktop.encoders import get_encoder

    write_tiny_hf_folder(tmp_path / "tiny")
    return get_encoder("open_clip:tiny", weights=tmp_path / "tiny", backend="torch")


@pytest.fixture
def ws(tmp_path: Path):  # type: ignore[no-untyped-def]
    with Workspace.create(tmp_path / "W") as w:
        yield w


def _vector(ws: Workspace, enc_id: str, audience_id: str) -> np.ndarray:
    profs, _notes = ex.example_profiles(ws, enc_id)
    return next(p.vector for p in profs if p.audience.audience_id == audience_id)


def test_words_alone_make_the_audience_their_text_vector(ws, clip) -> None:  # type: ignore[no-untyped-def]
    change = ex.add_audience(ws, "Skaters", text=WORDS, encoder=clip)
    a = change.audience
    assert [(e.kind, e.description) for e in a.examples] == [("text", WORDS)]
    assert a.descriptions == (WORDS,) and a.paths == () and a.item_ids == ()
    np.testing.assert_allclose(_vector(ws, clip.id, a.audience_id), text_vector(clip, WORDS), atol=1e-5)
    # other words give another audience vector
    other = ex.add_audience(ws, "Cooks", text="people who cook pasta", encoder=clip).audience
    assert float(_vector(ws, clip.id, other.audience_id) @ _vector(ws, clip.id, a.audience_id)) < 0.9999


def test_pictures_and_words_count_half_each(ws, clip, tmp_path) -> None:  # type: ignore[no-untyped-def]
    photos = write_photos(tmp_path / "photos")
    a = ex.add_audience(ws, "Mixed", photos, text=WORDS, encoder=clip).audience
    assert sorted(e.kind for e in a.examples) == ["image"] * len(photos) + ["text"]
    pics = clip.encode_images([np.asarray(Image.open(p).convert("RGB")) for p in photos])
    mean = pics.mean(axis=0)
    expected = combine([mean / np.linalg.norm(mean), text_vector(clip, WORDS)], [0.5, 0.5])
    got = _vector(ws, clip.id, a.audience_id)
    np.testing.assert_allclose(got, expected, atol=1e-4)
    # the words really count: without them the vector is the pictures' mean
    only_pics = ex.add_audience(ws, "Pictures", photos, encoder=clip).audience
    assert not np.allclose(_vector(ws, clip.id, only_pics.audience_id), got, atol=1e-3)
    # add and remove words later; the same words twice are skipped
    change = ex.add_examples(ws, only_pics.audience_id, text=[WORDS, f"  {WORDS.upper()} "], encoder=clip)
    assert len(change.added) == 1 and change.added[0].kind == "text"
    np.testing.assert_allclose(_vector(ws, clip.id, only_pics.audience_id), got, atol=1e-4)
    ex.remove_examples(ws, only_pics.audience_id, [WORDS])
    assert ex.get_audience(ws, only_pics.audience_id).descriptions == ()


def test_an_encoder_without_a_text_tower_says_how_to_get_one_and_writes_nothing(ws) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ProfilesError, match="text tower") as err:
        ex.add_audience(ws, "Skaters", text=WORDS)
    assert "generec models get" in str(err.value)
    assert ex.list_audiences(ws) == []


def test_words_in_another_encoder_are_reported_not_guessed(ws, clip, tmp_path) -> None:  # type: ignore[no-untyped-def]
    photos = write_photos(tmp_path / "photos")
    a = ex.add_audience(ws, "Mixed", photos, text=WORDS, encoder=clip).audience
    profs, notes = ex.example_profiles(ws, "builtin-v1")
    (prof,) = profs
    assert prof.used == len(photos) and any("no text tower" in m for m in prof.missing)
    assert any("Mixed" in n and "no text tower" in n for n in notes)
    assert a.audience_id == prof.audience.audience_id


def test_undo_snapshot_keeps_the_words(ws, clip) -> None:  # type: ignore[no-untyped-def]
    a = ex.add_audience(ws, "Skaters", text=WORDS, encoder=clip).audience
    snap = ex.snapshot_audience(ws, a.audience_id)
    ex.remove_audience(ws, a.audience_id)
    back = ex.restore_audience(ws, snap)
    assert back.descriptions == (WORDS,)
    np.testing.assert_allclose(_vector(ws, clip.id, back.audience_id), text_vector(clip, WORDS), atol=1e-5)


def test_cli_text(ws, clip, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from generec_desktop.cli import main
    from generec_desktop.profiles import store

    real = store.get_encoder
    monkeypatch.setattr(store, "get_encoder", lambda name, ws=None: clip if name == "tiny" else real(name, ws))
    root = str(ws.root)
    assert main(["audiences", "add", root, "--name", "Skaters", "--text", WORDS, "--encoder", "tiny", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["audience"]["descriptions"] == [WORDS] and data["encoder_id"] == clip.id
    assert main(["audiences", "list", root]) == 0
    assert f"words “{WORDS}”" in capsys.readouterr().out
    # the built-in encoder cannot read words: one line, no traceback
    assert main(["audiences", "add", root, "--name", "Cooks", "--text", "pasta", "--encoder", "builtin"]) != 0
    err = capsys.readouterr().err
    assert "text tower" in err and "Traceback" not in err
    assert main(["audiences", "add", root, "--name", "Nobody"]) != 0
    assert "--text" in capsys.readouterr().err
