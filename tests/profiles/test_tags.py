"""Content tags (colours, light, motion) and segment labels that describe content, not file names."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest


def test_camera_file_names_are_not_words_and_real_titles_are():
    from generec_desktop.profiles.tags import is_file_name, title_words

    for name in ("IMG_2041", "IMG_0001.MOV", "DSC0001.JPG", "DSCN1234", "VID_20240101_120000", "MVI_0042",
                 "PXL_20231105_093012345", "GOPR0042", "GH010203", "DJI_0001", "8f3a9c0d1e2b",
                 "Screen Recording 2024-01-01 at 10.00.00", "WhatsApp Video 2023-05-01 at 12.00.00",
                 "20240101_120000", "video_final_v2"):
        assert is_file_name(name), name
        assert title_words(name) == [], name
    assert title_words("My cat Lucy at the beach") == ["cat", "lucy", "beach"]
    assert title_words("Sunset_over_Lisbon.mp4") == ["sunset", "lisbon"]
    assert not is_file_name("Sunset over Lisbon")


def _texture(colour: tuple[int, int, int], w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    import cv2

    noise = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 3)
    noise = (noise - noise.min()) / (np.ptp(noise) + 1e-9)
    return np.clip(np.array(colour, np.float32) * (0.6 + 0.6 * noise[..., None]), 0, 255).astype(np.uint8)


def test_colour_and_light_tags_name_what_the_picture_shows():
    from generec_desktop.profiles.tags import colour_tags, content_tags, light_tags

    rng = np.random.default_rng(0)
    assert colour_tags([_texture((200, 30, 30), 96, 64, rng)])[0] == "red"
    assert colour_tags([_texture((30, 50, 210), 96, 64, rng)])[0] == "blue"
    assert colour_tags([_texture((40, 180, 50), 96, 64, rng)])[0] == "green"
    grey = np.repeat(_texture((150, 150, 150), 96, 64, rng)[..., :1], 3, axis=-1)
    assert "black and white" in colour_tags([grey])
    assert light_tags([np.full((32, 32, 3), 20, np.uint8)]) == ["dark"]
    assert light_tags([np.full((32, 32, 3), 240, np.uint8)]) == ["bright"]
    assert light_tags([np.full((32, 32, 3), 128, np.uint8)]) == []
    half = np.zeros((64, 64, 3), np.uint8)
    half[:, :32] = (220, 30, 30)
    half[:, 32:] = (30, 40, 220)
    assert set(content_tags(half)[:2]) == {"red", "blue"}


def test_motion_speed_is_measured_in_frame_widths_per_second():
    from generec_desktop.profiles.tags import FAST_SPEED, motion_speed, motion_tags

    rng = np.random.default_rng(1)
    big = _texture((120, 120, 120), 400, 64, rng)
    gap = 0.1
    for shift in (0, 1, 3):  # pixels per pair of frames, 96 px wide: up to a third of the width per second
        pairs = [(big[:, 40 + k:136 + k], big[:, 40 + k + shift:136 + k + shift]) for k in (0, 50, 100)]
        speed = motion_speed(pairs, gap)
        assert speed == pytest.approx(shift / 96 / gap, rel=0.2, abs=0.005), (shift, speed)
    fast = [(big[:, 40 + k:136 + k], big[:, 48 + k:144 + k]) for k in (0, 50, 100)]  # 0.83 widths per second
    assert motion_tags(motion_speed(fast, gap)) == ["fast-moving"]
    assert motion_tags(0.0) == ["still"] and motion_tags(FAST_SPEED * 2) == ["fast-moving"]
    assert motion_tags(0.1) == [] and motion_tags(None) == []


def _clip(path: Path, colour: tuple[int, int, int], speed_px: int, rng: np.random.Generator) -> Path:
    from mediagen import make_video

    big = _texture(colour, 128 + 60 * speed_px + 8, 72, rng)
    frames = [np.ascontiguousarray(big[:, k * speed_px:k * speed_px + 128]) for k in range(50)]
    return make_video(path, width=128, height=72, frames=frames)


@pytest.fixture(scope="module")
def camera_roll(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace of an uploader's own imports named by the camera: 4 red fast pans, 4 still blue shots,
    and 24 users: half like the red ones, half the blue ones."""
    from generec_desktop.corpus import Workspace
    from generec_desktop.corpus.schema import Interaction, User

    rng = np.random.default_rng(0)
    folder = tmp_path_factory.mktemp("roll")
    files = [_clip(folder / f"IMG_{k:04d}.mp4", (210, 35, 30), 6, rng) for k in range(1, 5)]
    files += [_clip(folder / f"VID_2024010{k}_120000.mp4", (30, 50, 200), 0, rng) for k in range(1, 5)]
    root = folder / "ws"
    with Workspace.create(root) as ws:
        items = ws.import_media(files).items
        with ws.session() as s:
            users = [User(external_id=f"u{u}") for u in range(24)]
            s.add_all(users)
            s.flush()
            for u, user in enumerate(users):
                mine = items[:4] if u % 2 == 0 else items[4:]
                for it in mine[: 3 + u % 2]:
                    s.add(Interaction(user_id=user.id, item_id=it.id, weight=1.0))
                s.add(Interaction(user_id=user.id, item_id=items[(u * 5) % 8].id, weight=1.0))
    return root


