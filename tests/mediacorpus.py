"""A media torture corpus: real-world odd, damaged and hostile files, made at test time.

Every case is generated with PyAV (so ``pip install -e '.[dev]'`` is enough), except the few that
only the ffmpeg CLI or Debian's ``opencv-doc`` files can give; those report why they are missing
and the tests skip them. Each :class:`Case` says what a correct reader must do with its file:
``usable`` (decode it, reporting any damage as warnings) or refused with one clear line.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import mediagen
import numpy as np

__all__ = ["CASES", "MIRROR", "OPENCV_DOC", "SAR", "Case", "build", "ffmpeg_frame", "ffprobe_frames", "shown",
           "with_matrix"]

OPENCV_DOC = Path("/usr/share/doc/opencv-doc/examples/data")


class Missing(Exception):
    """The case cannot be made here (a codec, the ffmpeg CLI or a Debian file is absent)."""


@dataclass(frozen=True)
class Case:
    """One corpus file: how to make it and what a tolerant reader must do with it."""

    name: str
    make: Callable[[Path], Path]
    usable: bool  # False: must be refused with one MediaError line
    warns: tuple[str, ...] = ()  # words the probe's warnings must contain (damage reported)
    frames: int | None = None  # frames a reader must give (None: ffprobe's count, when it is installed)
    slow: bool = False  # too heavy for the default suite
    size: tuple[int, int] | None = None  # expected display size (w, h)
    # how its first frame (barcode_image(0, coded w, h)) is shown: a display matrix (a, b, c, d) for
    # :func:`shown`, or SAR: stretched to its display size
    shows: tuple[int, int, int, int] | str | None = None


#: the display matrix of a front camera's mirrored picture
MIRROR = (-1, 0, 0, 1)
#: ``Case.shows`` for a non-square sample aspect ratio: the coded picture stretched to the display size
SAR = "sar"


def _video(name: str, **kw: object) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        return mediagen.make_video(d / name, **kw)  # type: ignore[arg-type]
    return make


def _need_encoder(codec: str) -> None:
    try:
        av.codec.Codec(codec, "w")
    except Exception as exc:
        raise Missing(f"PyAV has no {codec} encoder") from exc


def _coded(name: str, codec: str, pix_fmt: str, n: int = 12, w: int = 96, h: int = 64,
           options: dict[str, str] | None = None) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        _need_encoder(codec)
        return mediagen.make_video(d / name, width=w, height=h, n_frames=n, codec=codec, pix_fmt=pix_fmt,
                                   options=options)
    return make


def _bytes(name: str, data: Callable[[], bytes]) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        (d / name).write_bytes(data())
        return d / name
    return make


def _base(d: Path, *, faststart: bool, n: int = 50) -> Path:
    """A 96x64, 2 s clip with audio, its index (moov) at the start or at the end."""
    path = d / f"base-{'fast' if faststart else 'slow'}.mp4"
    if path.exists():
        return path
    raw = mediagen.make_video(d / f".raw-{path.name}", width=96, height=64, n_frames=n, gop=10, audio=True)
    if not faststart:
        raw.rename(path)
        return path
    with av.open(str(raw)) as inp, av.open(str(path), "w", options={"movflags": "+faststart"}) as out:
        mapping = {s.index: out.add_stream_from_template(s) for s in inp.streams}
        for packet in inp.demux():
            if packet.dts is None:
                continue
            packet.stream = mapping[packet.stream.index]
            out.mux(packet)
    raw.unlink()
    return path


def _truncated(fraction: float, faststart: bool) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        src = _base(d, faststart=faststart)
        return mediagen.make_truncated(src, d / f"cut{int(fraction * 100)}-{'fast' if faststart else 'slow'}.mp4",
                                       fraction)
    return make


def _header_only(d: Path) -> Path:
    """The moov box of a fast-start MP4 and no frame data at all."""
    data = _base(d, faststart=True).read_bytes()
    pos = data.index(b"mdat") - 4
    (d / "header-only.mp4").write_bytes(data[: pos + 8])
    return d / "header-only.mp4"


def _corrupt_middle(name: str, src: Callable[[Path], Path], *, every: int = 0) -> Callable[[Path], Path]:
    """``src`` with a run of its middle bytes (inside the frame data) overwritten with noise."""
    def make(d: Path) -> Path:
        data = bytearray(src(d).read_bytes())
        rng = np.random.default_rng(7)
        mid = len(data) // 2
        if every:  # MPEG-TS: break whole 188-byte packets, sync bytes included
            start = mid - mid % 188
            for k in range(3):
                data[start + k * 188 * every : start + k * 188 * every + 188] = rng.integers(0, 256, 188).astype(
                    np.uint8).tobytes()
        else:
            data[mid : mid + 600] = rng.integers(0, 256, 600).astype(np.uint8).tobytes()
        (d / name).write_bytes(bytes(data))
        return d / name
    return make


def _mux(path: Path, packets: list[tuple[int | None, int | None, bytes, bool]], template: Path,
         fmt: str | None = None, options: dict[str, str] | None = None) -> Path:
    """Write ``packets`` (pts, dts, data, keyframe) as the video stream of ``path``, copying the codec
    of ``template``'s video: exact control over the timestamps a muxer writes."""
    with av.open(str(template)) as inp, av.open(str(path), "w", format=fmt, options=options or {}) as out:
        vs = out.add_stream_from_template(inp.streams.video[0])
        vs.time_base = inp.streams.video[0].time_base
        for pts, dts, data, key in packets:
            p = av.Packet(data)
            p.stream, p.pts, p.dts, p.is_keyframe = vs, pts, dts, key
            p.time_base = vs.time_base
            out.mux(p)
    return path


