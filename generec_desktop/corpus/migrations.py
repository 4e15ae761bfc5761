"""Schema migrations: an ordered list of functions applied when a workspace is opened.

``MIGRATIONS[i]`` brings the schema from version ``i`` to ``i + 1``. :func:`migrate` runs every
pending one inside one transaction and records each in ``schema_version``, so a failure leaves the
database at its old version. A package adds its own tables by **appending** a migration; never edit
one that has shipped (workspaces in the wild already ran it). Each migration is a frozen snapshot
written with SQLAlchemy Core, never ``Base.metadata.create_all`` (that would follow today's models
and break the next migration).

Why not Alembic: it is not a dependency, it wants a script folder, an ``env.py`` and a config file
found at run time, and its value (autogenerate, branches, downgrades) matters for a server team;
a desktop app that upgrades its own files on open needs only this ordered list, which works the
same on SQLite and PostgreSQL. Moving to Alembic later is easy: stamp the head we reach here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine

from generec_desktop.corpus.errors import SchemaVersionError

Migration = Callable[[Connection], None]


def existing_tables(conn: Connection) -> MetaData:
    """A MetaData holding the tables already in the database (reflected), for a migration's snapshot.

    Start a migration with ``md = existing_tables(conn)`` so its ``ForeignKey("users.id")`` resolves
    to a table an earlier migration made; ``md.create_all(conn)`` then creates only the new tables.
    """
    md = MetaData()
    md.reflect(conn)
    return md


def _m001_initial(conn: Connection) -> None:
    """Items, users, interactions, lineage (schema_version is created by :func:`migrate`)."""
    md = MetaData()
    Table(
        "items", md,
        Column("id", Integer, primary_key=True),
        Column("kind", String(16), nullable=False),
        Column("parent_id", Integer, ForeignKey("items.id", ondelete="SET NULL"), index=True),
        Column("sha256", String(64), nullable=False, index=True),
        Column("stored_path", String(512), nullable=False),
        Column("original_name", String(512)),
        Column("title", String(512)),
        Column("duration", Float),
        Column("width", Integer),
        Column("height", Integer),
        Column("fps", Float),
        Column("frame_count", Integer),
        Column("file_size", BigInteger),
        Column("has_audio", Boolean),
        Column("cover_path", String(512)),
        Column("owner", String(256)),
        Column("author", String(256)),
        Column("licence", String(256)),
        Column("target_profile", String(256)),
        Column("generator", String(256)),
        Column("params_json", JSON),
        Column("fidelity_json", JSON),
        Column("watermark_payload", String(256)),
        Column("created_at", DateTime, nullable=False),
        Column("external_id", String(256), unique=True),
        CheckConstraint("kind IN ('human', 'ai_edited', 'ai_created')", name="ck_items_kind"),
    )
    # One original per content: a second import of the same bytes (even racing in another process)
    # cannot add a second row. Partial indexes exist in SQLite and PostgreSQL alike.
    human = text("kind = 'human'")
    Index("uq_items_human_sha256", md.tables["items"].c.sha256, unique=True,
          sqlite_where=human, postgresql_where=human)
    Table(
        "users", md,
        Column("id", Integer, primary_key=True),
        Column("external_id", String(256), nullable=False, unique=True),
        Column("name", String(256)),
        Column("created_at", DateTime, nullable=False),
    )
    Table(
        "interactions", md,
        Column("id", Integer, primary_key=True),
        Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
        Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), nullable=False, index=True),
        Column("timestamp", DateTime),
        Column("weight", Float, nullable=False),
    )
    Table(
        "lineage", md,
        Column("id", Integer, primary_key=True),
        Column("child_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), nullable=False, index=True),
        Column("parent_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), nullable=False, index=True),
        Column("operation", String(64), nullable=False),
        Column("params_json", JSON),
        Column("created_at", DateTime, nullable=False),
    )
    md.create_all(conn)


def _m002_profiles(conn: Connection) -> None:
    """Audience profiles (User_Hist per user and segment) and recommender runs (generec_desktop.profiles)."""
    md = existing_tables(conn)  # so ForeignKey("users.id") resolves
    Table(
        "profile_users", md,
        Column("encoder_id", String(256), primary_key=True),
        Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        Column("fingerprint", String(64), nullable=False),
        Column("n_likes", Integer, nullable=False),
        Column("dim", Integer, nullable=False),
        Column("vector", LargeBinary, nullable=False),
        Column("segment_index", Integer),
        Column("updated_at", DateTime, nullable=False),
    )
    Table(
        "profile_segments", md,
        Column("id", Integer, primary_key=True),
        Column("encoder_id", String(256), nullable=False, index=True),
        Column("segment_index", Integer, nullable=False),
        Column("label", String(512), nullable=False),
        Column("size", Integer, nullable=False),
        Column("dim", Integer, nullable=False),
        Column("vector", LargeBinary, nullable=False),
        Column("top_items_json", JSON),
        Column("built_at", DateTime, nullable=False),
        UniqueConstraint("encoder_id", "segment_index", name="uq_profile_segments_encoder_index"),
    )
    Table(
        "recommender_runs", md,
        Column("id", Integer, primary_key=True),
        Column("created_at", DateTime, nullable=False),
        Column("encoder_id", String(256), nullable=False),
        Column("path", String(512), nullable=False),
        Column("fingerprint", String(64), nullable=False),
        Column("n_users", Integer, nullable=False),
        Column("n_items", Integer, nullable=False),
        Column("n_interactions", Integer, nullable=False),
        Column("params_json", JSON),
        Column("metrics_json", JSON),
    )
    md.create_all(conn)


def _m003_media_warnings(conn: Connection) -> None:
    """What reading an item's file needed repairing (skipped frames, repaired timestamps, a truncated
    end: ``MediaInfo.warnings``), a JSON list of sentences shown as a badge in the library."""
    conn.execute(text("ALTER TABLE items ADD COLUMN media_warnings_json JSON"))


def _m004_example_audiences(conn: Connection) -> None:
    """Audiences built from examples ("people who like these"): a name, its example items or files,
    and each example's embedding per encoder (so an example file that was moved keeps counting)."""
    md = existing_tables(conn)
    Table(
        "audiences", md,
        Column("id", Integer, primary_key=True),
        Column("name", String(256), nullable=False),
        Column("created_at", DateTime, nullable=False),
        Column("updated_at", DateTime, nullable=False),
    )
    Table(
        "audience_examples", md,
        Column("id", Integer, primary_key=True),
        Column("audience_id", Integer, ForeignKey("audiences.id", ondelete="CASCADE"), nullable=False,
               index=True),
        Column("kind", String(16), nullable=False),  # "item" | "image" | "video"
        Column("item_id", Integer, ForeignKey("items.id", ondelete="SET NULL")),
        Column("path", String(1024)),
        Column("sha256", String(64)),
        Column("added_at", DateTime, nullable=False),
    )
    Table(
        "audience_example_vectors", md,
        Column("example_id", Integer, ForeignKey("audience_examples.id", ondelete="CASCADE"), primary_key=True),
        Column("encoder_id", String(256), primary_key=True),
        Column("dim", Integer, nullable=False),
        Column("vector", LargeBinary, nullable=False),
    )
    md.create_all(conn)


