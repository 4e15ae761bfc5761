"""The ORM tables of a workspace (SQLAlchemy 2.0 declarative).

The tables are *created* by :mod:`generec_desktop.corpus.migrations` (each migration is a frozen
snapshot); these classes are the current shape that code reads and writes. A test checks that
migrating an empty database yields exactly these columns. Types are portable (SQLite now,
PostgreSQL later): ``JSON`` columns take dicts, datetimes are stored as naive UTC and read back
as timezone-aware UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

ITEM_KINDS = ("human", "ai_edited", "ai_created")


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime stored as naive UTC (portable) and returned timezone-aware.

    SQLite has no timezone type, so a plain ``DateTime(timezone=True)`` would read back naive
    values there and aware ones on PostgreSQL; this keeps both the same.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("Give timezone-aware datetimes to the corpus (naive ones are ambiguous).")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base of the workspace tables."""


class SchemaVersion(Base):
    """One row per applied migration (``version`` is its 1-based position in ``MIGRATIONS``)."""

    __tablename__ = "schema_version"
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(128))
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Item(Base):
    """A video in the corpus: an imported original (``human``) or an exported version."""

    __tablename__ = "items"
    __table_args__ = (
        CheckConstraint("kind IN ('human', 'ai_edited', 'ai_created')", name="ck_items_kind"),
        Index("uq_items_human_sha256", "sha256", unique=True,
              sqlite_where=text("kind = 'human'"), postgresql_where=text("kind = 'human'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("items.id", ondelete="SET NULL"), index=True, default=None
    )
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    stored_path: Mapped[str] = mapped_column(String(512))  # relative to the workspace, POSIX
    original_name: Mapped[str | None] = mapped_column(String(512), default=None)
    title: Mapped[str | None] = mapped_column(String(512), default=None)
    duration: Mapped[float | None] = mapped_column(Float, default=None)
    width: Mapped[int | None] = mapped_column(Integer, default=None)
    height: Mapped[int | None] = mapped_column(Integer, default=None)
    fps: Mapped[float | None] = mapped_column(Float, default=None)
    frame_count: Mapped[int | None] = mapped_column(Integer, default=None)
    file_size: Mapped[int | None] = mapped_column(BigInteger, default=None)
    has_audio: Mapped[bool | None] = mapped_column(Boolean, default=None)
    cover_path: Mapped[str | None] = mapped_column(String(512), default=None)  # relative, POSIX
    owner: Mapped[str | None] = mapped_column(String(256), default=None)
    author: Mapped[str | None] = mapped_column(String(256), default=None)
    licence: Mapped[str | None] = mapped_column(String(256), default=None)
    target_profile: Mapped[str | None] = mapped_column(String(256), default=None)
    generator: Mapped[str | None] = mapped_column(String(256), default=None)
    params_json: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    fidelity_json: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    watermark_payload: Mapped[str | None] = mapped_column(String(256), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    external_id: Mapped[str | None] = mapped_column(String(256), unique=True, default=None)
    media_warnings_json: Mapped[list[str] | None] = mapped_column(JSON, default=None)

    parent: Mapped[Item | None] = relationship(remote_side=[id], lazy="raise")


class User(Base):
    """A platform user (an audience member) known to the workspace."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(256), unique=True)
    name: Mapped[str | None] = mapped_column(String(256), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Interaction(Base):
    """One user–item interaction (a click, a like...) with a weight."""

    __tablename__ = "interactions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    timestamp: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    weight: Mapped[float] = mapped_column(Float, default=1.0)


class Lineage(Base):
    """An edge of the version graph: ``child`` was made from ``parent`` by ``operation``."""

    __tablename__ = "lineage"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    operation: Mapped[str] = mapped_column(String(64))
    params_json: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
