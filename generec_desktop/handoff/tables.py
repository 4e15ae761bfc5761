"""The tables of migrations m004 (audiences from examples) and m005 (artwork) as the hand-off reads them.

Declared here with SQLAlchemy Core, read-only (their creation is the frozen migration in
``generec_desktop/corpus/migrations.py``, their writers live in the profiles and fidelity packages); a test
checks that these agree with what the migrations create, so a drift fails loudly instead of exporting a
column that is no longer there.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Float, Integer, LargeBinary, MetaData, String, Table

metadata = MetaData()

audiences = Table(
    "audiences", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(256), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

audience_examples = Table(
    "audience_examples", metadata,
    Column("id", Integer, primary_key=True),
    Column("audience_id", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("item_id", Integer),
    Column("path", String(1024)),
    Column("sha256", String(64)),
    Column("added_at", DateTime, nullable=False),
)

audience_example_vectors = Table(
    "audience_example_vectors", metadata,
    Column("example_id", Integer, primary_key=True),
    Column("encoder_id", String(256), primary_key=True),
    Column("dim", Integer, nullable=False),
    Column("vector", LargeBinary, nullable=False),
)

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
