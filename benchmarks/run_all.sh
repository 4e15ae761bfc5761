#!/usr/bin/env bash
# Run every benchmark one after another (2 free cores wanted: close other work first) and keep the logs.
# Usage: bash benchmarks/run_all.sh [OUT_DIR]   (about 20–25 minutes)
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench-results}
mkdir -p "$out"
export HF_HUB_OFFLINE=1 QT_QPA_PLATFORM=offscreen
py=.venv/bin/python
run() { local name=$1; shift; echo "== $name: $*"; { uptime; "$py" "$@"; } 2>&1 | tee "$out/$name.txt"; }
run media benchmarks/bench_media.py --seconds 20
run corpus benchmarks/bench_corpus.py
run demo benchmarks/bench_demo.py
run encoders benchmarks/bench_encoders.py --clip
run recommender benchmarks/bench_recommender.py
run personalize benchmarks/bench_personalize.py --clip
run styles benchmarks/bench_styles.py
run instructor benchmarks/bench_instructor.py
run watermark benchmarks/bench_watermark.py
run export benchmarks/bench_export.py --repeat 2
run mcvd benchmarks/bench_mcvd.py --threads 2
run gui benchmarks/bench_gui.py --runs 3
run startup benchmarks/bench_startup.py --home "$out/startup-home" --build --runs 2 --tabs --quit
run av-sync benchmarks/bench_av_sync.py --seconds 60
run chaos benchmarks/chaos.py
run render benchmarks/render.py --seconds 30
