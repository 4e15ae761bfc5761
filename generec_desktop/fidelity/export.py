"""Pending versions and their atomic export into the item corpus (issue 8 parts 4–5).

A **version** is what an editor operation (style, clip, revise, create, thumbnail) produced and the
uploader has not exported yet: a folder ``W/pending/<id>/`` holding ``media<ext>`` (the output file)
and ``version.json`` (operation, parameters, parent item, target audience, models). It lives outside
``versions/`` on purpose: the corpus treats every file there without a row as a crash orphan.

:func:`run_export` turns a version into a new item (``ai_edited`` with a parent, else ``ai_created``):
checks (cached from :func:`check_version` when the media is unchanged) → **one re-encode** with the
watermark on every frame and the provenance tags in the container → verify (frame count, decodes,
watermark payload, AI label) → signed C2PA Content Credentials (``fidelity/credentials.py``, into a second
temp file) → fsync → rename → commit (``Workspace.add_version``) → sidecar. A crash
at any moment leaves the whole version or nothing; failing checks block the export unless an override
reason is given, which is recorded in the item's fidelity report and the manifest.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generec_desktop.fidelity.checks import AI_LABEL_TAG, CheckContext, authorship, run_checks
from generec_desktop.fidelity.provenance import (
    MANIFEST_FORMAT,
    SIDECAR_SUFFIX,
    manifest_tags,
    write_sidecar,
)
from generec_desktop.fidelity.report import FidelityReport
from generec_desktop.jobs import CancelToken, GenerecError, Progress, Steps, check_cancel, report

if TYPE_CHECKING:
    from generec_desktop.corpus import ItemInfo, Workspace
    from generec_desktop.fidelity.credentials import SigningIdentity, SignResult
    from generec_desktop.fidelity.ranking import RankPreview

__all__ = [
    "OPERATIONS",
    "ExportBlocked",
    "ExportResult",
    "PendingVersion",
    "VersionError",
    "blur_version",
    "check_item",
    "check_version",
    "create_pending",
    "external_id_for",
    "list_pending",
    "load_pending",
    "recover_exports",
    "restore_faces_version",
    "run_export",
    "set_version_licence",
]

OPERATIONS = ("style", "clip", "revise", "create", "thumbnail", "blur", "edit", "restore_faces")
PENDING_DIR = "pending"
PROVENANCE_DIR = "provenance"
_TMP = ".tmp-"
#: Watermark strength of an export (luma levels): the watermark module's video default (1.75), which reads
#: back after CRF 23-28 on bigbuckbunny and bikes (pilot z 7.8-19) and keeps the size growth at CRF 28 under
#: 15 %. Content where it does not read back gets one retry at twice the strength (recorded in the manifest).
EXPORT_STRENGTH = 1.75
#: Bumped when the checks change what they judge: a report cached by an older version is run again.
CHECKS_VERSION = 2


class VersionError(GenerecError):
    """A pending version is missing, malformed or already exported."""


class ExportBlocked(GenerecError):
    """Failing fidelity checks block the export (give an override reason to export anyway)."""

    def __init__(self, report: FidelityReport) -> None:
        self.report = report
        super().__init__(f"The checks {', '.join(report.failed)} failed; fix the version or export with "
                         "--override-reason TEXT (the reason is recorded).")


@dataclass(frozen=True)
class PendingVersion:
    """An editor output waiting for export (see the module docstring)."""

    id: str
    folder: Path
    media: Path
    operation: str
    kind: str
    parent_id: int | None
    params: dict[str, Any] = field(default_factory=dict)
    target_profile: str | None = None
    generator: str | None = None
    models: list[dict[str, Any]] = field(default_factory=list)
    title: str | None = None
    time_offset: float = 0.0
    uploader: str | None = None
    created_at: str = ""
    licence: str | None = None  # declared by the uploader where the source has none (legal check's fix)
    author: str | None = None

    @property
    def exported_item_id(self) -> int | None:
        """The item this version became, when the export recorded it."""
        marker = self.folder / "exported.json"
        try:
            return int(json.loads(marker.read_text(encoding="utf-8"))["item_id"])
        except (OSError, ValueError, KeyError, TypeError):
            return None


@dataclass(frozen=True)
class ExportResult:
    """Result of :func:`run_export`."""

    item: ItemInfo
    version_id: str
    manifest: dict[str, Any]
    report: FidelityReport
    sidecar: Path
    overridden: bool
    payload: int
    rank: list[RankPreview]
    seconds: float
    timings: dict[str, float]
    credentials: dict[str, Any] | None = None  # what signing the Content Credentials did (bytes, time, signer)


def external_id_for(version_id: str) -> str:
    """The corpus ``external_id`` of an exported version (unique: a version is exported at most once)."""
    return f"generec-version:{version_id}"


# ------------------------------------------------------------------------------------ pending versions


def _pending_root(ws: Workspace) -> Path:
    d = ws.root / PENDING_DIR
    d.mkdir(exist_ok=True)
    return d


def create_pending(
    ws: Workspace,
    media_file: str | Path,
    *,
    operation: str,
    parent_id: int | None = None,
    kind: str | None = None,
    params: dict[str, Any] | None = None,
    target_profile: str | None = None,
    generator: str | None = None,
    models: list[dict[str, Any]] | None = None,
    title: str | None = None,
    time_offset: float = 0.0,
    uploader: str | None = None,
    move: bool = False,
) -> PendingVersion:
    """Register an editor output as a pending version (copied, or moved with ``move``); atomic.

    ``models``: ``[{"id": encoder/model id, "weights_sha256": ...}]``. ``time_offset``: the version's
    time t shows the parent's time ``t + time_offset`` (a clip). ``kind`` defaults to ``ai_edited``
    with a parent, else ``ai_created``.
    """
    src = Path(media_file)
    if not src.is_file():
        raise VersionError(f"{src} does not exist or is not a file; give the editor's output file.")
    if operation not in OPERATIONS:
        raise VersionError(f"Unknown operation {operation!r}; use one of {', '.join(OPERATIONS)}.")
    kind = kind or ("ai_edited" if parent_id is not None else "ai_created")
    if kind not in ("ai_edited", "ai_created"):
        raise VersionError("A version's kind is ai_edited or ai_created.")
    if kind == "ai_edited" and parent_id is None:
        raise VersionError("An ai_edited version needs the parent item it edits.")
    if parent_id is not None:
        parent = ws.item(parent_id)
        uploader = uploader or parent.owner
    from generec_desktop.safefiles import temp_path

    vid = uuid.uuid4().hex[:12]
    root = _pending_root(ws)
    tmp = temp_path(root)  # journaled: a crash leaves nothing that recovery does not know is ours
    tmp.mkdir()
    try:
        media = tmp / ("media" + (src.suffix.lower() or ".mp4"))
        if move:
            shutil.move(src, media)
        else:
            shutil.copyfile(src, media)
        meta = {"id": vid, "operation": operation, "kind": kind, "parent_id": parent_id, "params": params or {},
                "target_profile": target_profile, "generator": generator, "models": models or [], "title": title,
                "time_offset": float(time_offset), "uploader": uploader,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds")}
        (tmp / "version.json").write_text(json.dumps(meta, indent=2, default=str) + "\n", encoding="utf-8")
        os.replace(tmp, root / vid)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return load_pending(ws, vid)


def _from_folder(folder: Path) -> PendingVersion:
    try:
        meta = json.loads((folder / "version.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise VersionError(f"{folder} is not a pending version (no readable version.json).") from exc
    media = next((p for p in sorted(folder.glob("media.*")) if p.is_file()), None)
    if media is None:
        raise VersionError(f"The pending version {folder.name} has no media file.")
    return PendingVersion(
        id=meta["id"], folder=folder, media=media, operation=meta["operation"], kind=meta["kind"],
        parent_id=meta.get("parent_id"), params=meta.get("params") or {}, target_profile=meta.get("target_profile"),
        generator=meta.get("generator"), models=meta.get("models") or [], title=meta.get("title"),
        time_offset=float(meta.get("time_offset") or 0.0), uploader=meta.get("uploader"),
        created_at=meta.get("created_at", ""), licence=meta.get("licence") or None, author=meta.get("author") or None)


def load_pending(ws: Workspace, version: str | Path | PendingVersion) -> PendingVersion:
    """A pending version by id, by its folder, or by its media file path."""
    if isinstance(version, PendingVersion):
        return version
    root = _pending_root(ws)
    cand = Path(version)
    if cand.exists():
        folder = cand.resolve() if cand.is_dir() else cand.resolve().parent
        if folder.parent != root.resolve():
            raise VersionError(f"{version} is not a pending version of this workspace.")
        return _from_folder(folder)
    if not str(version) or "/" in str(version) or str(version).startswith("."):
        raise VersionError(f"There is no pending version {version!r}; list them with `generec versions`.")
    folder = root / str(version)
    if not folder.is_dir():
        raise VersionError(f"There is no pending version {version!r}; list them with `generec versions`.")
    return _from_folder(folder)


def list_pending(ws: Workspace) -> list[PendingVersion]:
    """Every pending version (exported ones included; see ``exported_item_id``), oldest first."""
    out = []
    for d in sorted(_pending_root(ws).iterdir()):
        if d.is_dir() and not d.name.startswith(_TMP):
            try:
                out.append(_from_folder(d))
            except VersionError:
                continue
    return sorted(out, key=lambda v: (v.created_at, v.id))


# ------------------------------------------------------------------------------------ checks


def _context(ws: Workspace, pv: PendingVersion, uploader: str | None, **extra: Any) -> CheckContext:
    """What the checks of a pending version need: its original, the intended edit (operation + params
    from version.json, so only changes beyond it count), and the licence/author the uploader declared."""
    from generec_desktop.fidelity.intended import intended_edit

    parent = ws.item(pv.parent_id) if pv.parent_id is not None else None
    return CheckContext(
        kind=pv.kind, original=ws.media_path(parent) if parent is not None and pv.kind == "ai_edited" else None,
        time_offset=pv.time_offset, uploader=uploader or pv.uploader,
        source_owner=parent.owner if parent else None, source_licence=parent.licence if parent else None,
        intended=intended_edit(pv.operation, pv.params, pv.time_offset),
        declared_licence=pv.licence, declared_author=pv.author, pending=True, **extra)


def check_version(ws: Workspace, version: str | Path | PendingVersion, *, uploader: str | None = None,
                  frames: int = 8, progress: Progress | None = None,
                  cancel: CancelToken | None = None) -> FidelityReport:
    """Run the checks on a pending version and cache the report beside it (reused by the export)."""
    pv = load_pending(ws, version)
    rep = run_checks(pv.media, _context(ws, pv, uploader), frames=frames, progress=progress, cancel=cancel)
    write_sidecar_json(pv.folder / "report.json", {"uploader": uploader or pv.uploader, **_meta_key(pv),
                                                   **rep.to_dict()})
    return rep


def _meta_key(pv: PendingVersion) -> dict[str, Any]:
    """What besides the media decides a cached report: the declared licence/author and the checks' version."""
    return {"declared": {"licence": pv.licence, "author": pv.author}, "checks_version": CHECKS_VERSION}


