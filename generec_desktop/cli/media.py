"""``generec probe FILE [--json]``: what is in a video file."""

from __future__ import annotations

import argparse
from pathlib import Path

from generec_desktop.cli_support import add_json_flag, emit


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the media subcommands."""
    p = subparsers.add_parser("probe", help="describe a video file (frames, timing, size, audio)",
                              description="Describe a video file: exact frame count, frame rate, "
                              "display size and rotation, codecs, audio and cover, and any damage "
                              "repaired while reading it (the JSON's \"warnings\").")
    p.add_argument("file", type=Path, help="the video file")
    add_json_flag(p)
    p.set_defaults(func=_cmd_probe)


def _cmd_probe(args: argparse.Namespace) -> int:
    from generec_desktop.media.probing import probe

    info = probe(args.file)

    def text() -> str:
        rot = f", rotated {info.rotation}°" if info.rotation else ""
        rot += ", mirrored" if info.mirrored else ""
        sar = info.sample_aspect_ratio
        rot += f" (coded {info.coded_width}x{info.coded_height}, pixels {sar[0]}:{sar[1]})" if sar != (1, 1) else ""
        vfr = " (variable)" if info.variable_frame_rate else ""
        audio = (f"{info.audio_codec} {info.audio_sample_rate} Hz, {info.audio_channels} ch, "
                 f"{info.audio_duration:.3f} s" if info.has_audio and info.audio_duration is not None
                 else ("yes" if info.has_audio else "none"))
        lines = [
            f"{info.path.name}: {info.container}",
            f"  video: {info.video_codec} {info.pixel_format}, {info.width}x{info.height}{rot}",
            f"  frames: {info.frame_count} in {info.duration:.3f} s at {info.fps:.3f} fps{vfr}",
            f"  audio: {audio}",
            f"  cover: {'yes' if info.has_cover else 'no'}",
        ]
        lines += [f"  {k}: {v}" for k, v in info.metadata.items()]
        lines += [f"  damaged: {w}" for w in info.warnings]  # usable, but say what was repaired
        return "\n".join(lines)

    emit(args, info, text)
    return 0
