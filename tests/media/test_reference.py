"""Reference frames (media.reference): slices per frame, runs of GOPs, decoders per core."""

from __future__ import annotations

from pathlib import Path

import mediagen


def test_slice_count_chooses_the_threading(tmp_path):
    import av

    from generec_desktop.media.reference import _slices_per_frame

    def slices(path: Path) -> int:
        with av.open(str(path)) as c:
            stream = c.streams.video[0]
            return _slices_per_frame(stream, next(c.demux(stream)))

    one = mediagen.make_video(tmp_path / "one_slice.mp4", width=128, height=96, n_frames=4,
                              options={"slices": "1"})
    four = mediagen.make_video(tmp_path / "four_slices.mp4", width=128, height=96, n_frames=4,
                               options={"slices": "4"})
    assert slices(one) == 1
    assert slices(four) == 4


def test_runs_start_at_keyframes_and_balance_the_frames(tmp_path):
    from generec_desktop.media.reference import scan
    from generec_desktop.media.reference import split_at_keyframes as _parts

    index = scan(mediagen.make_gop_video(tmp_path / "gops.mp4"))  # keyframes at 0, 10, ..., 110
    assert _parts(index, 1) == [(0, None)]
    assert _parts(index, 2, min_frames=10) == [(0, 60), (60, None)]
    assert _parts(index, 4, min_frames=10) == [(0, 30), (30, 60), (60, 90), (90, None)]
    assert _parts(index, 4, min_frames=45) == [(0, 60), (60, None)]  # short runs merge into their neighbour
    one_gop = scan(mediagen.make_video(tmp_path / "one.mp4", n_frames=30))
    assert _parts(one_gop, 8, min_frames=1) == [(0, None)]


def test_one_decoder_per_usable_core_at_most_eight(monkeypatch):
    import os

    from generec_desktop.media.reference import decoder_workers as _workers

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3}, raising=False)
    assert _workers() == 1  # pinned to one core, however many the machine has
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(20)), raising=False)
    assert _workers() == 8
