#!/usr/bin/env bash
# Builds the one-folder bundle dist/ghostpilot/ (see docs/packaging.md) and checks that it starts.
#   bash packaging/build.sh          CPU bundle (onnxruntime's CUDA/TensorRT providers left out)
#   bash packaging/build.sh --gpu    keeps them (+~285 MB; the machine then needs CUDA 12 and cuDNN 9)
# Needs ./.venv with the runtime and PyInstaller: bash scripts/setup.sh && .venv/bin/pip install pyinstaller
set -euo pipefail
cd "$(dirname "$0")/.."
for arg in "$@"; do
  case "$arg" in
    --gpu) export GHOSTPILOT_BUNDLE_GPU=1 ;;
    *) echo "build.sh: unknown option $arg (use --gpu)" >&2; exit 2 ;;
  esac
done
python=.venv/bin/python
if ! "$python" -c "import PyInstaller" 2>/dev/null; then
  echo "build.sh: PyInstaller is missing: .venv/bin/pip install 'pyinstaller>=6.10'" >&2
  exit 2
fi
"$python" packaging/make_icon.py >/dev/null
"$python" -m PyInstaller --noconfirm --clean --log-level WARN \
  --workpath build/pyinstaller --distpath dist packaging/ghostpilot.spec
dist/ghostpilot/ghostpilot --version
du -sh dist/ghostpilot
