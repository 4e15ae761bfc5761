"""Use-case functions of the version workflow (see the package docstring)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generec_desktop.jobs import CancelToken, GenerecError, Progress
from generec_desktop.safefiles import temp_path

if TYPE_CHECKING:
    import numpy as np

    from generec_desktop.corpus import Workspace
    from generec_desktop.fidelity.artwork import StoreResult
    from generec_desktop.fidelity.export import PendingVersion

#: Discarded versions wait here (under ``W/cache/``, outside ``pending/`` so listing never sees them).
TRASH_DIR = "pending-trash"

#: ``produce(out_path)`` writes the editor's output and may return parameters learnt on the way.
Producer = Callable[[Path], "dict[str, Any] | None"]


def open_workspace(path: str | os.PathLike[str], *, create: bool = False) -> Workspace:
    """Open (or create) a workspace and finish what a crashed export left (missing sidecars, markers)."""
    from generec_desktop.corpus import Workspace
    from generec_desktop.fidelity.export import recover_exports

    ws = Workspace.create(path) if create else Workspace.open(path)
    if not ws.read_only:
        try:
            recover_exports(ws)
        except BaseException:
            ws.close()
            raise
    return ws


def make_version(ws: Workspace, operation: str, produce: Producer, *, suffix: str = ".mp4",
                 parent_id: int | None = None, params: dict[str, Any] | None = None,
                 target_profile: str | None = None, generator: str | None = None,
                 models: list[dict[str, Any]] | None = None, title: str | None = None,
                 time_offset: float = 0.0, kind: str | None = None) -> PendingVersion:
    """Run ``produce`` into a journaled temporary file inside the workspace, then register the file as a
    pending version (moved, not copied). A failure or cancel leaves no version and no file behind."""
    from generec_desktop.fidelity.export import create_pending

    folder = temp_path(ws.cache_dir)
    folder.mkdir(parents=True)
    try:
        out = folder / f"{operation}{suffix}"
        extra = produce(out) or {}
        return create_pending(ws, out, operation=operation, parent_id=parent_id, kind=kind,
                              params={**(params or {}), **extra}, target_profile=target_profile,
                              generator=generator, models=models, title=title, time_offset=time_offset,
                              move=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def style_version(ws: Workspace, item_id: int, style: str, *, strength: float = 1.0, face_aware: bool = False,
                  start: float = 0.0, end: float | None = None, trim: bool = False,
                  reference_images: Sequence[np.ndarray] | None = None, target_profile: str | None = None,
                  instruction: dict[str, Any] | None = None, progress: Progress | None = None,
                  cancel: CancelToken | None = None) -> PendingVersion:
    """Restyle an item's video into a pending version (the Style tab and ``generec style --version``)."""
    from generec_desktop.editor.styles.stylize import run_style_video

    src = ws.media_path(ws.item(item_id))

    def produce(out: Path) -> dict[str, Any]:
        res = run_style_video(src, out, style, strength=strength, start=start, end=end, trim=trim,
                              face_aware=face_aware, reference_images=reference_images, progress=progress,
                              cancel=cancel)
        extra: dict[str, Any] = {"flicker_ratio": res.flicker_ratio}
        if res.media is not None and res.media.warnings:  # frames that only decoding found damaged
            extra["source_damage"] = list(res.media.warnings)
        return extra

    params: dict[str, Any] = {"style": style, "strength": strength, "face_aware": face_aware,
                              "instruction": instruction}
    if start or end is not None or trim:
        params.update(start=start, end=end, trim=trim)
    who = f" for {_who(ws, target_profile)}" if target_profile else ""
    return make_version(ws, "style", produce, parent_id=item_id, params=params, target_profile=target_profile,
                        time_offset=start if trim else 0.0,
                        title=f"#{item_id} in {style} ({int(strength * 100)} %){who}")


