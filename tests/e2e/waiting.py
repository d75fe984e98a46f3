"""Polling helpers for end-to-end tests: wait on real processes without fixed sleeps (CI machines are slow)."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest


def poll(check: Callable[[], Any], timeout: float, interval: float = 0.05) -> Any:
    """The first truthy value `check` returns within `timeout` seconds, else None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    return None


def wait_for(check: Callable[[], Any], what: str = "condition", timeout: float = 30.0) -> Any:
    """Like poll, but a timeout fails the test naming what it waited for."""
    value = poll(check, timeout)
    if not value:
        pytest.fail(f"timed out waiting for {what}")
    return value


def interrupt(process: subprocess.Popen[bytes], timeout: float = 20.0) -> int:
    """Ctrl+C for a process under test (the copilot then writes what it queued and exits 0), a kill if it has
    not gone within `timeout`; returns its exit status."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return int(process.returncode)
