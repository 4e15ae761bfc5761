"""A per-audience upload package (issue 16 part 6): one folder with what to upload for one audience.

:func:`package` chooses the audience's clip of an item (Eq. 2 window, ``editor.personalize.pipeline``), renders it
with a preset (:func:`~generec_desktop.versions.render.render`: watermark and provenance kept), adds the
image to show that audience (its stored artwork, else the personalised thumbnail frame as a JPEG) and a
``summary.json`` (item, audience, clip times, scores, preset, every file with its sha256, provenance).

The folder is built under a journaled temporary name beside the target and renamed into place at the
end: it appears whole or not at all, and an existing folder is never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generec_desktop.jobs import CancelToken, Progress, Steps, check_cancel, report
from generec_desktop.versions.render import RenderError, RenderResult, get_preset, render

if TYPE_CHECKING:
    import numpy as np

    from generec_desktop.corpus import ItemInfo, Workspace
    from generec_desktop.versions.render import Fit, Preset

__all__ = ["PackageResult", "package"]

CLIP_NAME = "clip.mp4"
SUMMARY_NAME = "summary.json"


@dataclass(frozen=True)
class PackageResult:
    """Result of :func:`package`."""

    folder: Path
    item_id: int
    audience_id: str
    audience_label: str
    clip_start: float
    clip_end: float
    render: RenderResult
    image: Path
    image_kind: str  # "artwork" (stored for this audience) or "thumbnail" (the personalised frame)
    summary: dict[str, Any]
    seconds: float = 0.0
    warnings: tuple[str, ...] = field(default_factory=tuple)


def _encoder_for(ws: Workspace, encoder: str | None) -> str:
    """The encoder of the workspace's profiles (the audiences' space), else the built-in one."""
    if encoder:
        return encoder
    from generec_desktop.jobs import GenerecError
    from generec_desktop.profiles import load_profiles

    try:
        return str(load_profiles(ws).encoder_id)
    except GenerecError:
        return "builtin"


def package(
    ws: Workspace,
    item: int | str | ItemInfo,
    audience: Any,
    out_dir: str | os.PathLike[str],
    *,
    preset: str | Preset = "vertical",
    fit: Fit = "crop",
    encoder: str | None = None,
    key: str | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> PackageResult:
    """Build ``out_dir`` (a new folder) holding ``audience``'s clip of ``item`` rendered with ``preset``, the
    image to show that audience and ``summary.json`` (see the module docstring). ``audience``: an id such
    as ``"segment:0"`` or anything ``editor.personalize.pipeline`` accepts."""
    from generec_desktop.editor.personalize.pipeline import personalize, resolve_item
    from generec_desktop.safefiles import atomic_write_text, file_sha256, fsync_dir, temp_path

    t0 = time.perf_counter()
    p = get_preset(preset)
    info = resolve_item(ws, item)
    out = Path(out_dir)
    if out.exists() or out.is_symlink():
        raise RenderError(f"{out} exists already; give a new folder name (a package is never written into an "
                          "existing folder).")
    if not out.parent.is_dir():
        raise RenderError(f"Cannot create {out}: the folder {out.parent} does not exist.")
    for managed in ("media", "versions", "covers", "pending"):
        if out.resolve().is_relative_to((ws.root / managed).resolve()):
            raise RenderError(f"Cannot write into the workspace's {managed}/ folder; choose a folder of your own.")
    steps = Steps(progress, {"choose": 3.0, "render": 6.0, "image": 0.5})
    res = personalize(ws, info, [audience], thumbnails=True, clips=True, generate=False,
                      encoder=_encoder_for(ws, encoder), progress=steps["choose"], cancel=cancel)
    chosen = res.audiences[0]
    if chosen.clip is None or chosen.thumbnail is None:
        raise RenderError(f"No clip or thumbnail could be chosen from item {info.id} for {chosen.label or audience}.")
    clip = chosen.clip
    check_cancel(cancel)
    tmp = temp_path(out.parent)
    tmp.mkdir()
    warnings: list[str] = []
    try:
        rendered = render(ws, info, p, tmp / CLIP_NAME, fit=fit, trim=True, start=clip.start, end=clip.end,
                          key=key, audience=chosen.audience_id, progress=steps["render"], cancel=cancel)
        warnings += rendered.warnings
        if rendered.trimmed:
            warnings.append(f"the clip was trimmed to {p.name}'s {p.max_seconds:g} s")
        check_cancel(cancel)
        image, image_kind, image_meta = _image(ws, info, chosen.audience_id, chosen.thumbnail, p, rendered, tmp,
                                               key, warnings)
        report(steps["image"], 1.0, "Image ready")
        files = []
        for f in sorted(tmp.iterdir()):
            if f.is_file() and not f.name.startswith("."):
                files.append({"name": f.name, "sha256": file_sha256(f), "size": f.stat().st_size,
                              "role": _role(f.name, image.name)})
        summary: dict[str, Any] = {
            "format": "generec-upload-package/1",
            "item": {"id": info.id, "external_id": info.external_id, "title": info.title, "sha256": info.sha256,
                     "kind": info.kind},
            "audience": {"id": chosen.audience_id, "label": chosen.label},
            "clip": {"start": clip.start, "end": clip.end, "duration": clip.duration, "score": clip.score,
                     "window": clip.window, "snapped": [clip.snapped_start, clip.snapped_end],
                     "rendered": {"start": rendered.start, "end": rendered.end, "duration": rendered.duration,
                                  "frames": rendered.frames, "fps": rendered.fps}},
            "scores": {"clip_eq2": clip.score, "thumbnail_eq1": chosen.thumbnail.score,
                       "thumbnail_time": chosen.thumbnail.timestamp, "encoder": res.encoder_id,
                       "candidates": [{"time": c.timestamp, "score": c.score, "source": c.source}
                                      for c in chosen.candidates]},
            "preset": p.to_dict(),
            "image": {"file": image.name, "kind": image_kind, **image_meta},
            "files": files,
            "provenance": {"sidecar": rendered.sidecar.name, "watermark_payload": f"{rendered.payload:08x}",
                           "manifest": rendered.manifest},
            "warnings": warnings,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        atomic_write_text(tmp / SUMMARY_NAME, json.dumps(summary, indent=1, default=_plain) + "\n")
        check_cancel(cancel)
        if out.exists() or out.is_symlink():
            raise RenderError(f"{out} appeared while the package was built; nothing was replaced.")
        os.rename(tmp, out)
        fsync_dir(out.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # our own temporary folder, nothing else
        raise
    report(progress, 1.0, f"Packaged item {info.id} for {chosen.label or chosen.audience_id}")
    moved = replace(rendered, path=out / CLIP_NAME, sidecar=out / rendered.sidecar.name)
    return PackageResult(folder=out, item_id=info.id, audience_id=chosen.audience_id, audience_label=chosen.label,
                         clip_start=clip.start, clip_end=clip.end, render=moved, image=out / image.name,
                         image_kind=image_kind, summary=summary, seconds=time.perf_counter() - t0,
                         warnings=tuple(warnings))


def _plain(value: Any) -> Any:
    """JSON for what ``json`` does not know: numpy scalars and arrays, paths."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _role(name: str, image: str) -> str:
    if name == CLIP_NAME:
        return "video"
    if name == image:
        return "image"
    if name.endswith(".provenance.json"):
        return "provenance"
    return "other"


