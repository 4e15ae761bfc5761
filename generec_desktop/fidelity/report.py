"""The fidelity report: six checks, each pass / warn / fail / not_checked, with reasons and evidence.

Each check leads with ``summary``, one plain sentence saying what it found and what to do ("2 faces
visible from 0:03 to 0:05 — blur them?"); ``reasons``, ``metrics`` and ``evidence`` are the details
behind it. ``fixes`` names the one-click remedies that apply (``blur``, ``licence``, ``restore_faces``;
see ``fidelity.fixes``). ``added_at_export`` lists what the export itself will add (watermark, AI
label, provenance): shown as such, never as a warning on a pending version.

Plain dataclasses (no heavy imports) so the CLI, the GUI and the corpus's ``fidelity_json`` column
share one shape; :meth:`FidelityReport.to_dict` / :meth:`FidelityReport.from_dict` round-trip it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["CHECK_NAMES", "FIXES", "STATUSES", "CheckResult", "Evidence", "FidelityReport", "worst_status"]

#: The six checks of issue 8, in report order.
CHECK_NAMES = ("privacy", "safety", "authenticity", "bias", "legal", "identifiability")
#: Ordered from best to worst for :func:`worst_status`; ``not_checked`` never blocks an export.
STATUSES = ("pass", "not_checked", "warn", "fail")
#: One-click remedies a check can offer, with the button / command text.
FIXES = {"blur": "Blur them", "pixelate": "Pixelate them", "licence": "Add licence and author",
         "restore_faces": "Restore face colours"}


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
    summary: str = ""
    fixes: list[str] = field(default_factory=list)
    added_at_export: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"Unknown check status {self.status!r}.")
        unknown = [f for f in self.fixes if f not in FIXES]
        if unknown:
            raise ValueError(f"Unknown fix {unknown[0]!r}.")

    @property
    def headline(self) -> str:
        """The plain sentence (the first reason for reports written before summaries existed)."""
        return self.summary or (self.reasons[0] if self.reasons else self.status)


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
                metrics=dict(c.get("metrics", {})), summary=str(c.get("summary") or ""),
                fixes=[f for f in c.get("fixes") or [] if f in FIXES],
                added_at_export=list(c.get("added_at_export") or []),
            )
            for c in d.get("checks", [])
        ]
        return cls(subject=d["subject"], subject_sha256=d["subject_sha256"],
                   original_sha256=d.get("original_sha256"), checks=checks,
                   seconds=float(d.get("seconds", 0.0)), created_at=d.get("created_at", ""))

    @property
    def added_at_export(self) -> list[str]:
        """What the export will add (watermark, AI label, provenance), from every check."""
        return [a for c in self.checks for a in c.added_at_export]

    def summary(self, *, details: bool = False, max_evidence: int = 3) -> str:
        """Human lines: per check its status and plain sentence; with ``details`` also the reasons,
        metrics and a few pieces of evidence."""
        lines = [f"{self.subject}: {self.status.upper()}"]
        for c in self.checks:
            lines.append(f"  {c.name:<15} {c.status.upper():<11} {c.headline}")
            if c.fixes:
                lines.append(f"  {'':<15} {'':<11} fix: " + ", ".join(f"--fix {f}" for f in c.fixes))
            if not details:
                continue
            for r in c.reasons:
                lines.append(f"      {r}")
            shown = {k: v for k, v in c.metrics.items() if v is not None and not isinstance(v, list | dict)}
            if shown:
                lines.append("      metrics: " + ", ".join(
                    f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in shown.items()))
            for e in c.evidence[:max_evidence]:
                where = f" at {e.timestamp:.2f}s" if e.timestamp is not None else ""
                box = f" box={list(e.box)}" if e.box is not None else ""
                score = f" score={e.score:.2f}" if e.score is not None else ""
                lines.append(f"      - {e.kind}{where}{box}{score} {e.note}".rstrip())
            if len(c.evidence) > max_evidence:
                lines.append(f"      ... {len(c.evidence) - max_evidence} more")
        return "\n".join(lines)
