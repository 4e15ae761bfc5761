"""Shot-boundary detectors scored on one labelled benchmark (issue 19 part 1): F1 and speed.

Builds the set with ``benchmarks/shotset.py`` (edits of real footage; labels by construction, checked
against the committed ``benchmarks/shotset_labels.json``), runs every detector of
:mod:`generec_desktop.editor.personalize.shotdetect` on every video and prints one table:

- F1 frame-exact and F1 within ±1 frame over all transitions. A hard cut at frame c is found by a
  predicted cut at c (±1: c-1..c+1); a gradual transition [a, b) by a prediction overlapping a..b-1
  (±1: a-1..b). Matching is one-to-one; an unmatched prediction is a false positive.
- recall of hard cuts and of gradual transitions (±1), and false positives inside the flash /
  fast-motion events that are not transitions;
- seconds per minute of 1080p30 video, decode included: each detector on a 1080p H.264 clip of
  ``--seconds`` seconds made from the same footage, scaled to 60 s; CPU seconds (every thread of the
  process, what the work costs whatever else runs) and wall seconds (this machine, as loaded as it was).

Usage: python benchmarks/bench_shots.py [--set DIR] [--seconds 10] [--detectors hsv,content,...] [--json F]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))


LABELS = Path(__file__).resolve().parent / "shotset_labels.json"


def match(pred: list[tuple[int, int]], truth: list[dict[str, Any]], tol: int) -> tuple[int, list[bool], list[bool]]:
    """Greedy one-to-one matching: (true positives, which truths were found, which predictions matched).

    ``pred``: (start, end) frame spans, start == end for a cut at that frame (the new shot's first frame).
    """
    def span(t: dict[str, Any]) -> tuple[int, int]:
        return (t["frame"], t["frame"]) if t["kind"] == "cut" else (t["start"], t["end"] - 1)

    pairs = []
    for i, t in enumerate(truth):
        a, b = span(t)
        for j, (ps, pe) in enumerate(pred):
            pe_ = pe if pe == ps else pe - 1  # a predicted gradual span [ps, pe) covers ps..pe-1
            if ps <= b + tol and pe_ >= a - tol:
                gap = max(0, a - pe_, ps - b)
                pairs.append((gap, abs((ps + pe_) / 2 - (a + b) / 2), i, j))
    found, used = [False] * len(truth), [False] * len(pred)
    tp = 0
    for _g, _d, i, j in sorted(pairs):
        if not found[i] and not used[j]:
            found[i] = used[j] = True
            tp += 1
    return tp, found, used


def f1(tp: int, n_pred: int, n_true: int) -> float:
    return 2 * tp / (n_pred + n_true) if n_pred + n_true else 1.0


def score(results: dict[str, list[tuple[int, int]]], labels: dict[str, Any]) -> dict[str, float]:
    """The table's accuracy columns for one detector's predictions on every video."""
    out: dict[str, float] = {}
    n_pred = sum(len(p) for p in results.values())
    n_true = sum(len(v["transitions"]) for v in labels["videos"].values())
    for tol, key in ((0, "f1_exact"), (1, "f1_pm1")):
        tp = sum(match(results[n], v["transitions"], tol)[0] for n, v in labels["videos"].items())
        out[key] = f1(tp, n_pred, n_true)
    hard = grad = hard_found = grad_found = false_events = 0
    for name, v in labels["videos"].items():
        _, found, used = match(results[name], v["transitions"], 1)
        for t, ok in zip(v["transitions"], found):
            if t["kind"] == "cut":
                hard, hard_found = hard + 1, hard_found + ok
            else:
                grad, grad_found = grad + 1, grad_found + ok
        for (ps, _pe), ok in zip(results[name], used):
            if not ok and any(e["start"] <= ps < e["end"] for e in v["not_transitions"]):
                false_events += 1
    out.update(cut_recall=hard_found / max(hard, 1), gradual_recall=grad_found / max(grad, 1),
               false_in_events=false_events, predictions=n_pred, truths=n_true)
    return out


def make_1080p(path: Path, seconds: float) -> Path:
    """A 1080p30 H.264 clip of the benchmark footage (cuts every 2 s), for the speed column."""
    import cv2
    import shotset

    from generec_desktop.media import VideoWriter

    pieces = [shotset.footage("bikes", 137, 187), shotset.footage("megamind", 10, 70), shotset.footage("bunny", 0, 60),
              shotset.pan("astronaut", 60, 3.0), shotset.footage("bikes", 190, 240)]
    n = round(seconds * 30)
    with VideoWriter(path, 30, crf=20, preset="veryfast") as w:
        k = 0
        while k < n:
            for piece in pieces:
                for im in piece:
                    if k >= n:
                        break
                    w.write(cv2.resize(im, (1920, 1080), interpolation=cv2.INTER_LINEAR))
                    k += 1
    return path


def run(path: Path, detector: str) -> tuple[list[tuple[int, int]], float, float]:
    """Predicted spans, wall seconds and CPU seconds (every thread of this process)."""
    from generec_desktop.editor.personalize.shotdetect import detect_shots

    t, c = time.perf_counter(), time.process_time()
    got = detect_shots(path, detector)
    return [(tr.start, tr.end) for tr in got.transitions], time.perf_counter() - t, time.process_time() - c


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", type=Path, default=None, help="a built set (default: build one in a temp dir)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the 1080p speed clip")
    parser.add_argument("--detectors", default="hsv,content,adaptive,hash,transnetv2")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args()
    import shotset

    from generec_desktop.editor.personalize.shotdetect import transnet_model

    with tempfile.TemporaryDirectory() as tmp:
        root = args.set or Path(tmp) / "set"
        built = root / "labels.json"
        labels = json.loads(built.read_text()) if built.is_file() else shotset.write(root)
        committed = json.loads(LABELS.read_text())
        for name, v in labels["videos"].items():
            if committed["videos"].get(name) != v:
                raise SystemExit(f"{name}: the rebuilt labels differ from {LABELS.name}; regenerate both")
        missing = sorted(set(committed["videos"]) - set(labels["videos"]))
        if missing:
            print(f"note: {', '.join(missing)} skipped (footage not installed)")
        clip = make_1080p(Path(tmp) / "speed_1080p.mp4", args.seconds)
        if "transnetv2" in args.detectors:
            transnet_model()  # loaded once per process (about 2 s), not counted per video
        rows = {}
        for det in args.detectors.split(","):
            preds = {}
            for name in labels["videos"]:
                preds[name], _, _ = run(root / f"{name}.mp4", det)
            _, wall, cpu = run(clip, det)
            rows[det] = {**score(preds, labels), "cpu_s_per_min_1080p": cpu * 60.0 / args.seconds,
                         "wall_s_per_min_1080p": wall * 60.0 / args.seconds}
            print(det, json.dumps({k: round(v, 3) for k, v in rows[det].items()}), flush=True)
    n_frames = sum(v["frames"] for v in labels["videos"].values())
    print(f"\n{len(labels['videos'])} videos, {n_frames} frames, {rows[next(iter(rows))]['truths']:.0f} transitions\n")
    print("| detector | F1 exact | F1 ±1 | cut recall ±1 | gradual recall ±1 | false in flashes/motion "
          "| CPU s per min 1080p | wall s |")
    print("|---|---|---|---|---|---|---|---|")
    for det, r in rows.items():
        print(f"| {det} | {r['f1_exact']:.3f} | {r['f1_pm1']:.3f} | {r['cut_recall']:.2f} | {r['gradual_recall']:.2f} "
              f"| {r['false_in_events']:.0f} | {r['cpu_s_per_min_1080p']:.1f} | {r['wall_s_per_min_1080p']:.1f} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
