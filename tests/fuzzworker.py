"""Byte mutations of real media files, and a worker process that reads each mutated file (issue 15).

The readers run in a separate, long-lived process (:class:`Worker`), so a crash in a decoder or a hang
cannot take the test run with it: a file that takes longer than its time limit counts as a hang, the
worker is killed and a fresh one started. What the worker reports per file is plain JSON.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
import traceback
from pathlib import Path

__all__ = ["MUTATIONS", "Worker", "mutate", "problems"]

#: mutation kinds: ("flip", pos, bit), ("truncate", pos), ("duplicate", start, length, at),
#: ("delete", start, length), ("zero", start, length); positions wrap around the file's length
MUTATIONS = ("flip", "truncate", "duplicate", "delete", "zero")


def mutate(data: bytes, ops: list[tuple[object, ...]]) -> bytes:
    """``data`` with each of ``ops`` applied in turn (see :data:`MUTATIONS`)."""
    buf = bytearray(data)
    for op in ops:
        kind, *args = op
        n = max(1, len(buf))
        ints = [int(a) for a in args]  # type: ignore[call-overload]
        if kind == "flip" and buf:
            pos, bit = ints[0] % n, ints[1] % 8
            buf[pos] ^= 1 << bit
        elif kind == "truncate":
            del buf[ints[0] % n :]
        elif kind == "duplicate" and buf:
            start, length, at = ints[0] % n, ints[1], ints[2] % n
            chunk = buf[start : start + length]
            buf[at:at] = chunk
        elif kind == "delete":
            start, length = ints[0] % n, ints[1]
            del buf[start : start + length]
        elif kind == "zero":
            start, length = ints[0] % n, ints[1]
            end = min(len(buf), start + length)
            buf[start:end] = bytes(end - start)
    return bytes(buf)


def _outcome(fn) -> dict[str, object]:  # type: ignore[no-untyped-def]
    from generec_desktop.jobs import GenerecError

    try:
        fn()
    except GenerecError as exc:
        return {"outcome": "error", "type": type(exc).__name__, "message": str(exc)}
    except BaseException as exc:  # exactly what the fuzzing looks for
        return {"outcome": "other", "type": type(exc).__name__, "message": str(exc),
                "traceback": traceback.format_exc()}
    return {"outcome": "ok"}


def read_all(path: Path, out_dir: Path) -> dict[str, object]:
    """Probe, sample at 2 frames a second and cut the whole of ``path`` into ``out_dir``; what happened."""
    from generec_desktop.media import cut, probe, sample_frames

    out = out_dir / "cut.mp4"
    report: dict[str, object] = {
        "probe": _outcome(lambda: probe(path)),
        "sample": _outcome(lambda: sample_frames(path, rate=2.0)),
        "cut": _outcome(lambda: cut(path, 0.0, 1e6, out)),
    }
    if out.exists():  # an output is complete: it probes, with frames
        check = _outcome(lambda: probe(out))
        report["output"] = "complete" if check["outcome"] == "ok" else f"broken: {check.get('message')}"
    else:
        report["output"] = "absent"
    report["leftovers"] = sorted(p.name for p in out_dir.iterdir() if p.name != "cut.mp4")
    return report


def serve() -> None:
    """The worker's loop: one JSON request ({"path", "out"}) a line on stdin, one JSON report a line out."""
    import generec_desktop.media.encode  # noqa: F401 - imported before the first request (its clock)

    sys.stdout.write(json.dumps({"ready": True}) + "\n")
    sys.stdout.flush()
    for line in sys.stdin:
        request = json.loads(line)
        started = time.perf_counter()
        report = read_all(Path(request["path"]), Path(request["out"]))
        report["seconds"] = round(time.perf_counter() - started, 3)
        sys.stdout.write(json.dumps(report) + "\n")
        sys.stdout.flush()


class Worker:
    """A process running :func:`serve`; :meth:`read` gives its report on one file, or a hang or a crash."""

    def __init__(self, timeout: float = 20.0) -> None:
        self.timeout = timeout
        self.proc: subprocess.Popen[str] | None = None
        self.restarts = 0

    def _start(self) -> subprocess.Popen[str]:
        here = Path(__file__).resolve().parent
        import generec_desktop

        root = Path(generec_desktop.__file__).resolve().parents[1]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(here), os.environ.get("PYTHONPATH", "")])}
        proc = subprocess.Popen([sys.executable, "-c", "import fuzzworker; fuzzworker.serve()"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, env=env, bufsize=1)
        self._line(proc, 120.0)  # the imports
        return proc

    def _line(self, proc: subprocess.Popen[str], timeout: float) -> dict[str, object] | None:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], timeout)
        if not ready:
            return None
        line = proc.stdout.readline()
        return json.loads(line) if line else {"crash": f"the worker died (exit status {proc.wait()})"}

    def read(self, path: Path, out_dir: Path) -> dict[str, object]:
        """The worker's report on ``path``; ``{"hang": ...}`` or ``{"crash": ...}`` when it gives none."""
        if self.proc is None or self.proc.poll() is not None:
            self.proc = self._start()
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"path": str(path), "out": str(out_dir)}) + "\n")
        self.proc.stdin.flush()
        report = self._line(self.proc, self.timeout)
        if report is None:
            self.close()
            self.restarts += 1
            return {"hang": f"no answer after {self.timeout:g} s"}
        if "crash" in report:
            self.proc = None
            self.restarts += 1
        return report

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


def problems(report: dict[str, object]) -> list[str]:
    """What is wrong in a report: anything but success or one MediaError line, a broken or half-written
    output, a leftover temporary file, a hang or a crash."""
    if "hang" in report or "crash" in report:
        return [str(report.get("hang") or report.get("crash"))]
    found = []
    for op in ("probe", "sample", "cut"):
        r = report[op]
        assert isinstance(r, dict)
        if r["outcome"] == "other":
            found.append(f"{op} raised {r['type']}: {r['message']}\n{r.get('traceback', '')}")
        elif r["outcome"] == "error" and "\n" in str(r["message"]):
            found.append(f"{op}'s error is not one line: {r['message']!r}")
    cut = report["cut"]
    assert isinstance(cut, dict)
    if str(report["output"]).startswith("broken"):
        found.append(f"the cut left a broken output ({report['output']})")
    elif cut["outcome"] == "ok" and report["output"] != "complete":
        found.append("the cut succeeded but wrote no output")
    elif cut["outcome"] != "ok" and report["output"] != "absent":
        found.append("the cut failed but left an output")
    if report["leftovers"]:
        found.append(f"temporary files left in the output folder: {report['leftovers']}")
    return found


def summary(reports: list[dict[str, object]]) -> str:
    """Outcome counts: per reader ok / one-line error / other, and hangs and crashes."""
    counts: dict[str, int] = {}
    for r in reports:
        if "hang" in r or "crash" in r:
            key = "hang" if "hang" in r else "crash"
            counts[key] = counts.get(key, 0) + 1
            continue
        for op in ("probe", "sample", "cut"):
            o = r[op]
            assert isinstance(o, dict)
            key = f"{op}:{o['outcome']}"
            counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
