"""The still-image watermark (fidelity/still_mark.py) on real pictures: robustness, cost, false positives.

    PYTHONPATH=. python benchmarks/bench_still_mark.py [--photos 120] [--unmarked 700]

Marked: every real photo ≥ 480×270 of tests/stillimages.py (scikit-image, opencv-doc's samples, Big Buck
Bunny frames), stored as JPEG 92, then JPEG 75 + a 50 % resize (what the artwork store checks), also
JPEG 60 + 50 %, a 25 % resize, and a 10 % crop (expected to remove it). Unmarked: pictures of every size.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import stillimages

from generec_desktop.fidelity import still_mark as sm

KEY = "bench-still-mark-" + "0" * 47


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", type=int, default=120)
    ap.add_argument("--unmarked", type=int, default=700)
    a = ap.parse_args()
    rng = np.random.default_rng(1)
    attacks = {
        "jpeg75+50%": lambda im: sm.attack(im),
        "jpeg60+50%": lambda im: sm.attack(im, quality=60),
        "jpeg75+25%": lambda im: sm.attack(im, scale=0.25),
        "crop10%": lambda im: np.ascontiguousarray(im[int(.05 * im.shape[0]):int(.95 * im.shape[0]),
                                                      int(.05 * im.shape[1]):int(.95 * im.shape[1])]),
    }
    ok = dict.fromkeys(attacks, 0)
    psnrs, secs, sizes, n = [], [], [], 0
    for _name, img in stillimages.photos():
        if n >= a.photos:
            break
        payload = int(rng.integers(0, 2**32))
        t = time.perf_counter()
        e = sm.embed_still(img, payload, key=KEY)
        secs.append(time.perf_counter() - t)
        psnrs.append(e.psnr)
        sizes.append(img.shape[1] * img.shape[0])
        stored = sm._jpeg(e.image, 92)
        for k, f in attacks.items():
            d = sm.detect_still(f(stored), key=KEY)
            ok[k] += int(d.found and d.payload == payload)
        n += 1
    print(f"marked photos: {n} ({min(sizes) / 1e6:.2f}–{max(sizes) / 1e6:.2f} MP)")
    for k, v in ok.items():
        print(f"  {k:>11}: {v}/{n} right payload ({100 * v / max(1, n):.1f} %)")
    print(f"  PSNR min {min(psnrs):.2f} dB, median {np.median(psnrs):.2f} dB; embed {np.median(secs):.2f} s "
          f"median, {max(secs):.2f} s max")
    zs, found, t = [], 0, time.perf_counter()
    for _name, img in stillimages.unmarked(a.unmarked):
        d = sm.detect_still(img, key=KEY)
        zs.append(d.pilot_z)
        found += d.found
    z = np.array(zs)
    print(f"unmarked pictures: {len(z)}, false positives {found}; pilot z mean {z.mean():.2f} sd {z.std():.2f} "
          f"max {z.max():.2f} (threshold {sm.PILOT_Z_THRESHOLD}); "
          f"detect {1000 * (time.perf_counter() - t) / len(z):.0f} ms each")


if __name__ == "__main__":
    main()
