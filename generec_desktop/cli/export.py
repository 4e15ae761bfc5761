"""``generec check``, ``generec export``, ``generec versions`` and ``generec provenance verify``.

``check W (FILE | VERSION | ITEM_ID) [--json] [--details] [--fix FIX ...]``: the six checks of a pending
version (by id or path), an item of the corpus (by id), or any file; each check leads with one plain
sentence (``--details``: the reasons, metrics and evidence behind it; ``--json``: all of it). ``--fix``
applies a check's remedy to a pending version: ``blur`` / ``pixelate`` (faces and plates over their
tracked spans, a new version), ``restore-faces`` (a style's face colours back, a new version),
``licence=TEXT`` / ``author=TEXT`` (recorded in the version); the result is checked again.
``export W VERSION [--override-reason TEXT]``: the atomic export.
``versions W``: pending versions. ``compare W VERSION [--out FILE]``: what the version is compared with
(its original and the time shift; a creation: a video its audience likes), optionally side by side in a
file. ``provenance verify FILE [--workspace W]``: the Content Credentials (C2PA) in words, our manifest's
checks, the watermark. ``provenance identity [--cert C --key K | --local]``: the certificate exports are
signed with.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from generec_desktop.cli_support import add_json_flag, emit, progress_bar


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the check / export / versions / provenance commands."""
    c = subparsers.add_parser("check", help="run the six fidelity checks on a version, an item or a file")
    c.add_argument("workspace", type=Path)
    c.add_argument("target", help="a pending version id or path, an item id, or a media file")
    c.add_argument("--original", type=Path, default=None, help="for a plain file: its original")
    c.add_argument("--frames", type=int, default=8, help="frames sampled (default 8)")
    c.add_argument("--blur", action="store_true", help="same as --fix blur")
    c.add_argument("--fix", action="append", default=[], metavar="FIX",
                   help="apply a fix to a pending version: blur | pixelate | restore-faces | licence=TEXT | "
                        "author=TEXT (repeatable); the result is checked again")
    c.add_argument("--details", action="store_true", help="show the reasons, metrics and evidence of each check")
    add_json_flag(c)
    c.set_defaults(func=_cmd_check)

    e = subparsers.add_parser("export", help="export a pending version into the corpus (atomic, watermarked)")
    e.add_argument("workspace", type=Path)
    e.add_argument("version", help="pending version id or path")
    e.add_argument("--override-reason", default=None, help="export despite failing checks; the reason is recorded")
    e.add_argument("--uploader", default=None, help="who exports (default: the source item's owner)")
    e.add_argument("--crf", type=int, default=23)
    e.add_argument("--preset", default="veryfast")
    add_json_flag(e)
    e.set_defaults(func=_cmd_export)

    cmp_ = subparsers.add_parser("compare", help="what a pending version is compared with (the window's compare "
                                 "player); --out writes them side by side")
    cmp_.add_argument("workspace", type=Path)
    cmp_.add_argument("version", help="pending version id or path")
    cmp_.add_argument("--out", type=Path, default=None, help="write original | version side by side to this .mp4")
    cmp_.add_argument("--height", type=int, default=360, help="picture height of --out (default 360)")
    add_json_flag(cmp_)
    cmp_.set_defaults(func=_cmd_compare)

    v = subparsers.add_parser("versions", help="list the pending versions of a workspace")
    v.add_argument("workspace", type=Path)
    add_json_flag(v)
    v.set_defaults(func=_cmd_versions)

    d = subparsers.add_parser("discard", help="move a pending version to the trash (undo with `generec restore`)")
    d.add_argument("workspace", metavar="W")
    d.add_argument("version", metavar="VERSION", help="pending version id (see `generec versions`)")
    add_json_flag(d)
    d.set_defaults(func=_cmd_discard)
    r = subparsers.add_parser("restore", help="bring a discarded version back from the trash")
    r.add_argument("workspace", metavar="W")
    r.add_argument("version", metavar="VERSION")
    add_json_flag(r)
    r.set_defaults(func=_cmd_restore)

    p = subparsers.add_parser("provenance", help="provenance manifests")
    sub = p.add_subparsers(dest="provenance_command", metavar="ACTION", required=True)
    pv = sub.add_parser("verify", help="read and validate a file's Content Credentials (C2PA, offline), its "
                        "GeneRec manifest and its watermark: who made it, from what, how, and whether it changed")
    pv.add_argument("file", type=Path)
    pv.add_argument("--manifest", type=Path, default=None, help="the sidecar (default: found beside the file)")
    pv.add_argument("--workspace", type=Path, default=None,
                    help="name the version the watermark belongs to among this workspace's exports")
    pv.add_argument("--trust-anchors", type=Path, default=None, metavar="PEM",
                    help="also trust the CA certificates in this PEM file (e.g. a partner's)")
    pv.add_argument("--no-watermark", action="store_true", help="skip the watermark check")
    pv.add_argument("--no-credentials", action="store_true", help="skip the C2PA Content Credentials")
    add_json_flag(pv)
    pv.set_defaults(func=_cmd_verify)

    pi = sub.add_parser("identity", help="show or choose the certificate exports are signed with (C2PA)")
    pi.add_argument("--cert", type=Path, default=None,
                    help="your organisation's certificate chain (PEM, end-entity first): sign with it from now on")
    pi.add_argument("--key", type=Path, default=None, help="its private key (PEM, unencrypted)")
    pi.add_argument("--tsa-url", default=None, help="an RFC 3161 timestamp authority asked at each signing")
    pi.add_argument("--trust-anchors", type=Path, default=None, metavar="PEM",
                    help="CA certificates to trust when verifying (kept with the organisation's identity)")
    pi.add_argument("--local", action="store_true", help="go back to this installation's local identity")
    add_json_flag(pi)
    pi.set_defaults(func=_cmd_identity)


