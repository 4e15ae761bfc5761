"""The audience id type, parsed in one place (issue 14, Deliver 5).

An audience is named by ``"<kind>:<number>"``: ``segment:0`` (a segment of the corpus's users, numbered
from 0; a person reads "Segment 1"), ``examples:2`` (an audience from examples, its table row id) or
``user:42`` (one corpus user, its id). :meth:`AudienceId.parse` is the only parser of that text; every
module that needs the kind or the number of an id asks it, so the CLI, the tabs, the checks, the
instructor, MCVD and the batch agree on what is an id and what is a name ("Segment 2", "Cyclists").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeGuard, get_args

__all__ = ["KINDS", "AudienceId", "AudienceKind"]

AudienceKind = Literal["segment", "examples", "user"]
KINDS: tuple[AudienceKind, ...] = get_args(AudienceKind)


def _is_kind(text: str) -> TypeGuard[AudienceKind]:
    return text in KINDS


@dataclass(frozen=True, order=True)
class AudienceId:
    """One audience id: ``kind`` and ``number``; ``str()`` gives the canonical ``"kind:number"``."""

    kind: AudienceKind
    number: int

    @classmethod
    def parse(cls, text: object) -> AudienceId | None:
        """``"segment:1"`` / ``"examples:2"`` / ``"user:42"`` (surrounding spaces and the case of the kind
        ignored) -> the id; anything else (a name, ``"all"``, None, a negative number) -> None."""
        if text is None:
            return None
        if isinstance(text, AudienceId):
            return text
        kind, sep, num = str(text).strip().partition(":")
        kind, num = kind.strip().lower(), num.strip()
        if not sep or not _is_kind(kind) or not num.isascii() or not num.isdigit():
            return None
        return cls(kind, int(num))

    def __str__(self) -> str:
        return f"{self.kind}:{self.number}"
