"""Input capture: pynput callbacks only timestamp and enqueue events in the episode schema.

Events that Ghostpilot injected itself (pynput's `injected` flag) are tagged `"source": "ghostpilot"`.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from typing import Any

from inference.episodes import Event
from inference.keys import NAMED_KEYS

# pynput Key names that differ from the episode format's names
_KEY_ALIASES = {
    "esc": "escape", "shift_l": "shift", "shift_r": "shift", "ctrl_l": "ctrl", "ctrl_r": "ctrl",
    "alt_l": "alt", "alt_r": "alt", "cmd_l": "cmd", "cmd_r": "cmd", "space": " ", "print_screen": "print_screen",
}  # fmt: skip
_NAMED = frozenset(NAMED_KEYS)


def key_name(key: Any) -> str | None:
    """A pynput key -> the episode format's key, or None for keys outside the vocabulary."""
    char = getattr(key, "char", None)
    if char is not None:
        return char if len(char) == 1 and char.isprintable() else None
    name = getattr(key, "name", None)
    if name is None:
        return None
    name = _KEY_ALIASES.get(name, name)
    return name if name in _NAMED or name == " " else None


class InputRecorder:
    """Owns the pynput listeners; `events` is the queue the prediction loop drains.

    `is_injected(event)` (the injector's ledger) recognises events Ghostpilot itself injected, where pynput's
    own flag cannot (XTEST); `on_user_input(event)` runs in the listener thread for every physical event, so
    an execution in progress can abort at once.
    """

    def __init__(
        self,
        clock_start: float | None = None,
        sink: queue.SimpleQueue[Any] | None = None,
        is_injected: Callable[[Event], bool] | None = None,
        on_user_input: Callable[[Event], None] | None = None,
    ) -> None:
        self.events: queue.SimpleQueue[Any] = queue.SimpleQueue() if sink is None else sink
        self.clock_start = time.monotonic() if clock_start is None else clock_start
        self.is_injected = is_injected
        self.on_user_input = on_user_input
        self._listeners: list[Any] = []

    def now(self) -> float:
        return time.monotonic() - self.clock_start

    def _put(self, event: Event, injected: bool) -> None:
        if injected or (self.is_injected is not None and self.is_injected(event)):
            event["source"] = "ghostpilot"
        elif self.on_user_input is not None:
            self.on_user_input(event)
        self.events.put(event)

    def on_move(self, x: float, y: float, injected: bool = False) -> None:
        self._put({"t": self.now(), "type": "mouse.move", "x": x, "y": y}, injected)

    def on_click(self, x: float, y: float, button: Any, pressed: bool, injected: bool = False) -> None:
        name = getattr(button, "name", "")
        if name in ("left", "right", "middle"):
            kind = "mouse.down" if pressed else "mouse.up"
            self._put({"t": self.now(), "type": kind, "x": x, "y": y, "button": name}, injected)

    def on_scroll(self, x: float, y: float, dx: float, dy: float, injected: bool = False) -> None:
        self._put({"t": self.now(), "type": "mouse.scroll", "x": x, "y": y, "dx": dx, "dy": dy}, injected)

    def on_press(self, key: Any, injected: bool = False) -> None:
        name = key_name(key)
        if name is not None:
            self._put({"t": self.now(), "type": "key.down", "key": name}, injected)

    def on_release(self, key: Any, injected: bool = False) -> None:
        name = key_name(key)
        if name is not None:
            self._put({"t": self.now(), "type": "key.up", "key": name}, injected)

    def start(self) -> None:
        from pynput import keyboard, mouse

        self._listeners = [
            mouse.Listener(on_move=self.on_move, on_click=self.on_click, on_scroll=self.on_scroll),
            keyboard.Listener(on_press=self.on_press, on_release=self.on_release),
        ]
        for listener in self._listeners:
            listener.daemon = True
            listener.start()

    def stop(self) -> None:
        for listener in self._listeners:
            listener.stop()
