"""Errors of the profiles package: each carries one sentence that tells the user what to do."""

from __future__ import annotations

from generec_desktop.jobs import GenerecError


class ProfilesError(GenerecError):
    """Base of every user-facing error raised by ``generec_desktop.profiles``."""


class InteractionFileError(ProfilesError):
    """An interactions file that cannot be imported; nothing was written to the workspace.

    ``row_errors`` holds up to 20 ``(row_number, message)`` pairs (row 1 is the first data row, after
    the header) so a GUI can show them in a table; the message already names the first few.
    """

    def __init__(self, message: str, row_errors: list[tuple[int, str]] | None = None) -> None:
        super().__init__(message)
        self.row_errors: list[tuple[int, str]] = list(row_errors or [])


class NoInteractionsError(ProfilesError):
    """The workspace has no (positive) interactions to build profiles or train a recommender from."""


class ModelNotFoundError(ProfilesError):
    """No trained recommender or stored profiles where one was expected."""


class AudienceNameError(ProfilesError):
    """An audience name that is empty, too long, reserved ("Segment 2", "user:4") or already taken."""


class UnknownAudienceError(ProfilesError):
    """No audience built from examples has that id or name."""


class UnknownItemError(ProfilesError):
    """An example names a library item (id or external id) the workspace does not have."""


class ExampleFileError(ProfilesError):
    """None of the given examples could be used; nothing was written.

    ``problems`` holds ``(example, why)`` pairs: unreadable files, unsupported or hidden ones, duplicates.
    """

    def __init__(self, message: str, problems: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.problems: list[tuple[str, str]] = list(problems or [])
