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


class _Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_eta_text_says_nothing_while_young_or_barely_started():
    from generec_desktop.jobs import eta_text

    assert eta_text(1.0, 0.5) == ""
    assert eta_text(30.0, 0.01) == ""
    assert eta_text(10.0, 0.5) == "about 10 s left"
    assert eta_text(60.0, 0.25) == "about 3 min left"
    assert eta_text(20.0, 0.9) == "a few seconds left"


def test_timed_steps_fraction_gives_the_measured_time_left():
    """A job whose guesses are 3× too optimistic, with a slow first step: after two steps of the long part the
    fraction already gives the true time left (what eta_text turns into words), loading included."""
    from generec_desktop.jobs import TimedSteps

    clock, seen = _Clock(), []
    parts = TimedSteps(lambda f, m: seen.append((clock.t, f)),
                       {"load": (1, 1.0), "denoise": (100, 0.01), "write": (50, 0.02)},
                       calibrate=("denoise", "write"), clock=clock)
    clock.t = 5.0  # loading took 5 s (imports): says nothing about the speed of what follows
    parts["load"](1.0, "loaded")
    assert seen[-1][1] < 0.02  # not measured yet: no estimate shown
    clock.t = 7.0  # the first step is slow (set-up); then 0.03 s a step, 3× the guess
    parts["denoise"](0.01, "step 1")
    assert parts.seconds_left() is None and seen[-1][1] < 0.02
    for k in range(2, 101):
        clock.t = 7.0 + 0.03 * (k - 1)
        parts["denoise"](k / 100, f"step {k}")
        if k in (2, 50):
            true_left = 0.03 * (100 - k) + 50 * 0.06  # the writing is as much slower as the denoising
            t, f = seen[-1]
            assert t * (1 - f) / f == pytest.approx(true_left, rel=1e-6)
    for k in range(1, 51):
        clock.t += 0.06
        parts["write"](k / 50, f"frame {k}")
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_timed_steps_never_goes_back_and_without_progress_is_silent():
    from generec_desktop.jobs import TimedSteps

    clock, seen = _Clock(), []
    parts = TimedSteps(lambda f, m: seen.append(f), {"a": (10, 1.0), "b": (10, 1.0)}, clock=clock)
    for k in range(1, 11):
        clock.t = float(k)
        parts["a"](k / 10)
    high = seen[-1]
    clock.t = 100.0  # part b turns out far slower: the estimate grows, the bar stays where it was
    parts["b"](0.1)
    clock.t = 200.0
    parts["b"](0.2)
    assert min(seen[-2:]) >= high
    assert TimedSteps(None, {"a": (1, 1.0)})["a"] is None
