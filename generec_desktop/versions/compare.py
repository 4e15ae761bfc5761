"""What a version is compared with, and what a person calls it (issue 17 part 4).

:func:`compare_pair` gives a pending version's original and the time that maps one onto the other (a
clip starts ``offset`` seconds into its original; a style or a revision runs on the original's clock); a
creation has no original, so it is shown beside the video its audience likes most (when the profiles name
one). :func:`result_title` is the sentence a finished job announces ("Revision of Demo 006 for Segment 2").
The window's compare player and ``generec compare`` both call these.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from generec_desktop.corpus import Workspace
from generec_desktop.jobs import CancelToken, GenerecError, Progress, check_cancel

#: What each operation's result is called (a fix keeps its base operation's name after "Fixed").
NOUNS = {"clip": "Clip", "style": "Style", "revise": "Revision", "create": "Creation", "thumbnail": "Thumbnail",
         "reframe": "Reframe"}


SHAPES = {"9:16": "vertical 9:16", "1:1": "square 1:1", "16:9": "wide 16:9"}


@dataclass(frozen=True)
class ComparePair:
    """A version and what it is compared with; ``original`` time = version time + ``offset``."""

    version_id: str
    version: Path
    original: Path | None
    offset: float
    title: str  # "Clip of Demo 006 for Segment 2"
    original_label: str  # "Original: Demo 006" / "Segment 2 likes: Demo 003"
    version_label: str  # "Clip 00:03.200–00:08.000"
    note: str = ""  # why the original is not the version's source, when it is not
    crop: dict[str, Any] | None = None  # a reframe's window on the original (``params.crop``), to draw on it

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["version"], d["original"] = str(self.version), str(self.original) if self.original else None
        return d


def item_name(item: Any) -> str:
    """A video's short name: its title up to a colon ("Demo 006" of "Demo 006: coffee, rocket"), else its
    file name."""
    title = str(getattr(item, "title", "") or getattr(item, "original_name", "") or f"#{item.id}")
    head = title.split(": ", 1)[0].strip()
    return head or title


def _pending(ws: Workspace, version: Any) -> Any:
    from generec_desktop.fidelity.export import load_pending

    return version if hasattr(version, "media") and hasattr(version, "operation") else load_pending(ws, version)


def result_title(ws: Workspace, version: Any) -> str:
    """What a finished job made, in words: "Revision of Demo 006 for Segment 2", "Noir style of Demo 006",
    "Creation for Cyclists", "Clip of Demo 003 for Segment 1 (vertical 9:16)"."""
    from generec_desktop.profiles.service import describe_audience

    pv = _pending(ws, version)
    params = pv.params or {}
    op = str(params.get("base_operation") or pv.operation)
    noun = NOUNS.get(op, op.replace("_", " ").capitalize())
    if op == "style" and params.get("style"):
        noun = f"{str(params['style']).replace('_', ' ').capitalize()} style"
    if pv.operation != op:
        noun = f"Fixed {noun[0].lower()}{noun[1:]}"
    text = noun
    if pv.parent_id is not None:
        try:
            text += f" of {item_name(ws.item(int(pv.parent_id)))}"
        except Exception:  # the item is gone: say which it was
            text += f" of item #{pv.parent_id}"
    if pv.target_profile and pv.target_profile != "all":
        text += f" for {describe_audience(ws, pv.target_profile)}"
    if op == "clip" and params.get("reframe"):
        shape = str(params["reframe"])
        text += f" ({SHAPES.get(shape, shape)})"
    return text


def crop_box(crop: dict[str, Any], t_original: float) -> tuple[float, float, float, float]:
    """A recorded reframe window at original time ``t_original``: (x, y, w, h) in fractions of the frame,
    placed as the checks place it (``fidelity.intended``)."""
    import numpy as np

    sw, sh = (float(v) for v in crop["size"])
    times = np.asarray(crop.get("times") or [0.0], np.float64)
    centres = np.asarray(crop.get("centres") or [[0.5, 0.5]], np.float64)
    cx = float(np.interp(t_original, times, centres[:, 0]))
    cy = float(np.interp(t_original, times, centres[:, 1]))
    return (float(np.clip(cx - sw / 2, 0.0, 1.0 - sw)), float(np.clip(cy - sh / 2, 0.0, 1.0 - sh)), sw, sh)


def _span(start: float, end: float) -> str:
    return f"{start:.2f}–{end:.2f} s"


def _liked_reference(ws: Workspace, audience_id: str | None) -> Any:
    """The video an audience likes most (the first of its liked items), or None."""
    if not audience_id:
        return None
    try:
        from generec_desktop.editor.personalize.pipeline import _liked_items
        from generec_desktop.profiles import load_profiles

        profiles = load_profiles(ws)
        ids = _liked_items(ws, profiles.audience(audience_id), profiles)
        for item_id in ids:
            item = ws.item(int(item_id))
            if item.kind == "human":
                return item
    except Exception:  # no profiles, an unknown audience: nothing to put beside it
        return None
    return None


def compare_pair(ws: Workspace, version: Any) -> ComparePair:
    """A pending version (id, path or PendingVersion) and what to compare it with."""
    pv = _pending(ws, version)
    params = pv.params or {}
    title = result_title(ws, pv)
    offset = float(getattr(pv, "time_offset", 0.0) or 0.0)
    op = str(params.get("base_operation") or pv.operation)
    if op == "clip" and "start" in params:
        offset = float(params["start"])
    version_label = title.split(" of ")[0].split(" for ")[0]
    if op == "clip" and "start" in params and params.get("end") is not None:
        version_label += " " + _span(float(params["start"]), float(params["end"]))
    if pv.parent_id is not None:
        try:
            item = ws.item(int(pv.parent_id))
            crop = params.get("crop") if isinstance(params.get("crop"), dict) else None
            return ComparePair(pv.id, pv.media, ws.media_path(item), offset, title,
                               f"Original: {item_name(item)}", version_label, crop=crop)
        except Exception:
            return ComparePair(pv.id, pv.media, None, 0.0, title, "Original", version_label,
                               f"Its original (item #{pv.parent_id}) is no longer in the workspace.")
    from generec_desktop.profiles.service import describe_audience

    who = describe_audience(ws, pv.target_profile)
    ref = _liked_reference(ws, pv.target_profile)
    if ref is None:
        return ComparePair(pv.id, pv.media, None, 0.0, title, "No original", version_label,
                           f"A creation has no original, and no video that {who} likes is known to show beside it.")
    return ComparePair(pv.id, pv.media, ws.media_path(ref), 0.0, title, f"{who} likes: {item_name(ref)}",
                       version_label, f"A creation has no original: beside it, a video {who} likes.")


def render_side_by_side(pair: ComparePair, out: Path, *, height: int = 360, progress: Progress | None = None,
                        cancel: CancelToken | None = None) -> Path:
    """The compare player as a file: original | version side by side at ``height`` px, on the version's
    timeline and with its sound (``generec compare --out``). Written to a temporary name and renamed."""
    import contextlib

    import cv2
    import numpy as np

    from generec_desktop import media

    out = Path(out)
    if out.exists():
        raise GenerecError(f"{out} already exists; choose another file name.")
    if out.suffix.lower() not in (".mp4", ".mov", ".mkv"):
        raise GenerecError(f"Write the comparison to an .mp4, .mov or .mkv file, not {out.name}.")
    info = media.probe(pair.version)
    height -= height % 2

    def fit(img: np.ndarray) -> np.ndarray:
        w = max(2, round(img.shape[1] * height / img.shape[0]))
        return cv2.resize(img, (w - w % 2, height), interpolation=cv2.INTER_AREA)

    originals: Iterator[Any] = (media.iter_frames(pair.original, start=pair.offset) if pair.original is not None
                                else iter(()))
    current: Any = None
    upcoming = next(originals, None)
    total = max(1, info.frame_count)
    audio = media.AudioSource(pair.version) if info.has_audio else None
    with contextlib.ExitStack() as stack:
        if hasattr(originals, "close"):
            stack.callback(originals.close)  # a generator left early: its decoder is closed
        writer = stack.enter_context(media.VideoWriter(out, info.fps or 25.0, audio_from=audio, odd="pad"))
        for k, frame in enumerate(media.iter_frames(pair.version)):
            check_cancel(cancel)
            t = frame.timestamp + pair.offset
            while upcoming is not None and upcoming.timestamp <= t + 1e-6:
                current, upcoming = upcoming, next(originals, None)
            right = fit(frame.image)
            left = fit(current.image) if current is not None else np.zeros_like(right)
            writer.write(np.hstack([left, np.full((height, 8, 3), 16, np.uint8), right]), frame.timestamp)
            if progress is not None:
                progress(min(1.0, (k + 1) / total), "side by side")
    return out
