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


def projection_from(one: dict[str, Any], scaling: dict[str, Any], cores_per_machine: int = 16) -> dict[str, Any]:
    """The paper's scale from measured costs: the cold per-item cost of one worker at the catalogue's audiences,
    plus what going from 1,000 to 7,895 audiences added per item (warm, measured), × 4,570 items, over
    N machines of ``cores_per_machine`` cores (one worker per core, as ``--engine local`` / Ray run them)."""
    extra = scaling[str(PAPER_USERS)]["item_seconds_warm"] - scaling["1000"]["item_seconds_warm"]
    t_item = float(one["item_seconds_mean"]) + max(0.0, extra)
    core_hours = PAPER_ITEMS * t_item / 3600
    return {"item_seconds_at_7895_audiences": round(t_item, 3), "extra_seconds_1000_to_7895": round(extra, 3),
            "pairs": PAPER_USERS * PAPER_ITEMS, "core_hours": round(core_hours, 2),
            "cores_per_machine": cores_per_machine,
            "hours_on_n_machines": {str(n): round(core_hours / (n * cores_per_machine), 3) for n in (1, 4, 16, 64)},
            "note": "per-item cost measured on 160x90 2 s videos; it grows with a video's length and size "
                    "(decode + encode of its samples, one encode per distinct clip)"}


def audience_scaling(ws_root: Path, sizes: tuple[int, ...] = (1000, PAPER_USERS), n_items: int = 3,
                     seed: int = 0) -> dict[str, Any]:
    """The per-item cost of one worker (:func:`process_item`, warm analysis cache, fresh output folder) for
    ``sizes`` audiences: the workspace's own audiences, topped up with perturbed copies of them (unit vectors
    near real User_Hist), on ``n_items`` items; so the projection to 7,895 audiences is measured, not assumed."""
    import numpy as np

    from generec_desktop.corpus import Workspace
    from generec_desktop.editor.personalize.pipeline import Target
    from generec_desktop.versions.batch import BatchSettings, ItemJob, open_worker, process_item, select_audiences

    with Workspace.open(ws_root) as ws:
        enc, base = select_audiences(ws, "all")
        items = [it.id for it in ws.items(kind="human")[:n_items]]
    rng = np.random.default_rng(seed)
    targets = list(base)
    while len(targets) < max(sizes):
        t = base[len(targets) % len(base)]
        v = t.vector + rng.normal(0, 0.05, t.vector.shape).astype(np.float32)
        targets.append(Target(f"bench:{len(targets)}", v / np.linalg.norm(v), "bench"))
    settings = BatchSettings(enc)
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        state = open_worker(str(ws_root), settings, targets, tmp, core=0)
        process_item(state, ItemJob(items[0], None, (0,)))  # warm: imports, the analysis cache
        for n in sizes:
            secs, clips = [], []
            for k, it in enumerate(items):
                state.out = Path(tmp) / f"{n}-{k}"
                process_item(state, ItemJob(it, None, (0,)))  # this item's analysis into the cache
                shutil.rmtree(state.out)
                t0 = time.perf_counter()
                got = process_item(state, ItemJob(it, None, tuple(range(n))))
                secs.append(time.perf_counter() - t0)
                clips.append(len({r.get("clip_path") for r in got.rows}))
            out[str(n)] = {"item_seconds_warm": round(float(np.mean(secs)), 3),
                           "distinct_clips": round(float(np.mean(clips)), 1)}
        state.ws.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--videos", type=int, default=200)
    ap.add_argument("--users", type=int, default=1000)
    ap.add_argument("--skip-demo", action="store_true")
    ap.add_argument("--skip-ray", action="store_true")
    ap.add_argument("--demo-configs", default="1,local:2,ray:2",
                    help="demo runs among 1 (one process), local:2, ray:2; each takes ~43 items × 10-50 s of one core "
                         "(each distinct clip of ~250 audiences is an encode)")
    ap.add_argument("--keep", type=Path, default=None, help="reuse/keep the workspaces in this folder")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--scaling-only", action="store_true",
                    help="only the per-item cost at 1,000 and 7,895 audiences (kept catalogue), into --json")
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
    cat = base / f"catalogue-{args.videos}x{args.users}"
    if args.scaling_only:
        old = json.loads(args.json.read_text()) if args.json and args.json.is_file() else {"runs": {}}
        old["scaling"] = audience_scaling(cat)
        one = old["runs"].get("catalogue: one process")
        if one:
            old["projection"] = projection_from(one, old["scaling"])
        print(json.dumps({k: old.get(k) for k in ("scaling", "projection")}, indent=1))
        if args.json:
            args.json.write_text(json.dumps(old, indent=1) + "\n")
        return 0
    configs = [("one process", "local", 1), ("local, 2 workers", "local", 2)]
    if have_ray:
        configs.append(("ray, 2 CPUs", "ray", 2))
    if not args.skip_demo:
        demo = base / "demo"
        if not (demo / "workspace.json").exists():
            t = time.perf_counter()
            make_demo(demo)
            print(f"demo workspace built in {time.perf_counter() - t:.0f} s")
        wanted = {c.strip() for c in args.demo_configs.split(",")}
        for name, engine, workers in configs:
            if (f"{engine}:{workers}" if workers > 1 else "1") not in wanted:
                continue
            versions = engine == "local" and workers == 2  # the full command: tables + pending versions
            r = _run(demo, base / f"out-demo-{engine}{workers}", engine, workers, versions=versions)
            report["runs"][f"demo: {name}" + (", with pending versions" if versions else "")] = r
            print(f"demo, {name}: {json.dumps(r)}", flush=True)
    if not (cat / "workspace.json").exists():
        t = time.perf_counter()
        make_catalogue(cat, args.videos, args.users)
        print(f"catalogue of {args.videos} videos and {args.users} users built in {time.perf_counter() - t:.0f} s")
    for name, engine, workers in configs:
        r = _run(cat, base / f"out-cat-{engine}{workers}", engine, workers)
        report["runs"][f"catalogue: {name}"] = r
        print(f"catalogue, {name}: {json.dumps(r)}", flush=True)
    report["scaling"] = audience_scaling(cat)
    report["projection"] = projection_from(report["runs"]["catalogue: one process"], report["scaling"])
    report["load_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(report["projection"], indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    if args.keep is None:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
