"""The editor's user-facing error (a :class:`~generec_desktop.jobs.GenerecError`)."""

from __future__ import annotations

from generec_desktop.jobs import GenerecError

__all__ = ["EditorError"]


class EditorError(GenerecError):
    """Bad input to personalisation: unknown item or audience, mismatched encoder, bad clip settings."""
