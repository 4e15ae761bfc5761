"""Make the fuzzing seed files (tests/media/test_fuzz.py): tiny real videos, one per container family.

    PYTHONPATH=. .venv/bin/python tests/data/fuzz-seeds/make_seeds.py

Committed, so the fuzz run is the same everywhere (an encoder upgrade would change the bytes); each is
a few kilobytes: 64x48, 12 frames, a keyframe every 6 and (where the codec has them) B-frames, audio
in most, so mutations reach the video, audio, index and header paths alike.
"""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # tests/, for mediagen

import mediagen  # noqa: E402

#: name -> (video codec, pixel format, audio codec or None, muxer options)
SEEDS = {
    "h264-aac.mp4": ("libx264", "yuv420p", "aac", {"movflags": "+faststart"}),
    "vp9-opus.webm": ("libvpx-vp9", "yuv420p", "libopus", {}),
    "h264-ac3.mkv": ("libx264", "yuv420p", "ac3", {}),
    "mpeg2-mp2.ts": ("mpeg2video", "yuv420p", "mp2", {}),
    "mpeg4-mp3.avi": ("mpeg4", "yuv420p", "libmp3lame", {}),
}


def make(path: Path, vcodec: str, pix_fmt: str, acodec: str | None, options: dict[str, str]) -> Path:
    n, fps = 12, 12
    with av.open(str(path), "w", options=options) as out:
        vs = out.add_stream(vcodec, rate=fps)
        vs.width, vs.height, vs.pix_fmt = 64, 48, pix_fmt
        vs.codec_context.gop_size = 6
        if vcodec == "libx264":
            vs.codec_context.options = {"keyint": "6", "min-keyint": "6", "scenecut": "0", "crf": "35"}
        elif vcodec == "libvpx-vp9":
            vs.codec_context.options = {"crf": "50", "b": "0", "deadline": "realtime", "cpu-used": "8"}
        else:
            vs.codec_context.bit_rate = 60_000
            vs.codec_context.max_b_frames = 2
        a = None
        if acodec is not None:
            rate = 48000
            a = out.add_stream(acodec, rate=rate, layout="mono")
            a.bit_rate = 32_000
        for i in range(n):
            f = av.VideoFrame.from_ndarray(mediagen.barcode_image(i, 64, 48), format="rgb24")
            f.pts = i
            for p in vs.encode(f):
                out.mux(p)
        for p in vs.encode():
            out.mux(p)
        if a is not None:
            total = rate * n // fps
            step = a.codec_context.frame_size or 960
            resample = av.AudioResampler(format=a.codec_context.format.name, layout="mono", rate=rate)
            t = np.arange(total, dtype=np.float32) / rate
            tone = (0.2 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)[None]
            for s0 in range(0, total, step):
                af = av.AudioFrame.from_ndarray(np.ascontiguousarray(tone[:, s0 : s0 + step]), format="fltp",
                                                layout="mono")
                af.sample_rate, af.pts, af.time_base = rate, s0, Fraction(1, rate)
                for converted in resample.resample(af):
                    for p in a.encode(converted):
                        out.mux(p)
            for p in a.encode():
                out.mux(p)
    return path


if __name__ == "__main__":
    for name, spec in SEEDS.items():
        path = make(HERE / name, *spec)
        print(f"{name}: {path.stat().st_size} bytes")
