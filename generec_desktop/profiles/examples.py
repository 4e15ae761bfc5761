"""Audiences built from examples ("people who like these"): a name and some example items, images or videos.

No platform data is needed: an uploader picks library items, or gives image files, video files or
folders, and names the audience. Its vector is Eq. 1's User_Hist of the examples with equal weights,
``t* = normalise(mean_j f(t_j))``, in the workspace's encoder (:func:`workspace_encoder_id`), where
``f(t_j)`` is

* a library item: its thumbnail embedding, exactly as :func:`profiles.store.thumbnail_embeddings` computes
  it for the users' likes (so an item counts the same whether a user liked it or it is an example);
* an image file: the image (EXIF orientation applied, at most :data:`EMBED_MAX_SIDE` pixels a side, the
  size of a library cover, so a photo and an item's cover are seen at the same scale);
* a video file: its cover, chosen by the same rule as import (:func:`corpus.cover.choose_cover`); a video
  that is already in the library is stored as that item;
* a description in words ("people who like skateboarding", kind ``"text"``): its text embedding
  (:func:`encoders.text.text_vector`), only in an encoder with a text tower (open_clip/SigLIP/MobileCLIP).

With both pictures and words, each side counts half: ``t* = normalise(½ mean(pictures) + ½ mean(words))``
(:func:`audience_vector`), so one description is neither drowned by twenty pictures nor outweighs them.
CLIP's text and image embeddings sit in one space but apart (the "modality gap"), which shifts every
frame's score by about the same amount and so leaves the argmax of Eq. 1 to what the words mean.

One vector is stored per example per encoder (table ``audience_example_vectors``), so an example file
that is later moved or deleted keeps counting. When another encoder is asked for
(:func:`example_profiles`), what is reachable is embedded again and what is not is reported.

Files are only read, never modified; the small covers shown beside an audience are written under
``W/cache/audiences/`` (the app's own files).

Tables: ``audiences``, ``audience_examples``, ``audience_example_vectors`` (migration m004, declared in
:mod:`.store`). Audience ids elsewhere are ``"examples:<audiences.id>"``.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from generec_desktop.jobs import Cancelled, CancelToken, GenerecError, Progress, Steps, check_cancel, report
from generec_desktop.profiles import store
from generec_desktop.profiles.algorithms import user_hist
from generec_desktop.profiles.audience_id import AudienceId
from generec_desktop.profiles.errors import (
    AudienceNameError,
    ExampleFileError,
    ProfilesError,
    UnknownAudienceError,
    UnknownItemError,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from generec_desktop.corpus import ItemInfo, Workspace
    from generec_desktop.encoders.base import Encoder

__all__ = [
    "ID_PREFIX",
    "IMAGE_SUFFIXES",
    "VIDEO_SUFFIXES",
    "AudienceSnapshot",
    "Example",
    "ExampleAudience",
    "ExampleProfile",
    "ExamplesChange",
    "UnknownAudienceError",
    "add_audience",
    "add_examples",
    "audience_vector",
    "check_name",
    "example_cover_paths",
    "example_images",
    "example_profiles",
    "get_audience",
    "list_audiences",
    "parse_audience_id",
    "remove_audience",
    "remove_examples",
    "rename_audience",
    "restore_audience",
    "snapshot_audience",
    "workspace_encoder_id",
]

#: Audience ids of these audiences: ``"examples:<id>"``.
ID_PREFIX = "examples:"
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"})
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".3gp",
                            ".wmv", ".flv", ".ogv"})
#: Images are embedded at most this large a side: the size of a library cover (corpus.cover.COVER_MAX_SIDE).
EMBED_MAX_SIDE = 640
#: Small covers kept for the window's strips and the palettes of generated thumbnails.
SMALL_COVER_SIDE = 256
SMALL_COVER_DIR = "audiences"  # under W/cache/
NAME_MAX_CHARS = 100
DESCRIPTION_MAX_CHARS = 1024
_RESERVED = re.compile(r"^(?:segment\s*(?:#|no\.?|number)?\s*\d+|(?:segment|user|examples)\s*:.*|all|everyone)$",
                       re.IGNORECASE)


# ------------------------------------------------------------------------------------------------ records

@dataclass(frozen=True)
class Example:
    """One example of an audience: a library item (``kind="item"``), an image/video file, or words (``"text"``)."""

    id: int
    kind: str                       # item | image | video | text
    item_id: int | None
    path: str | None                # absolute path of a file example, as given
    sha256: str | None
    added_at: datetime
    label: str                      # the item's title, the file's name, or the description
    encoders: tuple[str, ...] = ()  # encoder ids that hold a vector of it
    description: str | None = None  # the words of a "text" example

    @property
    def reachable(self) -> bool:
        """Whether it can be embedded again (the item is in the library / the file is where it was)."""
        if self.kind == "item":
            return self.item_id is not None
        if self.kind == "text":
            return bool(self.description)
        return bool(self.path) and Path(str(self.path)).is_file()

    def describe(self) -> str:
        """One phrase: ``item #3 "Beach day"`` or the file path."""
        if self.kind == "item":
            return f"item #{self.item_id} ({self.label})" if self.item_id is not None else \
                f"removed item ({self.label})"
        if self.kind == "text":
            return f"the words {self.description!r}"
        return str(self.path or self.label)


@dataclass(frozen=True)
class ExampleAudience:
    """An audience from examples: its name and examples (see the module docstring)."""

    id: int
    name: str
    created_at: datetime
    updated_at: datetime
    examples: tuple[Example, ...] = ()

    @property
    def audience_id(self) -> str:
        return f"{ID_PREFIX}{self.id}"

    @property
    def n_examples(self) -> int:
        return len(self.examples)

    @property
    def item_ids(self) -> tuple[int, ...]:
        return tuple(e.item_id for e in self.examples if e.kind == "item" and e.item_id is not None)

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(str(e.path) for e in self.examples if e.kind in ("image", "video") and e.path)

    @property
    def descriptions(self) -> tuple[str, ...]:
        return tuple(str(e.description) for e in self.examples if e.kind == "text" and e.description)


