"""The command line: each command works on real files, and user mistakes give one line and exit code 2."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    missing = [name for name in commands if f"ghostpilot {name}" not in readme]
    assert not missing, f"commands missing from README.md: {missing}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["eval", "/nonexistent/episodes", "--baselines-only"], "no such file or directory"),
        (["export-model", "/nonexistent.pt", "--out", "/tmp/x.onnx"], "no such checkpoint"),
        (["bench", "--model", "/nonexistent.onnx"], "model file not found"),
        (["import-balabit", "/nonexistent", "/tmp/out"], "no userNN/session_"),
    ],
)
def test_user_mistakes_are_one_line(args: list[str], message: str) -> None:
    done = _cli(*args)
    assert done.returncode == 2, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ghostpilot: error:") and message in last
    assert "Traceback" not in done.stderr


def test_corrupt_model_is_refused_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07not a model at all")
    done = _cli("bench", "--model", str(bad))
    assert done.returncode == 2 and "not a loadable ONNX model" in done.stderr and "Traceback" not in done.stderr


def test_import_then_eval_real_balabit_session(
    tmp_path: Path, balabit_dir: Path, capsys: pytest.CaptureFixture
) -> None:
    src = tmp_path / "src" / "user15"
    src.mkdir(parents=True)
    shutil.copy(sorted((balabit_dir / "user15").iterdir())[0], src)
    assert main(["import-balabit", str(tmp_path / "src"), str(tmp_path / "episodes")]) == 0
    assert main(["eval", str(tmp_path / "episodes"), "--baselines-only", "--json"]) == 0
    report = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    stay = report["stay"]["overall"]["pointer"]
    assert stay and all(row["n"] > 100 for row in stay)
