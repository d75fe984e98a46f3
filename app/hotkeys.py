"""Global accept/dismiss keys: chord parsing and a grabber that owns a few keys only while a ghost shows.

Why this shape (docs/keys-and-execution.md): pynput cannot suppress one key on X11, so the grabber uses
`XGrabKey` on the root window, in the 4 lock variants, from its own thread and its own display connection.
Actions fire on the KeyRelease of the chord: while the key is held the passive grab is active and keys
injected then would come back to the grabber instead of the application.
"""

from __future__ import annotations

import contextlib
import os
import queue
import select
import threading
from collections.abc import Callable, Mapping
from typing import Any

from app.chords import (  # noqa: F401 - re-exported: the grabber's public vocabulary
    _MODIFIER_MASKS,
    ALWAYS_ACTIONS,
    DEFAULT_BINDINGS,
    GOAL_ACTIONS,
    LOCK_MASK,
    Chord,
    parse_bindings,
    parse_chord,
    split_bindings,
)
from inference.errors import GhostpilotError


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
        """The keyboard map changed: grab the chords whose keycodes moved, before letting the old ones go.

        Most MappingNotify events change no keycode: the X server sends one whenever the keyboard in use
        switches (a physical keyboard, then XTEST injection by xdotool or by our own executor). Ungrabbing
        everything there let the very key that caused the switch reach the application (measured: the first
        Ctrl+Space right after start leaked in 3 runs of 8). Unchanged grabs are left alone."""
        wanted = dict(self._always)
        if self._visible:
            wanted.update(self._while_visible)
        if self._goal_keys:
            wanted.update(self._while_goal)
        stale = dict(self._grabbed)
        for action, chord in wanted.items():
            keycode, extra = self._keycode(chord)
            if stale.pop((keycode, chord.mask | extra), None) != action:
                self._grab(action, chord)
        root = self._display.screen().root
        for (keycode, mask), _action in stale.items():
            for variant in self._lock_variants():
                root.ungrab_key(keycode, mask | variant)
            del self._grabbed[(keycode, mask)]
        self._display.sync()

    def _dispatch(self, action: str) -> None:
        try:
            self._on_action(action)
        except Exception as exc:  # a failing callback must not take the keys down with it
            self._notice(f"hotkey action {action!r} failed: {exc!r}")