def _packets(src: Path) -> list[tuple[int | None, int | None, bytes, bool]]:
    with av.open(str(src)) as inp:
        return [(p.pts, p.dts, bytes(p), p.is_keyframe) for p in inp.demux(inp.streams.video[0]) if p.size]


def _intra(d: Path, n: int = 20) -> Path:
    """An all-keyframe 64x48 clip (no reordering): its packets can be re-timed freely."""
    path = d / ".intra.mkv"
    if not path.exists():
        mediagen.make_video(path, width=64, height=48, n_frames=n, fps=25, time_base=Fraction(1, 1000),
                            gop=1)
    return path


def _dup_mp4(d: Path) -> Path:
    """MP4 (VFR) with two frames sharing a presentation time (a muxer bug seen in phone apps)."""
    src = d / ".intra.mp4"
    mediagen.make_video(src, width=64, height=48, n_frames=20, gop=1)
    pk = _packets(src)
    step = pk[1][1] - pk[0][1]
    out = [(p[0] + step if i != 5 else pk[4][0] + step, p[1], p[2], p[3]) for i, p in enumerate(pk)]
    return _mux(d / "dup-pts.mp4", out, src)


def _dup_mkv(d: Path) -> Path:
    """MKV with duplicated timestamps (Matroska allows equal timestamps)."""
    src = _intra(d)
    pk = _packets(src)
    out = [(pk[i - 1][0] if i in (6, 12) else p[0], pk[i - 1][0] if i in (6, 12) else p[0], p[2], p[3])
           for i, p in enumerate(pk)]
    return _mux(d / "dup-pts.mkv", out, src)


def _no_timestamps_mkv(d: Path) -> Path:
    """MKV whose blocks carry no usable timestamps (what a muxer told to keep negative ones writes)."""
    src = _intra(d)
    out = [(p[0] - 200, p[1] - 200 if p[1] is not None else None, p[2], p[3]) for p in _packets(src)]
    return _mux(d / "no-timestamps.mkv", out, src, options={"avoid_negative_ts": "disabled"})


def _negative_ts(d: Path) -> Path:
    """MPEG-TS whose first frames lie before 0 (a cut that kept its pre-roll)."""
    src = mediagen.make_video(d / ".intra.ts", width=64, height=48, n_frames=20, codec="mpeg2video", gop=1)
    pk = _packets(src)
    step = pk[1][1] - pk[0][1]
    first = pk[0][1]
    out = [(p[0] - first - 3 * step, p[1] - first - 3 * step, p[2], p[3]) for p in pk]
    return _mux(d / "negative-start.ts", out, src, options={"avoid_negative_ts": "disabled"})


