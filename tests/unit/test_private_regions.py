"""Visible but unfocused private windows are painted over in captured frames: which windows count, and the
capture's masking over a sequence of frames (a scripted grabber stands in for mss; the real X server and mss
run in tests/e2e/test_private_regions_x11.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.capture import NEUTRAL_GREY, Rect, ScreenCapture
from app.privacy import DenyList, shown_privately
from app.settings import DEFAULT_DENY_LIST
from app.x11 import WindowInfo

SECRET = (200, 0, 0)
DESKTOP = (10, 60, 10)
WIDTH, HEIGHT = 64, 48


def test_deny_listed_windows_and_prompts_are_shown_privately_ordinary_ones_not() -> None:
    deny = DenyList(DEFAULT_DENY_LIST)
    assert shown_privately(WindowInfo(1, "Passwords.kdbx - KeePassXC", "KeePassXC", 5), deny)
    assert shown_privately(WindowInfo(2, "Unlock key", "Pinentry-gtk-2", 5), deny)
    assert not shown_privately(WindowInfo(3, "notes.txt - Editor", "Gedit", 5), deny)


@dataclass
class Shot:
    """What mss returns: BGRx bytes and the size."""

    raw: bytes
    size: tuple[int, int]


class Screen:
    """A scripted screen: the desktop colour with the secret window at `window` (or nowhere)."""

    def __init__(self) -> None:
        self.window: Rect | None = None

    def grab(self, monitor: dict[str, int]) -> Shot:
        rgb = np.empty((HEIGHT, WIDTH, 3), dtype=np.uint8)
        rgb[:] = DESKTOP
        if self.window is not None:
            x, y, w, h = self.window
            rgb[y : y + h, x : x + w] = SECRET
        bgrx = np.concatenate([rgb[..., ::-1], np.zeros((HEIGHT, WIDTH, 1), dtype=np.uint8)], axis=2)
        return Shot(bgrx.tobytes(), (WIDTH, HEIGHT))


def secret_pixels(capture: ScreenCapture) -> int:
    frame = capture.latest()
    assert frame is not None
    return int((frame.rgb == SECRET).all(axis=2).sum())


def test_a_private_window_is_grey_in_every_frame_and_never_returns_through_the_overlay_mask() -> None:
    screen, private = Screen(), []
    capture = ScreenCapture(10, private_regions=lambda: private)
    monitor = {"left": 0, "top": 0, "width": WIDTH, "height": HEIGHT}
    screen.window = (4, 4, 10, 10)
    capture._capture_one(screen, monitor)  # the guard has not read the new window yet: seen, unavoidably
    assert secret_pixels(capture) == 100
    # the window moves while the guard learns of it; a ghost is drawn where the window was a frame ago
    screen.window, private[:] = (30, 20, 10, 10), [(30, 20, 10, 10)]
    capture.set_mask([(4, 4, 10, 10)])
    capture._capture_one(screen, monitor)
    frame = capture.latest()
    assert frame is not None and secret_pixels(capture) == 0
    assert (frame.rgb[20:30, 30:40] == NEUTRAL_GREY).all()  # painted, not filled with earlier pixels
    assert (frame.rgb[4:14, 4:14] == NEUTRAL_GREY).all()  # the old clean pixels held the secret: not used
    capture.set_mask([])
    capture._capture_one(screen, monitor)
    assert secret_pixels(capture) == 0 and (capture.latest().rgb[0, 0] == DESKTOP).all()  # type: ignore[union-attr]
    private.clear()  # the window closed
    screen.window = None
    capture._capture_one(screen, monitor)
    frame = capture.latest()
    assert frame is not None and (frame.rgb[20:30, 30:40] == DESKTOP).all()  # painted only while it is there
