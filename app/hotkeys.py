"""Global accept/dismiss keys: chord parsing and a grabber that owns a few keys only while a ghost shows.

Why this shape (docs/keys-and-execution.md): pynput cannot suppress one key on X11, so the grabber uses
`XGrabKey` on the root window, in the 4 lock variants, from its own thread and its own display connection.
Actions fire on the KeyRelease of the chord: while the key is held the passive grab is active and keys
injected then would come back to the grabber instead of the application.
"""

from __future__ import annotations

import contextlib
import functools
import os
import queue
import select
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from inference.errors import GhostpilotError

# Action name -> chord. The settings module overrides these; actions in ALWAYS_ACTIONS stay grabbed for the
# grabber's lifetime, those in GOAL_ACTIONS only between goal_keys(True) and goal_keys(False) (while a goal is
# set), the others only between show() and hide() (while a ghost shows).
DEFAULT_BINDINGS: dict[str, str] = {
    "pause": "ctrl+alt+g",
    "accept": "tab",
    "accept_step": "ctrl+right",
    "next_alternative": "alt+bracketright",
    "previous_alternative": "alt+bracketleft",
    "dismiss": "escape",
    "goal": "ctrl+space",
    "clear_goal": "ctrl+shift+space",
}
ALWAYS_ACTIONS: frozenset[str] = frozenset({"pause", "goal"})
GOAL_ACTIONS: frozenset[str] = frozenset({"clear_goal"})

MODIFIER_ORDER = ("ctrl", "alt", "shift", "super")
_MODIFIER_NAMES = {
    "ctrl": "ctrl", "control": "ctrl", "alt": "alt", "mod1": "alt", "shift": "shift",
    "super": "super", "cmd": "super", "win": "super", "meta": "super", "mod4": "super",
}  # fmt: skip
_MODIFIER_MASKS = {"shift": 1 << 0, "ctrl": 1 << 2, "alt": 1 << 3, "super": 1 << 6}  # X ShiftMask.. Mod4Mask
LOCK_MASK = 1 << 1
# Friendly names and the episode format's names -> X keysym names
_KEY_ALIASES = {
    "esc": "Escape", "escape": "Escape", "enter": "Return", "return": "Return", "tab": "Tab", "space": "space",
    "backspace": "BackSpace", "delete": "Delete", "del": "Delete", "insert": "Insert", "home": "Home",
    "end": "End", "page_up": "Prior", "pageup": "Prior", "page_down": "Next", "pagedown": "Next",
    "left": "Left", "right": "Right", "up": "Up", "down": "Down", "menu": "Menu", "pause": "Pause",
    "print_screen": "Print", "print": "Print",
}  # fmt: skip
BINDINGS_HINT = "use names like tab, escape, ctrl+right, alt+bracketright, alt+], ctrl+alt+g"


@dataclass(frozen=True)
class Chord:
    """One key with its exact modifiers; `str()` gives the canonical form ("ctrl+alt+g")."""

    modifiers: frozenset[str]
    key: str  # X keysym name: "Tab", "bracketright", "g"
    keysym: int

    @property
    def mask(self) -> int:
        """The X modifier mask of `modifiers` (without the lock variants)."""
        return sum(_MODIFIER_MASKS[m] for m in self.modifiers)

    def __str__(self) -> str:
        return "+".join([*(m for m in MODIFIER_ORDER if m in self.modifiers), self.key.lower()])


@functools.cache
def _keysym_tables() -> tuple[dict[str, tuple[str, int]], dict[int, str]]:
    """Every keysym python-xlib knows by default (latin1 + misc): by lowercased name, and names by value."""
    from Xlib import XK

    by_lower: dict[str, tuple[str, int]] = {}
    names: dict[int, str] = {}
    for attr in sorted(dir(XK)):
        if attr.startswith("XK_"):
            name, keysym = attr[3:], int(getattr(XK, attr))
            lower = name.lower()
            if lower not in by_lower or name == lower:  # "a" wins over "A", "eacute" over "Eacute"
                by_lower[lower] = (name, keysym)
            names.setdefault(keysym, name)
    return by_lower, names


