"""Render for upload: wall time and realtime factor of each preset on a real-sized phone clip (issue 16.6).

The source is made here with PyAV: a portrait 1080×1920 clip at 30 fps with stereo AAC audio (default 30 s),
panning over scikit-image's photos (natural texture, hard cuts) with a bright object crossing the frame
(something for the reframing to follow), encoded like a phone (H.264, CRF 18). Each preset renders the
whole clip with ``versions.render.render``'s defaults (CRF 20 under the preset's bitrate cap, x264
veryfast, watermark read back, provenance written). Wall and process CPU seconds (all threads) are both
printed: on a shared machine the CPU time is the steadier number. Realtime factor = video seconds ÷ wall s.

Run: .venv/bin/python benchmarks/render.py [--seconds 30] [--presets vertical,square,...] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def make_phone_clip(path: Path, seconds: float, width: int = 1080, height: int = 1920, fps: int = 30) -> Path:
    """A portrait H.264 + AAC clip with real photo texture, a cut every few seconds and a moving object."""
    import av
    import cv2
    import numpy as np
    from skimage import data

    photos = [cv2.resize(p, (width + width // 2, height + height // 4), interpolation=cv2.INTER_AREA)
              for p in (data.astronaut(), data.coffee(), data.chelsea(), data.rocket())]
    n = round(seconds * fps)
    with av.open(str(path), "w", options={"movflags": "+faststart"}) as out:
        vs = out.add_stream("libx264", rate=fps, options={"crf": "18", "preset": "veryfast"})
        vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
        vs.codec_context.time_base = Fraction(1, fps)
        a = out.add_stream("aac", rate=48000, layout="stereo")
        for i in range(n):
            shot = (i * len(photos) * 2 // max(1, n)) % len(photos)  # a hard cut every n/8 frames
            big = photos[shot]
            dx = (i * 4) % (big.shape[1] - width)
            img = np.ascontiguousarray(big[: height, dx: dx + width])
            ox = int((i % (2 * fps)) / (2 * fps) * (width - 200))
            cv2.circle(img, (ox + 100, height // 3), 90, (250, 240, 60), -1)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            for packet in vs.encode(frame):
                out.mux(packet)
        for packet in vs.encode():
            out.mux(packet)
        total = round(n / fps * 48000)
        t = np.arange(total, dtype=np.float32) / 48000
        tone = (0.2 * np.sin(2 * np.pi * 330 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.5 * t))).astype(np.float32)
        samples = np.stack([tone, tone[::-1].copy()])
        for s0 in range(0, total, 1024):
            af = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples[:, s0: s0 + 1024]), format="fltp",
                                            layout="stereo")
            af.sample_rate, af.pts, af.time_base = 48000, s0, Fraction(1, 48000)
            for packet in a.encode(af):
                out.mux(packet)
        for packet in a.encode():
            out.mux(packet)
    return path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--presets", default="vertical,square,landscape-1080,landscape-720,original")
    ap.add_argument("--keep", type=Path, default=None, help="keep the source and the renders in this folder")
    args = ap.parse_args()

    from generec_desktop import media
    from generec_desktop.corpus import Workspace
    from generec_desktop.versions.render import render

    tmp = Path(tempfile.mkdtemp())
    keep = args.keep
    out_dir = keep or tmp
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        t = time.perf_counter()
        src = make_phone_clip(out_dir / "phone-1080x1920.mp4", args.seconds)
        info = media.probe(src)
        print(f"source: {info.width}×{info.height} {info.fps:g} fps {info.duration:.1f} s, "
              f"{src.stat().st_size / 1e6:.1f} MB, audio {info.audio_codec} {info.audio_channels} ch "
              f"(made in {time.perf_counter() - t:.0f} s)")
        print(f"cores: {os.cpu_count()}, load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        ws = Workspace.create(tmp / "ws")
        item = ws.import_media(src, title="phone").items[0]
        print(f"| {'preset':<14} | {'output':>9} | {'fit':>5} | {'wall s':>7} | {'CPU s':>7} | {'realtime ×':>10} | "
              f"{'reframe s':>9} | {'encode s':>8} | {'verify s':>8} | {'MB':>6} | {'Mbit/s':>6} |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for name in [p.strip() for p in args.presets.split(",") if p.strip()]:
            w0, c0 = time.perf_counter(), time.process_time()
            res = render(ws, item.id, name, out_dir / f"{name}.mp4", force=True)
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            tm = res.timings
            print(f"| {name:<14} | {res.width:>4}×{res.height:<4} | {res.fit:>5} | {wall:7.1f} | {cpu:7.1f} | "
                  f"{res.duration / wall:10.2f} | {tm.get('reframe', 0):9.1f} | {tm.get('encode', 0):8.1f} | "
                  f"{tm.get('verify', 0):8.1f} | {res.size / 1e6:6.1f} | {res.size * 8 / res.duration / 1e6:6.2f} |",
                  flush=True)
        ws.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
