"""A real X server (Xvfb) for end-to-end tests, started and stopped by its own handle."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def x_display() -> Iterator[str]:
    if shutil.which("Xvfb") is None or shutil.which("xdotool") is None:
        pytest.skip("Xvfb and xdotool are needed (apt-get install xvfb xdotool)")
    from app.xvfb import start_xvfb, stop_process

    try:
        server, display = start_xvfb()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield display
    finally:
        stop_process(server)


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
