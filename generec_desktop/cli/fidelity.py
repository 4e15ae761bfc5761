"""``generec watermark detect FILE``, ``generec watermark embed FILE --payload HEX --out FILE``,
``generec watermark key export|import FILE`` (the installation's secret key, shared within a team) and
``generec artwork W ITEM [--for AUDIENCE] [--remove] [--json]`` (the artwork stored per audience)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from generec_desktop.cli_support import add_json_flag, emit, progress_bar

if TYPE_CHECKING:
    import numpy as np

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``watermark`` command group and ``artwork``."""
    a = subparsers.add_parser(
        "artwork", help="the artwork (image per audience) stored for an item: list it, or remove one",
        description="List the artwork stored for ITEM, one image per audience (path, audience, score, source "
                    "time, whether its watermark reads back), or remove one audience's with --remove --for A. "
                    "Store artwork with `generec personalize W ITEM --profiles ... --artwork` or the window's "
                    "Thumbnails tab.")
    a.add_argument("workspace", type=Path)
    a.add_argument("item", help="item id or external id")
    a.add_argument("--for", dest="audience", default=None, metavar="AUDIENCE",
                   help="one audience: an id (segment:0, examples:1) or a name ('Segment 1', 'Cyclists')")
    a.add_argument("--remove", action="store_true", help="remove the artwork of --for AUDIENCE (the file is "
                   "kept in the workspace's cache/artwork-trash/, never deleted)")
    a.add_argument("--no-verify", action="store_true", help="skip reading each watermark back (faster)")
    _add_key_args(a)
    add_json_flag(a)
    a.set_defaults(func=_cmd_artwork)

    p = subparsers.add_parser("watermark", help="embed or detect the invisible watermark")
    sub = p.add_subparsers(dest="watermark_command", metavar="ACTION", required=True)

    d = sub.add_parser("detect", help="look for a watermark in a video or image")
    d.add_argument("file", type=Path)
    d.add_argument("--max-frames", type=int, default=48, help="frames sampled from a video (default 48)")
    d.add_argument("--expect", action="append", default=[], metavar="HEX",
                   help="a payload you know (e.g. from a manifest): identified even where a blind read fails, "
                        "as in a single frame (repeatable)")
    d.add_argument("--workspace", type=Path, default=None,
                   help="identify the mark among this workspace's exported versions")
    _add_key_args(d)
    add_json_flag(d)
    d.set_defaults(func=_cmd_detect)

    e = sub.add_parser("embed", help="write a watermarked copy of a video or image")
    e.add_argument("file", type=Path)
    e.add_argument("--payload", required=True, help="32-bit payload in hex, e.g. 5ec0ffee")
    e.add_argument("--out", required=True, type=Path, help="output file (a new file; the input is kept)")
    e.add_argument("--strength", type=float, default=None, help="mark amplitude in luma levels")
    e.add_argument("--crf", type=int, default=23, help="x264 CRF of a video output (default 23)")
    _add_key_args(e)
    add_json_flag(e)
    e.set_defaults(func=_cmd_embed)

    k = sub.add_parser("key", help="export or import this installation's secret watermark key")
    ksub = k.add_subparsers(dest="key_command", metavar="ACTION", required=True)
    kx = ksub.add_parser("export", help="write the key to a new file (share it only within your team)")
    kx.add_argument("file", type=Path)
    add_json_flag(kx)
    kx.set_defaults(func=_cmd_key_export)
    ki = ksub.add_parser("import", help="install a teammate's key as this installation's key")
    ki.add_argument("file", type=Path)
    ki.add_argument("--replace", action="store_true",
                    help="replace a different existing key (the old one is kept as a backup)")
    add_json_flag(ki)
    ki.set_defaults(func=_cmd_key_import)
    kp = ksub.add_parser("path", help="print where the key is kept")
    add_json_flag(kp)
    kp.set_defaults(func=_cmd_key_path)


