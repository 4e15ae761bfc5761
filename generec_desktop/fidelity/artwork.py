"""Artwork per (item, audience): the still image a platform shows an audience for an item (issue 16 part 5).

A stored artwork is

* a file ``W/artwork/<sha256>.jpg`` (or ``.webp``) at the image's full resolution, invisibly marked with
  the still-image watermark (:mod:`.still_mark`), written under a journaled temporary name and renamed
  into place (:mod:`generec_desktop.safefiles`); content-addressed, so two audiences with the same image
  share one file;
* its sidecar ``W/artwork/<sha256>.jpg.artwork.json`` (provenance: the item, audience, source frame time,
  generator, parameters, watermark payload), from which ``generec workspace rebuild`` restores the row;
* one row of the ``artwork`` table (migration ``_m005_artwork``), unique per (item, audience): storing
  again for the same pair replaces the row.

The mark must read back with the right payload after JPEG quality 75 and a 50 % resize *of the stored
file* before anything is written; otherwise :func:`store` refuses (images below 480×270 are refused up
front: the mark is not reliable there). A 10 % crop removes the mark (see :mod:`.still_mark`).

Files are never deleted: a file no row references any more (replaced or removed) moves to
``W/cache/artwork-trash/`` with its sidecar, where :func:`put_back` (undo) finds it again; nothing the
app did not create is touched. :data:`artwork` is the one SQLAlchemy Core declaration of the table;
``versions`` and ``handoff`` import it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
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
    delete,
    select,
)

from generec_desktop.corpus.recovery import ARTWORK_SIDECAR_SUFFIX
from generec_desktop.jobs import CancelToken, GenerecError, Progress, check_cancel, report

if TYPE_CHECKING:
    from generec_desktop.corpus import Workspace

__all__ = [
    "ARTWORK_DIR",
    "SIDECAR_SUFFIX",
    "ArtworkCheck",
    "ArtworkError",
    "ArtworkRow",
    "StoreResult",
    "artwork",
    "artwork_for",
    "artwork_path",
    "full_resolution_frame",
    "list_artwork",
    "metadata",
    "put_back",
    "remove",
    "store",
    "verify",
]

ARTWORK_DIR = "artwork"
TRASH_DIR = "artwork-trash"  # under W/cache/
SIDECAR_SUFFIX = ARTWORK_SIDECAR_SUFFIX
SIDECAR_FORMAT = "generec-artwork/1"
FORMATS = {"JPEG": ".jpg", "WEBP": ".webp"}
#: Quality the file is stored at (the still mark is checked after it, then after JPEG 75 + 50 % resize).
STORE_QUALITY = 92

metadata = MetaData()
# the items table only as far as the foreign key needs it (its columns are the ORM's, corpus/schema.py)
_items = Table("items", MetaData(), Column("id", Integer, primary_key=True))

#: The artwork table exactly as migration ``_m005_artwork`` creates it (a test compares them).
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


class ArtworkError(GenerecError):
    """Artwork that cannot be stored, found or read (one sentence that says what to do)."""


@dataclass(frozen=True)
class ArtworkRow:
    """One stored artwork: where it is (``path`` relative to the workspace) and what it is."""

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
    audience_label: str | None = None
    params: dict[str, Any] | None = None
    provenance: dict[str, Any] | None = None
    watermark_payload: str | None = None
    created_at: datetime | None = None
    id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able fields (for ``--json`` and the sidecar)."""
        return {"id": self.id, "item_id": self.item_id, "audience_id": self.audience_id,
                "audience_label": self.audience_label, "path": self.path, "sha256": self.sha256,
                "width": self.width, "height": self.height, "format": self.format, "score": self.score,
                "source_time": self.source_time, "generator": self.generator, "params": self.params,
                "watermark_payload": self.watermark_payload,
                "created_at": self.created_at.isoformat(timespec="seconds") if self.created_at else None}


