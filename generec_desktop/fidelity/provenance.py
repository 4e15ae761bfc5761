"""Provenance manifests (issue 8 part 3): one per exported version, as a JSON sidecar and as tags.

The manifest records the source item and its sha256, the operations and parameters, model ids and
weight hashes, the target audience, author/owner, the AI label, the fidelity report, the watermark
payload. The *embedded* copy (container tag :data:`MANIFEST_TAG`) cannot hold the output file's own
sha256 (a file cannot contain its own hash), so the *sidecar* adds ``output`` = {sha256, size}.
:func:`verify_file` says whether a file and its manifest still match: its C2PA Content Credentials
(``fidelity/credentials.py``, validated offline), the file's hash against the sidecar, the embedded copy
against the sidecar, and (optionally) the watermark against the payload, or read blind and looked up in a
workspace where nothing names it (a trimmed or re-encoded copy).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generec_desktop.jobs import GenerecError

__all__ = [
    "MANIFEST_FORMAT",
    "MANIFEST_TAG",
    "SIDECAR_SUFFIX",
    "ProvenanceError",
    "ProvenanceVerification",
    "canonical",
    "find_sidecar",
    "manifest_tags",
    "read_sidecar",
    "verify_file",
    "write_sidecar",
]

MANIFEST_FORMAT = "generec-provenance/1"
MANIFEST_TAG = "generec_provenance"
SIDECAR_SUFFIX = ".provenance.json"


class ProvenanceError(GenerecError):
    """A manifest is missing or unreadable."""


def canonical(manifest: dict[str, Any]) -> str:
    """The manifest as canonical JSON (sorted keys, no spaces): what is embedded and compared."""
    return json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)


def manifest_tags(manifest: dict[str, Any], ai_label: str) -> dict[str, str]:
    """Container metadata tags carrying the manifest (without ``output``) and the AI label."""
    from generec_desktop.fidelity.checks import AI_LABEL_TAG

    core = {k: v for k, v in manifest.items() if k != "output"}
    return {MANIFEST_TAG: canonical(core), AI_LABEL_TAG: ai_label, "comment": f"{ai_label} (generec provenance)"}


def write_sidecar(path: Path, manifest: dict[str, Any]) -> Path:
    """Write ``manifest`` to ``path`` atomically (journaled temp file, fsync, rename)."""
    from generec_desktop.safefiles import atomic_write_json

    return atomic_write_json(Path(path), manifest, sort_keys=True)


def read_sidecar(path: Path) -> dict[str, Any]:
    """A sidecar manifest; :class:`ProvenanceError` when unreadable."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ProvenanceError(f"The manifest {path} is missing or unreadable.") from exc
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        raise ProvenanceError(f"{path} is not a GeneRec provenance manifest.")
    return data


def find_sidecar(file: Path) -> Path | None:
    """The sidecar of ``file``: ``<file>.provenance.json`` beside it, or in its workspace's ``provenance/``."""
    file = Path(file).resolve()
    beside = file.with_name(file.name + SIDECAR_SUFFIX)
    if beside.is_file():
        return beside
    ws_side = file.parent.parent / "provenance" / (file.name + SIDECAR_SUFFIX)
    if file.parent.name == "versions" and ws_side.is_file():
        return ws_side
    return None


@dataclass(frozen=True)
class ProvenanceVerification:
    """Result of :func:`verify_file`; ``ok`` when every performed check of our own manifest matched,
    ``verdict_ok`` when the file as a whole can be trusted (see :attr:`verdict_ok`)."""

    file: Path
    manifest_path: Path | None
    ok: bool
    file_sha256: str
    checks: dict[str, bool] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    manifest: dict[str, Any] | None = None
    credentials: Any = None  # fidelity.credentials.Credentials, or None when not read
    watermark_payload: str | None = None  # the payload the watermark carries, where one was read
    identified: str | None = None  # the version/item the watermark names in the workspace given

    @property
    def status(self) -> str:
        """Our own manifest: ``verified`` (every check matched), ``mismatch`` (a check failed: the file was
        changed), or ``unverified`` (nothing contradicts the embedded manifest, but without its sidecar the
        file's own hash cannot be checked: a copied export), or ``none`` (no manifest at all)."""
        if self.ok:
            return "verified"
        if self.manifest is None:
            return "none"
        if any(v is False for v in self.checks.values()) or self.manifest_path is not None:
            return "mismatch"
        return "unverified"

    @property
    def verdict_ok(self) -> bool:
        """The file is what its provenance says: no check failed, its Content Credentials (if any) are intact,
        and either our sidecar verified it or its credentials are signed by a trusted certificate."""
        creds = self.credentials
        if creds is not None and creds.tampered:
            return False
        if any(v is False for v in self.checks.values()):
            return False
        return self.ok or (creds is not None and creds.state == "trusted")

    def summary(self) -> str:
        """The Content Credentials in words, then our manifest's checks, then what the watermark says."""
        lines: list[str] = []
        if self.credentials is not None:
            lines += self.credentials.sentences()
        lines.append(self._own_summary())
        if self.watermark_payload and "watermark" not in self.checks:
            lines.append(f"Watermark: payload {self.watermark_payload} found in the pixels"
                         + (f": {self.identified}" if self.identified else
                            " (give --workspace W to name the version it belongs to)"))
        elif self.identified:
            lines.append(f"Watermark: {self.identified}")
        return "\n".join(lines)

    def _own_summary(self) -> str:
        if self.ok:
            return f"{self.file.name}: GeneRec manifest matches ({', '.join(k for k in self.checks)})"
        if self.status == "unverified":
            agreed = ", ".join(k for k in self.checks) or "nothing more"
            return (f"{self.file.name}: GeneRec manifest UNVERIFIED: no sidecar manifest beside it (a copy?); the "
                    f"embedded manifest is intact and {agreed} agreed, but the file's own hash needs the sidecar "
                    f"(<file>{SIDECAR_SUFFIX}) to be checked")
        if self.status == "none":
            return f"{self.file.name}: NO GENEREC PROVENANCE: neither a sidecar manifest nor embedded tags"
        return f"{self.file.name}: GeneRec manifest MISMATCH\n" + "\n".join(f"  - {p}" for p in self.problems)