def check_item(ws: Workspace, item_id: int, *, frames: int = 8, progress: Progress | None = None,
               cancel: CancelToken | None = None) -> FidelityReport:
    """Check an item of the corpus (an exported version must carry its watermark and AI label)."""
    it = ws.item(item_id)
    parent = ws.item(it.parent_id) if it.parent_id is not None else None
    payload = int(it.watermark_payload, 16) if it.watermark_payload else None
    from generec_desktop.fidelity.intended import intended_edit

    params = (it.params or {}).get("params") or {}
    offset = float(params.get("start", 0.0) or 0.0) if it.params else 0.0
    edit = intended_edit(str((it.params or {}).get("operation") or "edit"), params, offset)
    ctx = CheckContext(kind=it.kind, original=ws.media_path(parent) if parent and it.kind == "ai_edited" else None,
                       time_offset=offset, uploader=it.owner if it.kind != "ai_created" else None,
                       source_owner=parent.owner if parent else None, source_licence=parent.licence if parent else None,
                       expected_payload=payload, require_watermark=it.kind != "human", intended=edit, pending=False)
    if it.kind == "ai_created":
        ctx = CheckContext(kind="ai_created", expected_payload=payload, require_watermark=True, pending=False)
    return run_checks(ws.media_path(it), ctx, frames=frames, progress=progress, cancel=cancel)


