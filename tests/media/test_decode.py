"""Frame sampling and range decoding: exact frames, true timestamps, both decode strategies."""

from __future__ import annotations

import math

import pytest
from mediagen import barcode_image, read_barcode

from generec_desktop.jobs import Cancelled, CancelToken
from generec_desktop.media import decode, decode_range, iter_frames, sample_frames
from generec_desktop.media._index import scan


def test_sample_rate_bigbuckbunny(bbb):
    frames = sample_frames(bbb, rate=2.0, max_side=320)
    # The frame at or after k/2 s of a 25 fps video is frame ceil(12.5 k).
    expected = [math.ceil(12.5 * k) for k in range(11)]
    assert [f.index for f in frames] == expected
    assert [f.timestamp for f in frames] == pytest.approx([i / 25 for i in expected])
    assert all(f.image.shape == (180, 320, 3) and f.image.dtype.name == "uint8" for f in frames)


@pytest.mark.parametrize("seek_cost", [0, 10**9], ids=["always-seek", "never-seek"])
def test_sample_timestamps_exact_frames_both_strategies(barcode_video, monkeypatch, seek_cost):
    monkeypatch.setattr(decode, "SEEK_COST_FRAMES", seek_cost)
    times = [3.5, 0.0, 1.99, 2.0, 0.039, 3.96, 10.0, -1.0]
    frames = sample_frames(barcode_video, timestamps=times)
    expected = [87, 0, 49, 50, 0, 99, 99, 0]  # the frame displayed at each time (clamped)
    assert [f.index for f in frames] == expected
    assert [read_barcode(f.image) for f in frames] == expected
    assert [f.timestamp for f in frames] == pytest.approx([i / 25 for i in expected])


def test_plan_seeks_only_when_keyframes_are_dense(barcode_video, dense_gop_video):
    wanted = [10, 30, 45, 70, 95]
    long_gop = decode._plan(scan(barcode_video), wanted)  # keyframes at 0 and 50
    dense = decode._plan(scan(dense_gop_video), wanted)  # keyframes every 5 frames
    assert [seek for seek, _ in long_gop] == [None]  # decoding on is cheaper than any seek
    assert [seek for seek, _ in dense] == wanted  # each wanted frame is a keyframe: seek to it
    assert decode._plan(scan(barcode_video), [10, 95]) == [(None, [10]), (50, [95])]
    frames = sample_frames(dense_gop_video, timestamps=[w / 25 for w in wanted])
    assert [read_barcode(f.image) for f in frames] == wanted


def test_sample_vfr_true_timestamps(vfr_video):
    frames = sample_frames(vfr_video, timestamps=[0.0, 0.15, 0.2, 0.2099, 0.69, 0.75])
    assert [f.index for f in frames] == [0, 2, 3, 3, 8, 9]
    assert [f.timestamp for f in frames] == pytest.approx([0.0, 0.08, 0.2, 0.2, 0.54, 0.7])
    assert [read_barcode(f.image) for f in frames] == [0, 2, 3, 3, 8, 9]
    by_rate = sample_frames(vfr_video, rate=10.0)  # at or after 0, .1, .2, ... .7
    assert [f.index for f in by_rate] == [0, 3, 5, 7, 9]  # distinct frames only


def test_decode_range_bigbuckbunny(bbb):
    frames = decode_range(bbb, 1.0, 3.0, max_side=160)
    assert [f.index for f in frames] == list(range(25, 75))
    assert frames[0].timestamp == pytest.approx(1.0) and frames[-1].timestamp == pytest.approx(2.96)


def test_iter_frames_range_identity(barcode_video):
    frames = list(iter_frames(barcode_video, start=2.5, end=3.0))
    assert [read_barcode(f.image) for f in frames] == list(range(63, 75))
    assert [f.index for f in frames] == list(range(63, 75))


def test_progress_and_cancel(barcode_video):
    seen: list[float] = []
    sample_frames(barcode_video, rate=5.0, progress=lambda f, m: seen.append(f))
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        sample_frames(barcode_video, rate=5.0, cancel=token)


def test_sample_needs_one_mode(barcode_video):
    with pytest.raises(ValueError):
        sample_frames(barcode_video)
    with pytest.raises(ValueError):
        sample_frames(barcode_video, rate=0)


def test_display_size_enlarges_the_stretched_axis_and_ignores_implausible_ratios():
    from fractions import Fraction

    from generec_desktop.media.geometry import display_size, sample_aspect

    assert display_size(64, 48, Fraction(2)) == (128, 48)
    assert display_size(64, 48, Fraction(1, 2)) == (64, 96)
    assert display_size(720, 576, Fraction(16, 11)) == (1047, 576)  # PAL 16:9
    assert display_size(1440, 1080, Fraction(4, 3)) == (1920, 1080)  # HDV
    assert display_size(64, 48, None) == display_size(64, 48, Fraction(1)) == (64, 48)

    class Stream:  # what a damaged header can claim
        def __init__(self, sar):
            self.sample_aspect_ratio = sar

    assert [sample_aspect(Stream(s)) for s in (None, Fraction(2), Fraction(1000), Fraction(1, 300))] == [
        1, 2, 1, 1]


def test_max_side_bounds_the_display_size_of_an_anamorphic_frame(media_dir):
    from fractions import Fraction

    import av

    path = media_dir / "anamorphic-4-3.mkv"
    with av.open(str(path), "w") as out:  # HDV-like: 1440x1080 shown 1920x1080, here 144x108 -> 192x108
        vs = out.add_stream("libx264", rate=25)
        vs.width, vs.height, vs.pix_fmt = 144, 108, "yuv420p"
        vs.codec_context.sample_aspect_ratio = Fraction(4, 3)
        for i in range(3):
            f = av.VideoFrame.from_ndarray(barcode_image(i, 144, 108), format="rgb24")
            f.pts = i
            for p in vs.encode(f):
                out.mux(p)
        for p in vs.encode():
            out.mux(p)
    assert [f.image.shape for f in sample_frames(path, rate=25.0)] == [(108, 192, 3)] * 3
    assert sample_frames(path, timestamps=[0.0], max_side=96)[0].image.shape == (54, 96, 3)
    assert [read_barcode(f.image) for f in iter_frames(path)] == [0, 1, 2]
