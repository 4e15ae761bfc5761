"""Run an iterator in a thread a few items ahead of its consumer (decode overlapping the work on frames)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["prefetched", "put_until_stopped"]


def put_until_stopped(q: queue.Queue[Any], item: Any, stop: threading.Event) -> bool:
    """Put ``item`` on the bounded ``q``, waiting for room until ``stop`` is set (then False): a producer
    thread never blocks for ever on a consumer that has gone."""
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def prefetched(items: Iterator[Any], depth: int = 4) -> Iterator[Any]:
    """``items`` produced by a thread ``depth`` ahead of the consumer.

    Decoding overlaps what the consumer does with each frame, because PyAV releases the GIL while it
    decodes and scales and OpenCV while it computes. Errors in the producer are re-raised in the
    consumer; closing the returned iterator (``contextlib.closing``) stops and joins the producer.
    Hand-written: the standard library's executors return results only when a whole call is done.
    """
    q: queue.Queue[Any] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()
    end = object()

    def offer(item: Any) -> bool:
        return put_until_stopped(q, item, stop)

    def produce() -> None:
        try:
            for item in items:
                if not offer(item):
                    return
            offer(end)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            offer(exc)

    worker = threading.Thread(target=produce, name="generec-decode", daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is end:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()
