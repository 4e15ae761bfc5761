"""The corpus side of a version: a finished video added as a new item in ``versions/`` (verify → fsync →
rename → commit, with its cover and lineage), all or nothing.

:class:`~generec_desktop.corpus.workspace.Workspace` delegates ``add_version`` here; the version
workflow (pending versions, checks, export) is :mod:`generec_desktop.versions`, above the corpus.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from generec_desktop.corpus import files
from generec_desktop.corpus.cover import choose_cover, write_jpeg
from generec_desktop.corpus.errors import CorpusError, VerificationError
from generec_desktop.corpus.records import ItemInfo
from generec_desktop.corpus.schema import ITEM_KINDS, Item, Lineage
from generec_desktop.jobs import CancelToken, check_cancel
from generec_desktop.safefiles import TEMP_PREFIX, file_sha256

if TYPE_CHECKING:
    import numpy as np

    from generec_desktop.corpus.workspace import Workspace
    from generec_desktop.media import MediaInfo

__all__ = ["add_version"]


def add_version(
    ws: Workspace,
    src_tmp_file: str | os.PathLike[str],
    *,
    kind: str,
    parent_id: int | None = None,
    verify: Callable[[Path], bool | None] | None = None,
    operation: str = "export",
    title: str | None = None,
    owner: str | None = None,
    author: str | None = None,
    licence: str | None = None,
    target_profile: str | None = None,
    generator: str | None = None,
    params: dict[str, Any] | None = None,
    fidelity: dict[str, Any] | None = None,
    watermark_payload: str | None = None,
    external_id: str | None = None,
    cover: np.ndarray | str | os.PathLike[str] | None = None,
    cancel: CancelToken | None = None,
) -> ItemInfo:
    """Add a finished video as a new item in ``versions/``: verify → fsync → rename → commit.

    ``src_tmp_file`` should come from :meth:`temp_file` (then it is moved in on success and
    deleted on failure); a file elsewhere is copied and left untouched. ``verify(path)`` sees the
    final bytes; returning ``False`` or raising rejects the version and nothing is added.
    ``cover`` is an RGB array or an image file (a personalised thumbnail); default: chosen from
    the video. A crash at any moment leaves the whole version (file + row + lineage) or nothing.
    ``cancel`` is honoured up to the final rename + commit, which is never interrupted.
    """
    from generec_desktop.media import probe

    ws._require_writable()
    if kind not in ITEM_KINDS:
        raise CorpusError(f"Unknown item kind {kind!r}; use one of {', '.join(ITEM_KINDS)}.")
    if kind == "ai_edited" and parent_id is None:
        raise CorpusError("An ai_edited version needs the parent_id of the item it edits.")
    if parent_id is not None:
        ws.item(parent_id)  # raises if missing
    src = Path(src_tmp_file)
    files.check_input_file(src)
    owned = src.resolve().parent == ws.versions_dir and src.name.startswith(TEMP_PREFIX)
    created: list[Path] = []
    tmp = src if owned else ws.temp_file(src.suffix.lower() or ".mp4")
    try:
        if owned:
            sha, size = file_sha256(src), src.stat().st_size
        else:
            sha, size = files.copy_hashing(src, tmp, None)
        info = probe(tmp)
        check_cancel(cancel)
        if verify is not None:
            files.make_read_only(tmp)  # verify must not change what we hashed
            if verify(tmp) is False:
                raise VerificationError(f"Verification rejected {src.name}; nothing was exported.")
            if file_sha256(tmp) != sha:
                raise VerificationError(f"{src.name} changed during verification; nothing was exported.")
        files.fsync_file(tmp)
        cover_rel = _write_version_cover(ws, sha, tmp, info, cover, created)
        suffix = tmp.suffix or ".mp4"
        final = ws.versions_dir / f"{sha}{suffix}"
        rel = ws._rel(final)
        files.make_read_only(tmp)
        check_cancel(cancel)
        with ws.session() as s:
            row = Item(
                kind=kind, parent_id=parent_id, sha256=sha, stored_path=rel,
                original_name=src.name if not owned else None, title=title, duration=info.duration,
                width=info.width, height=info.height, fps=info.fps, frame_count=info.frame_count,
                file_size=size, has_audio=info.has_audio, cover_path=cover_rel, owner=owner,
                author=author, licence=licence, target_profile=target_profile, generator=generator,
                params_json=params, fidelity_json=fidelity, watermark_payload=watermark_payload,
                created_at=datetime.now(UTC), external_id=external_id,
                media_warnings_json=list(getattr(info, "warnings", ())) or None,
            )
            s.add(row)
            s.flush()
            if parent_id is not None:
                s.add(Lineage(child_id=row.id, parent_id=parent_id, operation=operation,
                              params_json=params, created_at=datetime.now(UTC)))
            shared = s.scalar(select(Item.id).where(Item.stored_path == rel, Item.id != row.id).limit(1))
            s.flush()
            if shared is None or not final.exists():
                files.place_before_commit(tmp, final, created)
            result = ItemInfo.from_row(row)
        return result
    except IntegrityError as exc:
        files.cleanup(ws, created)
        raise CorpusError(f"The external id {external_id!r} is already used by another item; "
                          "give a new one.") from exc
    except BaseException:
        files.cleanup(ws, created)
        raise
    finally:
        if owned or tmp != src:
            files.unlink(tmp)


def _write_version_cover(ws: Workspace, sha: str, video: Path, info: MediaInfo,
                         cover: np.ndarray | str | os.PathLike[str] | None, created: list[Path]) -> str:
    import numpy as np

    if cover is None:
        rel = f"covers/{sha}.jpg"
        if not (ws.root / rel).exists():
            write_jpeg(choose_cover(video, info.duration, info.has_cover), ws.root / rel)
            created.append(ws.root / rel)
        return rel
    if isinstance(cover, str | os.PathLike):
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(cover) as im:
                image = np.asarray(im.convert("RGB"))
        except (OSError, UnidentifiedImageError) as exc:
            raise CorpusError(f"The cover {cover} is not a readable image.") from exc
    else:
        image = np.asarray(cover)
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise CorpusError("A cover array must be (H, W, 3) uint8 RGB.")
    tag = hashlib.sha256(image.tobytes()).hexdigest()[:12]
    rel = f"covers/{sha}-{tag}.jpg"
    if not (ws.root / rel).exists():
        write_jpeg(image, ws.root / rel)
        created.append(ws.root / rel)
    return rel
