"""The prefetching thread: order kept, errors re-raised in the consumer, stopped when closed early."""

from __future__ import annotations

import contextlib
import threading

import numpy as np
import pytest

from generec_desktop.media.prefetch import prefetched


def _alive() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "generec-decode"]


def test_items_come_in_order_and_errors_reach_the_consumer():
    assert list(prefetched(iter(range(100)), depth=3)) == list(range(100))

    def failing():
        yield 1
        raise ValueError("bad frame")

    with pytest.raises(ValueError, match="bad frame"):
        list(prefetched(failing()))
    assert not _alive()


def test_closing_early_stops_the_producer():
    produced = []

    def endless():
        k = 0
        while True:
            produced.append(k)
            yield k
            k += 1

    with contextlib.closing(prefetched(endless(), depth=2)) as it:
        assert next(it) == 0
    assert not _alive()
    assert len(produced) < 10


def test_transform_video_error_in_the_frame_function_leaves_no_thread_or_file(tmp_path, bikes):
    from generec_desktop import media

    def explode(y: np.ndarray, t: float) -> np.ndarray:
        if t > 0.2:
            raise RuntimeError("filter failed")
        return y

    out = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError, match="filter failed"):
        media.transform_video(bikes, out, explode, luma=True)
    assert not _alive()
    assert list(tmp_path.iterdir()) == []
