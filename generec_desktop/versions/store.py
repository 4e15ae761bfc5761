"""The corpus tables the version workflow reads with SQLAlchemy Core: ``artwork`` (migration ``_m005_artwork``).

Declared here as the migration creates it (a test checks that both agree); only :func:`artwork_for` reads
it, for a per-audience upload package. The artwork store's own API (issue 16 part 5) replaces this read
when it lands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    select,
)

if TYPE_CHECKING:
    from generec_desktop.corpus import Workspace

metadata = MetaData()

# the items table only as far as the foreign key needs it (its columns are the ORM's, corpus/schema.py)
_items = Table("items", MetaData(), Column("id", Integer, primary_key=True))

artwork = Table(
    "artwork", metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey(_items.c.id, ondelete="CASCADE"), nullable=False, index=True),
    Column("audience_id", String(64), nullable=False),
    Column("audience_label", String(256)),
    Column("path", String(512), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("format", String(8), nullable=False),
    Column("score", Float),
    Column("source_time", Float),
    Column("generator", String(64), nullable=False),
    Column("params_json", JSON),
    Column("provenance_json", JSON),
    Column("watermark_payload", String(64)),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("item_id", "audience_id", name="uq_artwork_item_audience"),
)


@dataclass(frozen=True)
class ArtworkRow:
    """One stored artwork image: where it is (relative to the workspace) and what it is."""

    item_id: int
    audience_id: str
    path: str
    sha256: str
    width: int
    height: int
    format: str
    score: float | None
    source_time: float | None
    generator: str


def artwork_for(ws: Workspace, item_id: int, audience_id: str) -> ArtworkRow | None:
    """The artwork stored for (item, audience), or None (also when the workspace predates migration m005)."""
    from sqlalchemy import inspect

    with ws.read_session() as s:
        if not inspect(s.connection()).has_table("artwork"):
            return None
        row = s.execute(select(artwork).where(artwork.c.item_id == item_id,
                                              artwork.c.audience_id == audience_id)).first()
    if row is None:
        return None
    return ArtworkRow(int(row.item_id), str(row.audience_id), str(row.path), str(row.sha256), int(row.width),
                      int(row.height), str(row.format), row.score, row.source_time, str(row.generator))