@dataclass(frozen=True)
class ExampleProfile:
    """An example audience in one encoder's space: User_Hist of the examples that have a vector there."""

    audience: ExampleAudience
    vector: np.ndarray
    used: int                        # examples with a vector in this encoder
    missing: tuple[str, ...] = ()    # examples that could not be embedded in it (and why)


@dataclass(frozen=True)
class AudienceSnapshot:
    """Every row of one audience (for undo: :func:`restore_audience` puts exactly these back)."""

    audience: dict[str, Any]
    examples: tuple[dict[str, Any], ...]
    vectors: tuple[dict[str, Any], ...]


@dataclass
class ExamplesChange:
    """What an edit did: the audience after it, what was added, removed or skipped, and undo snapshots."""

    audience: ExampleAudience
    encoder_id: str | None = None
    added: list[Example] = field(default_factory=list)
    removed: list[Example] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)   # "example (why)"
    before: AudienceSnapshot | None = None
    after: AudienceSnapshot | None = None
    seconds: float = 0.0


# ------------------------------------------------------------------------------------------------ helpers

def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def parse_audience_id(audience_id: str) -> int | None:
    """``"examples:3"`` -> 3; anything else -> None (:meth:`AudienceId.parse` reads it)."""
    aid = AudienceId.parse(audience_id)
    return aid.number if aid is not None and aid.kind == "examples" else None


def _clean_name(name: Any) -> str:
    return " ".join(str(name if name is not None else "").split())


def _valid_name(name: Any) -> str:
    text = _clean_name(name)
    if not text:
        raise AudienceNameError("Give the audience a name, e.g. --name Cyclists.")
    if len(text) > NAME_MAX_CHARS:
        raise AudienceNameError(f"An audience name has at most {NAME_MAX_CHARS} characters; "
                                f"'{text[:30]}…' has {len(text)}.")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise AudienceNameError("An audience name cannot hold control characters; type a plain name.")
    if _RESERVED.match(text):
        raise AudienceNameError(f"'{text}' is reserved (segments are called 'Segment N', ids look like "
                                "'user:4'); choose another name.")
    return text


def _check_free(s: Session, text: str, exclude_id: int | None) -> None:
    from sqlalchemy import select

    for r in s.execute(select(store.audiences.c.id, store.audiences.c.name)).all():
        if r.id != exclude_id and _clean_name(r.name).casefold() == text.casefold():
            raise AudienceNameError(f"There is already an audience named '{r.name}'; choose another name, or add "
                                    "examples to it.")


def check_name(ws: Workspace, name: Any, *, exclude_id: int | None = None) -> str:
    """The name, tidied (runs of white space as one space); :class:`AudienceNameError` when it is empty,
    too long, reserved ("Segment 2" names a segment, "user:4" looks like an id) or taken by another
    audience (compared without case)."""
    text = _valid_name(name)
    with ws.session() as s:
        _check_free(s, text, exclude_id)
    return text


def workspace_encoder_id(ws: Workspace) -> str | None:
    """The encoder the workspace's audiences live in: that of the most recently built profiles; else the
    one most examples have a vector in (newest first on a tie); None when there is neither."""
    from sqlalchemy import func, select

    pu, v = store.profile_users, store.audience_example_vectors
    with ws.session() as s:
        enc = s.execute(select(pu.c.encoder_id).group_by(pu.c.encoder_id)
                        .order_by(func.max(pu.c.updated_at).desc()).limit(1)).scalar()
        if enc is None:
            enc = s.execute(select(v.c.encoder_id).group_by(v.c.encoder_id)
                            .order_by(func.count().desc(), func.max(v.c.example_id).desc()).limit(1)).scalar()
    return None if enc is None else str(enc)


def _resolve_encoder(ws: Workspace, encoder: Any) -> Encoder:
    if encoder is not None and not isinstance(encoder, str):
        return encoder  # type: ignore[no-any-return]
    name = encoder or workspace_encoder_id(ws) or "builtin"
    return store.get_encoder(name, ws)


def _item_label(item: Any) -> str:
    return str(getattr(item, "title", None) or getattr(item, "original_name", None) or f"item {item.id}")


def _load(s: Session, audience_ids: Sequence[int] | None = None) -> list[ExampleAudience]:
    from sqlalchemy import select

    from generec_desktop.corpus.schema import Item

    a, e, v = store.audiences, store.audience_examples, store.audience_example_vectors
    q = select(a).order_by(a.c.id)
    if audience_ids is not None:
        q = q.where(a.c.id.in_(list(audience_ids)))
    arows = s.execute(q).all()
    if not arows:
        return []
    ids = [r.id for r in arows]
    erows = s.execute(select(e).where(e.c.audience_id.in_(ids)).order_by(e.c.id)).all()
    encs: dict[int, list[str]] = {}
    if erows:
        for ex_id, enc in s.execute(select(v.c.example_id, v.c.encoder_id)
                                    .where(v.c.example_id.in_([r.id for r in erows]))):
            encs.setdefault(int(ex_id), []).append(str(enc))
    item_ids = {r.item_id for r in erows if r.item_id is not None}
    titles: dict[int, str] = {}
    if item_ids:
        for iid, title, orig in s.execute(select(Item.id, Item.title, Item.original_name)
                                          .where(Item.id.in_(item_ids))):
            titles[int(iid)] = str(title or orig or f"item {iid}")
    by_aud: dict[int, list[Example]] = {}
    for r in erows:
        if r.kind == "item":
            label = titles.get(r.item_id, "removed from the library") if r.item_id is not None else \
                "removed from the library"
        elif r.kind == "text":
            label = f"“{r.description}”"
        else:
            label = Path(str(r.path or "")).name or str(r.sha256 or "")[:12]
        by_aud.setdefault(int(r.audience_id), []).append(Example(
            int(r.id), str(r.kind), None if r.item_id is None else int(r.item_id), r.path, r.sha256,
            r.added_at, label, tuple(sorted(encs.get(int(r.id), ()))), r.description))
    return [ExampleAudience(int(r.id), str(r.name), r.created_at, r.updated_at, tuple(by_aud.get(int(r.id), ())))
            for r in arows]


