"""Personalise one 60 s 1080p30 video for 1,000 audiences (thumbnail + clip each), relative to decoding it.

    .venv/bin/python benchmarks/bench_personalize.py [--profiles 1000] [--clip] [--seconds 60]

The video is rendered once (cached in the temp folder) from scikit-image's real photos: 8 shots with
slow pans/zooms and hard cuts, H.264 (x264 defaults: long GOP, B-frames; one slice per frame as ffmpeg
writes it, ``--slices 0`` for PyAV's one slice per encoder thread) with an AAC track, imported into a
fresh workspace. Audiences are 1,000 unit vectors near the photos' embeddings (like real User_Hist).
The ratio is the cold-cache ``personalize`` (decode + encode + gates + cuts + Eq. 1/Eq. 2 for every audience;
generated thumbnails off), timed after one warm-up ``personalize`` of a different 2 s video as a running app
would have done (imports, thread set-up), divided by decoding every frame with PyAV in the same run, both "to RGB"
(frame.to_ndarray) and "decode only", each with the faster of frame and slice threading. ``--clip``
repeats it with a random-init open_clip ViT-B-32 (the compute of the real model) on each image-tower backend
(``--backends``, default torch, ONNX Runtime fp32 and int8 when onnxruntime is installed), in the same run
(``--every-sample``: each also without reusing the embeddings of near-repeated samples);
each ONNX row also gives its cosine agreement with torch on real photos (min over scikit-image's photos).
Numbers taken on a shared 2-core machine are noisy.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "retina", "hubble_deep_field", "clock", "immunohistochemistry")


def make_video(path: Path, seconds: float, size: tuple[int, int] = (1920, 1080), fps: int = 30,
               slices: int | None = None) -> Path:
    """A ``seconds`` long video of slow pans over real photos with a hard cut every ``seconds/8``; ``slices`` per
    frame as asked, else as PyAV's writer makes them (x264 sliced threads: one slice per encoder thread)."""
    import cv2
    import numpy as np
    import skimage.data

    from generec_desktop.media import AudioSource, VideoWriter

    if path.exists():
        return path
    w, h = size
    n = int(seconds * fps)
    per = n // len(PHOTOS)
    photos = []
    for name in PHOTOS:
        img = getattr(skimage.data, name)()
        img = np.stack([img] * 3, -1) if img.ndim == 2 else img[..., :3]
        photos.append(cv2.resize(img, (int(w * 1.2), int(h * 1.2)), interpolation=cv2.INTER_CUBIC))
    sr = 48000
    t = np.arange(int(seconds * sr)) / sr
    audio = (0.2 * np.sin(2 * np.pi * 220 * t * (1 + (t // (seconds / 8)) / 8))).astype(np.float32)
    wav = path.with_suffix(".flac")
    import av

    with av.open(str(wav), "w", format="flac") as out:
        st = out.add_stream("flac", rate=sr, layout="stereo")
        frame = av.AudioFrame.from_ndarray((np.stack([audio, audio]).T.reshape(1, -1) * 32767).astype(np.int16),
                                           format="s16", layout="stereo")
        frame.sample_rate, frame.pts = sr, 0
        for p in [*st.encode(frame), *st.encode(None)]:
            out.mux(p)
    # x264's sliced threads write one slice per thread whatever "slices" says; frame threads write what it says
    options = {"x264-params": f"sliced-threads=0:slices={slices}"} if slices else None
    with VideoWriter(path, fps, audio_from=AudioSource(wav), codec_options=options) as writer:
        for k in range(n):
            shot, j = min(k // per, len(PHOTOS) - 1), k % per
            p = photos[shot]
            dx = int((p.shape[1] - w) * j / per)
            dy = int((p.shape[0] - h) / 2)
            writer.write(np.ascontiguousarray(p[dy:dy + h, dx:dx + w]))
    wav.unlink()
    return path


def decode_all(path: Path, rgb: bool, thread_type: str = "AUTO") -> tuple[float, int]:
    import av

    t = time.perf_counter()
    n = 0
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        s.thread_type = thread_type
        for frame in c.decode(s):
            if rgb:
                frame.to_ndarray(format="rgb24")
            n += 1
    return time.perf_counter() - t, n


def fastest_decode(path: Path, rgb: bool) -> tuple[float, int, str]:
    """The baseline at its best: the faster of FFmpeg's frame and slice threading (slice threads win when
    frames have several slices, frame threads when they have one)."""
    return min(((*decode_all(path, rgb, tt), tt) for tt in ("AUTO", "SLICE")), key=lambda r: r[0])


def audiences(encoder, n: int, seed: int = 0):  # type: ignore[no-untyped-def]
    import numpy as np
    import skimage.data

    from generec_desktop.editor.personalize.pipeline import Target

    base = []
    for name in PHOTOS:
        img = getattr(skimage.data, name)()
        base.append(np.stack([img] * 3, -1) if img.ndim == 2 else img[..., :3])
    emb = encoder.encode_images(base)
    rng = np.random.default_rng(seed)
    mix = rng.dirichlet(np.full(len(PHOTOS), 0.3), size=n) @ emb + 0.02 * rng.normal(size=(n, emb.shape[1]))
    mix /= np.linalg.norm(mix, axis=1, keepdims=True)
    return [Target(f"bench:{k}", mix[k].astype(np.float32)) for k in range(n)]


def run(ws, item, warm_item, encoder, n_profiles: int, video: Path, *, rate: float = 4.0,  # type: ignore[no-untyped-def]
        repeat: int = 1) -> dict[str, float]:
    """Best of ``repeat`` (decode to RGB, decode only, cold-cache personalize), taken in turn."""
    from generec_desktop.editor.personalize.pipeline import personalize

    targets = audiences(encoder, n_profiles)
    # warm-up on another (2 s) video: imports, thread and allocator set-up, the encoder's first call, as in a
    # running app; nothing of the timed video is cached by it
    t = time.perf_counter()
    personalize(ws, warm_item, targets, encoder=encoder, generate=False, rate=rate)
    first = time.perf_counter() - t
    runs = []
    for _ in range(repeat):
        shutil.rmtree(ws.cache_dir / "editor", ignore_errors=True)
        t_rgb, n, _ = fastest_decode(video, rgb=True)
        t_dec, _, how = fastest_decode(video, rgb=False)
        t = time.perf_counter()
        res = personalize(ws, item, targets, encoder=encoder, generate=False, rate=rate)
        runs.append((t_rgb, t_dec, time.perf_counter() - t, res.timings))
    t_rgb, t_dec = min(r[0] for r in runs), min(r[1] for r in runs)
    cold, timings = min((r[2], r[3]) for r in runs)
    t = time.perf_counter()
    personalize(ws, item, targets, encoder=encoder, generate=False, rate=rate)
    warm = time.perf_counter() - t
    chosen = {a.thumbnail.timestamp for a in res.audiences}
    clips = {(a.clip.start, a.clip.end) for a in res.audiences}
    return {"frames": n, "baseline_threads": how, "warm_up_2s_clip_s": first, "decode_rgb_s": t_rgb,
            "decode_only_s": t_dec, "personalize_s": cold,
            "personalize_all_runs": " ".join(f"{r[2]:.3f}" for r in runs),
            "cached_s": warm, "ratio_rgb": cold / t_rgb, "ratio_decode_only": cold / t_dec,
            "samples": len(res.sample_times), "cuts": len(res.cut_times), "distinct_thumbs": len(chosen),
            "distinct_clips": len(clips), **{f"t_{k}": v for k, v in timings.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profiles", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--clip", action="store_true", help="also with a random-init open_clip ViT-B-32")
    ap.add_argument("--backends", default=None,
                    help="image-tower backends for --clip, comma-separated (default: torch,onnx-fp32,onnx-int8 "
                         "when onnxruntime is installed, else torch)")
    ap.add_argument("--every-sample", action="store_true",
                    help="with --clip, also each backend encoding every sample (no reuse of near-repeats)")
    ap.add_argument("--rate", type=float, default=4.0, help="samples per second (the app's default is 4)")
    ap.add_argument("--repeat", type=int, default=1, help="take the best of N (each side)")
    ap.add_argument("--slices", type=int, default=1,
                    help="H.264 slices per frame of the rendered video (default 1, as ffmpeg's libx264 and most "
                         "editors write; 0: as PyAV's writer makes them, one per encoder thread, 2 on 2 cores)")
    args = ap.parse_args()

    from generec_desktop.corpus import Workspace
    from generec_desktop.encoders import get_encoder

    tmp_root = Path(tempfile.gettempdir()) / "generec-bench-personalize"
    tmp_root.mkdir(exist_ok=True)
    t = time.perf_counter()
    suffix = f"-{args.slices}slices" if args.slices else ""  # 0: the video sessions 1-2 measured
    video = make_video(tmp_root / f"photos-{int(args.seconds)}s-1080p30{suffix}.mp4", args.seconds, slices=args.slices)
    print(f"video ready in {time.perf_counter() - t:.1f} s: {video}")
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.create(Path(tmp) / "ws")
        item = ws.import_media([video]).items[0]
        warm_item = ws.import_media([make_video(tmp_root / "photos-2s-1080p30.mp4", 2.0)]).items[0]
        encoders = [("builtin", get_encoder("builtin"))]
        if args.clip:
            import open_clip
            import torch
            from safetensors.torch import save_file

            torch.manual_seed(0)
            (Path(tmp) / "models").mkdir()
            model = open_clip.create_model("ViT-B-32")
            save_file({k: v.detach().half().contiguous() for k, v in model.state_dict().items()},
                      str(Path(tmp) / "models" / "ViT-B-32.safetensors"))
            del model
            from generec_desktop.encoders import onnx

            backends = (args.backends.split(",") if args.backends else
                        ["torch", "onnx-fp32", "onnx-int8"] if onnx.available() else ["torch"])
            for backend in backends:
                t = time.perf_counter()
                enc = get_encoder("open_clip:ViT-B-32", workspace_root=Path(tmp), backend=backend)
                print(f"ViT-B-32 {backend}: ready in {time.perf_counter() - t:.1f} s (runs on {enc.backend})")
                encoders.append((f"ViT-B-32 {enc.backend}", enc))
                if args.every_sample:  # the same encoder without reusing near-repeats' embeddings
                    import copy

                    every = copy.copy(enc)
                    every.reuse_similar_frames = False
                    encoders.append((f"ViT-B-32 {enc.backend} every sample", every))
        rows = []
        for name, enc in encoders:
            row = run(ws, item, warm_item, enc, args.profiles, video, rate=args.rate, repeat=args.repeat)
            kind = str(getattr(enc, "backend", "")).removeprefix("onnx-")
            agree = getattr(enc, "backend_report", {}).get(kind) if kind in ("fp32", "int8") else None
            row["cosine_to_torch_min"] = f"{agree['cosine_min']:.5f}" if agree else "-"
            rows.append((name, row))
        ws.close()
    keys = ["frames", "baseline_threads", "samples", "cuts", "warm_up_2s_clip_s", "decode_rgb_s", "decode_only_s",
            "personalize_s", "personalize_all_runs", "ratio_rgb", "ratio_decode_only", "cached_s", "t_analyse",
            "t_select_thumbnails", "t_select_clips",
            "distinct_thumbs", "distinct_clips", "cosine_to_torch_min"]
    slices = f"{args.slices} slice(s)/frame" if args.slices else "slices as PyAV writes them"
    print(f"\n{args.profiles} audiences, {args.seconds:g} s 1080p30, {slices}, {args.rate:g} samples/s, "
          f"best of {args.repeat} (thumbnail + clip each; target ratio <= 0.5)")
    print(f"{'':<22}" + "".join(f"{n[:30]:>32}" for n, _ in rows))
    for k in keys:
        print(f"{k:<22}" + "".join(f"{r[k]:>32.3f}" if isinstance(r[k], float) else f"{r[k]:>32}" for _, r in rows))


if __name__ == "__main__":
    main()
