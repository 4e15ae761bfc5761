"""Media layer timings: sampling 2 fps by seeking vs one sequential decode, and cut speed.

Builds a long-GOP 1080p H.264 clip (x264 default keyint 250) panning across scikit-image's real
photos, then times ``sample_frames(rate=2)`` with the planner forced to seek, forced not to, and
left to choose; and a 2 s frame-exact ``cut`` of bigbuckbunny.mp4 (720p) and of the 1080p clip.
Usage: .venv/bin/python benchmarks/bench_media.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import mediagen

from generec_desktop.media import cut, decode, probe, sample_frames


def _time(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the 1080p test clip")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "long_gop_1080p.mp4"
        n = round(args.seconds * 25)
        t_make = _time(lambda: mediagen.make_video(clip, width=1920, height=1080,
                                                   frames=mediagen.photo_frames(n, 1920, 1080), fps=25))
        info = probe(clip)
        keys = len(decode.scan(clip).keyframe_positions)
        print(f"clip: {info.width}x{info.height}, {info.frame_count} frames, {keys} keyframes "
              f"(made in {t_make:.1f} s)")
        rows = []
        default_cost = decode.SEEK_COST_FRAMES
        for label, cost in [("seek every sample", 0), ("sequential", 10**9), ("planner (default)", default_cost)]:
            decode.SEEK_COST_FRAMES = cost
            frames: list = []
            seconds = _time(lambda: frames.extend(sample_frames(clip, rate=2.0)))  # noqa: B023
            rows.append((f"sample 2 fps, {label}", seconds, f"{len(frames)} frames"))
        decode.SEEK_COST_FRAMES = default_cost
        bbb = mediagen.bigbuckbunny()
        mid = info.duration / 2
        for name, src, start in [("cut 2 s of bigbuckbunny 720p (+5.1 audio)", bbb, 1.5),
                                 ("cut 2 s of the 1080p clip (mid, long GOP)", clip, mid)]:
            out = Path(tmp) / f"cut{len(rows)}.mp4"
            seconds = _time(lambda: cut(src, start, start + 2.0, out))  # noqa: B023
            rows.append((name, seconds, f"{probe(out).frame_count} frames"))
        width = max(len(r[0]) for r in rows)
        print(f"{'operation':<{width}}  {'seconds':>8}  note")
        for name, seconds, note in rows:
            print(f"{name:<{width}}  {seconds:8.2f}  {note}")


if __name__ == "__main__":
    main()