def _parse_key(token: str, text: str) -> tuple[str, int]:
    """A key token -> (keysym name, keysym); single characters stand for themselves ("]" -> bracketright)."""
    by_lower, names = _keysym_tables()
    if len(token) == 1 and token.isprintable():
        keysym = ord(token) if ord(token) < 0x100 else 0x1000000 + ord(token)
        return names.get(keysym, f"U{ord(token):04X}"), keysym
    found = by_lower.get(_KEY_ALIASES.get(token, token).lower())
    if found is None:
        raise GhostpilotError(f"unknown key {token!r} in hotkey {text!r}", BINDINGS_HINT)
    return found


def parse_chord(text: str) -> Chord:
    """A chord from text like ctrl+right, alt+], Escape (case-insensitive); else a one-line GhostpilotError."""
    if not isinstance(text, str) or not text.strip():
        raise GhostpilotError(f"empty hotkey {text!r}", BINDINGS_HINT)
    raw = text.strip().lower()
    if raw == "+" or raw.endswith("++"):  # the plus key itself: "+", "ctrl++"
        head, key_token = raw[:-2], "+"
        parts = head.split("+") if head else []
    else:
        *parts, key_token = raw.split("+")
    modifiers: set[str] = set()
    for part in parts:
        modifier = _MODIFIER_NAMES.get(part.strip())
        if modifier is None:
            if part.strip() in _KEY_ALIASES or len(part.strip()) == 1:
                raise GhostpilotError(f"hotkey {text!r} has more than one key", BINDINGS_HINT)
            raise GhostpilotError(f"unknown modifier {part!r} in hotkey {text!r}", BINDINGS_HINT)
        if modifier in modifiers:
            raise GhostpilotError(f"modifier {modifier!r} repeated in hotkey {text!r}", BINDINGS_HINT)
        modifiers.add(modifier)
    key_token = key_token.strip()
    if not key_token:
        raise GhostpilotError(f"hotkey {text!r} has no key", BINDINGS_HINT)
    if key_token in _MODIFIER_NAMES:
        raise GhostpilotError(f"hotkey {text!r} is only modifiers", BINDINGS_HINT)
    name, keysym = _parse_key(key_token, text)
    return Chord(frozenset(modifiers), name, keysym)


def parse_bindings(bindings: Mapping[str, str]) -> dict[str, Chord]:
    """Action -> chord string, validated: every chord parses and no two actions share one."""
    chords: dict[str, Chord] = {}
    owners: dict[tuple[frozenset[str], int], str] = {}
    for action, text in bindings.items():
        chord = parse_chord(text)
        other = owners.setdefault((chord.modifiers, chord.keysym), action)
        if other != action:
            raise GhostpilotError(f"hotkey {chord} is bound to both {other!r} and {action!r}", BINDINGS_HINT)
        chords[action] = chord
    return chords


Groups = tuple[dict[str, Chord], dict[str, Chord], dict[str, Chord]]


def split_bindings(chords: Mapping[str, Chord]) -> Groups:
    """(always, while_visible, while_goal): pause and the goal prompt stay grabbed, clear-goal only while a
    goal is set, the ghost keys only while a ghost shows."""
    always = {a: c for a, c in chords.items() if a in ALWAYS_ACTIONS}
    goal = {a: c for a, c in chords.items() if a in GOAL_ACTIONS}
    return always, {a: c for a, c in chords.items() if a not in ALWAYS_ACTIONS | GOAL_ACTIONS}, goal