def write_sidecar_json(path: Path, data: dict[str, Any]) -> None:
    """A JSON file written atomically (temp, fsync, rename)."""
    write_sidecar(path, data)


def saved_report(ws: Workspace, version: str | Path | PendingVersion, *,
                 uploader: str | None = None) -> FidelityReport | None:
    """The report :func:`check_version` saved for a pending version (by the CLI, the window or a batch),
    when it still holds: same media (hashed), same declared licence/author, same checks. None otherwise."""
    return _cached_report(load_pending(ws, version), uploader)


def _cached_report(pv: PendingVersion, uploader: str | None) -> FidelityReport | None:
    from generec_desktop.corpus.workspace import file_sha256

    path = pv.folder / "report.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        rep = FidelityReport.from_dict(data)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    key = _meta_key(pv)
    if (data.get("uploader") != (uploader or pv.uploader) or data.get("declared") != key["declared"]
            or data.get("checks_version") != CHECKS_VERSION):
        return None
    # the media is hashed last: the window reads every pending version's report when a workspace opens
    return rep if rep.subject_sha256 == file_sha256(pv.media) else None


# ------------------------------------------------------------------------------------ export


def _sidecar_path(ws: Workspace, stored_path: str) -> Path:
    d = ws.root / PROVENANCE_DIR
    d.mkdir(exist_ok=True)
    return d / (Path(stored_path).name + SIDECAR_SUFFIX)


