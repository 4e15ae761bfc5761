"""Entry point of ``generec-desktop``: parse arguments, build the window, run the event loop."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="generec-desktop", description="GeneRec Desktop")
    parser.add_argument("workspace", nargs="?", type=Path, help="a workspace folder to open")
    parser.add_argument("--demo", action="store_true",
                        help="open the built-in demo workspace (built on first use from real sample media)")
    parser.add_argument("--screenshot", type=Path, metavar="PNG",
                        help="save a screenshot of the window once it is ready, then quit (for docs and tests)")
    parser.add_argument("--tab", help="tab to show first (Preview, Thumbnails, Clips, Style, …)")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Start the desktop app; returns the exit code."""
    args = parse_args(argv)
    if args.version:
        from generec_desktop import __version__

        print(f"generec-desktop {__version__}")
        return 0
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from PySide6.QtWidgets import QApplication

    from generec_desktop.app import preload
    from generec_desktop.app.main_window import MainWindow

    preload.start()  # PyAV's and OpenCV's libraries read while the window is built, so that jobs load them warm

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("GeneRec Desktop")
    app.setOrganizationName("GeneRec")
    window = MainWindow()
    from generec_desktop.app.startup_trace import install as trace_startup

    trace_startup(window)  # only with GENEREC_TRACE_STARTUP (benchmarks/bench_startup.py)
    window.show()

    def open_first() -> None:
        if args.workspace is not None:
            window.request_open_workspace(args.workspace)
        elif args.demo:
            window.open_demo_workspace()
        else:
            window.restore_last_workspace()
        if args.tab:
            window.show_tab(args.tab)
        if args.screenshot is not None:
            window.screenshot_when_ready(args.screenshot, quit_after=True)

    window.when_painted(open_first)  # the window appears first, then the workspace fills it
    code = app.exec()
    if window.jobs.busy_threads():
        # a job that ignores its cancel token would keep the process alive after Quit (QThreadPool joins its
        # threads on exit); its writes are journaled, so the next open finishes or removes them (corpus.recovery)
        logging.getLogger(__name__).warning("ending the process while a cancelled job still runs")
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
