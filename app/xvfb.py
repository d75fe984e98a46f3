"""A private X server (Xvfb) for benchmarks, screenshots and end-to-end tests, stopped by its own handle.

`-displayfd` lets Xvfb pick a free display number and report it, so parallel runs never collide.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager


def start_xvfb(width: int = 1920, height: int = 1080) -> tuple[subprocess.Popen[bytes], str]:
    """Start Xvfb at width x height x 24; returns the process and its display name (":N")."""
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,), stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    if not number:
        server.kill()
        server.wait(timeout=10)
        raise RuntimeError("Xvfb did not start (is the xvfb package installed?)")
    return server, f":{number}"


def stop_process(process: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    """Terminate, then kill if it does not go in time."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


@contextmanager
def private_xvfb(width: int = 1920, height: int = 1080) -> Iterator[str]:
    """A display for the duration of the block."""
    server, display = start_xvfb(width, height)
    try:
        yield display
    finally:
        stop_process(server)