def _parse_fixes(raw: list[str]) -> list[tuple[str, str | None]]:
    from generec_desktop.jobs import GenerecError

    out: list[tuple[str, str | None]] = []
    for f in raw:
        name, eq, value = f.partition("=")
        name = name.strip().lower().replace("_", "-")
        if name in ("blur", "pixelate", "restore-faces") and not eq:
            out.append((name, None))
        elif name in ("licence", "license", "author") and eq:
            out.append(("licence" if name == "license" else name, value))
        else:
            raise GenerecError(f"Unknown fix {f!r}; use blur, pixelate, restore-faces, licence=TEXT or author=TEXT.")
    return out


def _cmd_check(args: argparse.Namespace) -> int:
    from generec_desktop.fidelity import export as ex
    from generec_desktop.fidelity.checks import CheckContext, run_checks
    from generec_desktop.jobs import GenerecError
    from generec_desktop.versions import open_workspace

    fixes = _parse_fixes(list(args.fix) + (["blur"] if args.blur else []))
    applied: list[dict[str, Any]] = []
    with open_workspace(args.workspace) as ws, progress_bar(args, "check") as progress:
        target = str(args.target)
        pv = None
        # an all-digit name is an item id unless a pending version has that id (version ids are hex)
        if target.isdigit() and not Path(target).exists() and not (ws.root / ex.PENDING_DIR / target).is_dir():
            if fixes:
                raise GenerecError("Fixes apply to pending versions; give a version id (see `generec versions`).")
            rep = ex.check_item(ws, int(target), frames=args.frames, progress=progress, cancel=args.cancel)
        else:
            try:
                pv = ex.load_pending(ws, target)
            except ex.VersionError:
                if not Path(target).is_file():
                    raise
            if pv is not None:
                rep = ex.check_version(ws, pv, frames=args.frames, progress=progress, cancel=args.cancel)
            else:
                if fixes:
                    raise GenerecError("Fixes apply to pending versions of the workspace, not to a plain file.")
                ctx = CheckContext(original=args.original, kind="ai_edited" if args.original else "ai_created")
                rep = run_checks(Path(target), ctx, frames=args.frames, progress=progress, cancel=args.cancel)
        meta = {k: v for k, v in fixes if k in ("licence", "author")}
        if pv is not None and meta:
            pv, old = ex.set_version_licence(ws, pv, licence=meta.get("licence"), author=meta.get("author"))
            rep = ex.check_version(ws, pv, frames=args.frames, cancel=args.cancel)
            applied.append({"fix": "licence", "version": pv.id, "licence": pv.licence, "author": pv.author,
                            "previous": old, "status": rep.status})
        for name, _ in fixes:
            if pv is None or name not in ("blur", "pixelate", "restore-faces"):
                continue
            if name == "restore-faces":
                new = ex.restore_faces_version(ws, pv, cancel=args.cancel)
            else:
                new = ex.blur_version(ws, pv, method=name, cancel=args.cancel)
            new_rep = ex.check_version(ws, new, frames=args.frames, cancel=args.cancel)
            applied.append({"fix": name, "version": new.id, "from": pv.id, "status": new_rep.status,
                            "report": new_rep.to_dict(), "_report": new_rep})

    def text() -> str:
        s = rep.summary(details=args.details)
        for a in applied:
            if a["fix"] == "licence":
                s += (f"\nrecorded in version {a['version']}: licence {a['licence'] or '-'}, author "
                      f"{a['author'] or '-'} (checked again above)")
            else:
                done = {"blur": "faces and plates blurred", "pixelate": "faces and plates pixelated",
                        "restore-faces": "face colours restored"}[a["fix"]]
                s += f"\n{done} into the new pending version {a['version']}:\n" + a["_report"].summary(
                    details=args.details)
        return s

    data = {**rep.to_dict(), "fixes_applied": [{k: v for k, v in a.items() if k != "_report"} for a in applied]}
    if any(a["fix"] == "blur" for a in applied):
        data["blurred_version"] = next(a["version"] for a in applied if a["fix"] == "blur")
    emit(args, data, text)
    return 1 if rep.failed else 0