def _image(ws: Workspace, item: ItemInfo, audience_id: str, thumbnail: Any, p: Preset, rendered: RenderResult,
           folder: Path, key: str | None, warnings: list[str]) -> tuple[Path, str, dict[str, Any]]:
    """The audience's stored artwork (``fidelity.artwork``) copied into ``folder``, else its personalised frame
    as a JPEG carrying the still-image watermark with the clip's payload."""
    from generec_desktop.fidelity import artwork as art
    from generec_desktop.jobs import GenerecError
    from generec_desktop.safefiles import atomic_path, file_sha256

    row = art.artwork_for(ws, item.id, audience_id)
    if row is not None:
        try:
            src = art.artwork_path(ws, row)
            if not src.is_file():
                raise GenerecError(f"the artwork file {row.path} is missing")
            if file_sha256(src) != row.sha256:
                raise GenerecError(f"the artwork file {row.path} no longer matches its catalogue hash")
            dest = folder / f"artwork{src.suffix.lower() or '.' + row.format.lower()}"
            with atomic_path(dest) as tmp:
                shutil.copyfile(src, tmp)
            return dest, "artwork", {"width": row.width, "height": row.height, "format": row.format,
                                     "score": row.score, "source_time": row.source_time,
                                     "generator": row.generator, "stored_path": row.path, "sha256": row.sha256,
                                     "watermark_payload": row.watermark_payload}
        except GenerecError as exc:
            warnings.append(f"stored artwork not used ({exc}); the personalised frame is used instead")
    frame = _thumbnail_frame(ws, item, thumbnail, rendered)
    from generec_desktop.fidelity import still_mark as sm

    mark = "still-v1"
    if sm.too_small(frame.shape[1], frame.shape[0]):
        from generec_desktop.fidelity import watermark as wm

        marked, mark = wm.embed_image(frame, rendered.payload, key=key), "video-v1"
        warnings.append(f"the {frame.shape[1]}×{frame.shape[0]} thumbnail is below what the still-image watermark "
                        "needs (480×270); it carries the video mark, which may not survive recompression")
    else:
        marked = sm.embed_still(frame, rendered.payload, key=key).image
    from PIL import Image

    from generec_desktop.fidelity.credentials import ManifestSpec, audience_ref, sign_file
    from generec_desktop.safefiles import temp_path

    dest = folder / "thumbnail.jpg"
    # the cover is uploaded too: signed Content Credentials (a frame of the item, chosen for the audience)
    spec = ManifestSpec(kind=item.kind, title=dest.name, operation="thumbnail",
                        params={"source_time": thumbnail.timestamp, "score": thumbnail.score},
                        generator="personalize (Eq. 1 frame)", parent=ws.media_path(item),
                        parent_title=item.title or item.original_name, parent_sha256=item.sha256,
                        target_audience=audience_ref(ws, audience_id), watermark_payload=rendered.payload)
    with atomic_path(dest) as tmp:
        Image.fromarray(marked).save(tmp, format="JPEG", quality=92)
        signed = temp_path(folder, ".jpg")
        try:
            sign_file(tmp, signed, spec)
            os.replace(signed, tmp)
        finally:
            signed.unlink(missing_ok=True)
    return dest, "thumbnail", {"width": int(frame.shape[1]), "height": int(frame.shape[0]), "format": "JPEG",
                               "score": thumbnail.score, "source_time": thumbnail.timestamp,
                               "generator": "personalize (Eq. 1 frame)", "watermark_payload": f"{rendered.payload:08x}",
                               "watermark": mark}


def _thumbnail_frame(ws: Workspace, item: ItemInfo, thumbnail: Any, rendered: RenderResult) -> np.ndarray:
    """The chosen frame at full resolution, reframed to the rendered clip's aspect and size."""
    import cv2

    from generec_desktop import media
    from generec_desktop.editor.personalize.reframe import crop_to

    image = thumbnail.image
    if thumbnail.timestamp is not None:
        got = media.sample_frames(ws.media_path(item), timestamps=[float(thumbnail.timestamp)])
        if got:
            image = got[0].image
    h, w = image.shape[:2]
    aspect = rendered.width / rendered.height
    if abs(w / h - aspect) > 0.01 * aspect:
        image = crop_to(image, aspect)
    shrink = rendered.width <= image.shape[1]
    import numpy as np

    return np.asarray(cv2.resize(image, (rendered.width, rendered.height),
                      interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC), np.uint8)
