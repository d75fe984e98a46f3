"""`ghostpilot run --console` (the shipped model) on a real X server: xdotool pointer moves produce ghosts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _wait_for(log: Path, text: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while text not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.2)


def _sweep(env: dict[str, str], y: int) -> None:
    for step in range(40):
        subprocess.run(["xdotool", "mousemove", str(200 + 20 * step), str(y + 10 * step)], env=env, check=True)
        time.sleep(0.02)
    time.sleep(1.0)


def _sweep_until(env: dict[str, str], y: int, done: Callable[[], bool], tries: int = 5) -> None:
    """Move like a user until `done()`: on a loaded machine one sweep may end before the model has spoken."""
    for attempt in range(tries):
        _sweep(env, y + 15 * attempt)
        if done():
            return


def test_pointer_moves_produce_ghosts_and_model_use_switches_the_running_copilot(
    x_display: str, tmp_path: Path
) -> None:
    from app import models
    from assets import DEFAULT_MODEL

    env = {**os.environ, "DISPLAY": x_display, "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "run.log"
    with open(log, "w") as out:
        app = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "run", "--console", "--device", "cpu", "--min-confidence", "0",
             "--no-log"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            _wait_for(log, "watching")
            _sweep_until(env, 300, lambda: "ghost click at (" in log.read_text())
            shutil.copyfile(DEFAULT_MODEL, tmp_path / "v2.onnx")
            models.use(models.register(tmp_path / "v2.onnx").name)  # as `ghostpilot model use v2` elsewhere
            _wait_for(log, "now using model v2")
            ghosts_before = log.read_text().count("ghost click at (")
            _sweep_until(env, 200, lambda: log.read_text().count("ghost click at (") > ghosts_before)
        finally:
            app.terminate()
            app.wait(timeout=10)
    text = log.read_text()
    assert "watching 1920x1080" in text, text
    assert ghosts_before > 0, text
    assert "ghostpilot: now using model v2 (on CPUExecutionProvider)" in text, text
    assert text.count("ghost click at (") > ghosts_before, text  # the new model suggests


def test_without_a_display_it_says_so_in_one_line(tiny_onnx: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "run", "--model", str(tiny_onnx)], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().startswith("ghostpilot: error: no display") and done.stderr.count("\n") == 1