def _cmd_export(args: argparse.Namespace) -> int:
    from generec_desktop.fidelity import export as ex
    from generec_desktop.versions import open_workspace

    with open_workspace(args.workspace) as ws, progress_bar(args, "export") as progress:
        res = ex.run_export(ws, args.version, override_reason=args.override_reason, uploader=args.uploader,
                            crf=args.crf, preset=args.preset, progress=progress, cancel=args.cancel)

    def text() -> str:
        lines = [f"exported version {res.version_id} as item {res.item.id} ({res.item.kind}, "
                 f"watermark {res.payload:08x}) in {res.seconds:.1f} s",
                 f"checks: {res.report.status}" + (" (overridden: reason recorded)" if res.overridden else ""),
                 f"manifest: {res.sidecar}"]
        if res.credentials:
            c = res.credentials
            lines.append(f"content credentials (C2PA): signed by {c['signer']}, {c['bytes_added'] / 1000:.1f} KB, "
                         f"{c['sign_seconds']:.2f} s")
        for r in res.rank:
            target = "  (target: recommended directly)" if r.targeted else ""
            lines.append(f"  {r.label[:40]:<40} rank {r.rank}/{r.of}{target}  ({r.audience})")
        return "\n".join(lines)

    data = {"item": res.item, "version_id": res.version_id, "payload_hex": f"{res.payload:08x}",
            "overridden": res.overridden, "sidecar": res.sidecar, "status": res.report.status,
            "rank": [{**r.__dict__, "percentile": r.percentile} for r in res.rank], "seconds": res.seconds,
            "timings": res.timings, "content_credentials": res.credentials}
    emit(args, data, text)
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from generec_desktop.corpus import Workspace
    from generec_desktop.versions.compare import compare_pair, render_side_by_side

    with Workspace.open(args.workspace) as ws:
        pair = compare_pair(ws, args.version)
    data = pair.to_dict()
    if args.out is not None:
        with progress_bar(args, "Side by side") as progress:
            data["out"] = str(render_side_by_side(pair, args.out, height=args.height, progress=progress,
                                                  cancel=args.cancel))
    lines = [pair.title, f"  version:  {pair.version}  ({pair.version_label})",
             f"  original: {pair.original or '—'}  ({pair.original_label})"]
    if pair.offset:
        lines.append(f"  the version's 0 s is the original's {pair.offset:.3f} s")
    if pair.note:
        lines.append(f"  note: {pair.note}")
    if args.out is not None:
        lines.append(f"  written side by side to {data['out']}")
    emit(args, data, "\n".join(lines))
    return 0