def _m005_artwork(conn: Connection) -> None:
    """Artwork per (item, audience): the still image a platform shows that audience for the item
    (a chosen or generated thumbnail), with its score, source time, generator and provenance."""
    md = existing_tables(conn)
    Table(
        "artwork", md,
        Column("id", Integer, primary_key=True),
        Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), nullable=False, index=True),
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
    md.create_all(conn)


def _m006_example_descriptions(conn: Connection) -> None:
    """An audience may be described in words ("people who like skateboarding"): an example of kind
    ``"text"`` keeps its description here (its vector, per encoder with a text tower, as any example's)."""
    conn.execute(text("ALTER TABLE audience_examples ADD COLUMN description VARCHAR(1024)"))


#: The ordered migrations. Append only.
MIGRATIONS: list[Migration] = [
    _m001_initial,
    _m002_profiles,
    _m003_media_warnings,
    _m004_example_audiences,
    _m005_artwork,
    _m006_example_descriptions,
]

_version_md = MetaData()
_schema_version = Table(
    "schema_version", _version_md,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(128), nullable=False),
    Column("applied_at", DateTime, nullable=False),
)


def latest_version(migrations: list[Migration] | None = None) -> int:
    """The schema version this code writes."""
    return len(MIGRATIONS if migrations is None else migrations)


def current_version(conn: Connection) -> int:
    """The version recorded in the database; 0 for an empty database."""
    if not inspect(conn).has_table("schema_version"):
        return 0
    return int(conn.execute(select(_schema_version.c.version).order_by(
        _schema_version.c.version.desc()).limit(1)).scalar() or 0)


def migrate(engine: Engine, migrations: list[Migration] | None = None) -> list[int]:
    """Apply every pending migration in one transaction; return the versions applied.

    Raises :class:`SchemaVersionError` (and changes nothing) when the database is newer than
    this code. Idempotent: a second call applies nothing.
    """
    migrations = MIGRATIONS if migrations is None else migrations
    applied: list[int] = []
    with engine.begin() as conn:
        _version_md.create_all(conn)  # checkfirst: only on a new database
        have = current_version(conn)
        if have > len(migrations):
            raise SchemaVersionError(
                f"This workspace's database is at schema version {have}, newer than this GeneRec Desktop "
                f"understands ({len(migrations)}); upgrade GeneRec Desktop to open it."
            )
        for version in range(have + 1, len(migrations) + 1):
            fn = migrations[version - 1]
            fn(conn)
            conn.execute(_schema_version.insert().values(
                version=version, name=fn.__name__.lstrip("_"),
                applied_at=datetime.now(UTC).replace(tzinfo=None)))
            applied.append(version)
    return applied
