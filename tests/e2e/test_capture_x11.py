"""Screen capture on a real X server (Xvfb): frame size and rate, a real window's pixels, masking, errors."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from app.capture import CapturedFrame, ScreenCapture
from inference.errors import GhostpilotError

RED = (255, 0, 0)


def wait_for(condition: Callable[[], bool], timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


class RedWindow:
    """A solid red xterm at a fixed place (no window manager on Xvfb, so the geometry is honoured)."""

    def __init__(self, x: int, y: int) -> None:
        if shutil.which("xterm") is None:
            pytest.skip("xterm is needed (apt-get install xterm)")
        solid_red = ["-bw", "0", "-bg", "red", "-fg", "red", "-cr", "red"]  # no border, text and cursor red too
        self.process = subprocess.Popen(
            ["xterm", *solid_red, "-geometry", f"30x8+{x}+{y}", "-e", "sleep", "120"], stderr=subprocess.DEVNULL
        )
        found = subprocess.run(
            ["xdotool", "search", "--sync", "--onlyvisible", "--pid", str(self.process.pid)],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        window = found.stdout.split()[0]
        shell = subprocess.run(["xdotool", "getwindowgeometry", "--shell", window], capture_output=True, text=True)
        geometry = dict(line.split("=", 1) for line in shell.stdout.split())
        self.rect = (int(geometry["X"]), int(geometry["Y"]), int(geometry["WIDTH"]), int(geometry["HEIGHT"]))

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def red_window(display_env: str) -> Iterator[Callable[[int, int], RedWindow]]:
    opened: list[RedWindow] = []

    def open_at(x: int, y: int) -> RedWindow:
        opened.append(RedWindow(x, y))
        return opened[-1]

    yield open_at
    for window in opened:
        window.close()


@pytest.fixture
def capture(display_env: str) -> Iterator[ScreenCapture]:
    grabber = ScreenCapture(fps=20)
    grabber.start()
    yield grabber
    grabber.stop()


def red_box(frame: CapturedFrame) -> tuple[int, int, int, int] | None:
    """(x, y, w, h) in virtual-screen px of the pure red pixels, or None."""
    mask = (frame.rgb == RED).all(axis=2)
    if not mask.any():
        return None
    ys, xs = np.nonzero(mask)
    left, top = frame.origin
    return left + int(xs.min()), top + int(ys.min()), int(xs.max() - xs.min()) + 1, int(ys.max() - ys.min()) + 1


def latest_box(capture: ScreenCapture) -> tuple[int, int, int, int] | None:
    frame = capture.latest()
    return None if frame is None else red_box(frame)


def screen_has_red(rect: tuple[int, int, int, int]) -> bool:
    """What X shows right now, grabbed directly (unmasked): proof the ghost window really is on screen."""
    import mss

    x, y, w, h = rect
    with mss.MSS() as grabber:
        shot = grabber.grab({"left": x, "top": y, "width": w, "height": h})
    return bool((np.asarray(shot)[..., 2::-1] == RED).all(axis=2).any())


def frames_after(capture: ScreenCapture, count: int) -> list[CapturedFrame]:
    """Wait for `count` new frames and return them."""
    start = capture.stats.frames
    assert wait_for(lambda: capture.stats.frames >= start + count), capture.stats
    return capture.recent()[-count:]


def test_frames_cover_the_whole_screen_at_most_at_the_requested_rate(display_env: str) -> None:
    started = time.monotonic()
    capture = ScreenCapture(fps=10, clock=lambda: 1000.0 + time.monotonic() - started)
    capture.start()
    try:
        assert wait_for(lambda: time.monotonic() - started >= 2.0)
        count, elapsed = capture.stats.frames, time.monotonic() - started
        frames = capture.recent()
    finally:
        capture.stop()
    assert 4 <= count <= 10 * elapsed + 1  # never faster than asked; generous floor for a loaded machine
    assert len(frames) == min(count, 8)  # the ring keeps the last 8
    first = frames[0]
    assert first.rgb.shape == (1080, 1920, 3) and first.rgb.dtype == np.uint8 and not first.rgb.flags.writeable
    assert first.origin == (0, 0) and first.screen_size == (1920, 1080)
    stamps = [f.t for f in frames]
    assert all(1000.0 < t < 1000.0 + elapsed + 1 for t in stamps)  # on the caller's clock
    assert all(b - a >= 0.05 for a, b in itertools.pairwise(stamps))  # period 0.1 s, jitter allowed
    assert capture.stats.grab_ms > 0 and capture.stats.error is None and not capture.running


def test_a_real_window_shows_in_its_colour_at_its_position(
    capture: ScreenCapture, red_window: Callable[[int, int], RedWindow]
) -> None:
    window = red_window(300, 200)
    assert wait_for(lambda: latest_box(capture) == window.rect), (latest_box(capture), window.rect)


def test_masked_regions_hide_what_the_overlay_draws_there(
    capture: ScreenCapture, red_window: Callable[[int, int], RedWindow]
) -> None:
    """A window standing in for the overlay's ghost opens inside the mask: the frames keep the clean desktop."""
    frames_after(capture, 2)  # clean frames of the empty desktop first
    capture.set_mask([(580, 380, 400, 300)])
    ghost = red_window(600, 400)
    assert ghost.rect[0] + ghost.rect[2] <= 980 and ghost.rect[1] + ghost.rect[3] <= 680, ghost.rect
    assert wait_for(lambda: screen_has_red(ghost.rect))
    shown = frames_after(capture, 6)
    assert all(red_box(f) is None for f in shown)
    capture.set_mask([])  # the ghost is gone from the mask: after the linger, its pixels are real again
    assert wait_for(lambda: latest_box(capture) == ghost.rect)


def test_model_size_downscales_published_frames(display_env: str) -> None:
    capture = ScreenCapture(fps=10, model_size=(128, 64))
    capture.start()
    try:
        frame = capture.latest()
    finally:
        capture.stop()
    assert frame is not None and frame.rgb.shape == (64, 128, 3) and frame.screen_size == (1920, 1080)


def test_an_unreachable_display_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPLAY", ":4999")
    capture = ScreenCapture(fps=10)
    with pytest.raises(GhostpilotError, match="cannot capture the screen on :4999") as caught:
        capture.start()
    assert "\n" not in str(caught.value) and not capture.running
