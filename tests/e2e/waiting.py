"""Polling helpers for end-to-end tests: wait on real processes without fixed sleeps (CI machines are slow)."""

from __future__ import annotations

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