def _ts(d: Path, name: str, n: int = 25, offset: int = 0) -> Path:
    path = d / name
    mediagen.make_video(path, width=96, height=64, n_frames=n, codec="mpeg2video", gop=5, audio=False)
    return path


def _ts_concat(d: Path) -> Path:
    """Two MPEG-TS files concatenated (``cat a.ts b.ts``): timestamps jump back at the join."""
    a = _ts(d, ".a.ts", 20)
    b = mediagen.make_video(d / ".b.ts", width=96, height=64, n_frames=15, codec="mpeg2video", gop=5,
                            frames=[mediagen.barcode_image(20 + i, 96, 64) for i in range(15)])
    (d / "concat.ts").write_bytes(a.read_bytes() + b.read_bytes())
    return d / "concat.ts"


def _multi_video(d: Path) -> Path:
    """Two video streams (a camera's main and preview tracks): the first one is used."""
    path = d / "two-video.mkv"
    with av.open(str(path), "w") as out:
        streams = []
        for w, h in ((96, 64), (48, 32)):
            s = out.add_stream("libx264", rate=25)
            s.width, s.height, s.pix_fmt = w, h, "yuv420p"
            streams.append(s)
        for i in range(10):
            for s in streams:
                f = av.VideoFrame.from_ndarray(mediagen.barcode_image(i, s.width, s.height), format="rgb24")
                f.pts = i
                for p in s.encode(f):
                    out.mux(p)
        for s in streams:
            for p in s.encode():
                out.mux(p)
    return path


def _audio_video(name: str, *, layout: str = "stereo", rate: int = 48000, audio_seconds: float | None = None,
                 n: int = 25, codec: str = "aac") -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        path = d / name
        with av.open(str(path), "w") as out:
            vs = out.add_stream("libx264", rate=25)
            vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
            a = out.add_stream(codec, rate=rate, layout=layout)
            for i in range(n):
                f = av.VideoFrame.from_ndarray(mediagen.barcode_image(i, 64, 48), format="rgb24")
                f.pts = i
                for p in vs.encode(f):
                    out.mux(p)
            for p in vs.encode():
                out.mux(p)
            seconds = n / 25 if audio_seconds is None else audio_seconds
            total = round(seconds * rate)
            ch = av.AudioLayout(layout).nb_channels if hasattr(av.AudioLayout(layout), "nb_channels") \
                else len(av.AudioLayout(layout).channels)
            t = np.arange(total, dtype=np.float32) / rate
            tone = np.repeat((0.2 * np.sin(2 * np.pi * 300 * t))[None], ch, 0).astype(np.float32)
            step = a.codec_context.frame_size or 1024
            for s0 in range(0, total, step):
                af = av.AudioFrame.from_ndarray(np.ascontiguousarray(tone[:, s0 : s0 + step]), format="fltp",
                                                layout=layout)
                af.sample_rate, af.pts, af.time_base = rate, s0, Fraction(1, rate)
                for p in a.encode(af):
                    out.mux(p)
            for p in a.encode():
                out.mux(p)
        return path
    return make


def _gif(d: Path) -> Path:
    """An animated GIF (palette frames, 10 fps)."""
    from PIL import Image

    frames = [Image.fromarray(mediagen.barcode_image(i, 80, 60)) for i in range(8)]
    path = d / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return path


def _image_as_mp4(fmt: str) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        from PIL import Image

        path = d / f"{fmt.lower()}-named.mp4"
        Image.fromarray(mediagen.barcode_image(3, 80, 60)).save(path, format=fmt)
        return path
    return make


def shown(image: np.ndarray, matrix: tuple[int, int, int, int]) -> np.ndarray:
    """``image`` as a display matrix (a, b, c, d) shows it, straight from FFmpeg's definition (a coded
    pixel (x, y) goes to (a·x + c·y, b·x + d·y)): the reference the readers are held to."""
    a, b, c, d = matrix
    h, w = image.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w]
    xd, yd = a * xs + c * ys, b * xs + d * ys
    xd, yd = xd - xd.min(), yd - yd.min()
    out = np.zeros((yd.max() + 1, xd.max() + 1, *image.shape[2:]), image.dtype)
    out[yd, xd] = image[ys, xs]
    return out


