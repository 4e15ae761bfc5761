"""Audience profiles and the recommender (paper §5, §5.1.1 Eq. 1; MMGCN-style model trained with BPR).

Public API (imported lazily so ``import generec_desktop.profiles`` stays cheap)::

    preview_interactions(path, n=20, *, ws=None) -> InteractionPreview   # columns, first rows, guessed mapping
    ColumnMapping(user, item, item_match="auto"|"id"|"external"|"filename", weight=None, timestamp=None)
    validate_interactions(ws, path, mapping=None, *, max_errors=200, progress, cancel) -> InteractionCheck
        # line-numbered row errors and what an import would do; writes nothing
    import_interactions(ws, path, *, mapping=None, max_rows=5_000_000, progress, cancel) -> InteractionImportReport
    import_and_build(ws, path, *, mapping=None, encoder=..., epochs=..., progress, cancel) -> ImportBuildResult
        # import + build_profiles + train_recommender as one job; ImportBuildCancelled says what finished
    build_profiles(ws, *, encoder="builtin", n_segments=None, basis="items", seed=0, progress, cancel) -> ProfileSet
    load_profiles(ws, *, encoder_id=None) -> ProfileSet
        ProfileSet.audiences() -> list[Audience]     # "segment:3" / "user:42", label, size, vector (User_Hist)
        ProfileSet.audience(id) / .vector(id)        # t* of Eq. 1 in the encoder's space
    train_recommender(ws | InteractionArrays, *, encoder="builtin", dim=64, epochs=20, seed=0, progress, cancel)
        -> Recommender                               # saved as W/models/recommender-<encoder>.{safetensors,json}
    load_recommender(ws, *, encoder_id=None) -> Recommender
        Recommender.user_embeddings (User_Emb), .score(user_idx, item_idx, thumb_features=None),
        .user_index(user_id), .item_index(item_id), .save(dir), Recommender.load(path)
    user_hist(user_idx, item_idx, item_embeddings, n_users, weight=None) -> ndarray   # Eq. 1, pure
    cluster_users(vectors, *, k=None) / describe_segments(...)                       # pure

Errors: ``ProfilesError`` (base), ``InteractionFileError`` (with ``row_errors``), ``NoInteractionsError``,
``ModelNotFoundError``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from generec_desktop.profiles.errors import (
    InteractionFileError,
    ModelNotFoundError,
    NoInteractionsError,
    ProfilesError,
)

if TYPE_CHECKING:
    from generec_desktop.profiles.algorithms import cluster_users, describe_segments, user_hist
    from generec_desktop.profiles.interaction_files import ColumnMapping
    from generec_desktop.profiles.interactions import (
        InteractionCheck,
        InteractionImportReport,
        InteractionPreview,
        import_interactions,
        preview_interactions,
        validate_interactions,
    )
    from generec_desktop.profiles.pipeline import ImportBuildCancelled, ImportBuildResult, import_and_build
    from generec_desktop.profiles.recommender import InteractionArrays, Recommender, train_arrays
    from generec_desktop.profiles.service import (
        Audience,
        ProfileSet,
        Segment,
        build_profiles,
        load_profiles,
        load_recommender,
        train_recommender,
    )

__all__ = [
    "Audience",
    "ColumnMapping",
    "ImportBuildCancelled",
    "ImportBuildResult",
    "InteractionArrays",
    "InteractionCheck",
    "InteractionFileError",
    "InteractionImportReport",
    "InteractionPreview",
    "ModelNotFoundError",
    "NoInteractionsError",
    "ProfileSet",
    "ProfilesError",
    "Recommender",
    "Segment",
    "build_profiles",
    "cluster_users",
    "describe_segments",
    "import_and_build",
    "import_interactions",
    "load_profiles",
    "load_recommender",
    "preview_interactions",
    "train_arrays",
    "train_recommender",
    "user_hist",
    "validate_interactions",
]

_LAZY = {
    "cluster_users": "algorithms", "describe_segments": "algorithms", "user_hist": "algorithms",
    "ColumnMapping": "interaction_files",
    **{n: "interactions" for n in ("InteractionCheck", "InteractionImportReport", "InteractionPreview",
                                   "import_interactions", "preview_interactions", "validate_interactions")},
    **{n: "pipeline" for n in ("ImportBuildCancelled", "ImportBuildResult", "import_and_build")},
    "InteractionArrays": "recommender", "Recommender": "recommender", "train_arrays": "recommender",
    **{n: "service" for n in ("Audience", "ProfileSet", "Segment", "build_profiles", "load_profiles",
                              "load_recommender", "train_recommender")},
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"generec_desktop.profiles.{module}"), name)
