"""A deny-listed window that is visible but not focused never shows in captured frames (real Xvfb, mss, guard).

Two solid red xterms (no window manager on Xvfb, so their geometry is honoured): one titled like a KeePassXC
vault, one ordinary and focused. A real PrivacyGuard reads where the visible private windows are; a real
ScreenCapture paints them over. The vault's red is on the screen (an unmasked mss grab sees it) and in no frame,
the ordinary window's red is in the frames, and the mask follows the vault when it moves and goes when it closes.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator

import numpy as np
import pytest

from app.capture import NEUTRAL_GREY, ScreenCapture
from app.privacy import DenyList, PrivacyGuard
from app.settings import DEFAULT_DENY_LIST
from tests.e2e.waiting import wait_for

RED = (255, 0, 0)


class Xterm:
    """A solid red xterm with this title at (x, y)."""

    def __init__(self, title: str, x: int, y: int) -> None:
        solid_red = ["-bw", "0", "-bg", "red", "-fg", "red", "-cr", "red"]
        args = ["xterm", *solid_red, "-T", title, "-geometry", f"30x8+{x}+{y}", "-e", "sleep", "120"]
        self.process = subprocess.Popen(args, stderr=subprocess.DEVNULL)
        found = subprocess.run(
            ["xdotool", "search", "--sync", "--onlyvisible", "--pid", str(self.process.pid)],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        self.id = found.stdout.split()[0]

    def rect(self) -> tuple[int, int, int, int]:
        shell = subprocess.run(["xdotool", "getwindowgeometry", "--shell", self.id], capture_output=True, text=True)
        geometry = dict(line.split("=", 1) for line in shell.stdout.split())
        return int(geometry["X"]), int(geometry["Y"]), int(geometry["WIDTH"]), int(geometry["HEIGHT"])

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def desktop(display_env: str) -> Iterator[tuple[Xterm, Xterm]]:
    if shutil.which("xterm") is None:
        pytest.skip("xterm is needed (apt-get install xterm)")
    vault = Xterm("Passwords.kdbx - KeePassXC", 100, 100)
    editor = Xterm("notes - Editor", 900, 100)
    subprocess.run(["xdotool", "windowfocus", "--sync", editor.id], check=True)
    try:
        yield vault, editor
    finally:
        vault.close()
        editor.close()


@pytest.fixture
def guarded_capture(desktop: tuple[Xterm, Xterm]) -> Iterator[tuple[PrivacyGuard, ScreenCapture]]:
    guard = PrivacyGuard(DenyList(DEFAULT_DENY_LIST), time.monotonic, detectors=())
    guard.start()
    capture = ScreenCapture(fps=20, private_regions=guard.regions)
    capture.start()
    try:
        yield guard, capture
    finally:
        capture.stop()
        guard.stop()


def red_in(pixels: np.ndarray, rect: tuple[int, int, int, int]) -> int:
    x, y, w, h = rect
    return int((pixels[y : y + h, x : x + w] == RED).all(axis=2).sum())


def on_screen() -> np.ndarray:
    """What X shows now, grabbed directly (unmasked), as RGB."""
    import mss

    with mss.MSS() as grabber:
        return np.asarray(grabber.grab(grabber.monitors[0]))[..., 2::-1]


def frames_after(capture: ScreenCapture, count: int) -> list[np.ndarray]:
    first = capture.latest()
    start = first.t if first is not None else float("-inf")
    wait_for(lambda: sum(f.t > start for f in capture.recent()) >= count, f"{count} new frames", 10)
    return [f.rgb for f in capture.recent() if f.t > start]


def test_a_visible_unfocused_vault_is_grey_in_every_frame(
    desktop: tuple[Xterm, Xterm], guarded_capture: tuple[PrivacyGuard, ScreenCapture]
) -> None:
    vault, editor = desktop
    guard, capture = guarded_capture
    assert guard.current().denied is False  # the editor has the focus: the copilot watches
    wait_for(lambda: guard.regions() == [vault.rect()], "the vault's region")
    screen = on_screen()
    assert red_in(screen, vault.rect()) > 10_000 and red_in(screen, editor.rect()) > 10_000
    for rgb in frames_after(capture, 5):
        assert red_in(rgb, vault.rect()) == 0
        x, y, w, h = vault.rect()
        assert (rgb[y : y + h, x : x + w] == NEUTRAL_GREY).all()
        assert red_in(rgb, editor.rect()) == red_in(screen, editor.rect())  # the rest is seen as it is

    subprocess.run(["xdotool", "windowmove", "--sync", vault.id, "500", "600"], check=True)
    wait_for(lambda: guard.regions() == [vault.rect()] and vault.rect()[:2] == (500, 600), "the region to follow")
    for rgb in frames_after(capture, 3):
        assert red_in(rgb, vault.rect()) == 0 and red_in(rgb, (100, 100, 200, 100)) == 0  # nothing was left there

    vault.close()
    wait_for(lambda: guard.regions() == [], "the region to go with the window")
    assert not (frames_after(capture, 2)[-1][600:700, 500:700] == NEUTRAL_GREY).all()