class HotkeyGrabber:
    """Owns the bound chords on the root window from its own thread and display connection.

    `on_action(name)` runs on the grabber thread at the chord's KeyRelease: keep it short (enqueue).
    `on_notice(text)` gets "hotkey unavailable: ..." when another client holds a chord; the grabber goes on
    with the chords it could take. show()/hide()/stop() may be called from any thread.
    """

    def __init__(
        self,
        on_action: Callable[[str], None],
        bindings: Mapping[str, str] = DEFAULT_BINDINGS,
        on_notice: Callable[[str], None] | None = None,
        display_name: str | None = None,
    ) -> None:
        self._always, self._while_visible, self._while_goal = split_bindings(parse_bindings(bindings))
        self._on_action = on_action
        self._on_notice = on_notice
        self._display_name = display_name
        self.notices: list[str] = []
        self._commands: queue.SimpleQueue[tuple[str, threading.Event]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._startup_error: GhostpilotError | None = None
        self._wake_read, self._wake_write = -1, -1
        self._visible = False
        self._goal_keys = False
        # grabber-thread state
        self._display: Any = None
        self._grabbed: dict[tuple[int, int], str] = {}  # (keycode, mask) -> action
        self._held: dict[int, str] = {}  # keycode pressed under a grab -> action to fire on its release
        self._numlock_mask = 1 << 4  # Mod2 unless the modifier map says otherwise
        self._stopping = False

    @property
    def visible(self) -> bool:
        return self._visible

    def start(self, timeout: float = 10.0) -> None:
        """Connect, grab the `always` chords; raises GhostpilotError when there is no display."""
        if self._thread is not None:
            return
        self._wake_read, self._wake_write = os.pipe()
        self._thread = threading.Thread(target=self._run, name="ghostpilot-hotkeys", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise GhostpilotError("hotkeys did not start in time", "is the X server responding?")
        if self._startup_error is not None:
            self._thread.join()
            self._thread = None
            self._close_pipe()
            raise self._startup_error

    def show(self, timeout: float = 5.0) -> None:
        """Grab the while-visible chords; returns once the X server has them (a Tab right after is caught)."""
        self._command("show", timeout)

    def hide(self, timeout: float = 5.0) -> None:
        """Give the while-visible chords back to the applications."""
        self._command("hide", timeout)

    def goal_keys(self, active: bool, timeout: float = 5.0) -> None:
        """Grab (True) or give back (False) the keys that act on a set goal (clear_goal)."""
        self._command("goal_on" if active else "goal_off", timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Ungrab everything, close the connection and join the thread."""
        thread = self._thread
        if thread is None:
            return
        if thread is threading.current_thread():
            self._stopping = True
            return
        if thread.is_alive():
            self._command("stop", timeout)
        thread.join(timeout)
        self._thread = None
        self._close_pipe()

    # -- any thread ------------------------------------------------------------------------------------------

    def _command(self, name: str, timeout: float) -> None:
        if self._thread is None or not self._thread.is_alive():
            raise GhostpilotError("hotkeys are not running", "call start() first")
        if self._thread is threading.current_thread():  # from on_action: run it directly
            self._execute(name)
            return
        done = threading.Event()
        self._commands.put((name, done))
        os.write(self._wake_write, b"x")
        if not done.wait(timeout):
            raise GhostpilotError(f"hotkeys did not {name} in time", "is the X server responding?")

    def _close_pipe(self) -> None:
        for fd in (self._wake_read, self._wake_write):
            if fd >= 0:
                os.close(fd)
        self._wake_read, self._wake_write = -1, -1

    def _notice(self, text: str) -> None:
        self.notices.append(text)
        if self._on_notice is not None:
            self._on_notice(text)

    # -- grabber thread --------------------------------------------------------------------------------------

    def _run(self) -> None:
        from app.x11 import open_display

        try:
            self._display = open_display(self._display_name)
        except GhostpilotError as exc:
            self._startup_error = exc
            self._ready.set()
            return
        from Xlib import error as xerror

        try:
            self._numlock_mask = self._find_numlock_mask()
            self._grab_all(self._always)
            self._ready.set()
            self._loop()
            self._ungrab_all()
        except (xerror.ConnectionClosedError, OSError) as exc:
            self._notice(f"hotkeys stopped: the X connection closed ({exc})")
        finally:
            self._visible = self._goal_keys = False
            self._ready.set()
            with contextlib.suppress(xerror.ConnectionClosedError, OSError):
                self._display.close()
            self._display = None

    def _loop(self) -> None:
        display = self._display
        while not self._stopping:
            while display.pending_events():
                self._handle(display.next_event())
            readable, _, _ = select.select([display.fileno(), self._wake_read], [], [])
            if self._wake_read in readable:
                os.read(self._wake_read, 4096)
            while not self._commands.empty():
                name, done = self._commands.get()
                self._execute(name)
                done.set()

    def _execute(self, name: str) -> None:
        if name == "show" and not self._visible:
            self._grab_all(self._while_visible)
            self._visible = True
        elif name == "hide" and self._visible:
            self._ungrab_all(set(self._while_visible))
            self._visible = False
        elif name == "goal_on" and not self._goal_keys:
            self._grab_all(self._while_goal)
            self._goal_keys = True
        elif name == "goal_off" and self._goal_keys:
            self._ungrab_all(set(self._while_goal))
            self._goal_keys = False
        elif name == "stop":
            self._stopping = True
        self._display.sync()  # the server has (un)grabbed before the caller goes on

    def _find_numlock_mask(self) -> int:
        from Xlib import XK

        numlock = self._display.keysym_to_keycode(XK.XK_Num_Lock)
        for index, keycodes in enumerate(self._display.get_modifier_mapping()):
            if numlock and numlock in keycodes:
                return 1 << index
        return 1 << 4

    def _keycode(self, chord: Chord) -> tuple[int, int]:
        """(keycode, extra mask): a symbol on the shifted level ("!") needs Shift held."""
        for keycode, index in sorted(self._display.keysym_to_keycodes(chord.keysym), key=lambda pair: pair[1]):
            if index in (0, 1):
                return int(keycode), _MODIFIER_MASKS["shift"] if index == 1 else 0
        return 0, 0

    def _grab_all(self, chords: Mapping[str, Chord]) -> None:
        for action, chord in chords.items():
            self._grab(action, chord)

    def _grab(self, action: str, chord: Chord) -> None:
        from Xlib import X
        from Xlib import error as xerror

        keycode, extra = self._keycode(chord)
        if keycode == 0:
            self._notice(f"hotkey unavailable: {chord} has no key on this keyboard")
            return
        root, mask = self._display.screen().root, chord.mask | extra
        catcher = xerror.CatchError(xerror.BadAccess)
        for variant in self._lock_variants():
            root.grab_key(keycode, mask | variant, False, X.GrabModeAsync, X.GrabModeAsync, onerror=catcher)
        self._display.sync()
        if catcher.get_error() is not None:
            for variant in self._lock_variants():
                root.ungrab_key(keycode, mask | variant)
            self._notice(f"hotkey unavailable: {chord} is grabbed by another application")
            return
        self._grabbed[(keycode, mask)] = action

    def _ungrab_all(self, actions: set[str] | None = None) -> None:
        root = self._display.screen().root
        for (keycode, mask), action in list(self._grabbed.items()):
            if actions is None or action in actions:
                for variant in self._lock_variants():
                    root.ungrab_key(keycode, mask | variant)
                del self._grabbed[(keycode, mask)]
        self._display.sync()

    def _lock_variants(self) -> tuple[int, ...]:
        return (0, LOCK_MASK, self._numlock_mask, LOCK_MASK | self._numlock_mask)

    def _handle(self, event: Any) -> None:
        from Xlib import X

        if event.type == X.KeyPress:
            ignored = LOCK_MASK | self._numlock_mask
            action = self._grabbed.get((event.detail, event.state & ~ignored & 0xFF))
            if action is not None:
                self._held.setdefault(event.detail, action)
        elif event.type == X.KeyRelease and event.detail in self._held:
            if self._still_down(event.detail):  # an auto-repeat release: the key is held on
                return
            self._dispatch(self._held.pop(event.detail))
        elif event.type == X.MappingNotify and event.request == X.MappingKeyboard:
            self._display.refresh_keyboard_mapping(event)
            self._regrab()

    def _still_down(self, keycode: int) -> bool:
        keymap = self._display.query_keymap()
        return bool(keymap[keycode // 8] & (1 << (keycode % 8)))

    def _regrab(self) -> None:
        """The keyboard map changed: grab the chords again by their new keycodes."""
        self._ungrab_all()
        self._grab_all(self._always)
        if self._visible:
            self._grab_all(self._while_visible)
        if self._goal_keys:
            self._grab_all(self._while_goal)

    def _dispatch(self, action: str) -> None:
        try:
            self._on_action(action)
        except Exception as exc:  # a failing callback must not take the keys down with it
            self._notice(f"hotkey action {action!r} failed: {exc!r}")
