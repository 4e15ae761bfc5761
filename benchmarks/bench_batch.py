"""``generec batch`` throughput: the demo's items × all its audiences, and a generated catalogue.

    .venv/bin/python benchmarks/bench_batch.py [--videos 200] [--users 1000] [--skip-demo] [--skip-ray]
                                               [--json OUT.json]

Catalogue: ``--videos`` short videos (160×90, 12 fps, 2 s, three shots of scikit-image photos with a random
crop, shift and tint each, so no two are alike) imported into a fresh workspace, ``--users`` users with 20
likes each drawn from planted taste groups, profiles built (segments + User_Hist of every user): "all
audiences" is then segments + ``--users`` users. Demo: the demo workspace (``build_demo_workspace`` as
``generec demo`` builds it, 40 videos, 240 users) × all its audiences.

Each configuration — one process (``--engine local --workers 1``), ``--engine local`` on 2 workers and
``--engine ray`` on a 2-CPU local cluster — runs on a cold analysis cache (``W/cache/editor`` removed) into a
fresh folder, with ``--no-versions`` (the tables only: the corpus writes are the driver's, per distinct output,
and are timed separately on the demo). Reported: pairs/s, videos/s, peak memory per worker (ru_maxrss of the
worker processes, from items.parquet), the machine's load average before and after, and a projection to the
paper's scale (7,895 users × 4,570 items) on N machines from the measured per-item cost. The machine is shared
with other agents: the numbers are lower bounds of what 2 free cores do.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry", "retina",
          "clock")
PAPER_USERS, PAPER_ITEMS = 7895, 4570


def _photo(name: str) -> Any:
    import numpy as np
    from skimage import data

    img = np.asarray(getattr(data, name)())
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    return np.ascontiguousarray(img[..., :3], dtype=np.uint8)


def make_catalogue(root: Path, n_videos: int, n_users: int, seed: int = 0) -> Path:
    """A workspace of ``n_videos`` short generated videos and ``n_users`` users with planted tastes."""
    import cv2
    import numpy as np

    from generec_desktop.corpus import Workspace
    from generec_desktop.media import VideoWriter
    from generec_desktop.profiles import build_profiles

    rng = np.random.default_rng(seed)
    photos = [_photo(p) for p in PHOTOS]
    src = root.parent / (root.name + "-src")
    src.mkdir(parents=True, exist_ok=True)
    w, h, fps, per_shot = 160, 90, 12, 8
    paths = []
    groups = np.zeros(n_videos, np.int64)
    for v in range(n_videos):
        shots = rng.choice(len(photos), 3, replace=False)
        groups[v] = int(shots[0]) % 4
        p = src / f"clip-{v:04d}.mp4"
        with VideoWriter(p, fps) as wr:
            for s in shots:
                img = photos[int(s)]
                ih, iw = img.shape[:2]
                cw = int(iw * rng.uniform(0.4, 0.8))
                ch = min(ih, int(cw * h / w))
                x0, y0 = int(rng.integers(0, iw - cw + 1)), int(rng.integers(0, ih - ch + 1))
                tint = rng.uniform(0.8, 1.2, 3)
                for k in range(per_shot):
                    crop = img[y0:y0 + ch, min(iw - cw, x0 + 2 * k):min(iw - cw, x0 + 2 * k) + cw]
                    frame = cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) * tint
                    wr.write(np.clip(frame, 0, 255).astype(np.uint8))
        paths.append(p)
    with Workspace.create(root) as ws:
        items = ws.import_media(paths).items
        users = ws.add_users([f"u{k:05d}" for k in range(n_users)])
        rows = []
        for u in users:
            g = int(rng.integers(0, 4))
            pool = [it.id for it, gg in zip(items, groups) if gg == g] or [it.id for it in items]
            others = [it.id for it in items]
            for _ in range(20):
                rows.append((u.id, int(rng.choice(pool if rng.random() < 0.8 else others))))
        ws.add_interactions(sorted(set(rows)))
        build_profiles(ws)
    shutil.rmtree(src, ignore_errors=True)
    return root


def make_demo(root: Path) -> Path:
    from generec_desktop.demo import build_demo_workspace

    build_demo_workspace(root, seed=0)
    return root


def _run(ws: Path, out: Path, engine: str, workers: int, *, versions: bool = False) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from generec_desktop.versions.batch import run_batch

    shutil.rmtree(ws / "cache" / "editor", ignore_errors=True)  # a cold analysis cache for every configuration
    shutil.rmtree(out, ignore_errors=True)
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    res = run_batch(ws, out, items="all", audiences="all", engine=engine, workers=workers, versions=versions)
    wall = time.perf_counter() - t0
    load1 = os.getloadavg()
    stats = pq.read_table(out / "items.parquet").to_pylist()
    by_pid: dict[tuple[str, int], float] = {}
    for s in stats:
        key = (str(s["host"]), int(s["pid"] or 0))
        by_pid[key] = max(by_pid.get(key, 0.0), float(s["max_rss_mb"] or 0.0))
    item_s = sorted(float(s["seconds"]) for s in stats)
    return {"engine": engine, "workers": res.workers, "items": res.items_total, "audiences": res.pairs_total //
            max(1, res.items_total), "pairs": res.pairs_done, "failed": res.pairs_failed, "seconds": round(wall, 2),
            "pairs_per_s": round(res.pairs_done / wall, 1), "videos_per_s": round(res.items_total / wall, 3),
            "item_seconds_median": round(item_s[len(item_s) // 2], 3) if item_s else None,
            "item_seconds_mean": round(sum(item_s) / len(item_s), 3) if item_s else None,
            "worker_peak_rss_mb": sorted(round(v) for v in by_pid.values()),
            "versions_created": res.versions_created, "load_before": [round(x, 2) for x in load0],
            "load_after": [round(x, 2) for x in load1]}


def projection(per_item_s: float, audiences: int, per_item_s_small: float | None, audiences_small: int | None,
               cores_per_machine: int = 16) -> dict[str, Any]:
    """Paper scale from the measured per-item cost of one worker: t(A) = a + b·A fitted on the two
    measured audience counts (or t constant when only one), × 4,570 items / (N machines × cores)."""
    if per_item_s_small is not None and audiences_small is not None and audiences != audiences_small:
        b = max(0.0, (per_item_s - per_item_s_small) / (audiences - audiences_small))
        a = max(0.0, per_item_s - b * audiences)
    else:
        a, b = per_item_s, 0.0
    t_paper = a + b * PAPER_USERS
    core_hours = PAPER_ITEMS * t_paper / 3600
    return {"per_item_s_at_paper_audiences": round(t_paper, 3), "fixed_s": round(a, 4),
            "per_audience_ms": round(b * 1e3, 4),
            "core_hours": round(core_hours, 2), "cores_per_machine": cores_per_machine,
            "hours_on": {str(n): round(core_hours / (n * cores_per_machine), 3) for n in (1, 4, 16, 64)}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--videos", type=int, default=200)
    ap.add_argument("--users", type=int, default=1000)
    ap.add_argument("--skip-demo", action="store_true")
    ap.add_argument("--skip-ray", action="store_true")
    ap.add_argument("--keep", type=Path, default=None, help="reuse/keep the workspaces in this folder")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-batch-"))
    base.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"cpus": os.cpu_count(), "load_at_start": [round(x, 2) for x in os.getloadavg()],
                              "runs": {}}
    try:
        import ray  # noqa: F401
        have_ray = not args.skip_ray
    except ImportError:
        have_ray = False
        print("ray is not installed: the Ray rows are left out (pip install 'generec-desktop[ray]')")
    configs = [("one process", "local", 1), ("local, 2 workers", "local", 2)]
    if have_ray:
        configs.append(("ray, 2 CPUs", "ray", 2))
    if not args.skip_demo:
        demo = base / "demo"
        if not (demo / "workspace.json").exists():
            t = time.perf_counter()
            make_demo(demo)
            print(f"demo workspace built in {time.perf_counter() - t:.0f} s")
        for name, engine, workers in configs:
            r = _run(demo, base / f"out-demo-{engine}{workers}", engine, workers)
            report["runs"][f"demo: {name}"] = r
            print(f"demo, {name}: {json.dumps(r)}", flush=True)
        r = _run(demo, base / "out-demo-versions", "local", 2, versions=True)
        report["runs"]["demo: local, 2 workers, with pending versions"] = r
        print(f"demo, local 2 with versions: {json.dumps(r)}", flush=True)
    cat = base / f"catalogue-{args.videos}x{args.users}"
    if not (cat / "workspace.json").exists():
        t = time.perf_counter()
        make_catalogue(cat, args.videos, args.users)
        print(f"catalogue of {args.videos} videos and {args.users} users built in {time.perf_counter() - t:.0f} s")
    for name, engine, workers in configs:
        r = _run(cat, base / f"out-cat-{engine}{workers}", engine, workers)
        report["runs"][f"catalogue: {name}"] = r
        print(f"catalogue, {name}: {json.dumps(r)}", flush=True)
    one = report["runs"]["catalogue: one process"]
    small = report["runs"].get("demo: one process")
    report["projection"] = projection(one["item_seconds_mean"], one["audiences"],
                                      small["item_seconds_mean"] if small else None,
                                      small["audiences"] if small else None)
    report["load_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(report["projection"], indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    if args.keep is None:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