def _add_key_args(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--key", default=None, help="watermark key string (default: this installation's secret key)")
    g.add_argument("--key-file", type=Path, default=None,
                   help="read the key from this file (e.g. a teammate's export or an old key's backup)")


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def _read_image(path: Path) -> np.ndarray:
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    from generec_desktop.fidelity.watermark import WatermarkError

    if not path.is_file():
        raise WatermarkError(f"{path} does not exist or is not a file.")
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, OSError) as exc:
        raise WatermarkError(f"{path} is not a readable image ({exc}).") from exc


def _key(args: argparse.Namespace) -> str | None:
    """The key the user named, or None: the installation's secret key (see fidelity.watermark_key)."""
    if args.key_file is not None:
        from generec_desktop.fidelity.watermark_key import read_key_file

        return read_key_file(args.key_file)
    if args.key is not None and not args.key:
        from generec_desktop.fidelity.watermark import WatermarkError

        raise WatermarkError("--key must not be empty.")
    return args.key


def _known_payloads(args: argparse.Namespace) -> list[int] | None:
    """The payloads named with ``--expect`` and those of ``--workspace``'s exported items."""
    from generec_desktop.fidelity.watermark import WatermarkError

    known: list[int] = []
    for text in args.expect:
        try:
            value = int(text.removeprefix("0x"), 16)
        except ValueError as exc:
            raise WatermarkError(f"--expect {text!r} is not a hexadecimal number.") from exc
        if not 0 <= value < 2 ** 32:
            raise WatermarkError(f"--expect {text!r} does not fit in 32 bits.")
        known.append(value)
    if args.workspace is not None:
        from generec_desktop.corpus import Workspace

        with Workspace.open(args.workspace) as ws:
            known += [int(it.watermark_payload, 16) for it in ws.items() if it.watermark_payload]
    return known or None


def _cmd_detect(args: argparse.Namespace) -> int:
    from generec_desktop.fidelity import watermark as wm

    known = _known_payloads(args)
    still = None
    if _is_image(args.file):
        from generec_desktop.fidelity import still_mark as sm

        image = _read_image(args.file)
        still = sm.detect_still(image, key=_key(args))  # artwork and upload-package thumbnails
        det = wm.detect_images([image], key=_key(args), candidates=known)
        if still.found and not det.found:
            from dataclasses import replace

            det = replace(det, found=True, payload=still.payload, crc_ok=True, pilot_z=still.pilot_z,
                          confidence=min(1.0, max(0.0, (still.pilot_z - 2.0) / 6.0)), bit_accuracy_estimate=1.0)
    else:
        with progress_bar(args, "detect") as progress:
            det = wm.detect_video(args.file, max_frames=args.max_frames, key=_key(args), candidates=known,
                                  progress=progress, cancel=args.cancel)

    def text() -> str:
        if det.found:
            line = (f"watermark found: payload {det.payload:08x} (confidence {det.confidence:.2f}, "
                    f"{det.frames_used} frames)")
            if det.geometry:
                line += f" after undoing {det.geometry}"
            if det.identified_among:
                line += f"; identified among {det.identified_among} known payload(s), too faint to read blind"
            if det.legacy_key:
                line += "; marked with the old public key, so not proof of origin"
            return line
        return f"no watermark (confidence {det.confidence:.2f}, {det.frames_used} frames)"

    data = {"file": str(args.file), **{k: getattr(det, k) for k in det.__dataclass_fields__}}
    if still is not None:
        data["still_mark"] = {"found": still.found, "payload": still.payload, "pilot_z": still.pilot_z}
    if det.payload is not None:
        data["payload_hex"] = f"{det.payload:08x}"
    emit(args, data, text)
    return 0


def _cmd_embed(args: argparse.Namespace) -> int:
    from generec_desktop.fidelity import watermark as wm

    try:
        payload = int(args.payload.removeprefix("0x"), 16)
    except ValueError as exc:
        raise wm.WatermarkError(f"--payload {args.payload!r} is not a hexadecimal number.") from exc
    if args.file.resolve() == args.out.resolve():
        raise wm.WatermarkError("--out must be a different file from the input.")
    if _is_image(args.file):
        from PIL import Image

        marked = wm.embed_image(_read_image(args.file), payload, strength=args.strength, key=_key(args))
        if not _is_image(args.out):
            raise wm.WatermarkError("The output of an image must be an image file (.png, .jpg...).")
        from generec_desktop.safefiles import atomic_path

        with atomic_path(args.out) as tmp:
            Image.fromarray(marked).save(tmp, quality=95, format=Image.registered_extensions().get(
                args.out.suffix.lower(), "PNG"))
        frames = 1
    else:
        with progress_bar(args, "watermark") as progress:
            res = wm.watermark_video(args.file, args.out, payload, crf=args.crf, strength=args.strength,
                                     key=_key(args), progress=progress, cancel=args.cancel)
        frames = res.frames
    emit(args, {"file": str(args.file), "out": str(args.out), "payload_hex": f"{payload:08x}",
                "frames": frames}, f"wrote {args.out} with payload {payload:08x} ({frames} frames)")
    return 0


def _cmd_key_export(args: argparse.Namespace) -> int:
    from generec_desktop.fidelity.watermark_key import export_key, key_path

    out = export_key(args.file)
    emit(args, {"file": str(out), "key_file": str(key_path())},
         f"wrote this installation's watermark key to {out} (keep it secret: it can forge your marks)")
    return 0


def _cmd_key_import(args: argparse.Namespace) -> int:
    from generec_desktop.fidelity.watermark_key import import_key

    res = import_key(args.file, replace=args.replace)
    if not res.changed:
        line = f"{res.path} already holds this key; nothing changed"
    elif res.backup is not None:
        line = f"installed the key from {args.file} at {res.path}; the old key is kept at {res.backup}"
    else:
        line = f"installed the key from {args.file} at {res.path}"
    emit(args, {"file": str(args.file), "key_file": str(res.path), "changed": res.changed,
                "backup": str(res.backup) if res.backup else None}, line)
    return 0


def _cmd_key_path(args: argparse.Namespace) -> int:
    from generec_desktop.fidelity.watermark_key import key_path

    path = key_path()
    emit(args, {"key_file": str(path), "exists": path.exists()},
         f"{path}" + ("" if path.exists() else " (not made yet: made on first use)"))
    return 0


def _artwork_audience(ws: object, ref: str, rows: list) -> str:  # type: ignore[type-arg]
    """The audience id ``ref`` names: a stored row's id or label first (its audience may be gone), else
    the workspace's audiences by id or name."""
    text = " ".join(ref.split())
    for r in rows:
        if text == r.audience_id or text.casefold() == str(r.audience_label or "").casefold():
            return str(r.audience_id)
    from generec_desktop.cli.audiences import resolve_audience_ids

    ids = resolve_audience_ids(ws, [text])
    return ids[0]


def _cmd_artwork(args: argparse.Namespace) -> int:
    from generec_desktop.corpus import Workspace
    from generec_desktop.editor.personalize.pipeline import resolve_item
    from generec_desktop.fidelity import artwork as art
    from generec_desktop.jobs import GenerecError

    key = _key(args)
    with Workspace.open(args.workspace) as ws:
        info = resolve_item(ws, args.item)
        rows = art.list_artwork(ws, info.id)
        if args.remove:
            if not args.audience:
                raise GenerecError("Say whose artwork to remove: --remove --for AUDIENCE.")
            aid = _artwork_audience(ws, args.audience, rows)
            old = art.remove(ws, info.id, aid)
            data = {"item_id": info.id, "removed": old.to_dict()}
            emit(args, data, f"Removed the artwork of item {info.id} for {old.audience_label or aid} "
                             f"({old.path}; the file is kept in cache/{art.TRASH_DIR}/ while nothing uses it).")
            return 0
        if args.audience:
            aid = _artwork_audience(ws, args.audience, rows)
            rows = [r for r in rows if r.audience_id == aid]
        entries = []
        for r in rows:
            e = r.to_dict()
            e["file"] = str(ws.root / r.path)
            if not args.no_verify:
                chk = art.verify(ws, r, key=key)
                e["watermark_read_back"] = chk.watermark and chk.after_attack
                e["file_ok"] = chk.present and chk.hash_ok
                e["problem"] = chk.problem or None
            entries.append(e)

    def text() -> str:
        if not entries:
            who = f" for {args.audience}" if args.audience else ""
            return (f"Item {info.id} has no artwork{who} yet; store some with `generec personalize "
                    f"{args.workspace} {args.item} --profiles ... --artwork`.")
        lines = [f"Artwork of item {info.id} ({info.title}): {len(entries)} audience(s)"]
        for e in entries:
            at = f" at {e['source_time']:.2f} s" if e["source_time"] is not None else ""
            score = f"score {e['score']:.3f}" if e["score"] is not None else "no score"
            mark = ""
            if "watermark_read_back" in e:
                mark = ("; watermark reads back" if e["watermark_read_back"] else
                        "; WATERMARK NOT READ BACK") + ("" if e["file_ok"] else f" ({e['problem']})")
            lines.append(f"  {e['audience_label'] or e['audience_id']} ({e['audience_id']}): {e['path']} "
                         f"{e['width']}×{e['height']} {e['format']}, {score}{at}, {e['generator']}{mark}")
        return "\n".join(lines)

    emit(args, {"item_id": info.id, "artwork": entries}, text)
    return 0
