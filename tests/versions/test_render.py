"""Files to upload (issue 16 part 6): ``versions.render`` presets, codecs, limits, reframing, watermark, safety.

Test media are made here with PyAV: a phone-like portrait clip (1080×1920, 30 fps, real photos, a tone),
a landscape clip with a bright square moving across a dark frame (with audio and without), a 15 fps clip
and a variable-frame-rate one; each 2 s or less, so a render takes a second or two.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import mediagen
import numpy as np
import pytest

from generec_desktop.jobs import Cancelled, CancelToken

KEY = "render-test-key"  # an explicit watermark key: module fixtures outlive the per-test data home
SQUARE = 120  # side of the moving square (source pixels)


def _moving_square(n: int, width: int = 1280, height: int = 720) -> list[np.ndarray]:
    """A bright textured square crossing a dark frame left to right (the salient object)."""
    from skimage import data

    patch = np.asarray(data.coffee()[100:100 + SQUARE, 200:200 + SQUARE])
    patch = np.clip(patch.astype(np.int16) + 90, 0, 255).astype(np.uint8)
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        img = np.full((height, width, 3), 18, np.uint8) + rng.integers(0, 6, (height, width, 1), dtype=np.uint8)
        x = _square_x(i, n, width)
        img[300:300 + SQUARE, x:x + SQUARE] = patch
        out.append(img)
    return out


def _square_x(i: int, n: int, width: int = 1280) -> int:
    return int(60 + i * (width - SQUARE - 120) / max(1, n - 1))


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("render-media")
    fast = {"preset": "ultrafast"}
    mediagen.make_video(d / "portrait.mp4", width=1080, height=1920, fps=30,
                        frames=mediagen.photo_frames(60, 1080, 1920), audio=True, options=fast)
    frames = _moving_square(60)
    mediagen.make_video(d / "landscape.mp4", width=1280, height=720, fps=30, frames=frames, audio=True, options=fast)
    mediagen.make_video(d / "silent.mp4", width=1280, height=720, fps=30, frames=frames[::2], options=fast)
    mediagen.make_video(d / "slow.mp4", width=640, height=360, fps=15, options=fast,
                        frames=[f[::2, ::2] for f in frames[::4]])
    vfr_pts = [0, 40, 80, 200, 210, 300, 333, 500, 540, 700, 760, 800, 900, 1000, 1033, 1100]
    mediagen.make_video(d / "vfr.mp4", width=640, height=360, fps=25, pts=vfr_pts,
                        time_base=Fraction(1, 1000),
                        frames=[f[::2, ::2] for f in frames[: len(vfr_pts)]], options=fast)
    return d


@pytest.fixture(scope="module")
def ws_root(media_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from generec_desktop.corpus import Workspace

    root = tmp_path_factory.mktemp("render-ws") / "W"
    with Workspace.create(root) as ws:
        for name in ("portrait", "landscape", "silent", "slow", "vfr"):
            ws.import_media(media_dir / f"{name}.mp4", owner="ann", licence="CC-BY-4.0", title=name)
    return root


@pytest.fixture
def ws(ws_root: Path):
    from generec_desktop.corpus import Workspace

    with Workspace.open(ws_root) as w:
        yield w


def _item(ws, title: str):
    return next(i for i in ws.items() if i.title == title)


@pytest.fixture(scope="module")
def rendered(ws_root: Path, tmp_path_factory: pytest.TempPathFactory):
    """Each preset rendered once (shared by the assertions below): name -> RenderResult."""
    from generec_desktop.corpus import Workspace
    from generec_desktop.versions.render import render

    out = tmp_path_factory.mktemp("renders")
    done = {}
    with Workspace.open(ws_root) as w:
        portrait, landscape = _item(w, "portrait"), _item(w, "landscape")
        done["vertical"] = render(w, portrait.id, "vertical", out / "vertical.mp4", key=KEY)
        for name in ("square", "landscape-1080", "landscape-720", "original"):  # the first second: 30 frames
            done[name] = render(w, landscape.id, name, out / f"{name}.mp4", end=1.0, key=KEY)
        done["reframed"] = render(w, landscape.id, "vertical", out / "reframed.mp4", key=KEY)
    return done


def _atoms(path: Path) -> list[tuple[int, str]]:
    """(depth, type) of every MP4 box, in file order (top level and the containers below moov)."""
    data = path.read_bytes()
    out: list[tuple[int, str]] = []

    def walk(off: int, end: int, depth: int) -> None:
        while off + 8 <= end:
            size, typ = struct.unpack(">I4s", data[off:off + 8])
            hdr = 8
            if size == 1:
                size, hdr = struct.unpack(">Q", data[off + 8:off + 16])[0], 16
            elif size == 0:
                size = end - off
            name = typ.decode("latin-1")
            out.append((depth, name))
            if name in ("moov", "trak", "edts", "mdia", "minf", "stbl"):
                walk(off + hdr, off + size, depth + 1)
            off += size

    walk(0, len(data), 0)
    return out


def _streams(path: Path) -> dict[str, object]:
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        a = c.streams.audio[0] if c.streams.audio else None
        return {"codec": v.codec_context.name, "profile": v.codec_context.profile, "pix_fmt": v.codec_context.pix_fmt,
                "width": v.codec_context.width, "height": v.codec_context.height, "rate": v.average_rate,
                "audio": None if a is None else (a.codec_context.name, a.codec_context.sample_rate, a.channels)}


# ------------------------------------------------------------------------------------ presets and codecs


def test_preset_table_names_its_sources():
    from generec_desktop.versions import render as r

    assert list(r.PRESETS) == ["vertical", "square", "landscape-1080", "landscape-720", "original"]
    text = Path(r.__file__).read_text(encoding="utf-8")
    for p in r.PRESETS.values():
        assert p.sources and all(f"# [{s}]" in text for s in p.sources), p.name
        assert p.max_bytes > 0 and p.max_seconds > 0 and p.max_fps == 60
        assert p.name in p.describe()
    assert (r.PRESETS["vertical"].width, r.PRESETS["vertical"].height) == (1080, 1920)
    assert (r.PRESETS["square"].width, r.PRESETS["square"].height) == (1080, 1080)
    assert r.PRESETS["vertical"].max_seconds == 180  # YouTube Shorts' 3 minutes is the strictest


@pytest.mark.parametrize("name,size", [("vertical", (1080, 1920)), ("square", (1080, 1080)),
                                       ("landscape-1080", (1920, 1080)), ("landscape-720", (1280, 720)),
                                       ("original", (1280, 720))])
def test_each_preset_geometry_codec_audio_and_timing(rendered, name, size):
    res = rendered[name]
    s = _streams(res.path)
    assert (s["width"], s["height"]) == size == (res.width, res.height)
    assert s["codec"] == "h264" and s["profile"] == "High" and s["pix_fmt"] == "yuv420p"
    assert s["audio"] == ("aac", 48000, 2)  # the source's stereo tone, AAC 48 kHz
    assert s["rate"] == 30
    from generec_desktop import media

    info = media.probe(res.path)
    frames = 60 if name == "vertical" else 30
    assert info.frame_count == frames == res.frames and info.duration == pytest.approx(frames / 30, abs=1e-3)
    assert not info.variable_frame_rate
    times = media.frame_times(res.path)
    assert np.allclose(np.diff(times), 1 / 30, atol=1e-4)


def test_faststart_moov_before_mdat_and_no_edit_lists(rendered):
    for res in rendered.values():
        atoms = _atoms(res.path)
        top = [name for depth, name in atoms if depth == 0]
        assert top.index("moov") < top.index("mdat"), (res.preset, top)
        assert "elst" not in {name for _, name in atoms}, res.preset  # [YE], [IG]: no edit lists
    # the test's parser finds the boxes at all (a parser that saw nothing would pass the checks above)
    assert ("trak" in {n for _, n in _atoms(rendered["vertical"].path)})


def test_watermark_reads_back_with_the_item_payload(rendered, ws_root):
    from generec_desktop.corpus import Workspace
    from generec_desktop.fidelity import watermark as wm

    with Workspace.open(ws_root) as w:
        want = wm.payload_for_version(f"item:{_item(w, 'portrait').id}", workspace_id=ws_root.name)
    res = rendered["vertical"]
    assert res.payload == want
    det = wm.detect_video(res.path, key=KEY, search=False)
    assert det.found and det.payload == want
    # the mark is this installation's: another key reads nothing
    assert not wm.detect_video(res.path, key="another key", search=False, max_frames=8).found


def test_provenance_in_tags_and_sidecar(rendered, ws_root):
    from generec_desktop import media
    from generec_desktop.corpus import Workspace
    from generec_desktop.fidelity.provenance import MANIFEST_TAG, canonical, verify_file
    from generec_desktop.safefiles import file_sha256

    res = rendered["reframed"]
    with Workspace.open(ws_root) as w:
        src = _item(w, "landscape")
    tags = json.loads(media.probe(res.path).metadata[MANIFEST_TAG])
    side = json.loads(res.sidecar.read_text(encoding="utf-8"))
    assert res.sidecar == res.path.with_name(res.path.name + ".provenance.json")
    assert side["output"]["sha256"] == file_sha256(res.path) == res.sha256
    assert canonical({k: v for k, v in side.items() if k != "output"}) == canonical(tags)
    assert tags["render"]["preset"]["name"] == "vertical"
    assert tags["render"]["source_sha256"] == src.sha256 == tags["source"]["sha256"]
    crop = tags["render"]["crop"]
    assert crop["box"] == [404, 720] and len(crop["path"]) >= 3 and crop["x_range"][1] > crop["x_range"][0]
    assert tags["watermark"]["payload"] == f"{res.payload:08x}"
    assert verify_file(res.path, key=KEY).ok
    # signed Content Credentials: the item's file as the ingredient, the render's steps as actions; a human
    # original stays human (no AI source type). Signed in the session's data home (another test's CA here).
    from generec_desktop.fidelity.credentials import read_credentials

    c = read_credentials(res.path)
    assert c.state in ("trusted", "valid") and not c.tampered, c.failures
    assert [a["action"] for a in c.actions] == ["c2pa.opened", "c2pa.cropped", "c2pa.resized", "c2pa.transcoded",
                                                "c2pa.watermarked"]
    assert c.digital_source_types == [] and c.ingredients[0]["sha256"] == src.sha256
    assert side["output"]["content_credentials"]["bytes_added"] > 0


# ------------------------------------------------------------------------------------ reframing


def test_vertical_crop_follows_a_moving_object(rendered):
    """The square crosses the whole width; the 9:16 crop (404 px of 1280) must keep it in view."""
    from generec_desktop import media

    res = rendered["reframed"]
    assert res.fit == "crop"
    n = 60
    times = [0.1, 0.5, 1.0, 1.5, 1.9]
    frames = media.sample_frames(res.path, timestamps=times)
    centres = []
    for f in frames:
        bright = np.where(f.image.mean(axis=2).max(axis=0) > 120)[0]
        assert len(bright) > 60, f"the object left the frame at {f.timestamp:.2f} s"
        centres.append(bright.mean())
    corner = [x for _, x, _ in res.crop["path"]]
    assert corner == sorted(corner) and corner[-1] - corner[0] > 500  # the crop pans with it
    # a fixed centre crop (x 438..842) would have lost it at both ends
    for t in (0.1, 1.9):
        x = _square_x(round(t * 30), n)
        assert x + SQUARE < 438 or x > 842
    assert centres[0] < 540 + 300 and centres[-1] > 540 - 300


def test_pad_letterboxes_instead_of_cropping(ws, tmp_path):
    from generec_desktop import media
    from generec_desktop.versions.render import render

    res = render(ws, _item(ws, "landscape").id, "square", tmp_path / "pad.mp4", fit="pad", key=KEY)
    assert res.fit == "pad" and res.crop is None
    img = media.sample_frames(res.path, timestamps=[1.0])[0].image.astype(int)
    bar = (1080 - round(720 * 1080 / 1280)) // 2  # 236 rows above and below the 1080×608 picture
    assert img[: bar - 4].max() < 40 and img[-(bar - 4):].max() < 40
    assert img[bar + 4: 1080 - bar - 4].max() > 150  # the square is in the picture


# ------------------------------------------------------------------------------------ limits


def test_too_long_is_refused_unless_trimmed(ws, tmp_path):
    from generec_desktop.versions.render import PRESETS, RenderError, render

    short = replace(PRESETS["landscape-720"], name="short-test", max_seconds=1.0)
    with pytest.raises(RenderError, match=r"allows at most 1 s.*--trim") as err:
        render(ws, _item(ws, "landscape").id, short, tmp_path / "long.mp4", key=KEY)
    assert "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []
    res = render(ws, _item(ws, "landscape").id, short, tmp_path / "trimmed.mp4", trim=True, key=KEY)
    assert res.trimmed and res.frames == 30 and res.duration == pytest.approx(1.0)
    from generec_desktop import media

    assert media.probe(res.path).frame_count == 30


def test_bitrate_is_chosen_to_fit_the_size_limit(ws, tmp_path):
    from generec_desktop.versions.render import PRESETS, RenderError, render

    small = replace(PRESETS["landscape-720"], name="small-test", max_bytes=250_000)
    res = render(ws, _item(ws, "portrait").id, small, tmp_path / "small.mp4", end=1.0, key=KEY)
    # 250 kB over 1 s with 384 kbit/s of audio leaves < 5 Mbit/s: the cap came down, and the file fits
    assert res.video_kbps < 5000 and res.size <= 250_000
    tiny = replace(small, name="tiny-test", max_bytes=40_000)
    with pytest.raises(RenderError, match="do not fit"):
        render(ws, _item(ws, "portrait").id, tiny, tmp_path / "tiny.mp4", key=KEY)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.mp4", "small.mp4.provenance.json"]


def test_frame_rates_become_constant(ws, tmp_path):
    from generec_desktop import media
    from generec_desktop.versions.render import render

    vfr = render(ws, _item(ws, "vfr").id, "landscape-720", tmp_path / "vfr.mp4", key=KEY)
    assert media.probe(ws.media_path(_item(ws, "vfr"))).variable_frame_rate
    out = media.probe(vfr.path)
    assert not out.variable_frame_rate and vfr.fps in (24.0, 25.0, 30.0)
    assert np.allclose(np.diff(media.frame_times(vfr.path)), 1 / vfr.fps, atol=1e-4)
    slow = render(ws, _item(ws, "slow").id, "vertical", tmp_path / "slow.mp4", key=KEY)
    assert slow.fps == 30.0 and slow.frames == 30  # 15 fps raised to the platforms' 23 fps minimum: doubled


def test_a_turned_phone_video_is_rendered_upright(ws, tmp_path):
    """A portrait phone clip stored landscape with a 90° display matrix is already 9:16: scaled, not cropped."""
    from generec_desktop import media
    from generec_desktop.versions.render import render

    frames = [np.ascontiguousarray(f[::4, ::4]) for f in _moving_square(8)]  # 320×180 coded
    src = mediagen.make_video(tmp_path / "turned.mp4", width=320, height=180, fps=30, frames=frames, rotation=90)
    assert (media.probe(src).width, media.probe(src).height) == (180, 320)
    res = render(ws, _import(ws, src), "vertical",
                 tmp_path / "upright.mp4", key=KEY)
    assert res.fit == "scale" and (res.width, res.height) == (1080, 1920)
    out = media.sample_frames(res.path, timestamps=[0.0])[0].image
    want = media.sample_frames(src, timestamps=[0.0])[0].image  # as a player shows the source
    import cv2

    small = cv2.resize(out, (180, 320), interpolation=cv2.INTER_AREA).astype(int)
    assert np.abs(small - want.astype(int)).mean() < 12  # the same upright picture, not a turned one


def _import(ws, path: Path) -> int:
    return int(ws.import_media(path).items[0].id)


def test_silent_source_gets_a_silent_track_only_where_platforms_want_one(ws, tmp_path):
    from generec_desktop import media
    from generec_desktop.media import AudioSource
    from generec_desktop.versions.render import render

    vertical = render(ws, _item(ws, "silent").id, "vertical", tmp_path / "v.mp4", key=KEY)
    assert _streams(vertical.path)["audio"] == ("aac", 48000, 2)
    samples, rate, _ = media.read_audio(AudioSource(vertical.path))
    assert rate == 48000 and samples.shape[1] >= 0.99 * vertical.duration * rate and np.abs(samples).max() < 1e-3
    wide = render(ws, _item(ws, "silent").id, "landscape-720", tmp_path / "w.mp4", key=KEY)
    assert _streams(wide.path)["audio"] is None and not wide.has_audio


# ------------------------------------------------------------------------------------ safety


def test_never_overwrites_unless_forced(ws, tmp_path):
    from generec_desktop.versions.render import RenderError, render

    out = tmp_path / "mine.mp4"
    out.write_bytes(b"the user's own file")
    with pytest.raises(RenderError, match="exists already"):
        render(ws, _item(ws, "slow").id, "landscape-720", out, key=KEY)
    assert out.read_bytes() == b"the user's own file" and sorted(tmp_path.iterdir()) == [out]
    res = render(ws, _item(ws, "slow").id, "landscape-720", out, force=True, key=KEY)
    assert out.stat().st_size > 1000 and res.sidecar.is_file()
    # a sidecar in the way is somebody's file too
    other = tmp_path / "other.mp4.provenance.json"
    other.write_text("{}")
    with pytest.raises(RenderError, match="exists already"):
        render(ws, _item(ws, "slow").id, "landscape-720", tmp_path / "other.mp4", key=KEY)
    assert other.read_text() == "{}"


def test_source_is_never_modified_and_never_the_output(ws):
    from generec_desktop.safefiles import file_sha256
    from generec_desktop.versions.render import RenderError, render

    item = _item(ws, "slow")
    src = ws.media_path(item)
    before = file_sha256(src)
    with pytest.raises(RenderError):
        render(ws, item.id, "landscape-720", src, force=True, key=KEY)
    with pytest.raises(RenderError, match="media/ folder"):
        render(ws, item.id, "landscape-720", src.with_name("new.mp4"), key=KEY)
    assert file_sha256(src) == before == item.sha256


def test_cancel_leaves_nothing(ws, tmp_path):
    from generec_desktop.versions.render import render

    token = CancelToken()
    seen: list[float] = []

    def progress(fraction: float, message: str = "") -> None:
        seen.append(fraction)
        if "Frame 10 of" in message:
            token.cancel()

    with pytest.raises(Cancelled):
        render(ws, _item(ws, "landscape").id, "vertical", tmp_path / "c.mp4", key=KEY, progress=progress,
               cancel=token)
    assert seen and list(tmp_path.iterdir()) == []  # no output, no sidecar, no temporary file


def test_damaged_or_unsupported_source_is_one_line(ws_root, tmp_path, capsys):
    from generec_desktop.cli import main
    from generec_desktop.corpus import Workspace
    from generec_desktop.fidelity.export import create_pending

    with Workspace.open(ws_root) as w:
        parent = _item(w, "slow").id
        text = create_pending(w, mediagen.make_text_mp4(tmp_path / "text.mp4"), operation="edit", parent_id=parent)
        cut = create_pending(w, mediagen.make_truncated(w.media_path(_item(w, "portrait")), tmp_path / "cut.mp4",
                                                        0.02), operation="edit", parent_id=parent)
        still = tmp_path / "still.png"
        from PIL import Image

        Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(still)
        png = create_pending(w, still, operation="thumbnail", parent_id=parent)
    for pv, words in ((text, ""), (cut, ""), (png, "still image")):
        rc = main(["render", str(ws_root), pv.id, "--preset", "vertical", "--out", str(tmp_path / "o.mp4")])
        err = capsys.readouterr().err
        assert rc == 2 and err.startswith("generec: error:") and err.count("\n") == 1, err
        assert words in err
    assert not (tmp_path / "o.mp4").exists()
    rc = main(["render", str(ws_root), "no-such-item", "--preset", "vertical", "--out", str(tmp_path / "o.mp4")])
    assert rc == 2 and "no item or pending version" in capsys.readouterr().err


# ------------------------------------------------------------------------------------ versions and CLI


def test_pending_version_carries_its_export_payload(ws, tmp_path):
    from generec_desktop.fidelity import watermark as wm
    from generec_desktop.fidelity.provenance import verify_file
    from generec_desktop.versions import clip_version
    from generec_desktop.versions.render import render

    pv = clip_version(ws, _item(ws, "landscape").id, 0.5, 1.5, target_profile="segment:0")
    res = render(ws, pv.media, "landscape-720", tmp_path / "v.mp4", key=KEY)  # by its media path
    assert res.payload == wm.payload_for_version(pv.id, workspace_id=ws.root.name)
    assert res.manifest["source"]["version_id"] == pv.id and res.manifest["target_audience"] == "segment:0"
    assert res.manifest["ai_label"] == "AI-edited" and res.frames == 30
    assert verify_file(res.path, key=KEY).ok
    from generec_desktop.fidelity.credentials import read_credentials

    c = read_credentials(res.path)  # the upload file says it is AI-edited, from the version's original
    assert not c.tampered and c.digital_source_types == ["compositeWithTrainedAlgorithmicMedia"]
    assert [a["action"] for a in c.actions][:2] == ["c2pa.opened", "c2pa.edited"]
    assert c.ingredients[0]["sha256"] == _item(ws, "landscape").sha256
    assert c.audience and c.audience["id"] == "segment:0" and c.watermark_payload == f"{res.payload:08x}"


def test_cli_render_json_and_presets(ws_root, tmp_path, capsys):
    from generec_desktop.cli import main

    assert main(["render", "--list-presets", "--json"]) == 0
    presets = json.loads(capsys.readouterr().out)
    assert [p["name"] for p in presets][:2] == ["vertical", "square"] and "description" in presets[0]
    out = tmp_path / "cli.mp4"
    from generec_desktop.corpus import Workspace

    with Workspace.open(ws_root) as w:
        item_id = _item(w, "slow").id
    assert main(["render", str(ws_root), str(item_id), "--preset", "landscape-720", "--out", str(out),
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["path"] == str(out) and data["width"] == 1280 and data["sidecar"].endswith(".provenance.json")
    assert main(["render", str(ws_root), str(item_id), "--preset", "landscape-720", "--out", str(out)]) == 2
    assert "exists already" in capsys.readouterr().err
    assert main(["render", str(ws_root), str(item_id), "--preset", "nope", "--out", str(tmp_path / "x.mp4")]) == 2
    assert "Unknown preset" in capsys.readouterr().err


def test_ffprobe_sees_vertical_h264_high_and_aac(rendered):
    exe = shutil.which("ffprobe")
    if exe is None:
        print("ffprobe is not installed: the PyAV checks above stand alone")
        pytest.skip("ffprobe is not installed")
    res = rendered["vertical"]
    got = json.loads(subprocess.run([exe, "-v", "error", "-show_streams", "-of", "json", str(res.path)],
                                    capture_output=True, text=True, check=True, timeout=60).stdout)
    video = [s for s in got["streams"] if s["codec_type"] == "video"]
    audio = [s for s in got["streams"] if s["codec_type"] == "audio"]
    assert len(video) == 1 and len(audio) == 1
    assert (video[0]["width"], video[0]["height"]) == (1080, 1920)
    assert video[0]["codec_name"] == "h264" and video[0]["profile"] == "High" and video[0]["pix_fmt"] == "yuv420p"
    assert audio[0]["codec_name"] == "aac"