def clip_version(ws: Workspace, item_id: int, start: float, end: float, *, reframe: str | None = None,
                 score: float | None = None, target_profile: str | None = None, label: str | None = None,
                 progress: Progress | None = None, cancel: CancelToken | None = None) -> PendingVersion:
    """Cut a frame-exact clip (with its audio, optionally reframed) into a pending version."""
    from generec_desktop.editor.personalize.clips import export_clip

    if not end > start:
        raise GenerecError(f"A clip needs an end after its start (got {start:.2f}–{end:.2f} s).")
    src = ws.media_path(ws.item(item_id))

    def produce(out: Path) -> dict[str, Any] | None:
        crop: dict[str, object] = {}
        export_clip(src, (start, end), out, reframe=reframe, crop_record=crop, progress=progress, cancel=cancel)
        return {"crop": crop} if crop else None  # the reframe's window: the checks compare the same crop

    who = label or _who(ws, target_profile)
    # a reframed clip's frames start at ``start`` too (transform_video shifts them to 0)
    return make_version(ws, "clip", produce, parent_id=item_id,
                        params={"start": start, "end": end, "reframe": reframe, "score": score},
                        target_profile=target_profile, time_offset=start,
                        title=f"Clip of #{item_id} for {who} ({start:.2f}–{end:.2f} s)")


def thumbnail_version(ws: Workspace, item_id: int, image: np.ndarray, *, timestamp: float | None = None,
                      score: float | None = None, kind: str | None = None, target_profile: str | None = None,
                      label: str | None = None) -> PendingVersion:
    """Save a (personalised or generated) thumbnail as a pending version, a PNG."""
    import numpy as np
    from PIL import Image

    arr = np.asarray(image)
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
        raise GenerecError("A thumbnail must be an RGB image (H, W, 3) of 8-bit values.")
    ws.item(item_id)  # raises if missing

    def produce(out: Path) -> None:
        Image.fromarray(arr).save(out)

    who = label or _who(ws, target_profile)
    return make_version(ws, "thumbnail", produce, suffix=".png", parent_id=item_id,
                        params={"timestamp": timestamp, "score": score, "kind": kind},
                        target_profile=target_profile, title=f"Thumbnail of #{item_id} for {who}")


def use_thumbnail(ws: Workspace, item_id: int, audience_id: str, thumbnail: Any, *, label: str | None = None,
                  encoder_id: str | None = None, fmt: str = "JPEG", key: str | None = None,
                  progress: Progress | None = None, cancel: CancelToken | None = None) -> StoreResult:
    """Store an audience's chosen (``kind`` "selected") or generated thumbnail of ``item_id`` as its artwork
    (``fidelity.artwork.store``): the frame at the thumbnail's time decoded again at full resolution, with a
    palette-generated one's colours carried over (a diffusion-generated one, ``method`` "diffusion", is the
    model's own picture: it is stored as drawn, enlarged to the video's size, since a colour fit onto the
    decoded frame would drop what the model changed); the pair's earlier artwork is replaced (the result's ``previous``
    undoes it with ``fidelity.artwork.put_back``). The window's "Use personalised/generated thumbnail" and
    ``generec personalize --artwork`` call this."""
    import numpy as np

    from generec_desktop.fidelity import artwork as art

    image = getattr(thumbnail, "image", None)
    if image is None:
        raise GenerecError(f"There is no thumbnail of item {item_id} for {label or audience_id} to store.")
    kind = str(getattr(thumbnail, "kind", "selected") or "selected")
    timestamp = getattr(thumbnail, "timestamp", None)
    info = ws.item(int(item_id))
    method = str(getattr(thumbnail, "method", "") or "")
    if method == "diffusion":
        full = _enlarged(np.asarray(image, np.uint8), int(info.width or 0), int(info.height or 0))
    else:
        full = art.full_resolution_frame(ws.media_path(info), timestamp, np.asarray(image, np.uint8))
    params: dict[str, Any] = {"kind": kind, "timestamp": timestamp, "shown_size": [int(image.shape[1]),
                                                                                   int(image.shape[0])]}
    if method:
        params["method"] = method
    if encoder_id:
        params["encoder"] = encoder_id
    generator = "personalize" if kind == "selected" else f"personalize:{kind}"
    return art.store(ws, int(item_id), audience_id, full, score=float(getattr(thumbnail, "score", 0.0)),
                     source_time=None if timestamp is None else float(timestamp), generator=generator,
                     params=params, audience_label=label, format=fmt, key=key, progress=progress, cancel=cancel)