def _cmd_versions(args: argparse.Namespace) -> int:
    from generec_desktop.fidelity import export as ex
    from generec_desktop.profiles.service import describe_audience
    from generec_desktop.versions import open_workspace

    with open_workspace(args.workspace) as ws:
        versions = ex.list_pending(ws)
        names = {v.target_profile: describe_audience(ws, v.target_profile) for v in versions if v.target_profile}
    rows = [{"id": v.id, "operation": v.operation, "kind": v.kind, "parent_id": v.parent_id,
             "target_profile": v.target_profile, "exported_item_id": v.exported_item_id, "media": v.media}
            for v in versions]
    emit(args, rows, lambda: "\n".join(
        f"{r['id']}  {r['operation']:<9} {r['kind']:<10} parent={r['parent_id']} "
        f"for={names.get(r['target_profile'], 'everyone')}"
        + (f"  exported as item {r['exported_item_id']}" if r["exported_item_id"] else "") for r in rows)
        or "no pending versions")
    return 0


def _cmd_discard(args: argparse.Namespace) -> int:
    from generec_desktop.versions import discard_version, open_workspace

    with open_workspace(args.workspace) as ws:
        dest = discard_version(ws, args.version)
    emit(args, {"version": args.version, "trash": dest},
         f"Discarded version {args.version} (kept in {dest}; `generec restore {args.workspace} {args.version}` "
         "brings it back).")
    return 0


def _cmd_restore(args: argparse.Namespace) -> int:
    from generec_desktop.versions import open_workspace, restore_version

    with open_workspace(args.workspace) as ws:
        pv = restore_version(ws, args.version)
    emit(args, {"version": pv.id, "media": pv.media}, f"Restored version {pv.id}.")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from generec_desktop.fidelity.credentials import CredentialsError
    from generec_desktop.fidelity.provenance import verify_file

    extra = None
    if args.trust_anchors is not None:
        try:
            extra = args.trust_anchors.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CredentialsError(f"Cannot read the trust anchors {args.trust_anchors} ({exc}).") from exc
    res = verify_file(args.file, manifest_path=args.manifest, watermark=not args.no_watermark,
                      credentials=not args.no_credentials, workspace=args.workspace, extra_anchors=extra)
    emit(args, {"file": res.file, "manifest": res.manifest_path, "ok": res.verdict_ok, "generec_ok": res.ok,
                "generec_status": res.status, "sha256": res.file_sha256, "checks": res.checks,
                "problems": res.problems,
                "credentials": res.credentials.to_dict() if res.credentials is not None else None,
                "watermark_payload": res.watermark_payload, "identified": res.identified}, res.summary())
    return 0 if res.verdict_ok else 1


def _cmd_identity(args: argparse.Namespace) -> int:
    from generec_desktop.fidelity import credentials as cr

    if args.local and (args.cert or args.key):
        raise cr.CredentialsError("Give either --local or --cert/--key, not both.")
    if args.cert or args.key:
        if not (args.cert and args.key):
            raise cr.CredentialsError("Give both --cert and --key.")
        ident = cr.use_organisation_identity(args.cert, args.key, tsa_url=args.tsa_url,
                                             trust_anchors_file=args.trust_anchors)
        line = f"exports are now signed by {ident.describe()} (a test signature succeeded)"
    else:
        if args.tsa_url or args.trust_anchors:
            raise cr.CredentialsError("--tsa-url and --trust-anchors go with --cert and --key.")
        forgot = cr.forget_organisation_identity() if args.local else False
        ident = cr.signing_identity()
        line = ("back to the local identity: " if forgot else "exports are signed by ") + ident.describe()
        if ident.source == "local":
            line += (f"\nlocal CA (the trust anchor): {cr.identity_dir() / 'local' / 'ca.pem'}; to sign with your "
                     "organisation's certificate: generec provenance identity --cert CHAIN.pem --key KEY.pem "
                     f"[--tsa-url URL], or set {cr.CERT_ENV} and {cr.KEY_ENV}")
    emit(args, {"subject": ident.subject, "issuer": ident.issuer, "not_after": ident.not_after,
                "source": ident.source, "alg": ident.alg, "tsa_url": ident.tsa_url,
                "folder": cr.identity_dir()}, line)
    return 0
