"""The ``artwork`` table (migration m005) as the hand-off reads it.

Declared here with SQLAlchemy Core, read-only: its creation is the frozen migration in
``generec_desktop/corpus/migrations.py`` and its writer's declaration (``versions/store.py``) is in a sibling
layer the hand-off may not import. A test checks that this agrees with what the migration creates, so a drift
fails loudly instead of exporting a column that is no longer there. The m004 tables (audiences from examples)
are read through ``profiles.store``, which declares them.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Float, Integer, MetaData, String, Table

metadata = MetaData()

artwork = Table(
    "artwork", metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, nullable=False),
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
)
