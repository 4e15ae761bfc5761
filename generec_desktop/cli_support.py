"""Helpers every subcommand shares: JSON/text output, a terminal progress bar, error handling."""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from generec_desktop.jobs import Cancelled, CancelToken, GenerecError, Progress


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    """Give a subcommand the ``--json`` flag (machine-readable output on stdout)."""
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON on stdout")


def to_jsonable(value: Any) -> Any:
    """Dataclasses, paths, numpy scalars/arrays and enums as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy scalars and arrays
        return value.tolist()
    import enum

    if isinstance(value, enum.Enum):
        return value.value
    return value


def emit(args: argparse.Namespace, data: Any, text: str | Callable[[], str]) -> None:
    """Print ``data`` as JSON with ``--json``, else the human ``text``."""
    if getattr(args, "json", False):
        json.dump(to_jsonable(data), sys.stdout, indent=2, sort_keys=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write((text() if callable(text) else text).rstrip("\n") + "\n")


@contextmanager
def progress_bar(args: argparse.Namespace, description: str = "") -> Iterator[Progress]:
    """A ``Progress`` callback drawn as a tqdm bar on stderr (silent with ``--json`` or off a TTY)."""
    quiet = getattr(args, "json", False) or not sys.stderr.isatty()
    if quiet:
        yield lambda fraction, message="": None
        return
    import time

    from tqdm import tqdm

    from generec_desktop.jobs import eta_text

    bar = tqdm(total=1000, desc=description, unit="‰", leave=False, file=sys.stderr,
               bar_format="{desc} {percentage:3.0f}%|{bar}| {postfix}")
    started = time.monotonic()
    last = [""]
    try:
        def _progress(fraction: float, message: str = "") -> None:
            # the time left as the window's jobs panel shows it (constant speed over the reported fraction)
            bar.n = round(fraction * 1000)
            last[0] = message or last[0]
            eta = eta_text(time.monotonic() - started, fraction)
            text = f"{last[0][:60]} · {eta}" if last[0] and eta else (last[0][:60] or eta)
            bar.set_postfix_str(text, refresh=False)
            bar.refresh()

        yield _progress
    finally:
        bar.close()


def _log_to_stderr() -> None:
    """Notices of the core (``logging.getLogger("generec")``, e.g. waiting for a lock) as ``generec: ...``."""
    import logging

    logger = logging.getLogger("generec")
    if not any(getattr(h, "_generec_cli", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("generec: %(message)s"))
        handler.setLevel(logging.WARNING)
        handler._generec_cli = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def run_command(args: argparse.Namespace) -> int:
    """Run ``args.func(args)``; user-facing errors and machine faults become one line on stderr and exit
    code 2 (a full disk, a read-only folder, a locked or damaged database included), never a traceback."""
    from generec_desktop.faults import describe_fault

    _log_to_stderr()
    cancel = CancelToken()
    args.cancel = cancel
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        cancel.cancel()
        sys.stderr.write("generec: interrupted\n")
        return 130
    except Cancelled as exc:
        sys.stderr.write(f"generec: {exc}\n")
        return 130
    except GenerecError as exc:
        from generec_desktop.safefiles import is_disk_full

        # a full disk met deep inside (an encoder's "No space left on device"): say what to do about it
        sys.stderr.write(f"generec: error: {describe_fault(exc) if is_disk_full(exc) else exc}\n")
        return 2
    except Exception as exc:
        fault = describe_fault(exc)
        if fault is not None:
            sys.stderr.write(f"generec: error: {fault}\n")
            return 2
        if isinstance(exc, OSError | ValueError):
            sys.stderr.write(f"generec: error: {exc}\n")
            return 2
        raise
