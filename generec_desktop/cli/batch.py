"""``generec batch W --items ... --audiences ... [--what ...] [--engine local|ray] --out DIR``: a whole catalogue."""

from __future__ import annotations

import argparse
import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from generec_desktop.cli_support import add_json_flag, emit, progress_bar


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "batch", help="personalised thumbnails and clips of many items for many audiences (resumable)",
        description="Per item one analysis pass serves every audience (Eq. 1 thumbnails, Eq. 2 clips). Results go "
                    "into Parquet tables under --out (pairs.parquet, versions.parquet, items.parquet) and into the "
                    "corpus as pending versions (one per distinct thumbnail / clip; check and export them as any "
                    "other). Run the same command again to resume: finished pairs are skipped.")
    p.add_argument("workspace", type=Path)
    p.add_argument("--items", default="all",
                   help="all (every imported item), ids or external ids (3,4,demo-007), or a query: kind:KIND or a "
                        "pattern matched against external ids, titles and file names ('demo-0*', 'beach')")
    p.add_argument("--audiences", default="all",
                   help="all (segments, audiences from examples, users), segments, examples, users, or ids / names "
                        "(segment:0,Cyclists,user:12)")
    p.add_argument("--what", default="thumbnails,clips", help="thumbnails, clips and/or artwork (comma-separated)")
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="local: processes of this machine, one analysis per core; ray: the same work as Ray actors "
                        "(pip install 'generec-desktop[ray]')")
    p.add_argument("--address", default=None,
                   help="join this Ray cluster (e.g. ray://head:10001 or auto); default: a local one of --workers CPUs")
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes (default: one per core for local, 2 for a local Ray cluster)")
    p.add_argument("--out", type=Path, required=True, help="folder of the batch (created; give it again to resume)")
    p.add_argument("--encoder", default=None, help="encoder of the profiles (default: the profiles' own)")
    p.add_argument("--rate", type=float, default=None, help="candidate frames per second (default 4)")
    p.add_argument("--clip-frames", type=int, default=None, help="L of Eq. 2 in sampled frames (default 8)")
    p.add_argument("--min-clip", type=float, default=1.0, help="minimum clip length, seconds")
    p.add_argument("--max-clip", type=float, default=60.0, help="maximum clip length, seconds")
    p.add_argument("--no-versions", action="store_true", help="tables only: no pending versions in the corpus")
    add_json_flag(p)
    p.set_defaults(func=_cmd_batch)


@contextlib.contextmanager
def _restoring(handler: Any) -> Iterator[None]:
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, handler)


def _cmd_batch(args: argparse.Namespace) -> int:
    from generec_desktop.versions.batch import run_batch

    what = [w for w in args.what.split(",") if w.strip()]
    # Ctrl+C cancels: no new item starts, finished pairs are kept (a second Ctrl+C interrupts at once)
    previous = signal.getsignal(signal.SIGINT)

    def _interrupt(signum: int, frame: Any) -> None:
        args.cancel.cancel()
        signal.signal(signal.SIGINT, previous)

    signal.signal(signal.SIGINT, _interrupt)
    with progress_bar(args, "batch") as bar, _restoring(previous):
        res = run_batch(args.workspace, args.out, items=args.items, audiences=args.audiences, what=what,
                        engine=args.engine, workers=args.workers, address=args.address, encoder=args.encoder,
                        rate=args.rate, clip_frames=args.clip_frames, min_clip=args.min_clip, max_clip=args.max_clip,
                        versions=not args.no_versions, progress=bar, cancel=args.cancel)
    data = {"out": res.out, "batch_id": res.batch_id, "engine": res.engine, "workers": res.workers,
            "items": res.items_total, "pairs": res.pairs_total, "pairs_skipped": res.pairs_skipped,
            "pairs_done": res.pairs_done, "pairs_failed": res.pairs_failed, "pairs_finished": res.pairs_finished,
            "items_failed": res.items_failed, "versions_created": res.versions_created,
            "worker_restarts": res.worker_restarts, "seconds": round(res.seconds, 2),
            "tables": {k: str(v) for k, v in res.tables.items()}, "errors": res.errors}

    def text() -> str:
        rate = res.pairs_done / res.seconds if res.seconds > 0 else 0.0
        lines = [f"{res.pairs_finished} of {res.pairs_total} pairs ({res.items_total} items) are done in {res.out}: "
                 f"{res.pairs_done} in this run ({rate:,.0f} pairs/s, {res.workers} {res.engine} workers), "
                 f"{res.pairs_skipped} before, {res.pairs_failed} failed",
                 f"{res.versions_created} pending versions made (see `generec versions {args.workspace}`)"]
        if res.worker_restarts:
            lines.append(f"{res.worker_restarts} worker(s) died and were replaced; their items ran again")
        lines += [f"Failed: {e}" for e in res.errors[:20]]
        if len(res.errors) > 20:
            lines.append(f"... and {len(res.errors) - 20} more (status 'error' in pairs.parquet)")
        return "\n".join(lines)

    emit(args, data, text)
    return 0 if not res.errors else 1
