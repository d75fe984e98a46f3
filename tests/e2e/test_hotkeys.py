"""The hotkey grabber on a real X server, with a real Qt window that logs the keys reaching it.

Keys are pressed with xdotool (XTEST: the server treats them like a keyboard's). To prove a key did NOT reach
the window, a marker key is typed after it and the log is read up to the marker: had the key gone to the
window, it would be logged before the marker.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.hotkeys import HotkeyGrabber
from inference.errors import GhostpilotError
from tests.e2e.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
QT_TAB, QT_ESCAPE = 0x01000001, 0x01000000  # Qt.Key_Tab, Qt.Key_Escape as the target logs them


class TargetApp:
    """tests/e2e/target_app.py in a subprocess on the test display; its log read as records."""

    def __init__(self, display: str, log: Path) -> None:
        self.env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
        self.log = log
        log.touch()
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "e2e" / "target_app.py"), str(log), "100", "100", "600", "400"],
            env=self.env, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(lambda: any(r["event"] == "ready" for r in self.records()), what="the target app")
        found = wait_for(lambda: self.xdotool("search", "--pid", str(self.process.pid)).split(), what="its window")
        self.window_id = int(found[-1])
        self.focus()

    def xdotool(self, *args: str) -> str:
        return subprocess.run(["xdotool", *args], env=self.env, check=True, capture_output=True, text=True).stdout

    def focus(self) -> None:
        self.xdotool("windowfocus", "--sync", str(self.window_id))

    def records(self, since: int = 0) -> list[dict[str, Any]]:
        lines = self.log.read_text().splitlines()
        return [json.loads(line) for line in lines[since:] if line.endswith("}")]

    def mark(self) -> int:
        return len(self.records())

    def keys_until_marker(self, since: int, marker: str) -> list[int]:
        """Qt key codes logged after `since` up to the marker character, typed now."""
        self.xdotool("type", marker)
        records = wait_for(
            lambda: (r := self.records(since)) and any(x.get("text") == marker for x in r) and r,
            what=f"marker {marker!r} in the target's log",
        )
        keys = [int(r["key"]) for r in records if r["event"] == "key"]
        return keys[: keys.index(ord(marker.upper()))]

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def target(x_display: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TargetApp]:
    app = TargetApp(x_display, tmp_path_factory.mktemp("target") / "keys.jsonl")
    try:
        yield app
    finally:
        app.close()


class Actions:
    """Collects what the grabber dispatches (from its thread)."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, name: str) -> None:
        with self.lock:
            self.names.append(name)

    def wait_for(self, count: int) -> list[str]:
        return list(wait_for(lambda: len(self.names) >= count and self.names, what=f"{count} hotkey actions"))


@pytest.fixture
def grabber(target: TargetApp) -> Iterator[tuple[HotkeyGrabber, Actions]]:
    target.focus()
    actions = Actions()
    hotkeys = HotkeyGrabber(actions, display_name=target.env["DISPLAY"])
    hotkeys.start()
    try:
        yield hotkeys, actions
    finally:
        hotkeys.stop()


@pytest.mark.parametrize(("key", "qt_key", "action"), [("Tab", QT_TAB, "accept"), ("Escape", QT_ESCAPE, "dismiss")])
def test_bound_key_belongs_to_the_grabber_only_while_shown(
    target: TargetApp, grabber: tuple[HotkeyGrabber, Actions], key: str, qt_key: int, action: str
) -> None:
    hotkeys, actions = grabber
    since = target.mark()
    target.xdotool("key", key)
    assert target.keys_until_marker(since, "a") == [qt_key], "hidden: the key reaches the application"
    if key == "Tab":
        target.xdotool("key", "shift+Tab")  # Tab moved the focus from the text field: bring it back

    hotkeys.show()
    since = target.mark()
    target.xdotool("key", key)  # right after show() returns: the grab is already active
    assert actions.wait_for(1) == [action]
    assert target.keys_until_marker(since, "b") == [], "shown: the key goes to the grabber, not the application"

    hotkeys.hide()
    since = target.mark()
    target.xdotool("key", key)
    assert target.keys_until_marker(since, "c") == [qt_key], "hidden again: the key reaches the application"
    assert actions.names == [action]
    if key == "Tab":
        target.xdotool("key", "shift+Tab")