def with_matrix(src: Path, dst: Path, matrix: tuple[int, int, int, int]) -> Path:
    """A copy of MP4 ``src`` whose track matrix is (a b; c d) (entries -1, 0, 1): the eight right-angle
    turns and mirrors a phone or an editor writes (a front camera's selfie is (-1 0; 0 1))."""
    data = bytearray(src.read_bytes())
    pos = data.index(b"tkhd") - 4
    version = data[pos + 8]
    at = pos + 8 + 4 + (32 if version == 1 else 20) + 16  # after times, ids, duration, layer/volume
    a, b, c, d = matrix
    with av.open(str(src)) as f:
        w, h = f.streams.video[0].width, f.streams.video[0].height
    # translation that keeps the picture at the origin, in 16.16 fixed point; w (2.30) = 1
    tx = (w if a < 0 else 0) + (h if c < 0 else 0)
    ty = (w if b < 0 else 0) + (h if d < 0 else 0)
    values = [a << 16, b << 16, 0, c << 16, d << 16, 0, tx << 16, ty << 16, 0x40000000]
    data[at : at + 36] = struct.pack(">9i", *values)
    dst.write_bytes(bytes(data))
    return dst


def _oriented(name: str, matrix: tuple[int, int, int, int]) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        src = mediagen.make_video(d / f".plain-{name}", width=96, height=64, n_frames=6)
        out = with_matrix(src, d / name, matrix)
        src.unlink()
        return out
    return make


def _anamorphic(sar: Fraction) -> Callable[[Path], Path]:
    """A 64x48 coded picture with a non-square sample aspect ratio (2:1 is shown 128x48, 1:2 64x96)."""
    def make(d: Path) -> Path:
        path = d / f"anamorphic-{sar.numerator}-{sar.denominator}.mkv"
        with av.open(str(path), "w") as out:
            vs = out.add_stream("libx264", rate=25)
            vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
            vs.codec_context.sample_aspect_ratio = sar
            for i in range(6):
                f = av.VideoFrame.from_ndarray(mediagen.barcode_image(i, 64, 48), format="rgb24")
                f.pts = i
                for p in vs.encode(f):
                    out.mux(p)
            for p in vs.encode():
                out.mux(p)
        return path
    return make


def _subtitle_only(d: Path) -> Path:
    path = d / "subtitles.srt"
    path.write_text("1\n00:00:00,000 --> 00:00:01,000\nHello\n\n2\n00:00:01,000 --> 00:00:02,000\nWorld\n")
    return path


def _real(name: str) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        src = OPENCV_DOC / name
        if not src.is_file():
            raise Missing(f"{src} is absent (apt-get install opencv-doc)")
        return src
    return make


def _named(name: str) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        return mediagen.make_video(d / name, width=64, height=48, n_frames=5)
    return make


def _directory(d: Path) -> Path:
    (d / "a-folder.mp4").mkdir(exist_ok=True)
    return d / "a-folder.mp4"


def _symlink_loop(d: Path) -> Path:
    a, b = d / "loop-a.mp4", d / "loop-b.mp4"
    for x, y in ((a, b), (b, a)):
        if not x.is_symlink():
            x.symlink_to(y)
    return a


def _random(d: Path) -> Path:
    (d / "random.mp4").write_bytes(np.random.default_rng(3).integers(0, 256, 20000).astype(np.uint8).tobytes())
    return d / "random.mp4"


def _bbb(d: Path) -> Path:
    return mediagen.bigbuckbunny()