def verify_file(file: str | Path, *, manifest_path: str | Path | None = None, watermark: bool = True,
                key: str | None = None, credentials: bool = True, workspace: str | Path | None = None,
                extra_anchors: str | None = None) -> ProvenanceVerification:
    """Check that ``file`` still matches its provenance: its C2PA Content Credentials (validated offline,
    ``credentials``; trusted anchors: the local CA, the configured ones and ``extra_anchors`` (PEM text)), our
    sidecar + embedded tag, and the watermark. Where nothing names a payload (a trimmed or re-encoded copy),
    the watermark is read blind; ``workspace`` names the version it belongs to."""
    from generec_desktop.corpus.workspace import file_sha256

    file = Path(file)
    if not file.is_file():
        raise ProvenanceError(f"{file} does not exist or is not a file.")
    side = Path(manifest_path) if manifest_path is not None else find_sidecar(file)
    sha = file_sha256(file)
    checks: dict[str, bool] = {}
    problems: list[str] = []
    manifest = read_sidecar(side) if side is not None else None
    creds = None
    if credentials:
        from generec_desktop.fidelity.credentials import read_credentials, trust_anchors

        creds = read_credentials(file, trust_pem="\n".join(filter(None, [trust_anchors(), extra_anchors])))
    embedded: dict[str, Any] | None = None
    try:
        from generec_desktop import media

        raw = media.probe(file).metadata.get(MANIFEST_TAG) if not _image(file) else None
        embedded = json.loads(raw) if raw else None
    except (GenerecError, ValueError):
        embedded = None
    if manifest is None and embedded is None:
        problems.append("no manifest: neither a sidecar nor embedded tags")
    if manifest is not None:
        want = (manifest.get("output") or {}).get("sha256")
        checks["sha256"] = want == sha
        if not checks["sha256"]:
            problems.append(f"the file's sha256 {sha[:12]}… differs from the manifest's {str(want)[:12]}…: "
                            "the file was changed after export")
    elif embedded is not None:
        problems.append("no sidecar manifest: only the embedded copy and the watermark were checked")
    if embedded is not None and manifest is not None:
        core = {k: v for k, v in manifest.items() if k != "output"}
        checks["embedded"] = canonical(core) == canonical(embedded)
        if not checks["embedded"]:
            problems.append("the embedded manifest differs from the sidecar")
    elif manifest is not None and not _image(file):
        checks["embedded"] = False
        problems.append("the file carries no embedded manifest tag")
    ref = manifest if manifest is not None else embedded
    payload = ((ref or {}).get("watermark") or {}).get("payload") or (creds.watermark_payload if creds else None)
    known_ws = _workspace_payloads(workspace)
    found: str | None = None
    if watermark:
        from generec_desktop.fidelity import watermark as wm

        # a named payload is identified even where a blind read fails (a single image); else read blind
        known = [int(payload, 16)] if payload else ([int(p, 16) for p in known_ws] or None)
        try:
            det = wm.detect_video(file, max_frames=16, key=key, candidates=known) if not _image(file) else \
                wm.detect_images([_read(file)], key=key, candidates=known)
        except GenerecError as exc:
            if payload:  # the manifest names a mark the file cannot show: that is the answer
                raise
            det = None  # nothing names a payload and the file has no pictures to read one from
            problems.append(f"no watermark could be read: {exc}")
        if det is not None and det.found and det.payload is not None:
            found = f"{det.payload:08x}"
        if payload and det is not None:
            # a mark under the old public key carries the payload but anyone could have written it
            checks["watermark"] = det.found and det.payload == int(payload, 16) and not det.legacy_key
            if det.found and det.legacy_key:
                problems.append(f"the watermark ({det.payload:08x}) was made with the old public key: "
                                "not proof that this installation exported the file")
            elif not checks["watermark"]:
                problems.append(f"the watermark ({found or 'none'}) does not carry the manifest's payload {payload}")
    identified = known_ws.get(found) if found else None
    ok = bool(checks) and all(checks.values()) and manifest is not None
    return ProvenanceVerification(file, side, ok, sha, checks, problems, ref, creds, found, identified)


def _workspace_payloads(workspace: str | Path | None) -> dict[str, str]:
    """``{payload hex: "item N (version V, kind) of W"}`` for a workspace's exported versions."""
    if workspace is None:
        return {}
    from generec_desktop.corpus import Workspace

    out: dict[str, str] = {}
    with Workspace.open(Path(workspace)) as ws:
        for it in ws.items():
            if it.watermark_payload:
                version = str(it.external_id or "").removeprefix("generec-version:")
                out[it.watermark_payload.lower()] = (f"item {it.id} ({it.kind}"
                                                     + (f", version {version}" if version else "")
                                                     + f", \"{it.title}\") of {Path(workspace).name}")
    return out


def _image(path: Path) -> bool:
    from generec_desktop.fidelity.checks import IMAGE_SUFFIXES

    return path.suffix.lower() in IMAGE_SUFFIXES


def _read(path: Path) -> Any:
    from generec_desktop.fidelity.checks import _read_image

    return _read_image(path)
