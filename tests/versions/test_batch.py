"""``generec batch``: a catalogue × audiences into Parquet tables and pending versions; resume, faults, engines.

The catalogue is made here (scikit-image photos as multi-shot videos, audiences from example pictures), not
the demo's; one item's stored file is damaged after import (a bad video).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

SCENES = (("astronaut", "coffee", "chelsea"), ("rocket", "chelsea", "coffee"), ("coffee", "astronaut", "rocket"),
          ("chelsea", "rocket", "astronaut"), ("hubble_deep_field", "coffee", "rocket"))


def _catalogue(root: Path, src: Path) -> tuple[Path, int]:
    """A workspace of five multi-shot videos plus one whose stored file is damaged, and two audiences."""
    from examplemedia import write_photos, write_scenes_video

    from generec_desktop.corpus import Workspace
    from generec_desktop.profiles import examples as ex

    videos = [write_scenes_video(src / f"scenes-{k}.mp4", names, seconds_each=0.75) for k, names in enumerate(SCENES)]
    bad_src = write_scenes_video(src / "will-be-damaged.mp4", ("rocket", "astronaut"), seconds_each=0.5)
    with Workspace.create(root) as ws:
        ws.import_media(videos)
        bad = ws.import_media([bad_src]).items[0]
        ex.add_audience(ws, "Space fans", write_photos(src / "space", ("astronaut", "rocket")))
        ex.add_audience(ws, "Cat people", write_photos(src / "cats", ("chelsea",)))
        stored = ws.media_path(bad)
    os.chmod(stored, 0o644)  # the disk damaged it after import: no decodable frame left
    stored.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    os.chmod(stored, 0o444)
    return root, bad.id


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    base = tmp_path_factory.mktemp("batch")
    return _catalogue(base / "W", base / "src")


def _fresh_copy(catalogue: tuple[Path, int], tmp_path: Path) -> Path:
    """A private copy of the workspace (its own pending versions and analysis cache)."""
    dst = tmp_path / "W"
    shutil.copytree(catalogue[0], dst, symlinks=True)
    return dst


def _pairs(out: Path) -> list[dict]:
    from generec_desktop.versions.batch import read_pairs

    return read_pairs(out)


def _batch_versions(ws_root: Path, batch_id: str) -> list:
    from generec_desktop.corpus import Workspace
    from generec_desktop.fidelity.export import list_pending

    with Workspace.open(ws_root) as ws:
        return [pv for pv in list_pending(ws) if (pv.params or {}).get("batch") == batch_id]


def test_batch_tables_versions_bad_item_and_rerun(catalogue, tmp_path):
    import pyarrow.parquet as pq

    from generec_desktop import media
    from generec_desktop.versions.batch import PAIR_COLUMNS, run_batch

    ws_root = _fresh_copy(catalogue, tmp_path)
    bad_id = catalogue[1]
    out = tmp_path / "out"
    seen: list[str] = []
    res = run_batch(ws_root, out, items="all", audiences="all", workers=2, progress=lambda f, m: seen.append(m))
    rows = _pairs(out)
    assert tuple(pq.read_schema(out / "pairs.parquet").names) == PAIR_COLUMNS
    assert res.pairs_total == 12 and len(rows) == 12 and res.items_total == 6
    assert Counter((r["item_id"], r["audience_id"]) for r in rows).most_common(1)[0][1] == 1
    assert {r["audience_id"] for r in rows} == {"examples:1", "examples:2"}
    bad = [r for r in rows if r["item_id"] == bad_id]
    assert [r["status"] for r in bad] == ["error", "error"]
    assert all("frame" in r["error"] or "video" in r["error"] for r in bad), bad[0]["error"]
    good = [r for r in rows if r["item_id"] != bad_id]
    assert all(r["status"] == "ok" and r["error"] is None for r in good)
    for r in good:
        assert (out / r["thumbnail_path"]).is_file() and r["thumbnail_score"] is not None
        info = media.probe(out / r["clip_path"])
        assert abs(info.duration - (r["clip_end"] - r["clip_start"])) < 0.1
        assert r["clip_start"] <= r["thumbnail_time"] + 60 and r["encoder_id"] == res_encoder(rows)
        assert json.loads(r["parameters"])["what"] == ["thumbnails", "clips"]
    assert res.pairs_failed == 2 and res.items_failed == 1 and any(str(bad_id) in e for e in res.errors)
    assert any("ETA" in m and "pairs" in m for m in seen)
    # the corpus: one pending version per distinct thumbnail / clip, each pair's listed in versions.parquet
    versions = _batch_versions(ws_root, res.batch_id)
    table = pq.read_table(out / "versions.parquet").to_pylist()
    assert {(v["item_id"], v["audience_id"], v["kind"]) for v in table} == {
        (r["item_id"], r["audience_id"], k) for r in good for k in ("thumbnail", "clip")}
    assert {v["version_id"] for v in table} == {pv.id for pv in versions}
    assert len(versions) == res.versions_created
    assert {pv.operation for pv in versions} == {"thumbnail", "clip"}
    assert all(pv.parent_id != bad_id for pv in versions)
    # a rerun skips the finished pairs, tries the bad item again, makes no second version
    res2 = run_batch(ws_root, out, items="all", audiences="all", workers=2)
    assert (res2.pairs_skipped, res2.pairs_done, res2.pairs_failed, res2.versions_created) == (10, 2, 2, 0)
    assert len(_batch_versions(ws_root, res.batch_id)) == len(versions)
    assert _pairs(out) == rows


def res_encoder(rows: list[dict]) -> str:
    return rows[0]["encoder_id"]


def test_worker_killed_mid_batch_finishes_without_gaps_or_duplicates(catalogue, tmp_path):
    import multiprocessing as mp

    from generec_desktop.versions.batch import run_batch

    ws_root = _fresh_copy(catalogue, tmp_path)
    out = tmp_path / "out"
    killed: list[int] = []

    def progress(fraction: float, message: str) -> None:
        if not killed and message.startswith("1/"):  # one item recorded, others in flight: kill a worker
            kids = [p for p in mp.active_children() if p.pid is not None]
            if kids:
                os.kill(kids[0].pid, signal.SIGKILL)
                killed.append(kids[0].pid)

    res = run_batch(ws_root, out, items="all", audiences="all", workers=2, progress=progress)
    assert killed, "no worker was running when the first item finished"
    assert res.worker_restarts >= 1
    rows = _pairs(out)
    assert len(rows) == 12 and len({(r["item_id"], r["audience_id"]) for r in rows}) == 12
    assert sum(r["status"] == "ok" for r in rows) == 10
    versions = _batch_versions(ws_root, res.batch_id)
    keys = Counter((pv.parent_id, pv.params["key"]) for pv in versions)
    assert keys and max(keys.values()) == 1


def test_cancel_keeps_finished_pairs_and_a_rerun_finishes(catalogue, tmp_path):
    from generec_desktop.jobs import CancelToken
    from generec_desktop.versions.batch import BatchCancelled, run_batch

    ws_root = _fresh_copy(catalogue, tmp_path)
    out = tmp_path / "out"
    token = CancelToken()

    def progress(fraction: float, message: str) -> None:
        if message.startswith("1/"):
            token.cancel()

    with pytest.raises(BatchCancelled) as info:
        run_batch(ws_root, out, items="scenes-*", audiences="all", workers=1, progress=progress, cancel=token)
    res = info.value.result
    assert 2 <= res.pairs_done < 10 and "run the same command again" in str(info.value)
    kept = _pairs(out)
    assert len(kept) == res.pairs_done and all(r["status"] == "ok" for r in kept)
    assert all((out / r["clip_path"]).is_file() for r in kept)
    assert not [p for p in out.rglob(".tmp-*")]
    again = run_batch(ws_root, out, items="scenes-*", audiences="all", workers=1)
    assert again.pairs_skipped == len(kept) and again.pairs_finished == 10
    rows = _pairs(out)
    kept_pairs = {(k["item_id"], k["audience_id"]) for k in kept}
    assert [r for r in rows if (r["item_id"], r["audience_id"]) in kept_pairs] == kept


def test_resume_after_the_whole_batch_is_killed(catalogue, tmp_path):
    ws_root = _fresh_copy(catalogue, tmp_path)  # a cold analysis cache: each item takes a while
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in [str(Path(__file__).resolve().parents[2]),
                                                                  os.environ.get("PYTHONPATH", "")] if p)}
    cmd = [sys.executable, "-m", "generec_desktop.cli", "batch", str(ws_root), "--out", str(out), "--workers", "1"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    journal = out / "journal.jsonl"
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if journal.is_file() and journal.read_text().count("\n") >= 1:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and its worker, mid-batch
    finally:
        proc.wait(30)
    before = [json.loads(line) for line in journal.read_text().splitlines() if line.strip()]
    assert 1 <= len(before) < 6
    from generec_desktop.versions.batch import run_batch

    res = run_batch(ws_root, out, items="all", audiences="all", workers=1)
    assert res.pairs_skipped == sum(len(e["ok"]) for e in before)
    assert res.items_done == 6 - sum(1 for e in before if e["ok"])  # finished items were not redone
    rows = _pairs(out)
    assert len(rows) == 12 and len({(r["item_id"], r["audience_id"]) for r in rows}) == 12
    versions = _batch_versions(ws_root, res.batch_id)
    keys = Counter((pv.parent_id, pv.params["key"]) for pv in versions)
    assert max(keys.values()) == 1
    assert not [p for p in out.rglob(".tmp-*")]


@pytest.mark.slow  # starting a Ray cluster takes ~60 s on a loaded 2-core machine
def test_local_and_ray_engines_give_identical_tables(catalogue, tmp_path):
    try:
        import ray  # noqa: F401
    except ImportError:
        print("SKIP REASON: ray is not installed (pip install 'generec-desktop[ray]')")
        pytest.skip("ray is not installed (pip install 'generec-desktop[ray]')")
    from generec_desktop.versions.batch import run_batch

    ws_root = _fresh_copy(catalogue, tmp_path)
    a = run_batch(ws_root, tmp_path / "local", items="all", audiences="all", engine="local", workers=2,
                  versions=False)
    engines: list = []
    killed: list[int] = []

    def progress(fraction: float, message: str) -> None:
        if not killed and message.startswith("1/") and engines:  # a Ray worker SIGKILLed mid-batch
            pid = engines[0].worker_pids()[0]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    b = run_batch(ws_root, tmp_path / "ray", items="all", audiences="all", engine="ray", workers=2, versions=False,
                  on_engine=engines.append, progress=progress)
    assert (a.engine, b.engine) == ("local", "ray") and b.workers == 2
    assert killed and b.worker_restarts >= 1
    la, lb = _pairs(tmp_path / "local"), _pairs(tmp_path / "ray")
    assert len(la) == 12 and la == lb


def _cli(argv: list[str]) -> int:
    from generec_desktop.cli import build_parser
    from generec_desktop.cli_support import run_command

    return run_command(build_parser().parse_args(argv))


def test_bad_requests_are_one_line_errors_and_touch_nothing(catalogue, tmp_path, capsys):
    ws_root = _fresh_copy(catalogue, tmp_path)
    out = tmp_path / "out"
    for argv, words in [
        (["--what", "posters"], "unknown --what"),
        (["--items", "nothing-like-this"], "no item matches"),
        (["--audiences", "Dog people"], "no audience"),
        (["--address", "auto"], "--engine ray"),
    ]:
        rc = _cli(["batch", str(ws_root), "--out", str(out), *argv])
        err = capsys.readouterr().err
        assert rc == 2 and err.count("\n") == 1 and words in err.lower(), (argv, err)
    assert not out.exists()
    other = tmp_path / "holiday-photos"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    assert _cli(["batch", str(ws_root), "--out", str(other)]) == 2
    assert "holds no batch" in capsys.readouterr().err and [p.name for p in other.iterdir()] == ["keep.txt"]
    # a batch folder made with other settings is not mixed with new ones
    assert _cli(["batch", str(ws_root), "--out", str(out), "--items", "1", "--audiences", "examples:1",
                 "--no-versions", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["pairs_done"] == 1 and data["pairs_finished"] == 1
    assert _cli(["batch", str(ws_root), "--out", str(out), "--items", "1", "--rate", "2"]) == 2
    assert "other parameters" in capsys.readouterr().err


def test_items_and_audiences_selection(catalogue):
    from generec_desktop.corpus import Workspace
    from generec_desktop.versions.batch import BatchError, select_audiences, select_items

    with Workspace.open(catalogue[0]) as ws:
        assert len(select_items(ws, "all")) == 6
        assert [i.id for i in select_items(ws, "2,1,2")] == [2, 1]
        assert [i.original_name for i in select_items(ws, "scenes-3")] == ["scenes-3.mp4"]
        assert len(select_items(ws, "scenes-*")) == 5
        enc, targets = select_audiences(ws, "Cat people")
        assert [t.id for t in targets] == ["examples:2"] and enc.startswith("builtin")
        with pytest.raises(BatchError):
            select_audiences(ws, "segments")  # none here: a clear error, not an empty batch


def test_batch_artwork_is_stored_per_pair_and_a_too_small_video_is_an_error_row(tmp_path):
    """--what artwork stores each pair's chosen frame as its artwork (the window's use case); a video below the
    still mark's 480×270 fails only its own pairs, with the reason."""
    from examplemedia import write_photos, write_scenes_video

    from generec_desktop.corpus import Workspace
    from generec_desktop.fidelity.artwork import list_artwork
    from generec_desktop.profiles import examples as ex
    from generec_desktop.versions.batch import run_batch

    src = tmp_path / "src"
    big = write_scenes_video(src / "big.mp4", ("astronaut", "coffee"), seconds_each=0.75, size=(640, 360))
    small = write_scenes_video(src / "small.mp4", ("rocket", "chelsea"), seconds_each=0.75)
    with Workspace.create(tmp_path / "W") as ws:
        ws.import_media([big, small])
        ex.add_audience(ws, "Space fans", write_photos(src / "space", ("astronaut", "rocket")))
    out = tmp_path / "out"
    res = run_batch(tmp_path / "W", out, items="all", audiences="all", what=("thumbnails", "artwork"), workers=1,
                    versions=False)
    rows = {r["item_external_id"] or r["item_id"]: r for r in _pairs(out)}
    assert len(rows) == 2 and res is not None
    ok = [r for r in _pairs(out) if r["status"] == "ok"]
    bad = [r for r in _pairs(out) if r["status"] != "ok"]
    assert len(ok) == 1 and len(bad) == 1
    assert Path(ok[0]["artwork_path"]).is_file()
    assert "artwork not stored" in bad[0]["error"] and "480" in bad[0]["error"]
    with Workspace.open(tmp_path / "W") as ws:
        (row,) = list_artwork(ws)
        assert row.audience_id == "examples:1" and row.width == 640 and row.height == 360