def _enlarged(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """``image`` resized (Lanczos) to ``width`` × ``height`` when that is larger and of the same aspect (2 %),
    else ``image`` as it is."""
    import numpy as np
    from PIL import Image

    h, w = image.shape[:2]
    if width <= w or height <= h or abs(width / height - w / h) > 0.02 * (w / h):
        return image
    return np.asarray(Image.fromarray(image).resize((width, height), Image.Resampling.LANCZOS))


def mcvd_version(ws: Workspace, which: str, audience: str, checkpoint: Path | None, engine: Callable[..., Any], *,
                 item_id: int | None = None, progress: Progress | None = None, cancel: CancelToken | None = None,
                 **kwargs: Any) -> PendingVersion:
    """An MCVD revision (``which="revise"``, of ``item_id``) or creation toward ``audience``, as a pending
    version; ``engine`` is the revise or create function (``mcvd.revise.revise_item`` /
    ``creator.create_video``); ``checkpoint`` None: the engine discovers one."""
    if which not in ("revise", "create"):
        raise GenerecError(f"Unknown MCVD operation {which!r}; use revise or create.")
    if which == "revise" and item_id is None:
        raise GenerecError("A revision needs the item it revises.")
    used: dict[str, Any] = {}

    def produce(out: Path) -> dict[str, Any]:
        if which == "revise":
            r = engine(ws, item_id, audience=audience, out_path=out, checkpoint=checkpoint, progress=progress,
                       cancel=cancel, **kwargs)
        else:
            r = engine(ws, audience=audience, out_path=out, checkpoint=checkpoint, progress=progress,
                       cancel=cancel, **kwargs)
        used["checkpoint"] = Path(getattr(r, "checkpoint", None) or checkpoint or "mcvd")
        return {"checkpoint": used["checkpoint"].name}

    params = {k: v for k, v in kwargs.items() if isinstance(v, int | float | str | bool) or v is None}
    title = (f"MCVD revision of #{item_id} for {_who(ws, audience)}" if which == "revise"
             else f"MCVD creation for {_who(ws, audience)}")
    pv = make_version(ws, which, produce, parent_id=item_id if which == "revise" else None, params=params,
                      target_profile=audience, generator=f"mcvd:{Path(checkpoint).name if checkpoint else 'auto'}",
                      title=title)
    return pv


def _who(ws: Workspace, audience_id: str | None) -> str:
    """What a person calls the audience in a version's title ("Segment 2" for ``segment:1``, "Cyclists")."""
    from generec_desktop.profiles.service import describe_audience

    return describe_audience(ws, audience_id)


def _trash(ws: Workspace) -> Path:
    d = ws.cache_dir / TRASH_DIR
    d.mkdir(parents=True, exist_ok=True)
    return d


def discard_version(ws: Workspace, version_id: str) -> Path:
    """Move a pending version to the trash (``W/cache/pending-trash/<id>``; :func:`restore_version` undoes
    it). An exported version cannot be discarded: it is an item now."""
    from generec_desktop.fidelity.export import VersionError, load_pending

    pv = load_pending(ws, version_id)
    if pv.exported_item_id is not None:
        raise VersionError(f"Version {pv.id} was exported as item {pv.exported_item_id}; it is part of the "
                           "corpus now and is not discarded.")
    dest = _trash(ws) / pv.id
    if dest.exists():
        raise VersionError(f"The trash already holds a version {pv.id}; restore or remove it first.")
    os.replace(pv.folder, dest)
    return dest


def restore_version(ws: Workspace, version_id: str) -> PendingVersion:
    """Bring a discarded version back from the trash."""
    from generec_desktop.fidelity.export import PENDING_DIR, VersionError, load_pending

    src = _trash(ws) / version_id
    if not src.is_dir() or src.is_symlink():
        raise VersionError(f"There is no discarded version {version_id!r} in the trash.")
    dest = ws.root / PENDING_DIR / version_id
    if dest.exists():
        raise VersionError(f"A pending version {version_id} exists already; nothing was restored.")
    dest.parent.mkdir(exist_ok=True)
    os.replace(src, dest)
    return load_pending(ws, version_id)