def _full_manifest(core: dict[str, Any], item: ItemInfo) -> dict[str, Any]:
    output: dict[str, Any] = {"sha256": item.sha256, "size": item.file_size, "item_id": item.id,
                              "stored_path": item.stored_path}
    c2pa = (item.params or {}).get("content_credentials")
    if c2pa:  # the embedded copy cannot name them (signed after it was written): the sidecar's output does
        output["content_credentials"] = c2pa
    return {**core, "output": output}


def _sign_export(ws: Workspace, pv: PendingVersion, parent: ItemInfo | None, core: dict[str, Any],
                 fidelity: dict[str, Any], payload: int, encode_params: dict[str, Any], stage: Path,
                 src_info: Any, identity: SigningIdentity) -> SignResult:
    """Embed signed Content Credentials in the verified export ``stage`` (through a second temp file, renamed
    over it; a failure removes both and the export fails cleanly). Returns what signing did."""
    from generec_desktop import media
    from generec_desktop.corpus import VerificationError
    from generec_desktop.fidelity.credentials import ManifestSpec, audience_ref, sign_file
    from generec_desktop.safefiles import temp_path

    spec = ManifestSpec(
        kind=pv.kind,
        title=pv.title or (f"{parent.title} ({pv.operation})" if parent else f"generated ({pv.operation})"),
        operation=pv.operation, params=pv.params, generator=pv.generator, models=pv.models,
        parent=ws.media_path(parent) if parent is not None else None,
        parent_title=(parent.title or parent.original_name) if parent is not None else None,
        parent_sha256=parent.sha256 if parent is not None else None,
        target_audience=audience_ref(ws, pv.target_profile), fidelity=fidelity, watermark_payload=payload,
        extra_actions=[{"action": "c2pa.transcoded", "parameters": encode_params,
                        "description": "H.264, with the watermark on every frame"}],
        provenance={k: core.get(k) for k in ("format", "version_id", "kind", "ai_label", "author", "owner",
                                             "uploader", "source", "models", "created_at")})
    signed = temp_path(pv.folder, ".mp4")
    try:
        res = sign_file(stage, signed, spec, identity=identity)
        if media.probe(signed).frame_count != src_info.frame_count:
            raise VerificationError("Signing the Content Credentials changed the video; nothing was exported.")
        os.replace(signed, stage)
    finally:
        signed.unlink(missing_ok=True)
    return res


