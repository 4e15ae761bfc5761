"""One ProfileSet for every kind of audience: segments, then audiences from examples, then users; names a
person reads (numbered from 1) and what resolves to what."""

from __future__ import annotations

import numpy as np
import pytest
from examplemedia import write_photos
from PIL import Image

from generec_desktop.profiles import ProfilesError, build_profiles, import_interactions, load_profiles
from generec_desktop.profiles import examples as ex
from generec_desktop.profiles.service import audience_title, describe_audience, segment_name


def test_segments_examples_users_in_order_and_by_name(planted_ws, tmp_path):
    ws = planted_ws.ws
    import_interactions(ws, tmp_path / "interactions.csv")
    ps0 = build_profiles(ws, n_segments=3)
    made = ex.add_audience(ws, "Red fans", [planted_ws.item_ids[0], planted_ws.item_ids[1]])
    assert made.encoder_id == ps0.encoder_id  # the profiles' encoder
    ps = load_profiles(ws)
    kinds = [a.kind for a in ps.audiences()]
    assert kinds == ["segment"] * 3 + ["examples"] + ["user"] * 30
    assert [a.id for a in ps.audiences(users=False)] == ["segment:0", "segment:1", "segment:2", "examples:1"]
    seg = ps.audience("segment:1")
    assert seg.name == "Segment 2" == segment_name(1) and seg.title == f"Segment 2: {seg.label}"
    assert seg.item_ids == ps.segments[1].top_item_ids
    assert ps.resolve("Segment 2").id == "segment:1" and ps.resolve("segment #3").id == "segment:2"
    assert ps.resolve("red FANS").id == "examples:1" and ps.resolve("examples:1").kind == "examples"
    user = ps.audience(f"user:{int(ps.user_ids[0])}")
    assert user.name == user.label and not user.name.startswith("User ")
    assert ps.resolve(user.name).id == user.id  # a user by its external id
    with pytest.raises(ProfilesError, match="Segment 1"):
        ps.resolve("Segment 9")
    # the example audience is Eq. 1 of its items' thumbnails, as a user who liked exactly those would be
    aud = ps.audience("examples:1")
    assert aud.size == 2 and aud.item_ids == tuple(planted_ws.item_ids[:2])
    from generec_desktop.profiles.store import get_encoder, thumbnail_embeddings

    enc = get_encoder(ps.encoder_id, ws)
    f = thumbnail_embeddings(ws, enc, [ws.item(i) for i in planted_ws.item_ids[:2]])
    want = f.mean(0) / np.linalg.norm(f.mean(0))
    np.testing.assert_allclose(aud.vector, want, atol=1e-5)
    # build_profiles' own result carries the example audiences too
    assert [a.id for a in build_profiles(ws, n_segments=3).audiences(users=False)][-1] == "examples:1"


def test_titles_people_read(planted_ws, tmp_path):
    ws = planted_ws.ws
    ex.add_audience(ws, "Cyclists", write_photos(tmp_path / "p", ("coffee",)))
    ps = load_profiles(ws)
    assert len(ps.user_ids) == 0 and ps.segments == [] and ps.user_hist.shape == (0, ps.examples[0].vector.size)
    assert audience_title("segment:0") == "Segment 1" and audience_title("segment:4") == "Segment 5"
    assert audience_title("examples:1", ps) == "Cyclists" and audience_title(None) == "everyone"
    assert describe_audience(ws, "examples:1") == "Cyclists" and describe_audience(ws, "segment:1") == "Segment 2"
    users = ws.add_users(["u042"])
    assert describe_audience(ws, f"user:{users[0].id}") == "u042"


def test_version_titles_name_the_audience(planted_ws, tmp_path):
    from generec_desktop.versions import thumbnail_version

    ws = planted_ws.ws
    ex.add_audience(ws, "Cyclists", write_photos(tmp_path / "p", ("coffee",)))
    img = np.asarray(Image.open(tmp_path / "p" / "coffee.png").convert("RGB"))
    pv = thumbnail_version(ws, planted_ws.item_ids[0], img, target_profile="examples:1")
    assert pv.title.endswith("for Cyclists") and pv.target_profile == "examples:1"
    pv2 = thumbnail_version(ws, planted_ws.item_ids[0], img, target_profile="segment:1")
    assert pv2.title.endswith("for Segment 2") and pv2.target_profile == "segment:1"