CASES: list[Case] = [
    # refused: nothing decodable in them (ffmpeg decodes no frame either)
    Case("zero-bytes", _bytes("zero.mp4", bytes), False),
    Case("random-bytes", _random, False),
    Case("text-as-mp4", _bytes("text.mp4", lambda: b"not a video at all\n" * 50), False),
    Case("audio-only", lambda d: mediagen.make_audio_only(d / "audio.m4a"), False),
    Case("subtitle-only", _subtitle_only, False),
    Case("directory", _directory, False),
    Case("symlink-loop", _symlink_loop, False),
    Case("missing", lambda d: d / "not-there.mp4", False),
    Case("header-only", _header_only, False),
    Case("truncated-10%-moov-at-end", _truncated(0.1, False), False),
    Case("truncated-50%-moov-at-end", _truncated(0.5, False), False),
    Case("truncated-90%-moov-at-end", _truncated(0.9, False), False),
    # damaged but decodable: usable, damage reported
    Case("truncated-10%-moov-at-start", _truncated(0.1, True), True, ("truncated",)),
    Case("truncated-50%-moov-at-start", _truncated(0.5, True), True, ("truncated",)),
    Case("truncated-90%-moov-at-start", _truncated(0.9, True), True, ("truncated",)),
    Case("mp4-corrupt-middle", _corrupt_middle("corrupt-middle.mp4", lambda d: _base(d, faststart=True)), True),
    Case("ts-corrupt-packets", _corrupt_middle("corrupt.ts", lambda d: _ts(d, ".plain.ts", 40), every=3), True),
    Case("ts-concatenated", _ts_concat, True, ("timestamps",), frames=35),
    Case("mp4-duplicate-pts", _dup_mp4, True, ("duplicate",), frames=19),
    Case("mkv-duplicate-pts", _dup_mkv, True, ("duplicate",), frames=18),
    Case("mkv-no-timestamps", _no_timestamps_mkv, True, ("timestamps",), frames=20),
    Case("ts-negative-start", _negative_ts, True, frames=20),
    Case("megamind-ac3-tail", _real("Megamind.avi"), True, ("audio",), frames=270),
    Case("megamind-bugy", _real("Megamind_bugy.avi"), True, frames=270),
    Case("tree-truncated-avi", _real("tree.avi"), True, ("truncated",), frames=68),
    # odd but valid
    Case("one-frame", _video("one.mp4", width=64, height=48, n_frames=1), True, frames=1),
    Case("2x2", _video("tiny.mp4", width=2, height=2, n_frames=4), True, frames=4, size=(2, 2)),
    Case("odd-321x241-444", _video("odd.mp4", width=321, height=241, n_frames=4, pix_fmt="yuv444p"), True,
         frames=4, size=(321, 241)),
    Case("odd-33x17-444", _video("odd-small.mkv", width=33, height=17, n_frames=4, pix_fmt="yuv444p"), True,
         frames=4, size=(33, 17)),
    Case("4k", _video("uhd.mp4", width=3840, height=2160, n_frames=3), True, frames=3, slow=True,
         size=(3840, 2160)),
    Case("rotated-90", _video("rot90.mp4", width=96, height=64, n_frames=4, rotation=-90), True, frames=4,
         size=(64, 96), shows=(0, 1, -1, 0)),
    Case("rotated-180", _video("rot180.mp4", width=96, height=64, n_frames=4, rotation=180), True, frames=4,
         size=(96, 64), shows=(-1, 0, 0, -1)),
    Case("rotated-270", _video("rot270.mp4", width=96, height=64, n_frames=4, rotation=90), True, frames=4,
         size=(64, 96), shows=(0, -1, 1, 0)),
    Case("mirrored", _oriented("mirrored.mp4", MIRROR), True, frames=6, size=(96, 64), shows=MIRROR),
    Case("flipped-upside-down", _oriented("vflip.mp4", (1, 0, 0, -1)), True, frames=6, size=(96, 64),
         shows=(1, 0, 0, -1)),
    Case("transposed", _oriented("transposed.mp4", (0, 1, 1, 0)), True, frames=6, size=(64, 96),
         shows=(0, 1, 1, 0)),
    Case("transposed-back", _oriented("transverse.mp4", (0, -1, -1, 0)), True, frames=6, size=(64, 96),
         shows=(0, -1, -1, 0)),
    Case("anamorphic-sar-2:1", _anamorphic(Fraction(2, 1)), True, frames=6, size=(128, 48), shows=SAR),
    Case("anamorphic-sar-1:2", _anamorphic(Fraction(1, 2)), True, frames=6, size=(64, 96), shows=SAR),
    Case("vfr", _video("vfr.mp4", width=96, height=64, pts=mediagen.VFR_PTS_MS, time_base=Fraction(1, 1000)),
         True, frames=10),
    Case("10-bit", _coded("10bit.mkv", "libx264", "yuv420p10le"), True, frames=12),
    Case("12-bit-hevc", _coded("12bit.mkv", "libx265", "yuv420p12le"), True, frames=12),
    Case("yuv422p", _coded("422.mp4", "libx264", "yuv422p"), True, frames=12),
    Case("yuv444p", _coded("444.mp4", "libx264", "yuv444p"), True, frames=12),
    Case("hevc", _coded("hevc.mp4", "libx265", "yuv420p"), True, frames=12),
    Case("vp9", _coded("vp9.webm", "libvpx-vp9", "yuv420p"), True, frames=12),
    Case("av1", _coded("av1.mkv", "libsvtav1", "yuv420p", w=128, h=96), True, frames=12),
    Case("prores", _coded("prores.mov", "prores_ks", "yuv422p10le"), True, frames=12),
    Case("mjpeg", _coded("mjpeg.avi", "mjpeg", "yuvj420p"), True, frames=12),
    Case("mpeg2-ts", lambda d: _ts(d, "mpeg2.ts", 25), True, frames=25),
    Case("gif", _gif, True, frames=8),
    Case("png-named-mp4", _image_as_mp4("PNG"), True, frames=1),
    Case("jpeg-named-mp4", _image_as_mp4("JPEG"), True, frames=1),
    Case("two-video-streams", _multi_video, True, frames=10, size=(96, 64)),
    Case("audio-5.1", _audio_video("a51.mp4", layout="5.1"), True, frames=25),
    Case("audio-mono-8khz", _audio_video("mono8k.mp4", layout="mono", rate=8000), True, frames=25),
    Case("audio-shorter", _audio_video("ashort.mp4", audio_seconds=0.4), True, frames=25),
    Case("audio-longer", _audio_video("along.mp4", audio_seconds=2.5), True, frames=25),
    Case("unicode-name", _named("vidéo ünïcode 視頻.mp4"), True, frames=5),
    Case("space-name", _named("my holiday clip.mp4"), True, frames=5),
    Case("leading-dash-name", _named("-rf --help.mp4"), True, frames=5),
    Case("bigbuckbunny-5.1", _bbb, True, frames=132, slow=True),
]