def test_segments_of_camera_roll_imports_are_labelled_by_content(camera_roll, monkeypatch):
    from generec_desktop.corpus import Workspace
    from generec_desktop.profiles import build_profiles, tags

    with Workspace.open(camera_roll) as ws:
        ps = build_profiles(ws, n_segments=2)
        titles = [it.title for it in ws.items()]
        labels = [s.label for s in ps.segments]
        print(labels)
        assert all(tags.is_file_name(t) for t in titles)  # the camera's names, as imported
        by_colour = {("red" in lab.split(" · "), "blue" in lab.split(" · ")): lab for lab in labels}
        red = by_colour[(True, False)]
        blue = by_colour[(False, True)]
        assert "fast-moving" in red.split(" · ") and "still" in blue.split(" · ")
        for lab in labels:  # never a file name or a piece of one
            assert not re.search(r"\d|img|vid", lab, re.IGNORECASE), lab
        # tags are cached per item: the next build measures nothing
        assert (ws.cache_dir / "profiles" / f"tags-v{tags.TAGS_VERSION}.json").is_file()

        def no_decode(*a, **k):
            raise AssertionError("tags were measured again")

        monkeypatch.setattr(tags, "_measure", no_decode)
        again = build_profiles(ws, n_segments=2)
    assert sorted(s.label for s in again.segments) == sorted(labels)


def test_describe_segments_prefers_distinguishing_tags_over_file_names():
    from generec_desktop.profiles.algorithms import describe_segments

    names = ["IMG_0001", "IMG_0002", "DSC0003", "DSC0004"]
    item_tags = [["red", "fast-moving"], ["red", "fast-moving", "dark"], ["blue", "still"], ["blue", "still"]]
    assignment = np.array([0, 0, 1, 1])
    user_idx = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    item_idx = np.array([0, 1, 0, 1, 2, 3, 2, 3])
    segs = describe_segments(assignment, user_idx, item_idx, names, item_tags=item_tags)
    labels = sorted(s.label.split(" · ") for s in segs)
    assert set(labels[0]) == {"blue", "still"}
    assert set(labels[1][:2]) == {"red", "fast-moving"}  # then "dark", which only one of its items is
    # one segment (nothing over-represented): its most frequent tags, still no file name
    one = describe_segments(np.zeros(4, np.int64), user_idx, item_idx, names, item_tags=item_tags)
    assert not re.search(r"\d|img|dsc", one[0].label, re.IGNORECASE) and one[0].label
    bare = describe_segments(np.zeros(4, np.int64), user_idx, item_idx, names)
    assert bare[0].label == "no distinct tags"
