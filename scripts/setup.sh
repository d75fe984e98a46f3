#!/usr/bin/env bash
# Sets up ./.venv for Ghostpilot. No flag: the copilot's runtime only (onnxruntime, no torch).
#   --dev    also the train extra and the test tools (what the test suite needs)
#   --train  also the train extra (torch, onnx) for `ghostpilot train` and `export-model`
# torch==2.13.0 is installed first: on a CPU-only machine that is the local CPU build; a plain `torch`
# requirement would pull several GB of CUDA packages. On a GPU machine, install the torch you want first.
set -euo pipefail
cd "$(dirname "$0")/.."
extras=""
want_torch=0
for arg in "$@"; do
  case "$arg" in
    --dev) extras="train,dev"; want_torch=1 ;;
    --train) extras="${extras:-train}"; want_torch=1 ;;
    *) echo "setup.sh: unknown option $arg (use --dev or --train)" >&2; exit 2 ;;
  esac
done
python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
if [ "$want_torch" = 1 ] && ! .venv/bin/python -c "import torch" 2>/dev/null; then
  .venv/bin/python -m pip install -q --disable-pip-version-check torch==2.13.0
fi
spec="."
[ -n "$extras" ] && spec=".[$extras]"
.venv/bin/python -m pip install -q --disable-pip-version-check -e "$spec"
