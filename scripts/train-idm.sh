#!/usr/bin/env bash
# Reproduces the shipped inverse-dynamics model, assets/models/idm/ (three ONNX files + idm.json with their
# SHA-256), and its metrics in docs/metrics.md.
#   bash scripts/train-idm.sh
# Data: synthetic episodes seeds 0-99 rendered in memory with random cursor sprites and codec-like damage
# (inference/idm/data.py), plus 15,000 single-field keystrokes (inference/idm/glyphs.py, seed 12345).
# Held out for the report: synthetic seeds 300000-300019 (encoded to H.264 and labelled end to end) and a
# driven recording of a real PySide6 form under Xvfb (benchmarks/idm_real_app.py).
# Cost on the 2-core machine (shared with other jobs while measured): ~10 min to render the episode samples
# and ~10 min for the extra cursor samples in 2 processes, ~4 min for the keystrokes, ~10 min of training on
# one thread (torch.set_num_threads(1)).
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
[ -x "$py" ] || bash scripts/setup.sh --train

PYTHONPATH=. $py -m inference.idm.train assets/models/idm --samples runs/idm/samples.npz --seeds 0:100 \
  --processes 2 --threads 1 --seed 0
PYTHONPATH=. $py benchmarks/idm_eval.py --seeds 300000:300020 | tee runs/idm/eval.txt
PYTHONPATH=. $py benchmarks/idm_real_app.py --seconds 40 --out runs/idm-real | tee runs/idm/eval-real-app.txt
PYTHONPATH=. $py benchmarks/idm_speed.py --seconds 30 --seconds 180 | tee runs/idm/speed.txt
