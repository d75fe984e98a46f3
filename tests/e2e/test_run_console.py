"""`ghostpilot run --console` (the shipped model) on a real X server: xdotool pointer moves produce ghosts."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_pointer_moves_produce_ghosts(x_display: str, tmp_path: Path) -> None:
    env = {**os.environ, "DISPLAY": x_display, "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "run.log"
    with open(log, "w") as out:
        app = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "run", "--console", "--device", "cpu", "--min-confidence", "0",
             "--no-log"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while "watching" not in log.read_text() and time.monotonic() < deadline:
                time.sleep(0.2)
            for step in range(40):
                subprocess.run(
                    ["xdotool", "mousemove", str(200 + 20 * step), str(300 + 10 * step)], env=env, check=True
                )
                time.sleep(0.02)
            time.sleep(1.0)
        finally:
            app.terminate()
            app.wait(timeout=10)
    text = log.read_text()
    assert "watching 1920x1080" in text, text
    assert "ghost click at (" in text, text


def test_without_a_display_it_says_so_in_one_line(tiny_onnx: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "run", "--model", str(tiny_onnx)], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().startswith("ghostpilot: error: no display") and done.stderr.count("\n") == 1
