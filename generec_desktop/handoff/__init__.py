"""Hand-off to recommenders: the corpus as RecBole atomic files or a Parquet set (issue 18, part 3).

Public API (imported lazily: pyarrow and the encoders load only when an export runs)::

    export_corpus(ws, out, *, format="recbole" | "parquet", name=None, encoder=None, force=False,
                  progress=None, cancel=None) -> HandoffResult
    read_atomic_header(path) -> list[(name, type)]

See :mod:`.export` for the files and their columns. Errors: ``HandoffError`` (a ``GenerecError``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from generec_desktop.handoff.export import (
        FORMATS,
        MANIFEST_NAME,
        HandoffError,
        HandoffResult,
        export_corpus,
        read_atomic_header,
    )

__all__ = ["FORMATS", "MANIFEST_NAME", "HandoffError", "HandoffResult", "export_corpus", "read_atomic_header"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("generec_desktop.handoff.export"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
