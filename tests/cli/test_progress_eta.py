"""The command line's progress bar shows the time left as the window's jobs panel does."""

from __future__ import annotations

import argparse
import io
import sys
import time


def test_the_bar_shows_the_time_left_from_the_fraction(monkeypatch) -> None:
    from generec_desktop.cli_support import progress_bar

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    err = Tty()
    monkeypatch.setattr(sys, "stderr", err)
    now = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    with progress_bar(argparse.Namespace(json=False), "Revising") as progress:
        progress(0.01, "model mcvd-demo")
        assert "left" not in err.getvalue()  # too early to tell
        now[0] = 110.0
        progress(0.5, "denoising step 40/80")
        assert "denoising step 40/80 · about 10 s left" in err.getvalue()
        now[0] = 112.0
        progress(0.6, "")  # no new message: the last one stays, the estimate moves on
        assert "denoising step 40/80 · a few seconds left" in err.getvalue()
