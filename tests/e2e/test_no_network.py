"""No network: the copilot, eval and bench run with network sockets refused and open none.

Each command runs in a subprocess with tests/no_network/sitecustomize.py loaded (an audit hook that records
and refuses any socket that is not a Unix socket, and any DNS lookup). While the copilot runs, its open file
descriptors are also matched against the kernel's TCP/UDP/raw socket tables, which catches sockets made by
native code (onnxruntime, Qt) that the Python hook cannot see.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
HOOK_DIR = ROOT / "tests" / "no_network"
INET_TABLES = ("tcp", "tcp6", "udp", "udp6", "raw", "raw6", "udplite", "udplite6")


def _env(log: Path, display: str | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": f"{HOOK_DIR}{os.pathsep}{ROOT}", "GHOSTPILOT_NETWORK_LOG": str(log)}
    if display:
        env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb", PYTHONUNBUFFERED="1")
    return env


def _violations(log: Path) -> list[str]:
    lines = log.read_text().splitlines() if log.exists() else []
    assert any(line.endswith("hook-installed") for line in lines), "the audit hook was not loaded"
    return [line for line in lines if not line.endswith("hook-installed")]


def _inet_socket_inodes(pid: int) -> set[str]:
    """Inodes of this process's sockets that the kernel lists as TCP, UDP or raw (any address family)."""
    inet: set[str] = set()
    for table in INET_TABLES:
        path = Path(f"/proc/{pid}/net/{table}")
        if path.exists():
            inet |= {row.split()[9] for row in path.read_text().splitlines()[1:] if len(row.split()) > 9}
    mine: set[str] = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            mine.add(target[8:-1])
    return mine & inet


def test_the_copilot_opens_no_network_socket(x_display: str, tmp_path: Path) -> None:
    if not Path("/proc/self/net/tcp").exists():
        pytest.skip("needs Linux /proc")
    log, out = tmp_path / "network.log", tmp_path / "run.log"
    env = _env(log, x_display)
    with open(out, "w") as sink:
        app = subprocess.Popen(
            [sys.executable, "-m", "ui.cli", "run", "--database", str(tmp_path / "log.db"), "--device", "cpu",
             "--min-confidence", "0"],
            cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for(lambda: "watching" in out.read_text() or app.poll() is not None, "the copilot to start", 60)
        assert app.poll() is None, out.read_text()
        for step in range(40):
            subprocess.run(["xdotool", "mousemove", str(200 + 30 * step), str(300 + 5 * step)], env=env, check=True)
        subprocess.run(["xdotool", "type", "--delay", "20", "hello"], env=env, check=True)
        assert _inet_socket_inodes(app.pid) == set()
    finally:
        app.terminate()
        app.wait(timeout=30)
    assert _violations(log) == [], out.read_text()
    assert "Traceback" not in out.read_text(), out.read_text()


def test_eval_and_bench_open_no_network_socket(tmp_path: Path) -> None:
    log = tmp_path / "network.log"
    env = _env(log)
    episodes = tmp_path / "episodes"
    commands = [
        ["synth", str(episodes), "--count", "2", "--no-frames"],
        ["eval", str(episodes), "--device", "cpu"],
        ["bench", "--steps", "20"],
    ]
    for args in commands:
        done = subprocess.run(
            [sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
    assert _violations(log) == []


def test_the_hook_does_refuse_a_network_socket(tmp_path: Path) -> None:
    """The guard itself: without this the tests above could pass with a hook that sees nothing."""
    log = tmp_path / "network.log"
    code = "import socket; s = socket.socket(); s.connect(('127.0.0.1', 9))"
    done = subprocess.run([sys.executable, "-c", code], env=_env(log), capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "network access refused" in done.stderr
    assert any("socket.__new__" in line for line in _violations(log))


def test_the_proc_check_sees_an_inet_socket() -> None:
    """The /proc check itself: a bound TCP socket of this process is found, a Unix socket is not."""
    import socket

    if not Path("/proc/self/net/tcp").exists():
        pytest.skip("needs Linux /proc")
    with socket.socket(socket.AF_UNIX) as local:
        assert str(os.fstat(local.fileno()).st_ino) not in _inet_socket_inodes(os.getpid())
        with socket.socket() as tcp:
            tcp.bind(("127.0.0.1", 0))
            tcp.listen()
            assert str(os.fstat(tcp.fileno()).st_ino) in _inet_socket_inodes(os.getpid())
