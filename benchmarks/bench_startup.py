"""Start-up as a user meets it: exactly the README's run command, ``generec-desktop --demo``, on a built demo.

Targets (issue 17): first paint <= 1 s after the process starts, responsive (a 0 ms timer fires) <= 2 s,
``open_workspace`` <= 0.3 s on the GUI thread, longest event-loop stall while any job runs <= 50 ms, and Quit
ends the process within 1 s while a job runs.

Build the demo first (once; a few minutes on two cores), into the data home the runs use::

    GENEREC_HOME=/tmp/bench-home .venv/bin/generec demo create /tmp/bench-home/demo-workspace
    # or: python benchmarks/bench_startup.py --home /tmp/bench-home --build

Run::

    python benchmarks/bench_startup.py --home /tmp/bench-home [--runs 2] [--platform xcb,offscreen] [--tabs] [--quit]
        [--stalls] [--cold]

Each run starts ``<this venv>/bin/generec-desktop --demo`` with ``GENEREC_HOME`` set to ``--home``, a private
config folder (so no saved window geometry or last workspace), and ``GENEREC_TRACE_STARTUP`` (the app's
``app/startup_trace.py``, which records the times and closes the window once nothing runs). ``xcb`` runs
under an Xvfb server started here (1600x1000), ``offscreen`` on Qt's offscreen platform. ``--tabs`` also shows
every tab after opening; ``--quit`` starts the thumbnails job and quits while it runs (the quit time is from
the Quit to the process's exit). ``PYTHONPATH`` is passed on, so ``PYTHONPATH=<checkout>`` measures that
checkout. The machine's load average is printed beside each run: the numbers depend on it. The app runs with
its bytecode cache on, as an installed app does (``PYTHONDONTWRITEBYTECODE`` is dropped; the first run writes
``__pycache__`` into the checkout). ``--stalls`` also
prints, per run, the longest stalls of the GUI thread with the stacks a sampler saw in them
(``GENEREC_TRACE_STALLS``, startup_trace.StallSampler): where to look when a target is missed. ``--cold``
empties the kernel's page cache before each run (Linux, as root: ``/proc/sys/vm/drop_caches``), as the first
start after a boot finds the disk: no library, no video in memory.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def build_demo(home: Path) -> None:
    target = home / "demo-workspace"
    if (target / "workspace.json").exists():
        return
    print(f"building the demo workspace in {target} (a few minutes)…", flush=True)
    env = {**os.environ, "GENEREC_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    subprocess.run([str(BIN / "generec"), "demo", "create", str(target)], check=True, env=env)


class Xvfb:
    """A private X server for the xcb runs (a free display number picked by the server itself)."""

    def __init__(self, size: str = "1600x1000x24") -> None:
        read, write = os.pipe()
        self.proc = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", size, "-nolisten", "tcp"],
                                     pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write)
        with os.fdopen(read) as f:
            self.display = ":" + f.readline().strip()

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def drop_page_cache() -> None:
    """Empty the page cache (Linux, root) so that the next start reads everything from the disk."""
    os.sync()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n", encoding="ascii")
    except OSError as exc:
        raise SystemExit(f"--cold needs Linux and root (writing /proc/sys/vm/drop_caches): {exc}") from exc


def run_once(home: Path, platform: str, display: str | None, *, tabs: bool, quit_: bool, stalls: bool = False,
             cold: bool = False, timeout: float = 900.0) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "trace.json"
        env = {**os.environ, "GENEREC_HOME": str(home), "XDG_CONFIG_HOME": str(Path(tmp) / "config"),
               "GENEREC_TRACE_STARTUP": str(out), "QT_QPA_PLATFORM": platform, "HF_HUB_OFFLINE": "1",
               "GENEREC_TRACE_TABS": "1" if tabs else "0", "GENEREC_TRACE_QUIT": "1" if quit_ else "0",
               "GENEREC_TRACE_STALLS": "1" if stalls else "0"}
        if display:
            env["DISPLAY"] = display
        # as an installed app runs: with its bytecode cached. Without it (PYTHONDONTWRITEBYTECODE, set on some
        # build machines) every start compiles the app's modules again, on the worker threads that import
        # them, holding the GIL: stalls that a user never sees (the first run here writes the cache)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        if cold:
            drop_page_cache()
        load = os.getloadavg()[0]
        t0 = time.time()
        proc = subprocess.run([str(BIN / "generec-desktop"), "--demo"], env=env, capture_output=True, text=True,
                              timeout=timeout)
        t_exit = time.time()
        if not out.exists():
            raise SystemExit(f"no trace written (rc {proc.returncode}):\n{proc.stderr[-3000:]}")
        doc = json.loads(out.read_text(encoding="utf-8"))
    paint = doc["first_paint"]
    return {
        "platform": platform + (" cold" if cold else ""), "load": load,
        "first_paint": (paint - t0) if paint else float("nan"),
        "responsive": doc["responsive"] - t0 if doc["responsive"] else float("nan"),
        "open_workspace": max(doc["open_workspace_s"], default=float("nan")),
        "open_step": max(doc.get("open_workspace_step_s", []), default=float("nan")),
        "stall_job_ms": doc["stall_job_ms"], "stall_job": doc["stall_job_title"], "stall_ms": doc["stall_ms"],
        "settled": doc.get("settled_minus_quiet", t_exit) - t0,
        "quit": (t_exit - doc["quit_at"]) if quit_ else float("nan"),
        "running_at_quit": doc.get("running_at_quit", []), "jobs": doc["jobs"], "rc": proc.returncode,
        "stalls": doc.get("stalls", []),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, required=True, help="the data home holding demo-workspace/")
    ap.add_argument("--build", action="store_true", help="build the demo workspace first when it is missing")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--platform", default="xcb,offscreen", help="comma-separated: xcb (under Xvfb), offscreen")
    ap.add_argument("--tabs", action="store_true", help="show every tab after opening")
    ap.add_argument("--quit", action="store_true", help="quit while the thumbnails job runs; time the exit")
    ap.add_argument("--stalls", action="store_true", help="sample the GUI thread's stack in each long stall")
    ap.add_argument("--cold", action="store_true", help="empty the page cache before each run (Linux, root)")
    ap.add_argument("--json", type=Path, help="also write the rows here")
    args = ap.parse_args()
    if args.build:
        build_demo(args.home)
    if not (args.home / "demo-workspace" / "workspace.json").exists():
        print(f"no demo workspace in {args.home}: build it first (--build, or see this file's docstring)")
        return 2
    rows = []
    for platform in args.platform.split(","):
        if platform == "xcb" and shutil.which("Xvfb") is None:
            print("Xvfb is not installed: skipping the xcb runs")
            continue
        server = Xvfb() if platform == "xcb" else None
        try:
            for _ in range(args.runs):
                row = run_once(args.home, platform, server.display if server else None, tabs=args.tabs,
                               quit_=args.quit, stalls=args.stalls, cold=args.cold)
                rows.append(row)
                stalls = row.pop("stalls")
                print(json.dumps(row), flush=True)
                for stall in stalls[:8]:
                    print(f"  stall {stall['ms']:.0f} ms (job: {stall['job'] or 'none'}): GUI thread on a CPU "
                          f"{stall['cpu_ms']:.0f} ms, waiting for a CPU {stall['runqueue_ms']:.0f} ms, "
                          f"blocked {stall['blocked_ms']:.0f} ms")
                    for stack, n in stall["stacks"][:3]:
                        print(f"    {n:3d}× {stack}")
                    for stack, _n in stall.get("holders", [])[:3]:
                        print(f"    other thread, {stack}")
        finally:
            if server is not None:
                server.close()
    print()
    print("| platform | first paint | responsive | open_workspace (GUI thread; its longest step) "
          "| longest stall while a job runs | longest stall overall | opened and idle | quit | load avg (1 min) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        quit_ = f"{r['quit']:.2f} s" if r["quit"] == r["quit"] else "—"
        print(f"| {r['platform']} | {r['first_paint']:.2f} s | {r['responsive']:.2f} s | {r['open_workspace']:.3f} s "
              f"({r['open_step']:.3f} s) "
              f"| {r['stall_job_ms']:.0f} ms ({r['stall_job']}) | {r['stall_ms']:.0f} ms | {r['settled']:.1f} s "
              f"| {quit_} | {r['load']:.1f} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