def build(case: Case, root: Path) -> Path:
    """Make ``case``'s file under ``root`` (a folder per case); raises :class:`Missing` if it cannot."""
    d = root / case.name.replace("%", "pc").replace(":", "-")
    d.mkdir(parents=True, exist_ok=True)
    return case.make(d)


def ffprobe_frames(path: Path) -> int | None:
    """What ``ffprobe -count_frames`` decodes of the first video stream (None without ffprobe or a video)."""
    exe = shutil.which("ffprobe")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "-v", "error", "-select_streams", "v:0", "-count_frames", "-show_entries",
                              "stream=nb_read_frames", "-of", "csv=p=0", os.fspath(path)],
                             capture_output=True, text=True, timeout=60, check=False).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None
    try:
        return int(out.split(",")[0])
    except ValueError:
        return 0


def ffmpeg_frame(path: Path, k: int, folder: Path) -> np.ndarray | None:
    """Frame ``k`` as the ffmpeg CLI shows it (autorotate applies the display matrix; a non-square
    sample aspect ratio stretched to square pixels, the larger way), RGB; None without ffmpeg."""
    exe = shutil.which("ffmpeg")
    if exe is None:
        return None
    stretch = "scale='if(gt(sar,1),iw*sar,iw)':'if(lt(sar,1),ih/sar,ih)':flags=bicubic,setsar=1"
    subprocess.run([exe, "-v", "error", "-y", "-i", os.fspath(path), "-frames:v", str(k + 1), "-vf", stretch,
                    os.fspath(folder / "ffmpeg-%d.png")], check=True, capture_output=True, timeout=60)
    from PIL import Image

    with Image.open(folder / f"ffmpeg-{k + 1}.png") as im:
        return np.asarray(im.convert("RGB"))