def test_unbound_keys_reach_the_application_while_shown(
    target: TargetApp, grabber: tuple[HotkeyGrabber, Actions]
) -> None:
    hotkeys, actions = grabber
    hotkeys.show()
    since = target.mark()
    target.xdotool("key", "x", "ctrl+Left", "alt+x", "5")  # ctrl+left, alt+x: same keys, other modifiers
    keys = target.keys_until_marker(since, "d")
    assert ord("X") in keys and ord("5") in keys
    assert 0x01000012 in keys and keys.count(ord("X")) == 2  # Qt.Key_Left; x plain and with alt
    assert actions.names == []


def test_the_action_fires_on_release_once_however_long_the_key_is_held(
    target: TargetApp, grabber: tuple[HotkeyGrabber, Actions]
) -> None:
    hotkeys, actions = grabber
    hotkeys.show()
    target.xdotool("keydown", "ctrl", "keydown", "Right")
    try:
        time.sleep(1.0)  # longer than X's auto-repeat delay (660 ms): repeats arrive as release+press pairs
        held = list(actions.names)
    finally:
        target.xdotool("keyup", "ctrl", "keyup", "Right")  # ctrl first: the release of Right still counts
    assert held == [], "nothing fires while the chord is held"
    assert actions.wait_for(1) == ["accept_step"]
    target.xdotool("key", "alt+bracketright", "alt+bracketleft")
    assert actions.wait_for(3) == ["accept_step", "next_alternative", "previous_alternative"]


def test_pause_is_grabbed_while_hidden_too(target: TargetApp, grabber: tuple[HotkeyGrabber, Actions]) -> None:
    hotkeys, actions = grabber
    assert not hotkeys.visible
    target.xdotool("key", "ctrl+alt+g")
    assert actions.wait_for(1) == ["pause"]


def test_show_and_hide_may_be_called_from_the_action_callback(target: TargetApp) -> None:
    target.focus()
    seen: list[str] = []
    hotkeys: HotkeyGrabber

    def on_action(name: str) -> None:
        seen.append(name)
        hotkeys.hide()  # e.g. the copilot hides the ghost on accept: must not deadlock the grabber thread

    hotkeys = HotkeyGrabber(on_action, display_name=target.env["DISPLAY"])
    hotkeys.start()
    try:
        hotkeys.show()
        target.xdotool("key", "Escape")
        wait_for(lambda: seen == ["dismiss"] and not hotkeys.visible, what="dismiss, then hidden")
        since = target.mark()
        target.xdotool("key", "Escape")
        assert target.keys_until_marker(since, "e") == [QT_ESCAPE]
    finally:
        hotkeys.stop()


def test_a_chord_held_by_another_client_is_reported_not_fatal(target: TargetApp) -> None:
    from Xlib import XK, X, display

    target.focus()
    other = display.Display(target.env["DISPLAY"])
    escape = other.keysym_to_keycode(XK.XK_Escape)
    other.screen().root.grab_key(escape, 0, False, X.GrabModeAsync, X.GrabModeAsync)
    other.sync()
    notices: list[str] = []
    actions = Actions()
    hotkeys = HotkeyGrabber(actions, on_notice=notices.append, display_name=target.env["DISPLAY"])
    hotkeys.start()
    try:
        hotkeys.show()
        assert notices == ["hotkey unavailable: escape is grabbed by another application"]
        target.xdotool("key", "ctrl+Right")  # the other chords were taken
        assert actions.wait_for(1) == ["accept_step"]
    finally:
        hotkeys.stop()
        other.close()


def test_without_a_display_start_raises_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    hotkeys = HotkeyGrabber(lambda _name: None)
    with pytest.raises(GhostpilotError, match="^no display") as caught:
        hotkeys.start()
    assert "\n" not in str(caught.value)
    with pytest.raises(GhostpilotError, match="not running"):
        hotkeys.show()


def test_chords_work_with_caps_lock_and_num_lock_on(target: TargetApp, grabber: tuple[HotkeyGrabber, Actions]) -> None:
    hotkeys, actions = grabber
    hotkeys.show()
    target.xdotool("key", "Num_Lock")
    try:
        target.xdotool("key", "Tab")
        target.xdotool("key", "Caps_Lock")
        target.xdotool("key", "Escape", "alt+bracketright")
        target.xdotool("key", "Num_Lock")
        target.xdotool("key", "Tab")
        assert actions.wait_for(4) == ["accept", "dismiss", "next_alternative", "accept"]
    finally:
        target.xdotool("key", "Caps_Lock")