@dataclass(frozen=True)
class StoreResult:
    """Result of :func:`store`: the new row, the one it replaced (None: there was none) and the mark."""

    row: ArtworkRow
    previous: ArtworkRow | None
    psnr: float
    attacked_pilot_z: float
    warnings: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ArtworkCheck:
    """Result of :func:`verify`: the file is there and unchanged, and its mark reads back (clean and
    after JPEG quality 75 + a 50 % resize) with the row's payload."""

    row: ArtworkRow
    present: bool
    hash_ok: bool
    watermark: bool  # the row's payload read back from the file as stored
    after_attack: bool  # ... and after JPEG 75 + 50 % resize
    pilot_z: float = 0.0
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.present and self.hash_ok and self.watermark and self.after_attack


def _row(r: Any) -> ArtworkRow:
    return ArtworkRow(item_id=int(r.item_id), audience_id=str(r.audience_id), path=str(r.path),
                      sha256=str(r.sha256), width=int(r.width), height=int(r.height), format=str(r.format),
                      score=None if r.score is None else float(r.score),
                      source_time=None if r.source_time is None else float(r.source_time),
                      generator=str(r.generator), audience_label=r.audience_label, params=r.params_json,
                      provenance=r.provenance_json, watermark_payload=r.watermark_payload,
                      created_at=r.created_at, id=int(r.id))


# ------------------------------------------------------------------------------------------ reading

def list_artwork(ws: Workspace, item_id: int | None = None, audience_id: str | None = None) -> list[ArtworkRow]:
    """Stored artwork, of one item and/or audience when given, by item then audience."""
    stmt = select(artwork).order_by(artwork.c.item_id, artwork.c.audience_id)
    if item_id is not None:
        stmt = stmt.where(artwork.c.item_id == int(item_id))
    if audience_id is not None:
        stmt = stmt.where(artwork.c.audience_id == str(audience_id))
    with ws.read_session() as s:
        return [_row(r) for r in s.execute(stmt)]


def artwork_for(ws: Workspace, item_id: int, audience_id: str) -> ArtworkRow | None:
    """The artwork stored for (item, audience), or None."""
    rows = list_artwork(ws, item_id, audience_id)
    return rows[0] if rows else None


def artwork_counts(ws: Workspace) -> dict[int, int]:
    """How many audiences have artwork, per item id (for the library)."""
    from sqlalchemy import func

    with ws.read_session() as s:
        return {int(i): int(n) for i, n in s.execute(
            select(artwork.c.item_id, func.count()).group_by(artwork.c.item_id))}


def artwork_path(ws: Workspace, row: ArtworkRow) -> Path:
    """The absolute path of a row's file (refusing one that would leave ``artwork/``)."""
    from generec_desktop.corpus.recovery import contained

    return contained(ws.root, row.path, what="artwork", allowed=(ARTWORK_DIR,))


def read_image(ws: Workspace, row: ArtworkRow) -> np.ndarray:
    """The stored image as uint8 RGB; :class:`ArtworkError` when the file is missing or not a picture."""
    from PIL import Image, UnidentifiedImageError

    path = artwork_path(ws, row)
    try:
        with Image.open(path) as im:
            return np.ascontiguousarray(np.asarray(im.convert("RGB")), dtype=np.uint8)
    except FileNotFoundError:
        raise ArtworkError(f"The artwork file {row.path} is missing; store the audience's thumbnail again "
                           "or run `generec workspace check`.") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise ArtworkError(f"The artwork file {row.path} cannot be read ({exc}); store it again.") from None


# ------------------------------------------------------------------------------------------ storing

def payload_for(ws: Workspace, item_id: int, audience_id: str) -> int:
    """The 32-bit watermark payload of (workspace, item, audience)'s artwork."""
    from generec_desktop.fidelity.watermark import payload_for_version

    return payload_for_version(f"artwork:{item_id}:{audience_id}", workspace_id=str(ws.root.name))


def _encode(image: np.ndarray, fmt: str) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    if fmt == "JPEG":
        Image.fromarray(image).save(buf, format="JPEG", quality=STORE_QUALITY, optimize=True)
    else:
        Image.fromarray(image).save(buf, format="WEBP", quality=STORE_QUALITY, method=4)
    return buf.getvalue()


