#!/usr/bin/env bash
# Reproduces the shipped default model, assets/models/ghostpilot-default.onnx, and its model-card metrics.
#   bash scripts/train-default.sh [BALABIT_DIR] [STEPS]
# Data: Balabit users 7, 9, 12 (train), 15 (validation: checkpoint selection), 16 (test: never used before
# the final report); synthetic episodes seeds 0-299 (train), 100000-100039 (validation), 200000-200039 (test).
set -euo pipefail
cd "$(dirname "$0")/.."
BALABIT="${1:-../shared/data/balabit-dev}"
STEPS="${2:-9000}"
gp=.venv/bin/ghostpilot
[ -x "$gp" ] || bash scripts/setup.sh --train

[ -d data/balabit/user16 ] || $gp import-balabit "$BALABIT" data/balabit
[ -d data/synthetic ] || $gp synth data/synthetic --count 300 --seed 0
[ -d data/synthetic-val ] || $gp synth data/synthetic-val --count 40 --seed 100000
[ -d data/synthetic-test ] || $gp synth data/synthetic-test --count 40 --seed 200000

$gp train data/synthetic data/balabit/user7 data/balabit/user9 data/balabit/user12 \
  --val data/balabit/user15 data/synthetic-val \
  --out runs/default --steps "$STEPS" --batch-size 32 --lr 1e-3 --seed 0 --eval-every 500 --threads 2
$gp export-model runs/default/best.safetensors --out assets/models/ghostpilot-default.onnx
# The torch weights ship beside the ONNX model: fine-tuning from the app starts from them (app/swap.py).
cp runs/default/best.safetensors assets/models/ghostpilot-default.safetensors

$gp eval data/balabit/user16 --json > runs/default/eval-balabit-user16.json
$gp eval data/balabit/user15 --json > runs/default/eval-balabit-user15.json
$gp eval data/synthetic-test --json > runs/default/eval-synthetic-test.json
$gp bench --json > runs/default/bench.json
echo "done: assets/models/ghostpilot-default.{onnx,safetensors}; metrics in runs/default/*.json"