def list_audiences(ws: Workspace) -> list[ExampleAudience]:
    """Every audience built from examples, oldest first, with its examples."""
    with ws.session() as s:
        return _load(s)


def get_audience(ws: Workspace, audience: ExampleAudience | int | str) -> ExampleAudience:
    """One audience by :class:`ExampleAudience`, id (``3`` / ``"examples:3"``) or name (without case)."""
    if isinstance(audience, ExampleAudience):
        audience = audience.id
    with ws.session() as s:
        if isinstance(audience, int):
            found = _load(s, [audience])
            if found:
                return found[0]
        else:
            text = _clean_name(audience)
            num = parse_audience_id(text)
            if num is not None:
                found = _load(s, [num])
                if found:
                    return found[0]
            else:
                every = _load(s)
                for aud in every:
                    if aud.name.casefold() == text.casefold():
                        return aud
                if text.isdigit():
                    for aud in every:
                        if aud.id == int(text):
                            return aud
        names = [a.name for a in _load(s)]
    known = f" (there are: {', '.join(names[:8])}{' …' if len(names) > 8 else ''})" if names else \
        " (there are none yet; make one with `generec audiences add`)"
    raise UnknownAudienceError(f"There is no audience from examples called {audience!r}{known}.")


# ------------------------------------------------------------------------------------------------ collect

@dataclass
class _Candidate:
    kind: str                      # item | image | video | text
    given: str                     # how the user named it (for messages)
    item: ItemInfo | None = None
    path: Path | None = None
    sha256: str | None = None
    label: str = ""


def _walk(folder: Path, skipped: list[str]) -> list[Path]:
    """Files under ``folder`` (recursively, not following links to folders), hidden ones left out."""
    out: list[Path] = []
    for dirpath, dirs, names in os.walk(folder, followlinks=False):
        hidden = sorted(d for d in dirs if d.startswith("."))
        for d in hidden:
            skipped.append(f"{Path(dirpath) / d} (hidden folder)")
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out.extend(Path(dirpath) / n for n in sorted(names))
    return out


def _classify(path: Path, skipped: list[str]) -> str | None:
    if path.name.startswith("."):
        skipped.append(f"{path} (hidden file)")
        return None
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return "image"
    if suffix in VIDEO_SUFFIXES:
        return "video"
    skipped.append(f"{path} (not an image or video GeneRec reads)")
    return None


def _collect(ws: Workspace, refs: Iterable[Any], skipped: list[str]) -> list[_Candidate]:
    """Library items and files named by ``refs`` (item ids, external ids, ItemInfo, files, folders)."""
    items: dict[int, ItemInfo] | None = None
    by_ext: dict[str, ItemInfo] = {}

    def library() -> dict[int, ItemInfo]:
        nonlocal items
        if items is None:
            items = {it.id: it for it in ws.items()}
            by_ext.update({str(it.external_id): it for it in items.values() if it.external_id})
        return items

    out: list[_Candidate] = []
    for ref in refs:
        if hasattr(ref, "sha256") and hasattr(ref, "id") and not isinstance(ref, str | os.PathLike):
            ref = int(ref.id)
        if isinstance(ref, bool):
            raise UnknownItemError(f"Cannot use {ref!r} as an example; give an item id or a file.")
        if isinstance(ref, int | np.integer):
            it = library().get(int(ref))
            if it is None:
                raise UnknownItemError(f"There is no item {int(ref)} in this workspace; list them with "
                                       "`generec items`.")
            out.append(_Candidate("item", f"item #{it.id}", item=it, label=_item_label(it)))
            continue
        text = os.fspath(ref) if isinstance(ref, os.PathLike) else str(ref)
        path = Path(text).expanduser()
        if text and path.exists():
            files = _walk(path, skipped) if path.is_dir() else [path]
            for f in files:
                kind = _classify(f, skipped)
                if kind is not None:
                    out.append(_Candidate(kind, str(f), path=f.resolve(), label=f.name))
            continue
        if not isinstance(ref, os.PathLike):
            if text.strip().isdigit():
                it = library().get(int(text.strip()))
                if it is None:
                    raise UnknownItemError(f"There is no item {text.strip()} in this workspace (and no file of "
                                           "that name); list the items with `generec items`.")
                out.append(_Candidate("item", f"item #{it.id}", item=it, label=_item_label(it)))
                continue
            library()
            it = by_ext.get(text.strip())
            if it is not None:
                out.append(_Candidate("item", f"item {text.strip()}", item=it, label=_item_label(it)))
                continue
        raise UnknownItemError(f"'{text}' is neither a file or folder nor an item of this workspace; give image "
                               "or video files, folders, or item ids from `generec items`.")
    return out


# ------------------------------------------------------------------------------------------------ embedding

def _read_image(path: Path) -> np.ndarray:
    """An image file as RGB (EXIF orientation applied), at most EMBED_MAX_SIDE a side."""
    from PIL import Image, ImageOps

    with Image.open(path) as src:
        src.draft("RGB", (EMBED_MAX_SIDE, EMBED_MAX_SIDE))  # JPEG: decode at a reduced size, much faster
        rgb = ImageOps.exif_transpose(src).convert("RGB")
        rgb.thumbnail((EMBED_MAX_SIDE, EMBED_MAX_SIDE), Image.Resampling.LANCZOS)
        return np.asarray(rgb)


def _read_video_cover(path: Path) -> np.ndarray:
    from generec_desktop.corpus.cover import choose_cover
    from generec_desktop.media import probe

    info = probe(path)
    return choose_cover(path, info.duration, info.has_cover)


