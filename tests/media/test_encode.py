"""cut / encode_frames / VideoWriter / transform_video: exact frames, timing, audio, atomic outputs."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from mediagen import VFR_PTS_MS, barcode_image, read_barcode

from generec_desktop.jobs import Cancelled, CancelToken
from generec_desktop.media import (
    AudioSource,
    MediaError,
    VideoWriter,
    cut,
    decode_range,
    encode_frames,
    probe,
    read_audio,
    transform_video,
)

AAC_FRAME = 1024 / 48000


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_cut_bigbuckbunny_two_seconds_exact(bbb, tmp_path):
    before = _sha(bbb)
    out = tmp_path / "cut.mp4"
    info = cut(bbb, 1.5, 3.5, out)
    assert info.frame_count == 50 and info.duration == pytest.approx(2.0)
    assert info.has_audio and info.audio_codec == "aac" and info.audio_channels == 6
    assert abs(info.audio_duration - 2.0) <= AAC_FRAME
    assert (info.width, info.height, info.video_codec) == (1280, 720, "h264")
    # Frame-exact: each output frame is its source frame (not a neighbour).
    src = decode_range(bbb, 1.5, 3.5, max_side=320)
    got = decode_range(out, 0.0, None, max_side=320)
    assert [f.index for f in src] == list(range(38, 88))
    assert [f.timestamp for f in got] == pytest.approx([i / 25 for i in range(50)])
    for i in (0, 25, 49):
        err = [np.abs(got[i].image.astype(int) - s.image.astype(int)).mean() for s in src]
        assert int(np.argmin(err)) == i
    assert _sha(bbb) == before and [p.name for p in tmp_path.iterdir()] == ["cut.mp4"]


def test_cut_keeps_the_audio_of_the_range(barcode_video, tmp_path):
    out = tmp_path / "c.mp4"
    info = cut(barcode_video, 1.0, 2.5, out)  # frames 25..62
    assert info.frame_count == 38
    assert abs(info.audio_duration - 38 / 25) <= AAC_FRAME
    assert [read_barcode(f.image) for f in decode_range(out, 0, None)] == list(range(25, 63))
    # The tone of the source at 1.0 s + t equals the cut's tone at t (same phase: trimmed exactly).
    src = read_audio(AudioSource(barcode_video, 1.0, 1.5))
    dst = read_audio(AudioSource(out, 0.0, 0.5))
    assert src is not None and dst is not None
    a, b = src[0][0, 2000:20000], dst[0][0, 2000:20000]
    assert np.corrcoef(a, b)[0, 1] > 0.95


def test_encode_frames_odd_size_exact_pad_and_crop(tmp_path):
    frames = [barcode_image(i, 321, 241) for i in range(7)]
    info = encode_frames(frames, tmp_path / "exact.mp4", 10.0, metadata={"title": "t", "generec_kind": "x"})
    # The default keeps the exact odd size (4:4:4, as 4:2:0 chroma needs even sizes).
    assert (info.width, info.height, info.frame_count, info.has_audio) == (321, 241, 7, False)
    assert info.pixel_format == "yuv444p"
    assert info.duration == pytest.approx(0.7) and info.fps == pytest.approx(10.0)
    assert info.metadata["title"] == "t" and info.metadata["generec_kind"] == "x"
    decoded = decode_range(tmp_path / "exact.mp4", 0, None)
    assert [read_barcode(f.image) for f in decoded] == list(range(7))
    assert all(np.abs(f.image.astype(int) - s.astype(int)).mean() < 6 for f, s in zip(decoded, frames))
    with VideoWriter(tmp_path / "pad.mp4", 10.0, odd="pad") as w:
        for f in frames:
            w.write(f)
    assert (w.info.width, w.info.height, w.info.frame_count, w.info.pixel_format) == (322, 242, 7, "yuv420p")
    decoded = decode_range(tmp_path / "pad.mp4", 0, None)
    assert [read_barcode(f.image[:241, :321]) for f in decoded] == list(range(7))
    with VideoWriter(tmp_path / "crop.mp4", 10.0, odd="crop") as w:
        for f in frames:
            w.write(f)
    assert (w.info.width, w.info.height, w.info.frame_count) == (320, 240, 7)


def test_encode_frames_with_audio_from(bbb, tmp_path):
    frames = [barcode_image(i, 64, 48) for i in range(50)]
    info = encode_frames(frames, tmp_path / "a.mp4", 25.0, audio_from=AudioSource(bbb, 1.0, 3.0))
    assert info.frame_count == 50 and abs(info.audio_duration - 2.0) <= AAC_FRAME


def test_transform_vfr_keeps_timing(vfr_video, tmp_path):
    seen: list[float] = []

    def invert(image, t):
        seen.append(t)
        return 255 - image

    info = transform_video(vfr_video, tmp_path / "t.mp4", invert, start=0.07, end=0.6)
    expected = [t / 1000 for t in VFR_PTS_MS if 0.07 <= t / 1000 < 0.6]  # 80 .. 540 ms
    assert seen == pytest.approx(expected)
    assert info.variable_frame_rate and info.frame_count == len(expected)
    out = decode_range(tmp_path / "t.mp4", 0, None)
    assert [f.timestamp for f in out] == pytest.approx([t - expected[0] for t in expected])
    assert [read_barcode(255 - f.image) for f in out] == [2, 3, 4, 5, 6, 7, 8]
    assert info.has_audio and abs(info.audio_duration - (0.7 - 0.08)) <= AAC_FRAME


def test_transform_rotated_writes_upright(rotated_video, tmp_path):
    info = transform_video(rotated_video, tmp_path / "r.mp4", lambda im, t: im)
    assert (info.rotation, info.width, info.height, info.frame_count) == (0, 96, 160, 8)


def test_one_frame_and_no_audio(one_frame_video, bikes, tmp_path):
    info = cut(one_frame_video, 0.0, 1.0, tmp_path / "one.mp4")
    assert info.frame_count == 1 and not info.has_audio
    info = cut(bikes, 9.9, 10.0, tmp_path / "tail.mp4")
    assert info.frame_count == 2 and info.duration == pytest.approx(0.08)  # frames at 9.92 and 9.96


def test_failure_leaves_nothing_and_keeps_existing(barcode_video, tmp_path):
    dst = tmp_path / "out.mp4"
    dst.write_bytes(b"old")

    def boom(image, t):
        if t > 0.5:
            raise RuntimeError("boom")
        return image

    with pytest.raises(RuntimeError):
        transform_video(barcode_video, dst, boom)
    assert dst.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        cut(barcode_video, 0, 1, tmp_path / "c.mp4", cancel=token)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


def test_bad_requests(barcode_video, tmp_path):
    with pytest.raises(MediaError, match="No frames"):
        cut(barcode_video, 10.0, 12.0, tmp_path / "x.mp4")
    with pytest.raises(MediaError, match=r"\.mp4"):
        cut(barcode_video, 0.0, 1.0, tmp_path / "x.avi")
    with pytest.raises(MediaError, match="differ"):
        transform_video(barcode_video, barcode_video, lambda im, t: im)
    with pytest.raises(MediaError, match="one size"), VideoWriter(tmp_path / "s.mp4", 5) as w:
        w.write(barcode_image(0, 64, 48))
        w.write(barcode_image(1, 32, 48))
    assert not (tmp_path / "s.mp4").exists()
    assert probe(barcode_video).frame_count == 100


def test_wav_audio_with_unnamed_layout_is_encoded(tmp_path):
    """A plain stereo WAV reports an unnamed "2 channels" layout; muxing it as AAC must still work."""
    import wave

    import numpy as np

    from generec_desktop import media

    wav = tmp_path / "tone.wav"
    rate = 22050
    t = np.arange(rate) / rate
    pcm = (np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 660 * t)], 1) * 12000).astype("<i2")
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    frames = [np.full((64, 96, 3), i * 10, np.uint8) for i in range(25)]
    info = media.encode_frames(frames, tmp_path / "out.mp4", 25, audio_from=media.AudioSource(wav))
    assert info.has_audio and info.audio_channels == 2
    assert abs(info.audio_duration - info.duration) < 1024 / rate + 1e-6
