"""Faults on a real X server: a bad model file, CUDA that does not run, the X server going away.

Each runs the real `ghostpilot` (python -m ui.cli, or app.cli for --console) in a subprocess and reads what
the user would read. `--no-log` keeps the first-run consent window away.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assets import DEFAULT_MODEL
from tests.e2e.waiting import poll, wait_for

ROOT = Path(__file__).resolve().parents[2]


class Copilot:
    """A `ghostpilot run` subprocess whose stdout and stderr go to one file."""

    def __init__(self, display: str, log: Path, *args: str, gui: bool = True) -> None:
        env = {**os.environ, "DISPLAY": display, "PYTHONUNBUFFERED": "1", "QT_QPA_PLATFORM": "xcb"}
        module = "ui.cli" if gui else "app.cli"
        console = [] if gui else ["--console"]
        self.log = log
        with open(log, "w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", module, "run", *console, "--no-log", *args],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def text(self) -> str:
        return self.log.read_text()

    def wait_watching(self) -> None:
        wait_for(lambda: "watching" in self.text() or self.proc.poll() is not None, "the copilot to start", 60)
        assert self.proc.poll() is None, self.text()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@pytest.fixture
def private_x() -> Iterator[subprocess.Popen[bytes]]:
    """An X server of this test's own, so the test may kill it."""
    from app.xvfb import start_xvfb

    server, display = start_xvfb(1280, 800)
    server.display = display  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=10)


@pytest.mark.parametrize("gui", [True, False], ids=["overlay", "console"])
def test_x_server_going_away_is_a_clean_exit_with_one_line(
    x_display: str, private_x: subprocess.Popen[bytes], tmp_path: Path, gui: bool
) -> None:
    del x_display  # only for its skip when Xvfb is missing
    app = Copilot(private_x.display, tmp_path / "run.log", "--device", "cpu", gui=gui)  # type: ignore[attr-defined]
    try:
        app.wait_watching()
        private_x.kill()
        private_x.wait(timeout=10)
        assert poll(lambda: app.proc.poll() is not None, timeout=20), f"still running:\n{app.text()}"
    finally:
        app.stop()
    text = app.text()
    assert app.proc.returncode == 2, text
    assert "the X server went away" in text, text
    assert "Traceback" not in text and "Exception in thread" not in text, text


def test_truncated_model_runs_the_copilot_without_suggestions(display_env: str, tmp_path: Path) -> None:
    broken = tmp_path / "truncated.onnx"
    broken.write_bytes(DEFAULT_MODEL.read_bytes()[: DEFAULT_MODEL.stat().st_size // 2])
    app = Copilot(display_env, tmp_path / "run.log", "--model", str(broken), "--device", "cpu", "--min-confidence", "0")
    try:
        app.wait_watching()
        env = {**os.environ, "DISPLAY": display_env}
        for step in range(20):
            subprocess.run(["xdotool", "mousemove", str(300 + 25 * step), str(400)], env=env, check=True)
        assert poll(lambda: app.proc.poll() is not None, timeout=2.0) is None  # still up after input
    finally:
        app.stop()
    text = app.text()
    notices = [line for line in text.splitlines() if "running without suggestions" in line]
    assert len(notices) == 1 and "truncated.onnx" in notices[0], text
    assert "with no-model" in text and "Traceback" not in text, text


def _cuda_runs() -> bool:
    import onnxruntime as ort

    from app.models import load_model
    from inference.errors import ModelError

    if "CUDAExecutionProvider" not in ort.get_available_providers():
        return False
    try:
        return bool(load_model(None, device="auto").provider == "CUDAExecutionProvider")
    except ModelError:
        return False


def test_without_working_cuda_auto_says_cpu_and_cuda_is_a_one_line_error(display_env: str, tmp_path: Path) -> None:
    import onnxruntime as ort

    if _cuda_runs():
        pytest.skip("CUDA really runs on this machine")
    env = {**os.environ, "DISPLAY": display_env}
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "run", "--console", "--no-log", "--device", "cuda"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("ghostpilot: error: CUDA") and done.stderr.count("\n") == 1, done.stderr
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        return  # a CPU-only onnxruntime never tries CUDA under auto: nothing to fall back from
    app = Copilot(display_env, tmp_path / "run.log", "--device", "auto", gui=False)
    try:
        app.wait_watching()
    finally:
        app.stop()
    text = app.text()
    assert "CUDA is installed but did not run" in text and "on CPUExecutionProvider" in text, text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fps", "-3"], "--fps must be above 0"),
        (["--fps", "500"], "--fps must be above 0 and at most 30"),
        (["--min-confidence", "7"], "--min-confidence must be between 0 and 1"),
    ],
)
def test_bad_run_arguments_are_one_line(display_env: str, args: list[str], message: str) -> None:
    """Checked before anything starts (a bad --model is not among them: the copilot runs without it)."""
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "run", "--console", "--no-log", "--device", "cpu", *args],
        cwd=ROOT, env={**os.environ, "DISPLAY": display_env}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("ghostpilot: error:") and message in done.stderr, done.stderr


def test_malformed_settings_file_stops_run_with_one_line(display_env: str) -> None:
    from app.settings import default_settings_path

    path = default_settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"version": 2, "capture_fps": "fast"}')
    done = subprocess.run(
        [sys.executable, "-m", "ui.cli", "run", "--no-log"],
        cwd=ROOT, env={**os.environ, "DISPLAY": display_env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "capture_fps" in done.stderr and str(path) in done.stderr