def _unreadable_reason(exc: BaseException, kind: str) -> str:
    if isinstance(exc, GenerecError):
        text = str(exc).split("; ")[0].rstrip(".")
        return text[:160] or f"cannot be read as {'an image' if kind == 'image' else 'a video'}"
    return f"cannot be read as {'an image' if kind == 'image' else 'a video'}"


def _embed(ws: Workspace, enc: Encoder, cands: list[_Candidate], progress: Progress | None,
           cancel: CancelToken | None) -> list[tuple[np.ndarray | None, Any, str | None]]:
    """For each candidate, in order: ``(f(t_j), picture of a file example or None, None)`` or
    ``(None, None, why it cannot be read)``."""
    out: list[tuple[np.ndarray | None, Any, str | None]] = [(None, None, "not embedded")] * len(cands)
    item_k = [k for k, c in enumerate(cands) if c.kind == "item"]
    total = max(1, len(cands))
    done = 0
    if item_k:
        try:
            vecs = store.thumbnail_embeddings(ws, enc, [cands[k].item for k in item_k],  # type: ignore[misc]
                                              cancel=cancel)
            for j, k in enumerate(item_k):
                out[k] = (vecs[j], None, None)
        except Cancelled:
            raise
        except (GenerecError, OSError, ValueError):  # find which item fails; the others still count
            for k in item_k:
                check_cancel(cancel)
                try:
                    vec = store.thumbnail_embeddings(ws, enc, [cands[k].item], cancel=cancel)[0]  # type: ignore[list-item]
                    out[k] = (vec, None, None)
                except Cancelled:
                    raise
                except (GenerecError, OSError, ValueError) as exc:
                    out[k] = (None, None, f"its thumbnail cannot be read ({_unreadable_reason(exc, 'video')})")
        done += len(item_k)
        report(progress, done / total, f"Embedded {done} of {len(cands)} examples")
    batch: list[tuple[int, np.ndarray]] = []

    def flush() -> None:
        if batch:
            vecs = enc.encode_images([pic for _, pic in batch])
            for j, (k, pic) in enumerate(batch):
                out[k] = (np.asarray(vecs[j], np.float32), pic, None)
            batch.clear()

    for k, c in enumerate(cands):
        if c.kind == "item":
            continue
        check_cancel(cancel)
        what = "an image" if c.kind == "image" else "a video"
        try:
            pic = _read_image(c.path) if c.kind == "image" else _read_video_cover(c.path)  # type: ignore[arg-type]
        except Cancelled:
            raise
        except GenerecError as exc:
            out[k] = (None, None, _unreadable_reason(exc, c.kind))
            pic = None
        except (OSError, ValueError, SyntaxError):  # PIL raises SyntaxError on some damaged files
            out[k] = (None, None, f"cannot be read as {what}")
            pic = None
        except Exception as exc:  # e.g. a decompression bomb: one bad file must not stop the rest
            out[k] = (None, None, f"cannot be read as {what} ({type(exc).__name__})")
            pic = None
        if pic is not None:
            batch.append((k, pic))
            if len(batch) >= 16:
                flush()
        done += 1
        report(progress, done / total, f"Embedded {done} of {len(cands)} examples")
    flush()
    return out


def _small_cover_path(ws: Workspace, sha256: str) -> Path:
    return Path(ws.cache_dir) / SMALL_COVER_DIR / f"{sha256}.jpg"


def _write_small_cover(ws: Workspace, sha256: str, picture: np.ndarray) -> None:
    """A small JPEG of a file example (for the window's strip); best effort, never blocks an edit."""
    from PIL import Image

    from generec_desktop.corpus.cover import write_jpeg

    dest = _small_cover_path(ws, sha256)
    if dest.is_file():
        return
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        im = Image.fromarray(picture)
        im.thumbnail((SMALL_COVER_SIDE, SMALL_COVER_SIDE), Image.Resampling.LANCZOS)
        write_jpeg(np.asarray(im), dest, quality=85)
    except OSError:
        pass


# ------------------------------------------------------------------------------------------------ snapshots

def _snapshot(s: Session, audience_id: int) -> AudienceSnapshot | None:
    from sqlalchemy import select

    a, e, v = store.audiences, store.audience_examples, store.audience_example_vectors
    row = s.execute(select(a).where(a.c.id == audience_id)).first()
    if row is None:
        return None
    ex = [dict(r._mapping) for r in s.execute(select(e).where(e.c.audience_id == audience_id).order_by(e.c.id))]
    vec = [dict(r._mapping) for r in s.execute(select(v).where(v.c.example_id.in_([x["id"] for x in ex])))] \
        if ex else []
    return AudienceSnapshot(dict(row._mapping), tuple(ex), tuple(vec))


def snapshot_audience(ws: Workspace, audience: ExampleAudience | int | str) -> AudienceSnapshot:
    """Every row of the audience, to put back later with :func:`restore_audience` (undo)."""
    aud = get_audience(ws, audience)
    with ws.session() as s:
        snap = _snapshot(s, aud.id)
    if snap is None:
        raise UnknownAudienceError(f"The audience {aud.name!r} was just removed.")
    return snap


