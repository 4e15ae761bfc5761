"""The fidelity report: six checks, each pass / warn / fail / not_checked, with reasons and evidence.

Plain dataclasses (no heavy imports) so the CLI, the GUI and the corpus's ``fidelity_json`` column
share one shape; :meth:`FidelityReport.to_dict` / :meth:`FidelityReport.from_dict` round-trip it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["CHECK_NAMES", "STATUSES", "CheckResult", "Evidence", "FidelityReport", "worst_status"]

#: The six checks of issue 8, in report order.
CHECK_NAMES = ("privacy", "safety", "authenticity", "bias", "legal", "identifiability")
#: Ordered from best to worst for :func:`worst_status`; ``not_checked`` never blocks an export.
STATUSES = ("pass", "not_checked", "warn", "fail")


def worst_status(statuses: list[str]) -> str:
    """The worst of ``statuses`` (``pass`` for none)."""
    return max(statuses, key=STATUSES.index, default="pass")


@dataclass(frozen=True)
class Evidence:
    """One finding: what, when (seconds in the checked file), where (x, y, w, h in its pixels), how sure."""

    kind: str
    timestamp: float | None = None
    box: tuple[int, int, int, int] | None = None
    score: float | None = None
    note: str = ""


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check."""

    name: str
    status: str
    reasons: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"Unknown check status {self.status!r}.")


@dataclass(frozen=True)
class FidelityReport:
    """All checks of one file (a pending version or an exported item) against its original."""

    subject: str
    subject_sha256: str
    original_sha256: str | None
    checks: list[CheckResult]
    seconds: float = 0.0
    created_at: str = ""

    @property
    def status(self) -> str:
        """The worst status of any check."""
        return worst_status([c.status for c in self.checks])

    @property
    def failed(self) -> list[str]:
        """Names of the failing checks (these block an export unless overridden)."""
        return [c.name for c in self.checks if c.status == "fail"]

    def check(self, name: str) -> CheckResult:
        """One check by name; ``KeyError`` if it was not run."""
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (what goes into ``fidelity_json`` and the provenance manifest)."""
        d = asdict(self)
        d["status"] = self.status
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FidelityReport:
        """Inverse of :meth:`to_dict`."""
        checks = [
            CheckResult(
                name=c["name"], status=c["status"], reasons=list(c.get("reasons", [])),
                evidence=[Evidence(kind=e["kind"], timestamp=e.get("timestamp"),
                                   box=tuple(e["box"]) if e.get("box") is not None else None,  # type: ignore[arg-type]
                                   score=e.get("score"), note=e.get("note", ""))
                          for e in c.get("evidence", [])],
                metrics=dict(c.get("metrics", {})),
            )
            for c in d.get("checks", [])
        ]
        return cls(subject=d["subject"], subject_sha256=d["subject_sha256"],
                   original_sha256=d.get("original_sha256"), checks=checks,
                   seconds=float(d.get("seconds", 0.0)), created_at=d.get("created_at", ""))

    def summary(self, *, max_evidence: int = 3) -> str:
        """Human lines: one per check with its reasons and a few pieces of evidence."""
        lines = [f"{self.subject}: {self.status.upper()}"]
        for c in self.checks:
            lines.append(f"  {c.name:<15} {c.status:<11} " + "; ".join(c.reasons))
            for e in c.evidence[:max_evidence]:
                where = f" at {e.timestamp:.2f}s" if e.timestamp is not None else ""
                box = f" box={list(e.box)}" if e.box is not None else ""
                score = f" score={e.score:.2f}" if e.score is not None else ""
                lines.append(f"      - {e.kind}{where}{box}{score} {e.note}".rstrip())
            if len(c.evidence) > max_evidence:
                lines.append(f"      ... {len(c.evidence) - max_evidence} more")
        return "\n".join(lines)
