"""What C2PA Content Credentials cost per export (issue 18 part 2): sign time, bytes added, verify time.

For each file: a signed manifest like an export's (actions, the original as an ingredient read by the SDK,
audience, a fidelity report of a real export's size, the soft binding) is embedded with
``fidelity.credentials.sign_file``; then ``read_credentials`` validates it (hashing the whole file).
Files: MP4s of 2 s 320×240, 10 s 1280×720 and 20 s 1080×1920 (made here with PyAV from scikit-image's
photos, panning), and a 1280×720 JPEG / PNG / WebP artwork image. Median of ``--repeat`` runs.

Run: .venv/bin/python benchmarks/bench_credentials.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    import mediagen
    from PIL import Image

    from generec_desktop import media
    from generec_desktop.fidelity import credentials as cr

    tmp = Path(tempfile.mkdtemp(prefix="bench-c2pa-"))
    os.environ.setdefault("GENEREC_HOME", str(tmp / "home"))
    files: list[Path] = []
    for seconds, w, h in ((2, 320, 240), (10, 1280, 720), (20, 1080, 1920)):
        p = tmp / f"v{w}x{h}-{seconds}s.mp4"
        media.encode_frames(mediagen.photo_frames(seconds * 25, w, h), p, fps=25)
        files.append(p)
    still = mediagen.photo_frames(1, 1280, 720)[0]
    for suffix in (".jpg", ".png", ".webp"):
        p = tmp / f"artwork{suffix}"
        Image.fromarray(still).save(p, quality=90)
        files.append(p)
    original = files[0]
    report = {"status": "pass", "checks": {n: {"status": "pass", "summary": "x" * 120, "metrics": {"a": 0.5}}
                                            for n in ("legal", "privacy", "bias", "identifiability", "ai_label",
                                                      "faithfulness")}}
    print(f"{'file':<26}{'size':>11}{'added B':>10}{'added %':>9}{'sign ms':>9}{'verify ms':>11}")
    for f in files:
        spec = cr.ManifestSpec(kind="ai_edited", title=f.name, operation="style", params={"style": "noir"},
                               parent=original, parent_sha256="0" * 64, target_audience={"id": "segment:0"},
                               fidelity=report, watermark_payload=0x5EC0FFEE,
                               extra_actions=[{"action": "c2pa.transcoded"}])
        signs, verifies, added = [], [], 0
        for i in range(args.repeat):
            out = tmp / f"signed-{i}{f.suffix}"
            t = time.perf_counter()
            res = cr.sign_file(f, out, spec)
            signs.append(time.perf_counter() - t)
            t = time.perf_counter()
            state = cr.read_credentials(out).state
            verifies.append(time.perf_counter() - t)
            assert state == "trusted", state
            added = res.bytes_added
            out.unlink()
        size = f.stat().st_size
        print(f"{f.name:<26}{size:>11,}{added:>10,}{100 * added / size:>8.2f}%"
              f"{1000 * statistics.median(signs):>9.1f}{1000 * statistics.median(verifies):>11.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