def restore_audience(ws: Workspace, snapshot: AudienceSnapshot) -> ExampleAudience:
    """Put an audience back exactly as ``snapshot`` holds it (same id, name, examples and vectors).

    Refused (nothing changes) when its id now belongs to another audience or another audience took its name.
    """
    from sqlalchemy import delete, insert, select

    from generec_desktop.corpus.schema import Item

    a, e, v = store.audiences, store.audience_examples, store.audience_example_vectors
    aid = int(snapshot.audience["id"])
    with ws.session() as s:
        row = s.execute(select(a).where(a.c.id == aid)).first()
        if row is not None and row.created_at != snapshot.audience["created_at"]:
            raise ProfilesError(f"Cannot restore the audience {snapshot.audience['name']!r}: another audience "
                                "now has its id.")
        name = _clean_name(snapshot.audience["name"]).casefold()
        for other in s.execute(select(a.c.id, a.c.name).where(a.c.id != aid)):
            if _clean_name(other.name).casefold() == name:
                raise AudienceNameError(f"Cannot restore the audience {snapshot.audience['name']!r}: another "
                                        "audience has that name now; rename it first.")
        old_ex = [r.id for r in s.execute(select(e.c.id).where(e.c.audience_id == aid))]
        if old_ex:
            s.execute(delete(v).where(v.c.example_id.in_(old_ex)))
            s.execute(delete(e).where(e.c.audience_id == aid))
        s.execute(delete(a).where(a.c.id == aid))
        s.execute(insert(a).values(**snapshot.audience))
        wanted = {x["item_id"] for x in snapshot.examples if x.get("item_id") is not None}
        present = {int(i) for i in s.scalars(select(Item.id).where(Item.id.in_(wanted)))} if wanted else set()
        for x in snapshot.examples:
            values = {k: val for k, val in x.items() if k != "id"}
            if values.get("item_id") is not None and int(values["item_id"]) not in present:
                values["item_id"] = None  # the item left the library meanwhile; its vectors still count
            new_id = _insert_id(s, insert(e).values(**values))
            vecs = [{**vv, "example_id": new_id} for vv in snapshot.vectors if vv["example_id"] == x["id"]]
            if vecs:
                s.execute(insert(v), vecs)
    return get_audience(ws, aid)


def _insert_id(s: Session, stmt: Any) -> int:
    """Run an INSERT and return the new row's primary key."""
    from sqlalchemy import CursorResult

    result = s.execute(stmt)
    key = result.inserted_primary_key if isinstance(result, CursorResult) else None
    if not key:
        raise ProfilesError("The database did not report the new row's id; try again.")
    return int(key[0])


def _delete(ws: Workspace, audience_id: int) -> None:
    from sqlalchemy import delete, select

    a, e, v = store.audiences, store.audience_examples, store.audience_example_vectors
    with ws.session() as s:
        ex = [r.id for r in s.execute(select(e.c.id).where(e.c.audience_id == audience_id))]
        if ex:
            s.execute(delete(v).where(v.c.example_id.in_(ex)))
            s.execute(delete(e).where(e.c.audience_id == audience_id))
        s.execute(delete(a).where(a.c.id == audience_id))


# ------------------------------------------------------------------------------------------------ edits

def _clean_descriptions(text: str | Sequence[str] | None) -> list[str]:
    texts = [text] if isinstance(text, str) else list(text or ())
    out: list[str] = []
    for t in texts:
        clean = " ".join(str(t).split())
        if not clean:
            continue
        if len(clean) > DESCRIPTION_MAX_CHARS:
            raise ProfilesError(f"A description has at most {DESCRIPTION_MAX_CHARS} characters "
                                f"(this one has {len(clean)}).")
        if clean.casefold() not in {o.casefold() for o in out}:
            out.append(clean)
    return out


def _embed_descriptions(enc: Encoder, texts: list[str], existing: ExampleAudience | None, skipped: list[str]
                        ) -> list[tuple[_Candidate, np.ndarray, Any]]:
    """The descriptions as text examples, embedded with ``enc``'s text tower (an encoder without one is a
    one-line :class:`ProfilesError` saying how to get one; nothing is written then)."""
    from generec_desktop.encoders.base import EncoderError
    from generec_desktop.encoders.text import text_vector

    have = {d.casefold() for d in existing.descriptions} if existing else set()
    out: list[tuple[_Candidate, np.ndarray, Any]] = []
    for t in texts:
        if t.casefold() in have:
            skipped.append(f"{t!r} (already describes it)")
            continue
        try:
            vec = text_vector(enc, t)
        except EncoderError as exc:
            raise ProfilesError(f"Cannot use the description {t!r}: {exc}") from None
        out.append((_Candidate("text", t, label=t), np.asarray(vec, np.float32), None))
    return out


def _prepare(ws: Workspace, examples: Iterable[Any] | str | os.PathLike[str] | int | None, enc: Encoder,
             existing: ExampleAudience | None, progress: Progress | None, cancel: CancelToken | None,
             text: str | Sequence[str] | None = None,
             ) -> tuple[list[tuple[_Candidate, np.ndarray, Any]], list[str]]:
    """Collect, de-duplicate and embed the examples and descriptions; ``ExampleFileError`` when none is usable."""
    from generec_desktop.safefiles import file_sha256

    skipped: list[str] = []
    steps = Steps(progress, {"collect": 1, "embed": 8})
    refs = [] if examples is None else \
        [examples] if isinstance(examples, str | os.PathLike | int) else list(examples)
    texts = _clean_descriptions(text)
    if not refs and not texts:
        raise ExampleFileError("Give at least one example: library items, image or video files, a folder, "
                               "or a description in words (with an encoder that has a text tower).")
    described = _embed_descriptions(enc, texts, existing, skipped) if texts else []
    if not refs:
        if not described:
            raise ExampleFileError("Nothing new to add: " + "; ".join(skipped) + ".")
        return described, skipped
    cands = _collect(ws, refs, skipped)
    problems: list[tuple[str, str]] = []
    by_sha: dict[str, ItemInfo] = {}
    seen_items = {ex.item_id for ex in existing.examples if ex.item_id is not None} if existing else set()
    seen_sha = {str(ex.sha256) for ex in existing.examples if ex.sha256} if existing else set()
    unique: list[_Candidate] = []
    for k, c in enumerate(cands):
        check_cancel(cancel)
        if c.kind != "item":
            try:
                c.sha256 = file_sha256(c.path)  # type: ignore[arg-type]
            except OSError:
                problems.append((c.given, "cannot be read"))
                continue
            if c.kind == "video":
                if not by_sha:
                    by_sha.update({it.sha256: it for it in ws.items()})
                it = by_sha.get(c.sha256)
                if it is not None:  # already in the library: the item is the example (its cover, its id)
                    c.kind, c.item, c.label = "item", it, _item_label(it)
        if c.kind == "item":
            assert c.item is not None
            if c.item.id in seen_items:
                skipped.append(f"{c.given} (already an example)")
                continue
            seen_items.add(c.item.id)
        else:
            if len(str(c.path)) > 1024:
                problems.append((c.given, "its path is longer than 1,024 characters"))
                continue
            if c.sha256 in seen_sha:
                skipped.append(f"{c.given} (the same picture is already an example)")
                continue
            seen_sha.add(str(c.sha256))
        unique.append(c)
        report(steps["collect"], (k + 1) / max(1, len(cands)), f"Found {len(unique)} examples")
    results = _embed(ws, enc, unique, steps["embed"], cancel) if unique else []
    embedded: list[tuple[_Candidate, np.ndarray, Any]] = []
    for c, (vec, pic, why) in zip(unique, results):
        if vec is None:
            problems.append((c.given, why or "cannot be read"))
        else:
            embedded.append((c, vec, pic))
    skipped = [f"{g} ({why})" for g, why in problems] + skipped
    embedded = described + embedded
    if not embedded:
        shown = "; ".join(skipped[:6]) + (" …" if len(skipped) > 6 else "")
        raise ExampleFileError(
            "None of the examples can be used, so nothing was written" + (f": {shown}." if shown else ".")
            + " Give images, videos, a folder of them, or library items.",
            problems + [(s, "") for s in skipped[len(problems):]])
    return embedded, skipped


