#!/usr/bin/env bash
# Acceptance benchmark of the continuous flow maps: 1-step distilled samples vs the 100-step Euler ODE of the
# flow-matching teacher on the 8-Gaussian ring, with the exact-sampling noise floor. Results: RESULTS.md.
# Usage: bash tests/benchmarks/bench_flow2d.sh [OUT]   (about 25 min on 2 CPU cores)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-outputs/bench_flow2d}
.venv/bin/flowmaps_demo --out "$OUT" --fm-steps 6000 --distill-steps 12000 --losses psd,lsd,esd,meanflow --n-eval 4000 --no-progress