def _decode(data: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return np.ascontiguousarray(np.asarray(im.convert("RGB")), dtype=np.uint8)


def _check_image(image: Any) -> np.ndarray:
    arr = np.asarray(image) if image is not None else None
    if arr is None or arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
        raise ArtworkError("Artwork must be an RGB picture (H, W, 3) of 8-bit values.")
    return np.ascontiguousarray(arr)


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("generec-desktop")
    except Exception:  # not installed (running from a checkout)
        return "dev"


def store(
    ws: Workspace,
    item_id: int,
    audience_id: str,
    image: np.ndarray,
    *,
    score: float | None = None,
    source_time: float | None = None,
    generator: str = "personalize",
    params: dict[str, Any] | None = None,
    audience_label: str | None = None,
    format: str = "JPEG",
    key: str | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> StoreResult:
    """Store ``image`` (uint8 RGB, full resolution) as the artwork ``audience_id`` sees for ``item_id``
    (see the module docstring); replaces the pair's earlier artwork. A job: progress + cancel (nothing is
    written before the mark has been checked; cancel after that point is not honoured: the write is short).
    """
    from generec_desktop.fidelity import still_mark as sm
    from generec_desktop.fidelity.watermark import WatermarkError

    fmt = str(format).upper().replace("JPG", "JPEG")
    if fmt not in FORMATS:
        raise ArtworkError(f"Artwork is stored as JPEG or WebP, not {format!r}.")
    arr = _check_image(image)
    audience_id = str(audience_id)
    if not audience_id or len(audience_id) > 64:
        raise ArtworkError("Give the audience the artwork is for (an id such as segment:0 or examples:1).")
    info = ws.item(int(item_id))  # CorpusError when there is none
    if audience_label is None:
        from generec_desktop.profiles.service import describe_audience

        audience_label = describe_audience(ws, audience_id)
    report(progress, 0.05, "Marking the artwork")
    payload = payload_for(ws, info.id, audience_id)
    try:
        marked = sm.embed_still(arr, payload, key=key, store_quality=STORE_QUALITY)
    except WatermarkError as exc:
        raise ArtworkError(f"Not stored: {exc}") from None
    check_cancel(cancel)
    report(progress, 0.6, "Checking the mark survives JPEG 75 and a 50 % resize")
    data = _encode(marked.image, fmt)
    stored = _decode(data)
    clean = sm.detect_still(stored, key=key)
    attacked = sm.detect_still(sm.attack(stored), key=key)
    if not (clean.found and clean.payload == payload and attacked.found and attacked.payload == payload):
        raise ArtworkError(
            f"Not stored: the watermark could not be read back from the {arr.shape[1]}×{arr.shape[0]} artwork "
            f"after JPEG quality 75 and a 50 % resize (pilot z {attacked.pilot_z:.1f}); a flat or tiny picture "
            "carries too little detail. Choose another frame.")
    check_cancel(cancel)
    report(progress, 0.75, "Signing the Content Credentials (C2PA)")
    data, credentials = _signed(ws, info, data, fmt, generator=str(generator), params=params or {},
                                audience_id=audience_id, score=score, source_time=source_time, payload=payload)
    sha = hashlib.sha256(data).hexdigest()
    rel = f"{ARTWORK_DIR}/{sha}{FORMATS[fmt]}"
    now = datetime.now(UTC).replace(tzinfo=None)
    provenance = {
        "format": SIDECAR_FORMAT, "tool": f"GeneRec Desktop {_version()}",
        "item": {"id": info.id, "sha256": info.sha256, "external_id": info.external_id, "title": info.title},
        "audience": {"id": audience_id, "label": audience_label},
        "source": {"sha256": info.sha256, "time": source_time},
        "generator": generator, "params": params or {},
        "ai_generated": generator != "personalize",
        "watermark": {"kind": "still-v1", "payload": f"{payload:08x}", "psnr": round(marked.psnr, 2),
                      "checked": "JPEG q75 + 50 % resize"},
        "credentials": credentials,
    }
    row = ArtworkRow(item_id=info.id, audience_id=audience_id, path=rel, sha256=sha,
                     width=int(arr.shape[1]), height=int(arr.shape[0]), format=fmt, score=score,
                     source_time=source_time, generator=str(generator)[:64], audience_label=audience_label,
                     params=params or None, provenance=provenance, watermark_payload=f"{payload:08x}",
                     created_at=now)
    report(progress, 0.8, "Writing the artwork")
    created = _write_file(ws, rel, data)
    side = ws.root / _sidecar_rel(rel)
    had_side = side.is_file()
    try:
        _write_sidecar(ws, row)
        previous = _replace_row(ws, row)
    except BaseException:
        if not had_side:  # ours, just written: the row never committed
            side.unlink(missing_ok=True)
        if created:
            (ws.root / rel).unlink(missing_ok=True)
        raise
    new = artwork_for(ws, info.id, audience_id)
    assert new is not None
    if previous is not None and previous.path != rel:
        _retire_if_unreferenced(ws, previous.path)
    report(progress, 1.0, f"Stored the artwork of item {info.id} for {audience_label}")
    return StoreResult(row=new, previous=previous, psnr=marked.psnr, attacked_pilot_z=attacked.pilot_z)


def _signed(ws: Workspace, info: Any, data: bytes, fmt: str, *, generator: str, params: dict[str, Any],
            audience_id: str, score: float | None, source_time: float | None, payload: int
            ) -> tuple[bytes, dict[str, Any]]:
    """``data`` with embedded, signed C2PA Content Credentials (issue 18: every image that leaves the app):
    the item's video as the ingredient, the audience, the generator and its parameters, the still mark as
    the soft binding. The pixels do not change (the manifest is metadata), so the mark checked above holds.
    A signing failure is an :class:`ArtworkError`: nothing is stored without its credentials."""
    from generec_desktop.fidelity.credentials import CredentialsError, ManifestSpec, audience_ref, sign_file
    from generec_desktop.safefiles import temp_path

    folder = ws.root / ARTWORK_DIR
    folder.mkdir(exist_ok=True)
    plain, signed = temp_path(folder, FORMATS[fmt]), temp_path(folder, FORMATS[fmt])
    edited = generator != "personalize"  # a plain frame keeps the item's kind; a generated one is AI-edited
    spec = ManifestSpec(kind="ai_edited" if edited else str(info.kind), title=f"artwork{FORMATS[fmt]}",
                        operation="thumbnail",
                        params={**params, "source_time": source_time, "score": score, "artwork": True},
                        generator=generator, parent=ws.media_path(info),
                        parent_title=info.title or info.original_name, parent_sha256=info.sha256,
                        target_audience=audience_ref(ws, audience_id), watermark_payload=payload)
    try:
        plain.write_bytes(data)
        res = sign_file(plain, signed, spec)
        out = signed.read_bytes()
    except CredentialsError as exc:
        raise ArtworkError(f"Not stored: its Content Credentials could not be signed ({exc}).") from None
    finally:
        plain.unlink(missing_ok=True)
        signed.unlink(missing_ok=True)
    return out, {"c2pa": True, "signer": res.signer, "identity": res.identity_source,
                 "bytes_added": res.bytes_added, "seconds": round(res.seconds, 3), "ingredient": res.ingredient}


def _write_file(ws: Workspace, rel: str, data: bytes) -> bool:
    """Put ``data`` at ``rel`` (content-addressed: an existing file with the same bytes is kept); True when
    this call created the file."""
    from generec_desktop.safefiles import atomic_write_bytes, file_sha256, fsync_dir

    final = ws.root / rel
    folder = final.parent
    if folder.is_symlink() and not folder.is_dir():
        raise ArtworkError(f"{folder} is a broken link; fix or remove it.")
    folder.mkdir(exist_ok=True)
    if final.is_symlink():
        raise ArtworkError(f"{rel} is a symbolic link; GeneRec does not write through links in the workspace.")
    if final.is_file() and file_sha256(final) == final.name.split(".")[0]:
        return False
    # a crash before the row commits: recovery removes exactly this file (the rename is journaled)
    atomic_write_bytes(final, data, record_final=True)
    fsync_dir(folder)
    return True


def _sidecar_rel(rel: str) -> str:
    return rel + SIDECAR_SUFFIX


def _write_sidecar(ws: Workspace, row: ArtworkRow) -> None:
    from generec_desktop.safefiles import atomic_write_text

    data = {**(row.provenance or {}), "row": row.to_dict()}
    atomic_write_text(ws.root / _sidecar_rel(row.path), json.dumps(data, indent=1, default=str) + "\n")


def _values(row: ArtworkRow) -> dict[str, Any]:
    return {"item_id": row.item_id, "audience_id": row.audience_id, "audience_label": row.audience_label,
            "path": row.path, "sha256": row.sha256, "width": row.width, "height": row.height,
            "format": row.format, "score": row.score, "source_time": row.source_time,
            "generator": row.generator, "params_json": row.params, "provenance_json": row.provenance,
            "watermark_payload": row.watermark_payload,
            "created_at": row.created_at or datetime.now(UTC).replace(tzinfo=None)}


def _replace_row(ws: Workspace, row: ArtworkRow | None, *, item_id: int | None = None,
                 audience_id: str | None = None) -> ArtworkRow | None:
    """Make ``row`` the pair's artwork (None: the pair has none) in one transaction; returns the old row."""
    iid = row.item_id if row is not None else int(item_id)  # type: ignore[arg-type]
    aid = row.audience_id if row is not None else str(audience_id)
    where = (artwork.c.item_id == iid, artwork.c.audience_id == aid)
    with ws.session() as s:
        old = s.execute(select(artwork).where(*where)).first()
        if old is not None:
            s.execute(delete(artwork).where(*where))
        if row is not None:
            s.execute(artwork.insert().values(**_values(row)))
    return _row(old) if old is not None else None


def _referenced(ws: Workspace, rel: str) -> bool:
    with ws.read_session() as s:
        return s.execute(select(artwork.c.id).where(artwork.c.path == rel).limit(1)).first() is not None


def _trash(ws: Workspace) -> Path:
    d = ws.cache_dir / TRASH_DIR
    d.mkdir(parents=True, exist_ok=True)
    return d


def _retire_if_unreferenced(ws: Workspace, rel: str) -> None:
    """Move an artwork file no row references any more (and its sidecar) to the trash, where undo finds it."""
    if _referenced(ws, rel):
        return
    for r in (rel, _sidecar_rel(rel)):
        try:
            src = artwork_path(ws, ArtworkRow(0, "", r, "", 0, 0, "", None, None, ""))
        except GenerecError:
            return
        if src.is_file() and not src.is_symlink():
            os.replace(src, _trash(ws) / src.name)


def _bring_back(ws: Workspace, row: ArtworkRow) -> None:
    """Make ``row``'s file (and sidecar) present again: from the trash when it was retired."""
    from generec_desktop.safefiles import file_sha256

    dest = artwork_path(ws, row)
    if dest.is_file() and file_sha256(dest) == row.sha256:
        if not (ws.root / _sidecar_rel(row.path)).is_file():
            _write_sidecar(ws, row)
        return
    src = ws.cache_dir / TRASH_DIR / dest.name
    if not src.is_file() or file_sha256(src) != row.sha256:
        raise ArtworkError(f"The earlier artwork {row.path} is no longer in the workspace or its trash; "
                           "nothing was changed.")
    dest.parent.mkdir(exist_ok=True)
    os.replace(src, dest)
    side = ws.cache_dir / TRASH_DIR / (dest.name + SIDECAR_SUFFIX)
    if side.is_file():
        os.replace(side, ws.root / _sidecar_rel(row.path))
    else:
        _write_sidecar(ws, row)


def remove(ws: Workspace, item_id: int, audience_id: str) -> ArtworkRow:
    """Remove the pair's artwork; returns the removed row (for undo: :func:`put_back`). The file moves to
    the trash when no other row uses it (never deleted)."""
    old = _replace_row(ws, None, item_id=int(item_id), audience_id=str(audience_id))
    if old is None:
        raise ArtworkError(f"Item {item_id} has no artwork for {audience_id}; list it with `generec artwork`.")
    _retire_if_unreferenced(ws, old.path)
    return old


def put_back(ws: Workspace, item_id: int, audience_id: str, row: ArtworkRow | None) -> ArtworkRow | None:
    """Make ``row`` the pair's artwork again (None: the pair gets none): the undo of :func:`store` and
    :func:`remove`. Returns the row it replaced."""
    if row is not None:
        if (row.item_id, row.audience_id) != (int(item_id), str(audience_id)):
            raise ArtworkError("That artwork belongs to another item or audience.")
        _bring_back(ws, row)
    old = _replace_row(ws, row, item_id=int(item_id), audience_id=str(audience_id))
    if old is not None and (row is None or old.path != row.path):
        _retire_if_unreferenced(ws, old.path)
    return old


def verify(ws: Workspace, row: ArtworkRow, *, key: str | None = None) -> ArtworkCheck:
    """Check a row's file: present, unchanged (sha256), and its mark read back with the row's payload, as
    stored and after JPEG quality 75 + a 50 % resize."""
    from generec_desktop.fidelity import still_mark as sm
    from generec_desktop.safefiles import file_sha256

    try:
        path = artwork_path(ws, row)
    except GenerecError as exc:
        return ArtworkCheck(row, False, False, False, False, problem=str(exc))
    if not path.is_file():
        return ArtworkCheck(row, False, False, False, False, problem=f"{row.path} is missing")
    hash_ok = file_sha256(path) == row.sha256
    try:
        img = read_image(ws, row)
    except ArtworkError as exc:
        return ArtworkCheck(row, True, hash_ok, False, False, problem=str(exc))
    want = int(row.watermark_payload, 16) if row.watermark_payload else None
    clean = sm.detect_still(img, key=key)
    att = sm.detect_still(sm.attack(img), key=key)
    problem = "" if hash_ok else f"{row.path} was changed after it was stored"
    return ArtworkCheck(row, True, hash_ok, clean.found and clean.payload == want,
                        att.found and att.payload == want, pilot_z=clean.pilot_z, problem=problem)


# ------------------------------------------------------------------------------------------ the source frame

def full_resolution_frame(video: Path, timestamp: float | None, shown: np.ndarray) -> np.ndarray:
    """The frame at ``timestamp`` of ``video`` at full resolution, looking like ``shown`` (the smaller
    picture a person chose: a sampled frame, or that frame recoloured by the thumbnail generator).

    The colours of ``shown`` are carried over by a per-channel affine map fitted between the full frame
    shrunk to ``shown``'s size and ``shown`` itself (the generator's palette transfer is per channel);
    when they already agree (a plain frame) the full frame is returned as decoded. ``shown`` itself comes
    back when the video has no frame at that time or its size differs in aspect.
    """
    import cv2

    from generec_desktop import media

    if timestamp is None:
        return shown
    got = media.sample_frames(video, timestamps=[float(timestamp)])
    if not got:
        return shown
    full = got[0].image
    h, w = shown.shape[:2]
    if abs(full.shape[1] / full.shape[0] - w / h) > 0.02 * (w / h) or full.shape[0] < h:
        return shown
    small = cv2.resize(full, (w, h), interpolation=cv2.INTER_AREA).astype(np.float64)
    target = shown.astype(np.float64)
    if float(np.mean(np.abs(small - target))) < 3.0:
        return full
    out = full.astype(np.float64)
    for c in range(3):
        a, b = np.polyfit(small[..., c].ravel(), target[..., c].ravel(), 1)
        out[..., c] = a * out[..., c] + b
    return np.asarray(np.clip(out, 0, 255).round(), np.uint8)