def _insert_examples(s: Session, audience_id: int, enc: Encoder,
                     embedded: list[tuple[_Candidate, np.ndarray, Any]], now: datetime) -> None:
    from sqlalchemy import insert

    e, v = store.audience_examples, store.audience_example_vectors
    for c, vec, _pic in embedded:
        ex_id = _insert_id(s, insert(e).values(
            audience_id=audience_id, kind=c.kind, item_id=c.item.id if c.item is not None else None,
            path=str(c.path) if c.kind in ("image", "video") else None,
            sha256=c.sha256 if c.kind != "item" else (c.item.sha256 if c.item is not None else None),
            added_at=now, description=c.label if c.kind == "text" else None))
        s.execute(insert(v).values(example_id=ex_id, encoder_id=enc.id, dim=int(enc.dim),
                                   vector=store.to_blob(np.asarray(vec, np.float32))))


def _finish(ws: Workspace, embedded: list[tuple[_Candidate, np.ndarray, Any]]) -> None:
    for c, _vec, pic in embedded:
        if pic is not None and c.sha256:
            _write_small_cover(ws, c.sha256, pic)


def add_audience(
    ws: Workspace,
    name: str,
    examples: Iterable[Any] | str | os.PathLike[str] | int | None = None,
    *,
    text: str | Sequence[str] | None = None,
    encoder: Any = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> ExamplesChange:
    """A new audience ``name`` from ``examples`` (item ids / external ids / ItemInfo, image or video files,
    folders searched recursively). Hidden and unsupported files are skipped and reported in
    ``ExamplesChange.skipped``; unreadable ones too, unless none is usable: then
    :class:`ExampleFileError` names them and nothing is written. ``text``: descriptions in words ("people
    who like skateboarding"), with or without examples; they need an encoder with a text tower.
    ``encoder``: a name, an Encoder, or None for the workspace's (:func:`workspace_encoder_id`, else the
    built-in one)."""
    from sqlalchemy import insert

    t0 = time.perf_counter()
    clean = check_name(ws, name)
    enc = _resolve_encoder(ws, encoder)
    embedded, skipped = _prepare(ws, examples, enc, None, progress, cancel, text)
    check_cancel(cancel)
    now = _now()
    with ws.session() as s:
        _check_free(s, clean, None)  # again, in the writing transaction: another process may have taken it
        aid = _insert_id(s, insert(store.audiences).values(name=clean, created_at=now, updated_at=now))
        _insert_examples(s, aid, enc, embedded, now)
        after = _snapshot(s, aid)
    _finish(ws, embedded)
    aud = get_audience(ws, aid)
    report(progress, 1.0, f"Audience {clean!r} from {aud.n_examples} examples")
    return ExamplesChange(aud, enc.id, list(aud.examples), [], skipped, None, after,
                          round(time.perf_counter() - t0, 3))


def add_examples(
    ws: Workspace,
    audience: ExampleAudience | int | str,
    examples: Iterable[Any] | str | os.PathLike[str] | int | None = None,
    *,
    text: str | Sequence[str] | None = None,
    encoder: Any = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> ExamplesChange:
    """More examples or descriptions for an audience (same rules as :func:`add_audience`; ones it has
    already are skipped)."""
    from sqlalchemy import update

    t0 = time.perf_counter()
    aud = get_audience(ws, audience)
    enc = _resolve_encoder(ws, encoder)
    embedded, skipped = _prepare(ws, examples, enc, aud, progress, cancel, text)
    check_cancel(cancel)
    now = _now()
    with ws.session() as s:
        before = _snapshot(s, aud.id)
        if before is None:
            raise UnknownAudienceError(f"The audience {aud.name!r} was removed meanwhile; nothing was added.")
        _insert_examples(s, aud.id, enc, embedded, now)
        s.execute(update(store.audiences).where(store.audiences.c.id == aud.id).values(updated_at=now))
        after = _snapshot(s, aud.id)
    _finish(ws, embedded)
    new = get_audience(ws, aud.id)
    old_ids = {ex.id for ex in aud.examples}
    return ExamplesChange(new, enc.id, [ex for ex in new.examples if ex.id not in old_ids], [], skipped, before,
                          after, round(time.perf_counter() - t0, 3))


def _matches(ex: Example, ref: Any, ws: Workspace) -> bool:
    if isinstance(ref, Example):
        return ex.id == ref.id
    if hasattr(ref, "sha256") and hasattr(ref, "id") and not isinstance(ref, str | os.PathLike):
        ref = int(ref.id)
    if isinstance(ref, int | np.integer) and not isinstance(ref, bool):
        return ex.kind == "item" and ex.item_id == int(ref)
    text = os.fspath(ref) if isinstance(ref, os.PathLike) else str(ref).strip()
    if ex.kind == "text":
        return " ".join(text.split()).casefold() == str(ex.description or "").casefold()
    if ex.kind == "item":
        if text.isdigit():
            return ex.item_id == int(text)
        return False
    if not ex.path:
        return False
    p = Path(text).expanduser()
    try:
        same = Path(str(ex.path)) == p.resolve() or Path(str(ex.path)) == p
    except OSError:
        same = False
    return same or (ex.path is not None and Path(str(ex.path)).name == text and os.sep not in text)


def remove_examples(ws: Workspace, audience: ExampleAudience | int | str, examples: Iterable[Any]) -> ExamplesChange:
    """Take examples out of an audience: item ids / external ids, file paths (or a file's name, when only
    one example has it), or :class:`Example` s. An audience keeps at least one example."""
    from sqlalchemy import delete, update

    aud = get_audience(ws, audience)
    refs = [examples] if isinstance(examples, str | os.PathLike | int) else list(examples)
    ext_to_id: dict[str, int] = {}
    drop: dict[int, Example] = {}
    for ref in refs:
        hits = [ex for ex in aud.examples if _matches(ex, ref, ws)]
        if not hits and isinstance(ref, str) and not ref.strip().isdigit():
            if not ext_to_id:
                ext_to_id = {str(it.external_id): it.id for it in ws.items() if it.external_id}
            iid = ext_to_id.get(ref.strip())
            hits = [ex for ex in aud.examples if iid is not None and ex.item_id == iid]
        names = {ex.path for ex in hits}
        if len(hits) > 1 and len(names) > 1 and all(Path(str(n or "")).name == str(ref) for n in names):
            raise ProfilesError(f"Several examples of {aud.name!r} are called {ref!r}; give the full path.")
        if not hits:
            raise UnknownItemError(f"{ref!r} is not an example of {aud.name!r}; list them with "
                                   f"`generec audiences list W`.")
        drop.update({ex.id: ex for ex in hits})
    if len(drop) >= aud.n_examples:
        raise ProfilesError(f"An audience needs at least one example; to drop every example of {aud.name!r}, "
                            "remove the audience.")
    e, v = store.audience_examples, store.audience_example_vectors
    with ws.session() as s:
        before = _snapshot(s, aud.id)
        s.execute(delete(v).where(v.c.example_id.in_(list(drop))))
        s.execute(delete(e).where(e.c.id.in_(list(drop))))
        s.execute(update(store.audiences).where(store.audiences.c.id == aud.id).values(updated_at=_now()))
        after = _snapshot(s, aud.id)
    return ExamplesChange(get_audience(ws, aud.id), None, [], list(drop.values()), [], before, after)


def rename_audience(ws: Workspace, audience: ExampleAudience | int | str, new_name: str) -> ExamplesChange:
    """Give an audience another name (its id, examples and vectors stay)."""
    from sqlalchemy import update

    aud = get_audience(ws, audience)
    clean = _valid_name(new_name)
    with ws.session() as s:
        _check_free(s, clean, aud.id)
        before = _snapshot(s, aud.id)
        s.execute(update(store.audiences).where(store.audiences.c.id == aud.id)
                  .values(name=clean, updated_at=_now()))
        after = _snapshot(s, aud.id)
    return ExamplesChange(get_audience(ws, aud.id), None, before=before, after=after)


def remove_audience(ws: Workspace, audience: ExampleAudience | int | str) -> ExamplesChange:
    """Delete an audience with its examples and vectors (the example files are never touched);
    ``before`` holds everything, so :func:`restore_audience` can bring it back."""
    aud = get_audience(ws, audience)
    with ws.session() as s:
        before = _snapshot(s, aud.id)
    _delete(ws, aud.id)
    return ExamplesChange(aud, None, removed=list(aud.examples), before=before, after=None)


# ------------------------------------------------------------------------------------------------ reading

def _reembed(ws: Workspace, enc: Encoder, todo: list[Example], cancel: CancelToken | None
             ) -> tuple[dict[int, np.ndarray], list[tuple[Example, str]]]:
    """Vectors in ``enc`` of the examples still reachable (by example id); the others with why."""
    from generec_desktop.safefiles import file_sha256

    items = {it.id: it for it in ws.items()}
    by_sha = {it.sha256: it for it in items.values()}
    pairs: list[tuple[Example, _Candidate]] = []
    lost: list[tuple[Example, str]] = []
    texts: dict[int, np.ndarray] = {}
    for ex in todo:
        if ex.kind == "text":
            from generec_desktop.encoders.text import text_vector

            tv = text_vector(enc, str(ex.description or ""), required=False) if ex.description else None
            if tv is None:
                lost.append((ex, f"{enc.id} has no text tower to read words"))
            else:
                texts[ex.id] = np.asarray(tv, np.float32)
            continue
        if ex.kind == "item":
            it = items.get(ex.item_id) if ex.item_id is not None else None
            if it is None:
                lost.append((ex, "it is no longer in the library"))
            else:
                pairs.append((ex, _Candidate("item", ex.describe(), item=it, label=ex.label)))
            continue
        p = Path(str(ex.path or ""))
        in_library = by_sha.get(str(ex.sha256)) if ex.kind == "video" and ex.sha256 else None
        if ex.path and p.is_file():
            try:
                same = file_sha256(p) == ex.sha256
            except OSError:
                same = False
            if same:
                pairs.append((ex, _Candidate(ex.kind, str(p), path=p, sha256=ex.sha256, label=ex.label)))
                continue
        if in_library is not None:  # the video was imported into the library meanwhile: its item stands in
            pairs.append((ex, _Candidate("item", str(p), item=in_library, label=ex.label)))
            continue
        lost.append((ex, "the file changed since it was added" if ex.path and p.is_file()
                     else "the file was moved or deleted"))
    results = _embed(ws, enc, [c for _, c in pairs], None, cancel) if pairs else []
    vectors: dict[int, np.ndarray] = dict(texts)
    for (ex, _c), (vec, _pic, why) in zip(pairs, results):
        if vec is None:
            lost.append((ex, why or "cannot be read"))
        else:
            vectors[ex.id] = np.asarray(vec, np.float32)
    return vectors, lost


def example_profiles(ws: Workspace, encoder_id: str, *, cancel: CancelToken | None = None
                     ) -> tuple[list[ExampleProfile], list[str]]:
    """Every example audience in ``encoder_id``'s space, and notes for a person.

    Examples without a vector in that encoder are embedded now when reachable (and the vectors stored,
    unless the workspace is read-only); the rest are named in the notes and left out of the mean. An
    audience with no usable example is left out (and noted).
    """
    from sqlalchemy import insert, select

    auds = list_audiences(ws)
    if not auds:
        return [], []
    v = store.audience_example_vectors
    ids = [ex.id for a in auds for ex in a.examples]
    with ws.session() as s:
        rows = s.execute(select(v).where(v.c.encoder_id == encoder_id, v.c.example_id.in_(ids))).all() if ids else []
    vec = {int(r.example_id): store.from_blob(r.vector, r.dim) for r in rows}
    todo = [ex for a in auds for ex in a.examples if ex.id not in vec]
    notes: list[str] = []
    lost: dict[int, str] = {}
    if todo:
        try:
            enc = store.get_encoder(encoder_id, ws)
            if enc.id != encoder_id:
                raise ProfilesError(f"the encoder found is {enc.id}")
            new, gone = _reembed(ws, enc, todo, cancel)
        except Cancelled:
            raise
        except GenerecError as exc:
            new, gone = {}, [(ex, f"the encoder cannot be loaded: {exc}") for ex in todo]
        lost = {ex.id: why for ex, why in gone}
        if new and not getattr(ws, "read_only", False):
            try:
                with ws.session() as s:
                    s.execute(insert(v), [{"example_id": k, "encoder_id": encoder_id, "dim": int(x.shape[0]),
                                           "vector": store.to_blob(x)} for k, x in new.items()])
            except Exception:  # a failed cache write (read-only, locked) must not stop reading
                pass
        vec.update(new)
    out: list[ExampleProfile] = []
    for a in auds:
        have = [vec[ex.id] for ex in a.examples if ex.id in vec]
        missing = tuple(f"{ex.describe()} ({lost.get(ex.id, 'no vector')})" for ex in a.examples if ex.id not in vec)
        if missing:
            notes.append(f"{a.name}: {len(missing)} of {a.n_examples} examples could not be embedded with "
                         f"{encoder_id}: " + "; ".join(missing[:3]) + (" …" if len(missing) > 3 else ""))
        if not have:
            notes.append(f"{a.name} is left out: none of its examples has a vector in {encoder_id}.")
            continue
        kinds = [ex.kind for ex in a.examples if ex.id in vec]
        out.append(ExampleProfile(a, audience_vector(have, kinds), len(have), missing))
    return out, notes


def audience_vector(vectors: Sequence[np.ndarray], kinds: Sequence[str]) -> np.ndarray:
    """An audience's unit vector from its examples' vectors (``kinds``: each one's kind): User_Hist (Eq. 1)
    of the pictures, of the descriptions, and — with both — their halves (see the module docstring)."""
    stack = np.stack([np.asarray(x, np.float32).ravel() for x in vectors]).astype(np.float32)
    words = np.asarray([k == "text" for k in kinds], bool)
    if len(words) != len(stack):
        raise ProfilesError("Give one kind per vector.")

    def hist(rows: np.ndarray) -> np.ndarray:
        out: np.ndarray = user_hist(np.zeros(len(rows), np.int64), np.arange(len(rows)), rows, 1)[0]
        return out

    if words.all() or not words.any():
        return hist(stack)
    from generec_desktop.encoders.text import combine

    return combine([hist(stack[~words]), hist(stack[words])], [0.5, 0.5])


def example_cover_paths(ws: Workspace, audience: ExampleAudience, limit: int = 4, *,
                        files_only: bool = False) -> list[Path]:
    """Up to ``limit`` pictures of the audience's examples that exist on disk (item covers, the small
    covers kept for files, else an image file itself), in the order the examples were added;
    ``files_only``: only those of image and video examples."""
    out: list[Path] = []
    for ex in audience.examples:
        if len(out) >= limit:
            break
        if files_only and ex.kind == "item":
            continue
        p: Path | None = None
        if ex.kind == "item" and ex.item_id is not None:
            try:
                p = ws.cover_path(ws.item(ex.item_id))
            except GenerecError:
                p = None
        elif ex.sha256:
            p = _small_cover_path(ws, ex.sha256)
            if not p.is_file() and ex.kind == "image" and ex.path:
                p = Path(str(ex.path))
        if p is not None and p.is_file():
            out.append(p)
    return out


def example_images(ws: Workspace, audience: ExampleAudience, limit: int = 12) -> list[np.ndarray]:
    """The pictures of :func:`example_cover_paths` as RGB arrays (unreadable ones left out)."""
    from PIL import Image

    out: list[np.ndarray] = []
    for p in example_cover_paths(ws, audience, limit):
        try:
            with Image.open(p) as im:
                im.draft("RGB", (SMALL_COVER_SIDE, SMALL_COVER_SIDE))
                out.append(np.asarray(im.convert("RGB")))
        except (OSError, ValueError, SyntaxError):
            continue
    return out
