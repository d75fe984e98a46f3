"""A real X server (Xvfb) for end-to-end tests, started and stopped by its own handle."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def x_display() -> Iterator[str]:
    if shutil.which("Xvfb") is None or shutil.which("xdotool") is None:
        pytest.skip("Xvfb and xdotool are needed (apt-get install xvfb xdotool)")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    if not number:
        server.kill()
        pytest.fail("Xvfb did not start")
    try:
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def display_env(x_display: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """DISPLAY points at the test X server for this test (and the processes it starts)."""
    monkeypatch.setenv("DISPLAY", x_display)
    return x_display


@pytest.fixture
def compositor(display_env: str) -> Iterator[subprocess.Popen[bytes]]:
    """A compositing manager (xcompmgr) on the test display, so translucent windows blend."""
    if shutil.which("xcompmgr") is None:
        pytest.skip("xcompmgr is needed (apt-get install xcompmgr)")
    manager = subprocess.Popen(["xcompmgr"], stderr=subprocess.DEVNULL)
    try:
        yield manager
    finally:
        manager.terminate()
        manager.wait(timeout=10)