def run_export(
    ws: Workspace,
    version: str | Path | PendingVersion,
    *,
    override_reason: str | None = None,
    uploader: str | None = None,
    crf: int = 23,
    preset: str = "veryfast",
    key: str | None = None,
    strength: float | None = None,
    frames: int = 8,
    verify_frames: int = 24,
    rank: bool = True,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> ExportResult:
    """Export a pending version as a new corpus item, atomically (see the module docstring)."""
    t_start = time.perf_counter()
    pv = load_pending(ws, version)
    with _export_lock(pv):
        existing = _existing_item(ws, pv.id)
        if existing is not None:
            raise VersionError(f"Version {pv.id} was already exported as item {existing.id}.")
        return _run_export(ws, pv, override_reason=override_reason, uploader=uploader, crf=crf, preset=preset,
                           key=key, strength=strength, frames=frames, verify_frames=verify_frames, rank=rank,
                           progress=progress, cancel=cancel, t_start=t_start)


@contextmanager
def _export_lock(pv: PendingVersion) -> Iterator[None]:
    """One export of a version at a time, across threads and processes (``flock``: released by the
    kernel when a process dies, so a crash leaves no stale lock)."""
    lock_path = pv.folder / ".export.lock"
    try:
        fh = open(lock_path, "a+b")  # noqa: SIM115 - held for the whole export
    except OSError as exc:
        raise VersionError(f"The pending version {pv.id} cannot be locked for export ({exc.strerror}).") from exc
    try:
        try:
            import fcntl
        except ImportError:  # not POSIX: the database's unique external id still refuses a second export
            yield
            return
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise VersionError(f"Version {pv.id} is being exported right now (by another window or command); "
                               "wait for that export to finish.") from exc
        yield
    finally:
        fh.close()


def _run_export(ws: Workspace, pv: PendingVersion, *, override_reason: str | None, uploader: str | None, crf: int,
                preset: str, key: str | None, strength: float | None, frames: int, verify_frames: int, rank: bool,
                progress: Progress | None, cancel: CancelToken | None, t_start: float) -> ExportResult:
    from generec_desktop import media
    from generec_desktop.corpus import VerificationError
    from generec_desktop.fidelity import watermark as wm
    from generec_desktop.safefiles import temp_path

    timings: dict[str, float] = {}
    if override_reason is not None and not override_reason.strip():
        raise VersionError("An override needs a reason (a non-empty text); it is recorded with the item.")
    steps = Steps(progress, {"checks": 2, "encode": 6, "verify": 1, "commit": 1, "rank": 0.5})
    from generec_desktop.fidelity.credentials import signing_identity

    identity = signing_identity()  # a misconfigured certificate fails here, before any encode
    uploader = uploader or pv.uploader
    parent = ws.item(pv.parent_id) if pv.parent_id is not None else None

    # 1. checks (cached when the media and the uploader are unchanged)
    t = time.perf_counter()
    rep = _cached_report(pv, uploader) or run_checks(pv.media, _context(ws, pv, uploader), frames=frames,
                                                     progress=steps["checks"], cancel=cancel)
    timings["checks"] = time.perf_counter() - t
    overridden = bool(rep.failed)
    if rep.failed and override_reason is None:
        raise ExportBlocked(rep)
    check_cancel(cancel)

    # 2. manifest and one re-encode with the watermark and the tags
    author, owner = authorship(pv.kind, uploader)
    payload = wm.payload_for_version(pv.id, workspace_id=str(ws.root.name))
    label = "AI-edited" if pv.kind == "ai_edited" else "AI-generated"
    override = ({"reason": override_reason.strip(), "failed": rep.failed, "by": uploader,
                 "at": datetime.now(UTC).isoformat(timespec="seconds")} if overridden and override_reason else None)
    encode_params = {"crf": crf, "preset": preset, "strength": strength or EXPORT_STRENGTH}
    core: dict[str, Any] = {
        "format": MANIFEST_FORMAT,
        "version_id": pv.id,
        "kind": pv.kind,
        "ai_label": label,
        "source": ({"item_id": parent.id, "sha256": parent.sha256, "title": parent.title, "owner": parent.owner,
                    "licence": parent.licence} if parent is not None else None),
        "operations": [{"operation": pv.operation, "params": pv.params, "generator": pv.generator},
                       {"operation": "watermark+encode", "params": encode_params}],
        "models": pv.models,
        "target_audience": pv.target_profile,
        "author": author,
        "owner": owner,
        "uploader": uploader,
        "fidelity": {"status": rep.status, "checks": {c.name: c.status for c in rep.checks}, "override": override,
                     "report": rep.to_dict()},
        "watermark": {"payload": f"{payload:08x}", "scheme": "generec-spread-spectrum-v1"},
        "pending_media_sha256": rep.subject_sha256,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    # an output made from a damaged source says so (what reading the source, or this version, repaired)
    damage = [*((f"source: {w}" for w in parent.warnings) if parent is not None else ()),
              *(f"version: {w}" for w in media.probe(pv.media).warnings),
              *(f"editing: {w}" for w in (pv.params or {}).get("source_damage") or ())]
    if damage:
        core["source_damage"] = damage
    stage = temp_path(pv.folder, ".mp4")
    moved: Path | None = None
    base = float(strength or EXPORT_STRENGTH)
    strong = min(32.0, 2 * base)
    # The mark must read back from the encoded file: at the nominal strength, else at twice it, else (twice
    # it) with up to two other payloads of the same version, then the export fails cleanly. In a tiny clip
    # few pixels vote on each bit, and which bits the content flips depends on the payload: a 1 s 64x48 toon
    # version (25 frames of 3,072 pixels) failed 4 of 12 exports with the first two tries alone, 0 of 12 with
    # these four (3 needed another payload); with random payloads one failing case read back 12 of 12,
    # another 8 of 12. (1 s at 640x360: 12 of 12 at the first try.) The payload used is the one recorded.
    attempts = [(payload, base), (payload, strong),
                *((wm.payload_for_version(f"{pv.id}#{k}", workspace_id=str(ws.root.name)), strong) for k in (1, 2))]
    try:
        for attempt, (payload, amp) in enumerate(attempts):
            encode_params["strength"] = amp
            core["watermark"]["payload"] = f"{payload:08x}"
            t = time.perf_counter()
            wm.watermark_video(pv.media, stage, payload, crf=crf, preset=preset, strength=amp,
                               key=key, metadata=manifest_tags(core, label),
                               progress=steps["encode"], cancel=cancel)
            timings[f"encode{attempt or ''}"] = time.perf_counter() - t

            # 3. verify: the frame count, that it decodes, the watermark payload, the AI label
            t = time.perf_counter()
            src_info, out_info = media.probe(pv.media), media.probe(stage)
            if out_info.frame_count != src_info.frame_count:
                raise VerificationError(f"The export has {out_info.frame_count} frames, the version "
                                        f"{src_info.frame_count}; nothing was exported.")
            if out_info.metadata.get(AI_LABEL_TAG) != label:
                raise VerificationError("The export lost its AI label tag; nothing was exported.")
            n = max(1, min(verify_frames, out_info.frame_count))
            dur = max(out_info.duration, 1e-3)
            # Full-size frames: a downscale before detection costs the mark its margin. First the cheap
            # read: the first n frames (one short decode; 24 frames of bigbuckbunny read pilot z 5.6);
            # only when that does not find the payload, n frames spread over the whole video (z 8.8, but
            # the decode runs through the file: 0.37 vs 0.17 CPU-s).
            # The first read takes the decoded Y planes as they are (the mark lives in luma): no RGB
            # conversion but for the one frame that becomes the cover.
            lumas, cover = media.head_lumas(stage, n, rgb_at=n // 2, cancel=cancel)
            det = wm.detect_images(lumas, key=key, luma=True, search=False)
            if not (det.found and det.payload == payload):
                sampled = media.sample_frames(stage, timestamps=[min(dur * (i + 0.5) / n, dur) for i in range(n)],
                                              cancel=cancel)
                det = wm.detect_images([f.image for f in sampled], key=key, search=False)
                cover = sampled[len(sampled) // 2].image
            timings[f"verify{attempt or ''}"] = time.perf_counter() - t
            if det.found and det.payload == payload:
                break
            stage.unlink(missing_ok=True)
        else:
            raise VerificationError(f"The watermark could not be read back from the export ({len(attempts)} tries, "
                                    "two strengths and three payloads); nothing was exported.")
        report(steps["verify"], 1.0, "Verified")
        check_cancel(cancel)
        fidelity = {**rep.to_dict(), "override": override,
                    "identifiability_after_export": {"payload": f"{payload:08x}", "pilot_z": det.pilot_z}}

        # 3b. Content Credentials (C2PA): the verified file is only read; the signed copy replaces it. The
        # pixels are not touched (one box after ftyp), so the mark read back above is the mark in the export.
        t = time.perf_counter()
        credentials = _sign_export(ws, pv, parent, core, fidelity, payload, encode_params, stage, src_info,
                                   identity)
        timings["sign"] = time.perf_counter() - t
        check_cancel(cancel)

        # 4. move into versions/ (a temp name the corpus recognises) and commit atomically
        t = time.perf_counter()
        moved = ws.temp_file(".mp4")
        os.replace(stage, moved)
        item = ws.add_version(
            moved, kind=pv.kind, parent_id=pv.parent_id, operation=pv.operation,
            title=pv.title or (f"{parent.title} ({pv.operation})" if parent else f"generated ({pv.operation})"),
            owner=owner, author=author, licence=(parent.licence if parent else None) or pv.licence,
            target_profile=pv.target_profile, generator=pv.generator,
            params={"operation": pv.operation, "params": pv.params, "models": pv.models, "provenance": core,
                    "content_credentials": credentials.to_dict()},
            fidelity=fidelity, watermark_payload=f"{payload:08x}", external_id=external_id_for(pv.id),
            cover=cover, cancel=cancel)
        moved = None
    finally:
        stage.unlink(missing_ok=True)
        if moved is not None:
            moved.unlink(missing_ok=True)
    # 5. after the commit: sidecar and the pending marker (both re-creatable by recover_exports)
    manifest = _full_manifest(core, item)
    sidecar = write_sidecar(_sidecar_path(ws, item.stored_path), manifest)
    write_sidecar_json(pv.folder / "exported.json", {"item_id": item.id, "sha256": item.sha256})
    report(steps["commit"], 1.0, f"Exported as item {item.id}")
    timings["commit"] = time.perf_counter() - t
    previews: list[RankPreview] = []
    if rank:
        from generec_desktop.fidelity.ranking import rank_preview

        t = time.perf_counter()
        previews = rank_preview(ws, item)
        timings["rank"] = time.perf_counter() - t
    report(progress, 1.0, f"Exported version {pv.id} as item {item.id}")
    return ExportResult(item=item, version_id=pv.id, manifest=manifest, report=rep, sidecar=sidecar,
                        overridden=overridden, payload=payload, rank=previews,
                        seconds=time.perf_counter() - t_start, timings=timings, credentials=credentials.to_dict())


def _existing_item(ws: Workspace, version_id: str) -> ItemInfo | None:
    from sqlalchemy import select

    from generec_desktop.corpus import ItemInfo
    from generec_desktop.corpus.schema import Item

    with ws.read_session() as s:
        row = s.scalars(select(Item).where(Item.external_id == external_id_for(version_id))).first()
        return ItemInfo.from_row(row) if row is not None else None


def recover_exports(ws: Workspace) -> list[str]:
    """Finish what a crashed export left: rewrite missing sidecars and export markers from the database,
    and move sidecars that no item has to ``quarantine/`` (never deleted: the catalogue may be an old copy).
    Temporary files are the corpus's recovery's job (journaled, removed at open). Returns the paths
    (relative to the workspace) it wrote or moved."""
    done: list[str] = []
    prov = ws.root / PROVENANCE_DIR
    wanted: dict[str, tuple[dict[str, Any], ItemInfo]] = {}
    for it in ws.items():
        core = (it.params or {}).get("provenance") if it.kind != "human" else None
        if isinstance(core, dict):
            wanted[Path(it.stored_path).name + SIDECAR_SUFFIX] = (core, it)
    if prov.is_dir() and not prov.is_symlink():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        for p in prov.glob(f"*{SIDECAR_SUFFIX}"):
            if p.name not in wanted and p.is_file() and not p.is_symlink():
                dest = ws.root / "quarantine" / stamp / PROVENANCE_DIR / p.name
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.rename(p, dest)
                done.append(dest.relative_to(ws.root).as_posix())
    for core, it in wanted.values():
        side = _sidecar_path(ws, it.stored_path)
        if not side.is_file():
            write_sidecar(side, _full_manifest(core, it))
            done.append(side.relative_to(ws.root).as_posix())
        folder = _pending_root(ws) / str(core.get("version_id", ""))
        if core.get("version_id") and folder.is_dir() and not (folder / "exported.json").is_file():
            write_sidecar_json(folder / "exported.json", {"item_id": it.id, "sha256": it.sha256})
    return done


def _derived(pv: PendingVersion, operation: str, extra: dict[str, Any]) -> dict[str, Any]:
    """The params of a fix's new version: the edit it fixes (base operation, clip range, crop, style) and
    what the fix did, so the checks still judge it against the intended edit."""
    return {**pv.params, "base_operation": pv.params.get("base_operation") or pv.operation, **extra}


def blur_version(ws: Workspace, version: str | Path | PendingVersion, *, method: str = "blur",
                 kinds: tuple[str, ...] = ("face", "plate"), progress: Progress | None = None,
                 cancel: CancelToken | None = None) -> PendingVersion:
    """A new pending version of ``version`` with its faces and licence plates blurred (or pixelated) over
    their tracked time spans (the privacy check's fix); the spans are recorded in its params."""
    from generec_desktop.fidelity.fixes import blur_tracked, track_regions
    from generec_desktop.safefiles import temp_path

    pv = load_pending(ws, version)
    if pv.media.suffix.lower() not in (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v"):
        raise VersionError("Only videos can be blurred here; for a thumbnail, pick another frame.")
    steps = Steps(progress, {"track": 2, "encode": 3})
    tracks, (w, h) = track_regions(pv.media, kinds=kinds, progress=steps["track"], cancel=cancel)
    if not tracks:
        raise VersionError(f"No faces or licence plates were found in version {pv.id}; nothing to blur.")
    tmp = temp_path(pv.folder, ".mp4")
    try:
        blur_tracked(pv.media, tmp, tracks, method=method, progress=steps["encode"], cancel=cancel)
        params = _derived(pv, "blur", {"blurred_from": pv.id, "blur_method": method,
                                        "blurred": [t.to_dict(w, h) for t in tracks]})
        return create_pending(ws, tmp, operation="blur", parent_id=pv.parent_id, kind=pv.kind, params=params,
                              target_profile=pv.target_profile, generator=pv.generator, models=pv.models,
                              title=f"{pv.title or pv.operation} ({method}red)" if method == "blur"
                              else f"{pv.title or pv.operation} (pixelated)",
                              time_offset=pv.time_offset, uploader=pv.uploader, move=True)
    finally:
        tmp.unlink(missing_ok=True)


def restore_faces_version(ws: Workspace, version: str | Path | PendingVersion, *,
                          progress: Progress | None = None, cancel: CancelToken | None = None) -> PendingVersion:
    """A new pending version of a styled ``version`` whose faces have the original's colours again
    (the bias check's fix for a style that shifted skin tones)."""
    from generec_desktop.fidelity.fixes import FixError, restore_face_colours
    from generec_desktop.fidelity.intended import intended_edit
    from generec_desktop.safefiles import temp_path

    pv = load_pending(ws, version)
    if pv.parent_id is None:
        raise VersionError("A fully generated version has no original whose colours could be restored.")
    edit = intended_edit(pv.operation, pv.params, pv.time_offset)
    if edit.geometric:
        raise VersionError("This version is reframed: its faces' colours cannot be restored frame by frame.")
    original = ws.media_path(ws.item(pv.parent_id))
    tmp = temp_path(pv.folder, ".mp4")
    try:
        try:
            _, fixed = restore_face_colours(pv.media, original, tmp, time_offset=edit.time_offset,
                                            progress=progress, cancel=cancel)
        except FixError as exc:
            raise VersionError(str(exc)) from exc
        if not fixed:
            raise VersionError(f"No faces were found in the original of version {pv.id}; nothing to restore.")
        params = _derived(pv, "restore_faces", {"restored_from": pv.id, "face_frames_restored": fixed})
        return create_pending(ws, tmp, operation="restore_faces", parent_id=pv.parent_id, kind=pv.kind,
                              params=params, target_profile=pv.target_profile, generator=pv.generator,
                              models=pv.models, title=f"{pv.title or pv.operation} (face colours restored)",
                              time_offset=pv.time_offset, uploader=pv.uploader, move=True)
    finally:
        tmp.unlink(missing_ok=True)


def set_version_licence(ws: Workspace, version: str | Path | PendingVersion, *, licence: str | None = None,
                        author: str | None = None) -> tuple[PendingVersion, dict[str, str | None]]:
    """Record the licence (and author) the uploader states for a version's source where the catalogue has
    none (the legal check's fix): an atomic edit of its version.json. Returns the updated version and the
    previous values (pass them back to undo). Empty strings clear a field."""
    from generec_desktop.safefiles import atomic_write_json

    pv = load_pending(ws, version)
    if pv.exported_item_id is not None:
        raise VersionError(f"Version {pv.id} was exported as item {pv.exported_item_id}; it can no longer change.")
    path = pv.folder / "version.json"
    meta = json.loads(path.read_text(encoding="utf-8"))
    old = {"licence": meta.get("licence"), "author": meta.get("author")}
    for key, value in (("licence", licence), ("author", author)):
        if value is None:
            continue
        value = value.strip()
        if len(value) > 200:
            raise VersionError(f"The {key} is too long (at most 200 characters).")
        if value:
            meta[key] = value
        else:
            meta.pop(key, None)
    atomic_write_json(path, meta)
    return load_pending(ws, pv.id), old
