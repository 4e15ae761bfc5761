"""The workspace folder and its item corpus (DESIGN §4, docs/ARCHITECTURE.md "corpus").

Public API (imported lazily, so ``import generec_desktop.corpus`` does not load SQLAlchemy)::

    Workspace.create(path, *, db_url=None) / open(path, *, db_url=None) / open_or_create(path)
    ws.session() -> contextmanager[Session]                       # commit on success, rollback on error
    ws.import_media(paths, *, owner=None, licence=None, title=None, progress=None, cancel=None) -> ImportResult
    ws.items(kind=None) -> list[ItemInfo];  ws.item(item_id) -> ItemInfo
    ws.media_path(item) -> Path;  ws.cover_path(item) -> Path | None
    ws.users() -> list[UserInfo];  ws.interactions(*, user_id=None, item_id=None) -> list[InteractionInfo]
    ws.lineage(item_id) -> list[LineageInfo]
    ws.add_users(ids_or_mappings) -> list[UserInfo]               # bulk, idempotent on external_id
    ws.add_interactions(rows) -> int                              # bulk, one transaction
    ws.temp_file(suffix=".mp4") -> Path                           # where to write an export
    ws.add_version(src_tmp_file, *, kind, parent_id=None, verify=None, operation="export", ...) -> ItemInfo
    ws.check_integrity(*, verify_hashes=True, progress=None, cancel=None) -> IntegrityReport
    ws.recover() -> RecoveryReport                                # also run at every open

``Workspace`` is a front: ``import_media`` / ``add_users`` / ``add_interactions`` are :mod:`.importer`'s,
``add_version`` is :mod:`.versions`', ``check_integrity`` / ``recover`` are :mod:`.integrity`'s
(:mod:`.files` holds the managed-file helpers the first two share).

ORM classes (``Item``, ``User``, ``Interaction``, ``Lineage``) are in :mod:`.schema`; ``params_json`` and
``fidelity_json`` are JSON columns (assign dicts). Datetimes are timezone-aware UTC. Add tables by
appending a function to ``migrations.MIGRATIONS``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from generec_desktop.corpus.errors import CorpusError, SchemaVersionError, VerificationError, WorkspaceError

if TYPE_CHECKING:
    from generec_desktop.corpus.records import (
        ImportedFile,
        ImportResult,
        IntegrityReport,
        InteractionInfo,
        ItemInfo,
        LineageInfo,
        UserInfo,
    )
    from generec_desktop.corpus.schema import ITEM_KINDS
    from generec_desktop.corpus.workspace import Workspace

__all__ = [
    "ITEM_KINDS",
    "CorpusError",
    "ImportResult",
    "ImportedFile",
    "IntegrityReport",
    "InteractionInfo",
    "ItemInfo",
    "LineageInfo",
    "SchemaVersionError",
    "UserInfo",
    "VerificationError",
    "Workspace",
    "WorkspaceError",
]

_LAZY = {
    "Workspace": "generec_desktop.corpus.workspace",
    "ITEM_KINDS": "generec_desktop.corpus.schema",
    **{name: "generec_desktop.corpus.records" for name in (
        "ImportResult", "ImportedFile", "IntegrityReport", "InteractionInfo", "ItemInfo", "LineageInfo",
        "UserInfo")},
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
