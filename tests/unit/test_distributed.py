"""`ghostpilot train` runs unchanged under torchrun (DistributedDataParallel, gloo on CPU)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TINY_MODEL, scripted_episode

pytest.importorskip("torch")
ROOT = Path(__file__).resolve().parents[2]


def test_two_process_ddp_training_writes_one_checkpoint(tmp_path: Path) -> None:
    torchrun = Path(sys.executable).with_name("torchrun")
    if not torchrun.exists() and shutil.which("torchrun") is None:
        pytest.skip("torchrun not installed")
    scripted_episode(tmp_path / "eps" / "ep0", seconds=15)
    command = [
        str(torchrun if torchrun.exists() else shutil.which("torchrun")), "--nproc_per_node=2", "-m", "app.cli",
        "train", str(tmp_path / "eps"), "--out", str(tmp_path / "run"), "--steps", "4", "--batch-size", "4",
        "--eval-every", "2", "--model-config", json.dumps(TINY_MODEL),
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("best checkpoint:") == 1, "only rank 0 reports and writes"
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert [record["step"] for record in history] == [2, 4]
    assert (tmp_path / "run" / "best.safetensors").exists()
