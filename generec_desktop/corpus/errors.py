"""Errors of the corpus package (no heavy imports, so the CLI can catch them cheaply)."""

from __future__ import annotations

from generec_desktop.jobs import GenerecError


class CorpusError(GenerecError):
    """Bad input to the corpus: a missing file, a directory, an unknown item, a failed verification."""


class WorkspaceError(CorpusError):
    """The folder is not a usable workspace (missing, not a workspace, or from a newer version)."""


class SchemaVersionError(WorkspaceError):
    """The database was written by a newer GeneRec Desktop than this one."""


class VerificationError(CorpusError):
    """An export's verification rejected the file; nothing was added."""
