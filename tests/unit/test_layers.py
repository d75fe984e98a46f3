"""Architecture rules: ui -> app -> inference, never back; the live path runs without torch or Qt."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TORCH_MODULES = {
    "inference/model.py",
    "inference/train.py",
    "inference/export.py",
    "inference/goals/minilm_export.py",
    "inference/idm/model.py",
    "inference/idm/train.py",
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_layers_import_one_way() -> None:
    problems = []
    for layer, forbidden in (("inference", {"app", "ui", "PySide6"}), ("app", {"ui", "PySide6"})):
        for path in (ROOT / layer).rglob("*.py"):
            bad = _imports(path) & forbidden
            if bad:
                problems.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not problems, problems


def test_only_training_modules_import_torch() -> None:
    users = {
        str(path.relative_to(ROOT))
        for layer in ("app", "inference", "ui")
        for path in (ROOT / layer).rglob("*.py")
        if "torch" in _imports(path)
    }
    assert users <= TORCH_MODULES, users - TORCH_MODULES


def test_the_live_path_never_loads_torch_or_qt(tiny_onnx: Path) -> None:
    code = f"""
import sys
import app.cli, app.live, app.input, app.bench
from inference import load_predictor
session = load_predictor({str(tiny_onnx)!r}, device="cpu").new_session(800, 600)
session.observe_event({{"t": 0.0, "type": "mouse.move", "x": 1, "y": 2}})
assert session.suggest(0.1, min_confidence=0.0)
loaded = sorted(m for m in ("torch", "PySide6") if m in sys.modules)
print("loaded:", loaded)
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "loaded: []" in done.stdout


def test_labelling_a_recording_never_loads_torch(tmp_path: Path) -> None:
    """`ghostpilot label` runs the shipped IDM on onnxruntime: no torch, no Qt."""
    code = f"""
import sys
import numpy as np
from pathlib import Path
from PIL import Image
from app.cli import main
frames = Path({str(tmp_path / "frames")!r})
frames.mkdir()
for i in range(4):
    Image.fromarray(np.full((120, 200, 3), 40 * i, np.uint8)).save(frames / f"{{i * 33:07d}}.png")
assert main(["label", str(frames), {str(tmp_path / "out")!r}]) == 0
print("loaded:", sorted(m for m in ("torch", "PySide6") if m in sys.modules))
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "loaded: []" in done.stdout


def test_importing_does_no_work() -> None:
    """Importing the packages loads no runtime, capture or training library (they load when used)."""
    heavy = "('onnxruntime', 'torch', 'mss', 'pynput')"
    code = f"import sys, inference, app.cli; print(sorted(m for m in {heavy} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
