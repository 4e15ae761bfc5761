"""The ``generec`` command line: one dispatcher, subcommands registered by each core package.

Each package that offers commands has a module here, ``generec_desktop/cli/<pkg>.py``, with
``register(subparsers)`` (the CLI is the top layer, so these may import any core package); a command's
handler takes the parsed ``argparse.Namespace`` and returns an exit code. Errors derived from
:class:`~generec_desktop.jobs.GenerecError` (and ``OSError``/``ValueError`` from bad input) become a
one-line message on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from generec_desktop import __version__

# Modules that add subcommands, in help order.
COMMAND_MODULES = (
    "generec_desktop.cli.demo",
    "generec_desktop.cli.corpus",
    "generec_desktop.cli.media",
    "generec_desktop.cli.encoders",
    "generec_desktop.cli.profiles",
    "generec_desktop.cli.audiences",
    "generec_desktop.cli.editor",
    "generec_desktop.cli.personalize",
    "generec_desktop.cli.batch",
    "generec_desktop.cli.instructor",
    "generec_desktop.cli.mcvd",
    "generec_desktop.cli.fidelity",
    "generec_desktop.cli.export",
    "generec_desktop.cli.render",
    "generec_desktop.cli.evaluation",
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every package's subcommands."""
    parser = argparse.ArgumentParser(
        prog="generec",
        description="GeneRec Desktop: personalise, check and export short videos per audience.",
    )
    parser.add_argument("--version", action="version", version=f"generec {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``generec``; returns the process exit code."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list == ["--version"]:  # answered before any subcommand module is imported
        print(f"generec {__version__}")
        return 0
    from generec_desktop.cli_support import run_command

    parser = build_parser()
    args = parser.parse_args(args_list)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    return run_command(args)
