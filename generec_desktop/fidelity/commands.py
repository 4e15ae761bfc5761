"""``generec watermark detect FILE`` and ``generec watermark embed FILE --payload HEX --out FILE``."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from generec_desktop.cli_support import add_json_flag, emit, progress_bar

if TYPE_CHECKING:
    import numpy as np

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``watermark`` command group."""
    p = subparsers.add_parser("watermark", help="embed or detect the invisible watermark")
    sub = p.add_subparsers(dest="watermark_command", metavar="ACTION", required=True)

    d = sub.add_parser("detect", help="look for a watermark in a video or image")
    d.add_argument("file", type=Path)
    d.add_argument("--max-frames", type=int, default=48, help="frames sampled from a video (default 48)")
    d.add_argument("--key", default=None, help="watermark key (default: the app's key)")
    add_json_flag(d)
    d.set_defaults(func=_cmd_detect)

    e = sub.add_parser("embed", help="write a watermarked copy of a video or image")
    e.add_argument("file", type=Path)
    e.add_argument("--payload", required=True, help="32-bit payload in hex, e.g. 5ec0ffee")
    e.add_argument("--out", required=True, type=Path, help="output file (a new file; the input is kept)")
    e.add_argument("--strength", type=float, default=None, help="mark amplitude in luma levels")
    e.add_argument("--crf", type=int, default=23, help="x264 CRF of a video output (default 23)")
    e.add_argument("--key", default=None, help="watermark key (default: the app's key)")
    add_json_flag(e)
    e.set_defaults(func=_cmd_embed)


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


def _key(args: argparse.Namespace) -> str:
    from generec_desktop.fidelity.watermark import DEFAULT_KEY

    return args.key or DEFAULT_KEY


def _cmd_detect(args: argparse.Namespace) -> int:
    from generec_desktop.fidelity import watermark as wm

    if _is_image(args.file):
        det = wm.detect_images([_read_image(args.file)], key=_key(args))
    else:
        with progress_bar(args, "detect") as progress:
            det = wm.detect_video(args.file, max_frames=args.max_frames, key=_key(args),
                                  progress=progress, cancel=args.cancel)

    def text() -> str:
        if det.found:
            return (f"watermark found: payload {det.payload:08x} (confidence {det.confidence:.2f}, "
                    f"{det.frames_used} frames)")
        return f"no watermark (confidence {det.confidence:.2f}, {det.frames_used} frames)"

    data = {"file": str(args.file), **{k: getattr(det, k) for k in det.__dataclass_fields__}}
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
        fd, tmp = tempfile.mkstemp(suffix=args.out.suffix, dir=args.out.parent or Path("."))
        os.close(fd)
        try:
            Image.fromarray(marked).save(tmp, quality=95)
            os.replace(tmp, args.out)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        frames = 1
    else:
        with progress_bar(args, "watermark") as progress:
            res = wm.watermark_video(args.file, args.out, payload, crf=args.crf, strength=args.strength,
                                     key=_key(args), progress=progress, cancel=args.cancel)
        frames = res.frames
    emit(args, {"file": str(args.file), "out": str(args.out), "payload_hex": f"{payload:08x}",
                "frames": frames}, f"wrote {args.out} with payload {payload:08x} ({frames} frames)")
    return 0
