"""Plain, frozen records the corpus hands out (detached from any session, safe across threads)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ItemInfo:
    """One item row. ``params``/``fidelity`` are the decoded ``params_json``/``fidelity_json`` columns."""

    id: int
    kind: str
    parent_id: int | None
    sha256: str
    stored_path: str  # relative to the workspace root, POSIX separators
    original_name: str | None
    title: str | None
    duration: float | None
    width: int | None
    height: int | None
    fps: float | None
    frame_count: int | None
    file_size: int | None
    has_audio: bool | None
    cover_path: str | None  # relative, POSIX
    owner: str | None
    author: str | None
    licence: str | None
    target_profile: str | None
    generator: str | None
    params: dict[str, Any] | None
    fidelity: dict[str, Any] | None
    watermark_payload: str | None
    created_at: datetime
    external_id: str | None
    warnings: tuple[str, ...] = ()  # what reading its file needed repairing (MediaInfo.warnings)

    @classmethod
    def from_row(cls, row: Any) -> ItemInfo:
        """Copy an ORM ``Item`` into a record."""
        return cls(
            id=row.id, kind=row.kind, parent_id=row.parent_id, sha256=row.sha256,
            stored_path=row.stored_path, original_name=row.original_name, title=row.title,
            duration=row.duration, width=row.width, height=row.height, fps=row.fps,
            frame_count=row.frame_count, file_size=row.file_size, has_audio=row.has_audio,
            cover_path=row.cover_path, owner=row.owner, author=row.author, licence=row.licence,
            target_profile=row.target_profile, generator=row.generator, params=row.params_json,
            fidelity=row.fidelity_json, watermark_payload=row.watermark_payload,
            created_at=row.created_at, external_id=row.external_id,
            warnings=tuple(str(w) for w in (row.media_warnings_json or ())),
        )


@dataclass(frozen=True)
class UserInfo:
    """One user row."""

    id: int
    external_id: str
    name: str | None
    created_at: datetime


@dataclass(frozen=True)
class InteractionInfo:
    """One interaction row."""

    id: int
    user_id: int
    item_id: int
    timestamp: datetime | None
    weight: float


@dataclass(frozen=True)
class LineageInfo:
    """One lineage edge: ``child_id`` was made from ``parent_id`` by ``operation``."""

    id: int
    child_id: int
    parent_id: int
    operation: str
    params: dict[str, Any] | None
    created_at: datetime


@dataclass(frozen=True)
class ImportedFile:
    """What happened to one input of :meth:`Workspace.import_media`."""

    source: Path
    item: ItemInfo
    new: bool  # False: the same content was already in the workspace (a no-op)


@dataclass(frozen=True)
class ImportResult:
    """Result of :meth:`Workspace.import_media`, in input order."""

    files: list[ImportedFile]
    seconds: float

    @property
    def items(self) -> list[ItemInfo]:
        return [f.item for f in self.files]

    @property
    def added(self) -> list[ItemInfo]:
        return [f.item for f in self.files if f.new]

    @property
    def existing(self) -> list[ItemInfo]:
        return [f.item for f in self.files if not f.new]


@dataclass(frozen=True)
class IntegrityReport:
    """Result of :meth:`Workspace.check_integrity`; ``ok`` when every list is empty."""

    checked_items: int
    missing_files: list[str] = field(default_factory=list)  # relative paths rows point to
    hash_mismatches: list[str] = field(default_factory=list)
    missing_covers: list[str] = field(default_factory=list)
    orphan_files: list[str] = field(default_factory=list)  # in media/, versions/, covers/, no row
    temp_files: list[str] = field(default_factory=list)
    database_errors: list[str] = field(default_factory=list)
    unsafe_paths: list[str] = field(default_factory=list)  # rows or files that leave the workspace, links

    @property
    def ok(self) -> bool:
        return not (self.missing_files or self.hash_mismatches or self.missing_covers
                    or self.orphan_files or self.temp_files or self.database_errors or self.unsafe_paths)

    def summary(self) -> str:
        """A few human lines."""
        if self.ok:
            return f"OK: {self.checked_items} items, every file present and intact."
        lines = [f"{self.checked_items} items checked; problems:"]
        for name in ("missing_files", "hash_mismatches", "missing_covers", "orphan_files",
                     "temp_files", "database_errors", "unsafe_paths"):
            values = getattr(self, name)
            if values:
                lines.append(f"  {name.replace('_', ' ')} ({len(values)}): " + ", ".join(values[:5])
                             + (" ..." if len(values) > 5 else ""))
        return "\n".join(lines)
