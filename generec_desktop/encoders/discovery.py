"""Finding open_clip weights on this machine, in the order of DESIGN §5, and hashing them once.

Search order for ``open_clip:<name>``:

1. an explicit path (``weights=``: the GUI's setting, the CLI's ``--weights``): a weights file, or a
   folder in Hugging Face layout (``open_clip_config.json`` + weights);
2. the workspace's ``models/``, 3. the repository's ``models/``, 4. the user's downloads
   (``<data home>/models``, where ``generec models get`` puts them); in each of these folders ``D``:
   ``D/<name>.<ext>``, ``D/<name>__<pretrained-tag>.<ext>``, the same under ``D/open_clip/``, any weights
   file in ``D/open_clip/<name>/``, or ``D/open_clip/<name>/open_clip_config.json`` + weights (a folder
   copied from a Hugging Face open_clip repository; then ``<name>`` need not be a built-in architecture);
   ``<ext>`` is ``.safetensors``, ``.pt``, ``.pth`` or ``.bin``;
5. the Hugging Face cache (``$HF_HUB_CACHE``), for the repositories open_clip lists for ``<name>``'s
   pretrained tags — read offline, never downloaded.

Nothing here imports torch; open_clip (which does) is imported only to learn architecture names
and tags. A weights file's sha256 is cached by path + size + mtime in ``<data home>/weights-sha256.json``.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from generec_desktop.config import data_home, repo_models_dir
from generec_desktop.encoders.base import EncoderError

__all__ = [
    "WEIGHT_SUFFIXES",
    "WeightsCandidate",
    "file_sha256",
    "find_weights",
    "list_weights",
    "search_dirs",
]

WEIGHT_SUFFIXES = (".safetensors", ".pt", ".pth", ".bin")
HF_CONFIG = "open_clip_config.json"
# open_clip's own preference inside a Hugging Face folder (factory._find_checkpoint_in_dir).
_PREFERRED = (
    "open_clip_model.safetensors",
    "open_clip_pytorch_model.safetensors",
    "open_clip_pytorch_model.bin",
    "open_clip_pytorch_model.pth",
    "model.safetensors",
    "pytorch_model.bin",
    "pytorch_model.pth",
    "model.pth",
)


@dataclass(frozen=True)
class WeightsCandidate:
    """One set of open_clip weights found on disk and how to load it."""

    name: str  # the name a user types after "open_clip:" (architecture or folder name)
    path: Path  # the weights file
    source: str  # "explicit", "workspace", "repo", "user" (downloaded) or "hf-cache"
    config_dir: Path | None = None  # folder with open_clip_config.json (Hugging Face layout)
    tag: str | None = None  # open_clip pretrained tag whose preprocessing applies, if known
    size: int = 0
    preprocess: dict[str, object] = field(default_factory=dict, compare=False)

    @property
    def model_name(self) -> str:
        """The name to pass to ``open_clip.create_model_and_transforms``."""
        return f"local-dir:{self.config_dir}" if self.config_dir is not None else self.name


def search_dirs(workspace_root: Path | None = None) -> list[tuple[str, Path]]:
    """The ``models/`` folders searched, in order, as (source, path)."""
    dirs: list[tuple[str, Path]] = []
    if workspace_root is not None:
        dirs.append(("workspace", Path(workspace_root) / "models"))
    dirs.append(("repo", repo_models_dir()))
    dirs.append(("user", data_home() / "models"))  # = hub.user_models_dir(), without importing the hub code
    return dirs


def _hf_cache_dir() -> Path:
    from huggingface_hub.constants import HF_HUB_CACHE

    return Path(HF_HUB_CACHE)


def _known_architectures() -> set[str]:
    import open_clip

    return set(open_clip.list_models())


def _pick_checkpoint(folder: Path) -> Path | None:
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in WEIGHT_SUFFIXES)
    if not files:
        return None
    for name in _PREFERRED:
        for p in files:
            if p.name == name:
                return p
    files.sort(key=lambda p: p.suffix != ".safetensors")
    return files[0]


def _tag_preprocess(arch: str, tag: str | None) -> dict[str, object]:
    """Mean/std/interpolation/resize mode that open_clip records for a pretrained tag."""
    if not tag:
        return {}
    import open_clip

    cfg = open_clip.get_pretrained_cfg(arch, tag) or {}
    keys = ("mean", "std", "interpolation", "resize_mode")
    return {k: cfg[k] for k in keys if k in cfg}


def _candidate(name: str, path: Path, source: str, *, config_dir: Path | None = None,
               tag: str | None = None) -> WeightsCandidate:
    pre = _tag_preprocess(name, tag) if config_dir is None else {}
    return WeightsCandidate(name=name, path=path, source=source, config_dir=config_dir,
                            tag=tag if pre else None, size=path.stat().st_size, preprocess=pre)


def _scan_models_dir(source: str, root: Path, known: set[str]) -> Iterator[WeightsCandidate]:
    """Every loadable weights set in one ``models/`` folder (see the module docstring)."""
    if not root.is_dir():
        return
    for folder in (root, root / "open_clip"):
        if not folder.is_dir():
            continue
        for p in sorted(folder.iterdir()):
            if p.is_file() and p.suffix in WEIGHT_SUFFIXES:
                arch, _, tag = p.stem.partition("__")
                if arch in known:
                    yield _candidate(arch, p, source, tag=tag or None)
            elif p.is_dir() and folder.name == "open_clip" and not p.name.startswith("."):  # .partial-*: downloads
                ckpt = _pick_checkpoint(p)
                if ckpt is None:
                    continue
                if (p / HF_CONFIG).is_file():
                    yield _candidate(p.name, ckpt, source, config_dir=p)
                elif p.name in known:
                    yield _candidate(p.name, ckpt, source)


def _scan_hf_cache(known: set[str], only: str | None = None) -> Iterator[WeightsCandidate]:
    """open_clip weights already in the Hugging Face cache (offline lookups only)."""
    import open_clip
    from huggingface_hub import try_to_load_from_cache

    cache = _hf_cache_dir()
    if not cache.is_dir():
        return
    archs = [only] if only is not None else sorted(known)
    for arch in archs:
        for tag in open_clip.list_pretrained_tags_by_model(arch):
            hub = (open_clip.get_pretrained_cfg(arch, tag) or {}).get("hf_hub") or ""
            if not hub:
                continue
            repo_id, filename = os.path.split(hub)
            names = [filename] if filename else ["open_clip_model.safetensors", "open_clip_pytorch_model.bin"]
            for fname in names:
                hit = try_to_load_from_cache(repo_id, fname, cache_dir=str(cache))
                if isinstance(hit, str) and os.path.isfile(hit):
                    yield _candidate(arch, Path(hit), "hf-cache", tag=tag)
                    break


def _explicit(weights: Path, name: str | None) -> WeightsCandidate:
    weights = Path(weights).expanduser()
    if weights.is_dir():
        ckpt = _pick_checkpoint(weights)
        if ckpt is None:
            raise EncoderError(f"No .safetensors/.pt/.pth/.bin weights file in {weights}; point to the file itself.")
        if (weights / HF_CONFIG).is_file():
            return _candidate(name or weights.name, ckpt, "explicit", config_dir=weights)
        weights = ckpt
    if not weights.is_file():
        raise EncoderError(f"The weights file {weights} does not exist; check the path in the settings.")
    if not name:
        name = weights.stem.partition("__")[0]
    if name not in _known_architectures():
        raise EncoderError(
            f"Cannot tell which open_clip architecture {weights.name} is; name it, e.g. 'open_clip:ViT-B-32'."
        )
    tag = weights.stem.partition("__")[2] or None
    return _candidate(name, weights, "explicit", tag=tag)


def list_weights(workspace_root: Path | None = None) -> list[WeightsCandidate]:
    """Every open_clip weights set found, in search order (workspace, repo, downloads, Hugging Face cache)."""
    known = _known_architectures()
    found: list[WeightsCandidate] = []
    for source, root in search_dirs(workspace_root):
        found.extend(_scan_models_dir(source, root, known))
    found.extend(_scan_hf_cache(known))
    return found


def find_weights(name: str | None, *, workspace_root: Path | None = None,
                 weights: Path | None = None) -> WeightsCandidate:
    """The first weights for open_clip model ``name`` in search order (``None``: the first of any).

    Raises :class:`EncoderError` saying where to put weights when none are found.
    """
    if weights is not None:
        return _explicit(Path(weights), name)
    known = _known_architectures()
    for source, root in search_dirs(workspace_root):
        for cand in _scan_models_dir(source, root, known):
            if name is None or cand.name == name:
                return cand
    if name is None or name in known:
        for cand in _scan_hf_cache(known, only=name):
            return cand
    dirs = [str(d) for _, d in search_dirs(workspace_root)]
    if name is not None and name not in known:
        raise EncoderError(
            f"Unknown open_clip model '{name}': use a built-in architecture (e.g. ViT-B-32) or put a Hugging Face "
            f"open_clip folder at <models>/open_clip/{name}/ in one of {', '.join(dirs)}."
        )
    example = name or "ViT-B-32"
    raise EncoderError(
        f"No open_clip weights found for {name or 'any model'}: put e.g. {example}.safetensors "
        f"(or {example}__<tag>.safetensors) in one of {', '.join(dirs)}, pass --weights PATH, "
        f"or place the Hugging Face download in {_hf_cache_dir()}."
    )


# -- sha256 of weights files, cached by path + size + mtime --------------------------------------
_HASH_LOCK = threading.Lock()


def _hash_cache_file() -> Path:
    return data_home() / "weights-sha256.json"


def file_sha256(path: Path) -> str:
    """sha256 hex digest of ``path`` (:func:`generec_desktop.safefiles.file_sha256`), remembered by
    (path, size, mtime_ns) so big weight files hash once."""
    from generec_desktop import safefiles

    path = Path(path).resolve()
    st = path.stat()
    key = f"{path}|{st.st_size}|{st.st_mtime_ns}"
    cache_file = _hash_cache_file()
    with _HASH_LOCK:
        cache: dict[str, str] = {}
        with contextlib.suppress(OSError, ValueError):
            cache = json.loads(cache_file.read_text(encoding="utf-8"))
        if isinstance(cache, dict) and isinstance(cache.get(key), str):
            return cache[key]
        value = safefiles.file_sha256(path)
        if not isinstance(cache, dict):
            cache = {}
        cache[key] = value
        with contextlib.suppress(OSError):  # a read-only home only costs a re-hash next time
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            from generec_desktop.safefiles import atomic_write_text

            atomic_write_text(cache_file, json.dumps(cache, indent=0))
        return value
