import threading

import pytest

from generec_desktop.jobs import Cancelled, CancelToken, Steps, check_cancel, iterate, report, sub_progress


def test_sub_progress_maps_range_and_clamps():
    seen = []
    sub = sub_progress(lambda f, m: seen.append((round(f, 3), m)), 0.5, 0.75)
    sub(0.0, "a")
    sub(0.5, "b")
    sub(2.0, "c")  # clamped
    assert seen == [(0.5, "a"), (0.625, "b"), (0.75, "c")]
    assert sub_progress(None, 0, 1) is None


def test_steps_split_by_weight():
    seen = []
    steps = Steps(lambda f, m: seen.append(round(f, 3)), {"decode": 3, "encode": 1})
    steps["decode"](1.0, "")
    steps["encode"](0.5, "")
    assert seen == [0.75, 0.875]


def test_cancel_token_is_thread_safe_and_raises():
    token = CancelToken()
    check_cancel(token)
    t = threading.Thread(target=token.cancel)
    t.start()
    t.join()
    assert token.cancelled
    with pytest.raises(Cancelled):
        check_cancel(token)
    check_cancel(None)


def test_iterate_reports_and_stops_on_cancel():
    token = CancelToken()
    seen = []
    out = []
    with pytest.raises(Cancelled):
        for i in iterate(range(10), 10, progress=lambda f, m: seen.append(f), cancel=token):
            out.append(i)
            if i == 3:
                token.cancel()
    assert out == [0, 1, 2, 3]
    assert seen == [0.1, 0.2, 0.3, 0.4]
    report(None, 0.5)
