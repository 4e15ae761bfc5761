"""Audiences from examples: Eq. 1 over items, images and video covers; names; edits; other encoders; undo."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from examplemedia import write_photos, write_video
from fakeencoder import MeanColour
from PIL import Image

from generec_desktop.corpus import Workspace
from generec_desktop.profiles import examples as ex
from generec_desktop.profiles.errors import (
    AudienceNameError,
    ExampleFileError,
    ModelNotFoundError,
    ProfilesError,
    UnknownAudienceError,
    UnknownItemError,
)
from generec_desktop.profiles.service import load_profiles
from generec_desktop.profiles.store import get_encoder, thumbnail_embeddings


def _eq1(vectors: list[np.ndarray]) -> np.ndarray:
    m = np.mean(np.stack(vectors), axis=0)
    return m / np.linalg.norm(m)


@pytest.fixture
def ws(tmp_path):
    with Workspace.create(tmp_path / "W") as w:
        yield w


@pytest.fixture
def photos(tmp_path):
    return write_photos(tmp_path / "photos")


def test_image_examples_make_user_hist_of_their_embeddings(ws, photos):
    enc = get_encoder("builtin")
    change = ex.add_audience(ws, "Space fans", photos)
    assert change.encoder_id == enc.id
    assert change.audience.name == "Space fans" and change.audience.n_examples == 3
    assert [e.kind for e in change.audience.examples] == ["image"] * 3
    expected = _eq1([enc.encode_images([np.asarray(Image.open(p).convert("RGB"))])[0] for p in photos])
    ps = load_profiles(ws)
    aud = ps.audience(change.audience.audience_id)
    assert aud.kind == "examples" and aud.name == "Space fans" and aud.size == 3
    np.testing.assert_allclose(aud.vector, expected, atol=1e-5)
    # not the mean of just some of them
    assert not np.allclose(aud.vector, _eq1([enc.encode_images([np.asarray(Image.open(photos[0]))])[0]]), atol=1e-3)


def test_item_and_video_examples(ws, tmp_path):
    enc = get_encoder("builtin")
    lib = write_video(tmp_path / "lib" / "coffee.mp4", "coffee")
    ws.import_media([lib])
    item = ws.items()[0]
    outside = write_video(tmp_path / "clips" / "chelsea.mp4", "chelsea")
    change = ex.add_audience(ws, "Cat people", [str(item.id), outside])
    kinds = {e.kind for e in change.audience.examples}
    assert kinds == {"item", "video"}
    from generec_desktop.corpus.cover import choose_cover
    from generec_desktop.media import probe

    info = probe(outside)
    f_video = enc.encode_images([choose_cover(outside, info.duration, info.has_cover)])[0]
    f_item = thumbnail_embeddings(ws, enc, [item])[0]
    np.testing.assert_allclose(load_profiles(ws).vector(change.audience.audience_id), _eq1([f_item, f_video]),
                               atol=1e-5)
    # the library's own video given as a file is stored as the item (its cover, its id), not twice
    again = ex.add_audience(ws, "Coffee", [lib])
    assert [(e.kind, e.item_id) for e in again.audience.examples] == [("item", item.id)]
    # by external id too
    from generec_desktop.corpus.schema import Item

    with ws.session() as s:
        s.get(Item, item.id).external_id = "my-coffee-clip"
    assert ex.add_audience(ws, "By ext", ["my-coffee-clip"]).audience.item_ids == (item.id,)


def test_folder_recursive_skips_hidden_and_unsupported_and_reports_unreadable(ws, tmp_path):
    root = tmp_path / "mix"
    write_photos(root, ("astronaut",))
    write_photos(root / "deeper" / "more", ("coffee",))
    write_video(root / "deeper" / "clip.mp4", "rocket")
    write_photos(root / ".hidden", ("chelsea",))
    (root / ".secret.png").write_bytes((root / "astronaut.png").read_bytes())
    (root / "notes.txt").write_text("not a picture")
    (root / "broken.jpg").write_bytes(b"\xff\xd8 definitely not a jpeg")
    change = ex.add_audience(ws, "Mixed", [root])
    names = sorted(Path(e.path).name for e in change.audience.examples)
    assert names == ["astronaut.png", "clip.mp4", "coffee.png"]
    joined = " | ".join(change.skipped)
    assert "broken.jpg" in joined and "cannot be read" in joined
    assert "notes.txt" in joined and "not an image or video" in joined
    assert ".secret.png (hidden file)" in joined and ".hidden (hidden folder)" in joined


def test_nothing_usable_writes_nothing_and_names_the_files(ws, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"garbage")
    text = tmp_path / "readme.md"
    text.write_text("hi")
    with pytest.raises(ExampleFileError) as err:
        ex.add_audience(ws, "Nobody", [bad, text])
    assert "broken.png" in str(err.value) and "readme.md" in str(err.value)
    assert "nothing was written" in str(err.value)
    assert ex.list_audiences(ws) == []
    with pytest.raises(ModelNotFoundError, match="generec audiences add") as none:
        load_profiles(ws)
    assert "generec profiles build" in str(none.value)


def test_names_are_checked(ws, photos):
    ex.add_audience(ws, "Cyclists", photos[:1])
    for bad, why in (("", "Give the audience a name"), ("   ", "Give the audience a name"),
                     ("cyclists", "already an audience"), ("  CYCLISTS ", "already an audience"),
                     ("Segment 2", "reserved"), ("segment 10", "reserved"), ("segment:1", "reserved"),
                     ("user:4", "reserved"), ("x" * 101, "at most")):
        with pytest.raises(AudienceNameError, match=why):
            ex.add_audience(ws, bad, photos[1:2])
    assert [a.name for a in ex.list_audiences(ws)] == ["Cyclists"]
    assert ex.add_audience(ws, "  Segment   fans ", photos[1:2]).audience.name == "Segment fans"


def test_unknown_item_and_unknown_audience(ws, photos):
    with pytest.raises(UnknownItemError, match="no item 99"):
        ex.add_audience(ws, "A", ["99"])
    with pytest.raises(UnknownItemError, match="neither a file"):
        ex.add_audience(ws, "A", ["no-such-thing.png"])
    assert ex.list_audiences(ws) == []
    with pytest.raises(UnknownAudienceError, match="none yet"):
        ex.get_audience(ws, "Ghosts")
    ex.add_audience(ws, "Real", photos[:1])
    with pytest.raises(UnknownAudienceError, match="Real"):
        ex.rename_audience(ws, "Ghosts", "Other")
    with pytest.raises(UnknownAudienceError):
        ex.remove_audience(ws, "examples:42")


def test_rename_add_remove_examples_and_remove(ws, photos, tmp_path):
    enc = get_encoder("builtin")
    a = ex.add_audience(ws, "Fans", photos[:1]).audience
    assert ex.rename_audience(ws, a.audience_id, "Space fans").audience.name == "Space fans"
    assert ex.get_audience(ws, "space FANS").id == a.id
    more = ex.add_examples(ws, "Space fans", photos[1:] + photos[:1])
    assert len(more.added) == 2 and any("already an example" in s for s in more.skipped)
    f = [enc.encode_images([np.asarray(Image.open(p).convert("RGB"))])[0] for p in photos]
    np.testing.assert_allclose(load_profiles(ws).vector(a.audience_id), _eq1(f), atol=1e-5)
    less = ex.remove_examples(ws, a.id, [photos[1]])
    assert [Path(e.path).name for e in less.removed] == [photos[1].name]
    np.testing.assert_allclose(load_profiles(ws).vector(a.audience_id), _eq1([f[0], f[2]]), atol=1e-5)
    ex.remove_examples(ws, a.id, [photos[2].name])  # a file's name, when only one example has it
    with pytest.raises(ProfilesError, match="at least one example"):
        ex.remove_examples(ws, a.id, [photos[0]])
    with pytest.raises(UnknownItemError, match="not an example"):
        ex.remove_examples(ws, a.id, [photos[1]])
    gone = ex.remove_audience(ws, a.id)
    assert gone.after is None and ex.list_audiences(ws) == []
    assert all(p.exists() for p in photos), "example files are never touched"


def test_snapshot_restore_brings_back_the_same_audience(ws, photos):
    made = ex.add_audience(ws, "Fans", photos)
    vec = load_profiles(ws).vector(made.audience.audience_id)
    removed = ex.remove_audience(ws, made.audience.id)
    with pytest.raises(ModelNotFoundError):
        load_profiles(ws)
    back = ex.restore_audience(ws, removed.before)
    assert back.id == made.audience.id and back.name == "Fans" and back.n_examples == 3
    np.testing.assert_allclose(load_profiles(ws).vector(back.audience_id), vec, atol=1e-6)
    renamed = ex.rename_audience(ws, back.id, "Other")
    ex.restore_audience(ws, renamed.before)  # undo the rename
    assert ex.get_audience(ws, back.id).name == "Fans"
    ex.add_audience(ws, "Taken", photos[:1])
    snap = ex.rename_audience(ws, "Taken", "Spare").before
    ex.rename_audience(ws, "Fans", "Taken")
    with pytest.raises(AudienceNameError):
        ex.restore_audience(ws, snap)  # its name belongs to another audience now


def test_moved_files_keep_counting_and_another_encoder_re_embeds_what_it_can(ws, photos, tmp_path, monkeypatch):
    made = ex.add_audience(ws, "Fans", photos)
    before = load_profiles(ws).vector(made.audience.audience_id)
    moved = tmp_path / "elsewhere.png"
    shutil.move(photos[0], moved)
    ps = load_profiles(ws)
    np.testing.assert_allclose(ps.vector(made.audience.audience_id), before, atol=1e-6)
    assert ps.notes == []

    from generec_desktop.profiles import store

    fake = MeanColour()
    real = store.get_encoder
    monkeypatch.setattr(store, "get_encoder", lambda name, ws=None: fake if name == fake.id else real(name, ws))
    ps2 = load_profiles(ws, encoder_id=fake.id)
    aud = ps2.audience(made.audience.audience_id)
    expected = _eq1([fake.encode_images([np.asarray(Image.open(p).convert("RGB"))])[0] for p in photos[1:]])
    np.testing.assert_allclose(aud.vector, expected, atol=1e-5)
    assert len(ps2.notes) == 1 and "1 of 3" in ps2.notes[0] and "moved or deleted" in ps2.notes[0]
    assert photos[0].name in ps2.notes[0]
    # the new vectors were stored: the moved file now counts in both encoders once it is back
    shutil.move(moved, photos[0])
    ps3 = load_profiles(ws, encoder_id=fake.id)
    np.testing.assert_allclose(ps3.vector(made.audience.audience_id),
                               _eq1([fake.encode_images([np.asarray(Image.open(p).convert("RGB"))])[0]
                                     for p in photos]), atol=1e-5)
    assert ps3.notes == []


def test_the_workspace_encoder_is_used(ws, photos, monkeypatch):
    from generec_desktop.profiles import store

    fake = MeanColour()
    real = store.get_encoder
    monkeypatch.setattr(store, "get_encoder", lambda name, ws=None: fake if name == fake.id else real(name, ws))
    assert ex.workspace_encoder_id(ws) is None
    first = ex.add_audience(ws, "First", photos[:1], encoder=fake.id)
    assert first.encoder_id == fake.id
    assert ex.workspace_encoder_id(ws) == fake.id
    second = ex.add_audience(ws, "Second", photos[1:2])  # no encoder given: the workspace's
    assert second.encoder_id == fake.id
    assert load_profiles(ws).encoder_id == fake.id


def test_cancel_writes_nothing(ws, photos):
    from generec_desktop.jobs import Cancelled, CancelToken

    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        ex.add_audience(ws, "Never", photos, cancel=token)
    assert ex.list_audiences(ws) == []


def test_progress_is_reported(ws, photos):
    seen = []
    ex.add_audience(ws, "Fans", photos, progress=lambda f, m="": seen.append(f))
    assert seen and seen[-1] == 1.0 and all(0.0 <= f <= 1.0 for f in seen)


def test_cover_paths_for_the_strip(ws, photos, tmp_path):
    write_video(tmp_path / "v.mp4", "rocket")
    a = ex.add_audience(ws, "Fans", [*photos, tmp_path / "v.mp4"]).audience
    paths = ex.example_cover_paths(ws, a, limit=4)
    assert len(paths) == 4 and all(p.is_file() for p in paths)
    assert all(p.is_relative_to(ws.cache_dir) for p in paths)
    with Image.open(paths[0]) as im:
        assert max(im.size) <= ex.SMALL_COVER_SIDE
    assert len(ex.example_images(ws, a, limit=2)) == 2
