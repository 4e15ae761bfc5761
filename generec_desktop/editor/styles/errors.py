"""The styles' user-facing error, in a module of its own so the filters and the network loader raise it
without importing :mod:`.stylize` (which imports them: the old import circle of issue 14)."""

from __future__ import annotations

from generec_desktop.jobs import GenerecError

__all__ = ["StyleError"]


class StyleError(GenerecError):
    """Bad style input: unknown style, strength out of range, not an RGB image, missing references."""
