"""Event injection through XTEST, and the ledger that recognises injected events when the listener sees them.

pynput's keyboard Controller sends characters with XSendEvent, which xterm ignores; XTEST events look like
real device events to every application. They also look real to pynput: its `injected` flag is False for
XTEST events on X11 (measured under Xvfb, pynput 1.8.2: it reports `send_event`, which XTEST does not set).
So the only reliable tag is the ledger: the injector records every event just before it sends it, and the
input side claims what it observes (docs/keys-and-execution.md).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from inference.errors import GhostpilotError

BUTTONS = {"left": 1, "middle": 2, "right": 3}
# scroll steps as pynput reports them (dx, dy) -> X button; dy > 0 scrolls up (episode format)
SCROLL_BUTTONS = {(0, 1): 4, (0, -1): 5, (-1, 0): 6, (1, 0): 7}
# episode NAMED_KEYS -> X keysym names
NAMED_KEYSYMS = {
    "enter": "Return", "tab": "Tab", "backspace": "BackSpace", "escape": "Escape", "delete": "Delete",
    "insert": "Insert", "home": "Home", "end": "End", "page_up": "Prior", "page_down": "Next",
    "left": "Left", "right": "Right", "up": "Up", "down": "Down", "shift": "Shift_L", "ctrl": "Control_L",
    "alt": "Alt_L", "cmd": "Super_L", "alt_gr": "ISO_Level3_Shift", "caps_lock": "Caps_Lock",
    "num_lock": "Num_Lock", "scroll_lock": "Scroll_Lock", "print_screen": "Print", "pause": "Pause",
    "menu": "Menu", **{f"f{n}": f"F{n}" for n in range(1, 13)},
}  # fmt: skip
# US layout: a shifted symbol and the key it is on (pynput may report either on release)
_SHIFTED_PAIRS = dict(zip('~!@#$%^&*()_+{}|:"<>?', "`1234567890-=[]\\;',./", strict=True))


class Injector(Protocol):
    """What the executor drives; coordinates are global screen pixels, keys are episode key names."""

    def move(self, x: int, y: int) -> None: ...
    def button(self, name: str, pressed: bool) -> None: ...
    def scroll(self, dx: int, dy: int) -> None: ...
    def key(self, name: str, pressed: bool) -> None: ...
    def sync(self) -> None:
        """Return once the server has processed everything injected so far."""


@dataclass
class _Entry:
    event: dict[str, Any]
    t: float
    claimed_at: float | None = None
    claims: int = 0


def _key_family(key: str) -> str:
    """'B' and 'b', '!' and '1' are one physical key: pynput may report a release by either name."""
    return _SHIFTED_PAIRS.get(key, key.lower())


def _sign(value: Any) -> int:
    number = float(value or 0)
    return (number > 0) - (number < 0)


class InjectionLedger:
    """Recent injections, so the input side can tell its own events (claimed) from the user's.

    An entry is claimable for `max_age_s`; once claimed it may be claimed once more within
    `duplicate_window_s`, because pynput can report one XTEST key twice. Thread-safe: the executor records
    from its worker thread, the listener claims from its own.
    """

    def __init__(
        self,
        max_age_s: float = 1.0,
        move_tolerance_px: float = 3.0,
        duplicate_window_s: float = 0.15,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_age_s = max_age_s
        self.move_tolerance_px = move_tolerance_px
        self.duplicate_window_s = duplicate_window_s
        self._clock = clock
        self._entries: list[_Entry] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def record(self, event: Mapping[str, Any]) -> None:
        """Note an event (episode schema, `t` ignored) just before it is injected."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            self._entries.append(_Entry(dict(event), now))

    def claim(self, event: Mapping[str, Any]) -> bool:
        """True (and the entry is consumed) when `event` is one we injected in the last `max_age_s`."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            for entry in self._entries:
                if entry.claims == 0 and self._matches(entry.event, event):
                    entry.claims, entry.claimed_at = 1, now
                    return True
            for entry in self._entries:  # a second report of an event already claimed
                if (
                    entry.claims == 1
                    and entry.claimed_at is not None
                    and now - entry.claimed_at <= self.duplicate_window_s
                    and self._matches(entry.event, event)
                ):
                    entry.claims = 2
                    return True
            return False

    def _expire(self, now: float) -> None:
        def alive(entry: _Entry) -> bool:
            if entry.claimed_at is not None:
                return entry.claims < 2 and now - entry.claimed_at <= self.duplicate_window_s
            return now - entry.t <= self.max_age_s

        self._entries = [entry for entry in self._entries if alive(entry)]

    def _matches(self, ours: Mapping[str, Any], seen: Mapping[str, Any]) -> bool:
        kind = seen.get("type")
        if kind != ours.get("type"):
            return False
        if kind == "mouse.move":
            dx = float(seen.get("x", 0)) - float(ours.get("x", 0))
            dy = float(seen.get("y", 0)) - float(ours.get("y", 0))
            return (dx * dx + dy * dy) ** 0.5 <= self.move_tolerance_px
        if kind in ("mouse.down", "mouse.up"):
            return seen.get("button") == ours.get("button")
        if kind == "mouse.scroll":
            return (_sign(seen.get("dx")), _sign(seen.get("dy"))) == (_sign(ours.get("dx")), _sign(ours.get("dy")))
        if kind in ("key.down", "key.up"):
            a, b = str(seen.get("key", "")), str(ours.get("key", ""))
            return a == b or _key_family(a) == _key_family(b)
        return False


class XTestInjector:
    """Injects through the XTEST extension on its own display connection; use it from one thread.

    Characters needing Shift get it pressed around them (unless an injected "shift" is already down);
    characters absent from the keyboard map are typed through a spare keycode remapped for the purpose.
    """

    def __init__(self, ledger: InjectionLedger | None = None, display_name: str | None = None) -> None:
        from app.x11 import open_display

        self.ledger = ledger
        self._display = open_display(display_name)
        if not self._display.has_extension("XTEST"):
            self._display.close()
            raise GhostpilotError("the X server has no XTEST extension", "Ghostpilot needs XTEST to act")
        self._auto_shift: set[int] = set()  # keycodes pressed with a Shift we added
        self._keys_down: set[str] = set()
        self._spare_keycode: int | None = None

    def close(self) -> None:
        self._display.close()

    def sync(self) -> None:
        self._display.sync()

    def move(self, x: int, y: int) -> None:
        from Xlib import X

        self._send({"type": "mouse.move", "x": int(x), "y": int(y)}, X.MotionNotify, 0, x=int(x), y=int(y))

    def button(self, name: str, pressed: bool) -> None:
        from Xlib import X

        if name not in BUTTONS:
            raise GhostpilotError(f"unknown mouse button {name!r}", "use left, middle or right")
        kind = (X.ButtonPress, X.ButtonRelease)[not pressed]
        self._send({"type": "mouse.down" if pressed else "mouse.up", "button": name}, kind, BUTTONS[name])

    def scroll(self, dx: int, dy: int) -> None:
        """|dx| + |dy| wheel clicks (X buttons 4-7), each pressed and released."""
        from Xlib import X

        steps = [(0, _sign(dy))] * abs(int(dy)) + [(_sign(dx), 0)] * abs(int(dx))
        for step in steps:
            self._send({"type": "mouse.scroll", "dx": step[0], "dy": step[1]}, X.ButtonPress, SCROLL_BUTTONS[step])
            self._send(None, X.ButtonRelease, SCROLL_BUTTONS[step])

    def key(self, name: str, pressed: bool) -> None:
        from Xlib import X

        keycode, needs_shift = self._keycode(name)
        if pressed:
            if needs_shift and "shift" not in self._keys_down:
                self._press_shift(True)
                self._auto_shift.add(keycode)
            self._send({"type": "key.down", "key": name}, X.KeyPress, keycode)
            self._keys_down.add(name)
        else:
            self._send({"type": "key.up", "key": name}, X.KeyRelease, keycode)
            self._keys_down.discard(name)
            if keycode in self._auto_shift:
                self._auto_shift.discard(keycode)
                self._press_shift(False)

    def _press_shift(self, pressed: bool) -> None:
        from Xlib import X

        keycode, _ = self._keycode("shift")
        kind, event = (X.KeyPress, "key.down") if pressed else (X.KeyRelease, "key.up")
        self._send({"type": event, "key": "shift"}, kind, keycode)

    def _send(self, record: dict[str, Any] | None, kind: int, detail: int, **where: int) -> None:
        from Xlib.ext import xtest

        if record is not None and self.ledger is not None:
            self.ledger.record(record)  # before sending: the listener may see it within a millisecond
        xtest.fake_input(self._display, kind, detail, **where)
        # A round trip, not just a flush: the server hands XTEST events to RECORD clients (pynput) only when
        # it next flushes output, so with a flush alone the listener may see them seconds later, when the
        # ledger has forgotten them (measured under Xvfb: 0 of 2 seen after 0.5 s; all within 0.3 ms with this).
        self._display.sync()

    def _keycode(self, name: str) -> tuple[int, bool]:
        """An episode key name -> (keycode, needs Shift)."""
        keysym = _keysym(name)
        for keycode, index in sorted(self._display.keysym_to_keycodes(keysym), key=lambda pair: pair[1]):
            if index in (0, 1):
                return int(keycode), index == 1
        if len(name) != 1:
            raise GhostpilotError(f"key {name!r} is not on this keyboard", "check the keyboard layout")
        return self._remap_spare(keysym), False

    def _remap_spare(self, keysym: int) -> int:
        """Put `keysym` on an unused keycode (as xdotool does) so any character can be typed."""
        if self._spare_keycode is None:
            first = self._display.display.info.min_keycode
            count = self._display.display.info.max_keycode - first + 1
            mapping = self._display.get_keyboard_mapping(first, count)
            spare = [first + i for i, syms in enumerate(mapping) if not any(syms)]
            if not spare:
                raise GhostpilotError("no free keycode to type this character", "use an ASCII character")
            self._spare_keycode = spare[-1]
        self._display.change_keyboard_mapping(self._spare_keycode, [(keysym, keysym)])
        self._display.sync()
        return self._spare_keycode


def _keysym(name: str) -> int:
    from Xlib import XK

    if len(name) == 1:
        code = ord(name)
        return code if 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xFF else 0x1000000 + code
    keysym_name = NAMED_KEYSYMS.get(name)
    keysym = XK.string_to_keysym(keysym_name) if keysym_name else 0
    if not keysym:
        raise GhostpilotError(f"unknown key {name!r}", "keys are single characters or names like enter, f5")
    return int(keysym)
