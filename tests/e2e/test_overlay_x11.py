"""The ghost overlay on a real X server: clicks and keys pass through it, it never takes focus, and the desktop
stays visible around the ghosts, without a compositor (outline style, also at device pixel ratio 2) and with
xcompmgr (translucent style). The overlay and the target window run in their own xcb processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.e2e.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
TARGET_RECT = (100, 100, 600, 400)  # x, y, w, h of tests/e2e/target_app.py's window
BUTTON = (400, 367)  # the centre of its "Press me" button (the lower half of the window, full width)
FIELD_ROWS = slice(205, 255)  # its text field, whose caret blinks: left out of before/after comparisons
CLICK_VIEW = {  # a ghost path from below the field down to a left click on the button
    "alternatives": [
        {
            "points": [[250, 280, 0.0], [300, 310, 0.2], [350, 340, 0.4], [400, 367, 0.6]],
            "click": list(BUTTON),
            "button": "left",
            "confidence": 0.8,
        }
    ],
    "pointer": [250, 280],
}
RING_RADIUS = 13  # ui.painter.RING_RADIUS (logical px); not imported so this process never loads Qt for xcb


def events(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def typed(log: Path) -> str:
    return "".join(e["text"] for e in events(log) if e["event"] == "key")


def presses(log: Path) -> list[dict[str, Any]]:
    return [e for e in events(log) if e["event"] == "press"]


def grab() -> np.ndarray:
    """The whole X screen as H x W x 3 (BGR) int16, so differences do not wrap."""
    import mss

    with mss.MSS() as screen:
        shot = screen.grab(screen.monitors[1])
    return np.asarray(shot)[:, :, :3].astype(np.int16)


def settled_grab() -> np.ndarray:
    """A grab once two in a row agree (a freshly started compositor repaints the screen)."""
    previous = grab()

    def same() -> tuple[np.ndarray] | None:
        nonlocal previous
        current = grab()
        equal = np.array_equal(current, previous)
        previous = current
        return (current,) if equal else None

    shot: np.ndarray = wait_for(same, "a still screen")[0]
    return shot


@contextmanager
def running(script: str, args: list[str], log: Path, extra_env: dict[str, str] | None = None) -> Iterator[None]:
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "PYTHONUNBUFFERED": "1", **(extra_env or {})}
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, str(HERE / script), *args], cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)  # fmt: skip
    try:
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def target(display_env: str, tmp_path: Path) -> Iterator[Path]:
    """tests/e2e/target_app.py shown and focused; yields the log of presses and keys that reach it."""
    log = tmp_path / "target.jsonl"
    with running("target_app.py", [str(log), *map(str, TARGET_RECT)], tmp_path / "target.out"):
        wait_for(lambda: any(e["event"] == "ready" for e in events(log)), "the target window")
        yield log


@contextmanager
def overlay(tmp_path: Path, view: dict[str, Any], style: str, *flags: str, scale: float = 1.0) -> Iterator[Path]:
    """The overlay host showing `view`; yields its output (a "ready" record with the window id)."""
    view_file, out = tmp_path / f"view-{style}.json", tmp_path / f"overlay-{style}.out"
    view_file.write_text(json.dumps(view))
    env = {"QT_SCREEN_SCALE_FACTORS": str(scale)} if scale != 1.0 else {}
    with running("overlay_host.py", [str(view_file), style, *flags], out, env):
        wait_for(lambda: any(e.get("event") == "ready" for e in events(out)), "the overlay")
        yield out


def changed(before: np.ndarray, after: np.ndarray, x: float, y: float, r: int = 1, tolerance: int = 8) -> bool:
    """Whether the screen changed within r px of (x, y)."""
    x, y = round(x), round(y)
    patch = np.abs(after[y - r : y + r + 1, x - r : x + r + 1] - before[y - r : y + r + 1, x - r : x + r + 1])
    return bool(patch.max() > tolerance)


def test_clicks_and_keys_reach_the_window_below_and_the_overlay_never_takes_focus(
    target: Path, tmp_path: Path, display_env: str
) -> None:
    before = settled_grab()
    with overlay(tmp_path, CLICK_VIEW, "outline", "--cycle") as out:
        wait_for(lambda: changed(before, grab(), *BUTTON, r=2), "the ghost click ring on the button")
        subprocess.run(["xdotool", "type", "--delay", "30", "hello"], check=True)
        wait_for(lambda: typed(target) == "hello", "the typed keys in the target's field")
        focus = subprocess.run(["xdotool", "getwindowfocus"], check=True, capture_output=True, text=True).stdout
        overlay_window = next(e["wid"] for e in events(out) if e["event"] == "ready")
        subprocess.run(["xdotool", "mousemove", *map(str, BUTTON), "click", "1"], check=True)
        wait_for(lambda: presses(target), "the click on the target's button")
        time.sleep(0.3)  # a few more view changes while the target is focused
        overlay_events = events(out)
    assert presses(target) == [{"event": "press", "x": BUTTON[0], "y": BUTTON[1], "button": "left"}]
    assert int(focus) != overlay_window
    assert not any(e["event"] == "focused" for e in overlay_events), overlay_events


@pytest.mark.parametrize(
    ("style", "scale"),
    [("outline", 1.0), ("outline", 2.0), ("translucent", 1.0)],
    ids=["outline", "outline-dpr2", "translucent-xcompmgr"],
)
def test_the_desktop_stays_visible_around_the_ghosts(
    target: Path, tmp_path: Path, request: pytest.FixtureRequest, style: str, scale: float
) -> None:
    if style == "translucent":
        request.getfixturevalue("compositor")  # without one a translucent full-screen window is opaque black
    before = settled_grab()
    cx, cy = BUTTON
    ring = RING_RADIUS * scale  # the ghost is placed in physical px: on screen its ring scales with the DPR
    with overlay(tmp_path, CLICK_VIEW, style, scale=scale):
        wait_for(lambda: changed(before, grab(), cx + ring, cy), "the ghost's ring on screen")
        after = settled_grab()
    tolerance = 0 if style == "outline" else 2  # outline: the desktop is untouched outside the mask
    for dx, dy in ((ring, 0), (-ring, 0), (0, -ring), (0, ring)):
        assert changed(before, after, cx + dx, cy + dy), (dx, dy)  # the ring, in physical px
    assert changed(before, after, cx, cy)  # its centre dot
    assert not changed(before, after, cx, cy - ring * 0.55, r=0, tolerance=tolerance)  # hollow inside the ring
    moved = np.abs(after - before).max(axis=2) > tolerance
    moved[FIELD_ROWS] = False
    ys, xs = np.nonzero(moved)
    assert 250 - 8 * scale <= xs.min() and xs.max() <= cx + 70 * scale  # the path, the ring and its label only
    assert 280 - 8 * scale <= ys.min() and ys.max() <= cy + 20 * scale
    x, y, w, h = TARGET_RECT
    window = after[y : y + h, x : x + w]
    assert window.mean() > 150  # the target is still visible (a grey window, not black)
    assert not moved[y + h - 60 : y + h, x : x + w].any()  # its lower part, far from the ghost, is as it was
