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
    load_profiles(ws, *, encoder_id=None) -> ProfileSet   # also with only example audiences (no users)
        ProfileSet.audiences(users=True, examples=True) -> list[Audience]   # segments, example audiences, users
            Audience: id "segment:3" / "examples:2" / "user:42", kind, name ("Segment 4", "Cyclists", "u042"),
            label, title, size, vector (User_Hist), item_ids
        ProfileSet.audience(id) / .resolve(id or name) / .vector(id)   # t* of Eq. 1 in the encoder's space
        ProfileSet.notes                             # what could not be used (examples not embeddable)
    audience_title(audience_id, profiles=None) / segment_name(index)   # what a person reads; numbered from 1
    examples.add_audience(ws, name, examples, *, encoder=None, progress, cancel) -> ExamplesChange
        # "people who like these": items, image/video files, folders; User_Hist of the examples (Eq. 1)
    examples.add_examples / remove_examples / rename_audience / remove_audience / list_audiences /
        get_audience / snapshot_audience / restore_audience (undo) / example_cover_paths
    train_recommender(ws | InteractionArrays, *, encoder="builtin", dim=64, epochs=20, seed=0, progress, cancel)
        -> Recommender                               # saved as W/models/recommender-<encoder>.{safetensors,json}
    load_recommender(ws, *, encoder_id=None) -> Recommender
        Recommender.user_embeddings (User_Emb), .score(user_idx, item_idx, thumb_features=None),
        .user_index(user_id), .item_index(item_id), .save(dir), Recommender.load(path)
    user_hist(user_idx, item_idx, item_embeddings, n_users, weight=None) -> ndarray   # Eq. 1, pure
    space.selection_vectors(ws, profiles, audience_ids, encoder, *, method="centred"|"projected"|"eq1")
        -> AudienceVectors(space, ids, vectors, support, thin)   # what distinguishes audiences (issue 22);
        # space.transform(frame_embeddings) puts frames in the same space; thin audiences shrunk to their segment
    cluster_users(vectors, *, k=None) / describe_segments(...)                       # pure

Errors: ``ProfilesError`` (base), ``InteractionFileError`` (with ``row_errors``), ``NoInteractionsError``,
``ModelNotFoundError``, ``AudienceNameError``, ``UnknownAudienceError``, ``UnknownItemError``,
``ExampleFileError`` (with ``problems``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from generec_desktop.profiles.errors import (
    AudienceNameError,
    ExampleFileError,
    InteractionFileError,
    ModelNotFoundError,
    NoInteractionsError,
    ProfilesError,
    UnknownAudienceError,
    UnknownItemError,
)

if TYPE_CHECKING:
    from generec_desktop.profiles.algorithms import cluster_users, describe_segments, user_hist
    from generec_desktop.profiles.examples import ExampleAudience, ExamplesChange, add_audience, list_audiences
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
        audience_title,
        build_profiles,
        load_profiles,
        load_recommender,
        train_recommender,
    )

__all__ = [
    "Audience",
    "AudienceNameError",
    "ColumnMapping",
    "ExampleAudience",
    "ExampleFileError",
    "ExamplesChange",
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
    "UnknownAudienceError",
    "UnknownItemError",
    "add_audience",
    "audience_title",
    "build_profiles",
    "cluster_users",
    "describe_segments",
    "import_and_build",
    "import_interactions",
    "list_audiences",
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
    "ExampleAudience": "examples", "ExamplesChange": "examples", "add_audience": "examples",
    "list_audiences": "examples",
    "InteractionArrays": "recommender", "Recommender": "recommender", "train_arrays": "recommender",
    **{n: "service" for n in ("Audience", "ProfileSet", "Segment", "audience_title", "build_profiles",
                              "load_profiles",
                              "load_recommender", "train_recommender")},
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"generec_desktop.profiles.{module}"), name)
