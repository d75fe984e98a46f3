"""What Ghostpilot must not see: deny-listed windows and password prompts (docs/privacy.md).

A `PrivacyGuard` watches the focused window from its own thread and display connection, event driven
(PropertyNotify on the root, where a window manager announces `_NET_ACTIVE_WINDOW`) with a 10 Hz poll as
the floor (no window manager; a title that changes, like a browser tab going private). It keeps the recent
history of private intervals on the copilot's clock, so the loop judges each input event and frame by *when
it happened*, not by when the loop got to it: keys typed into a prompt that closed before the loop woke are
still dropped. It also keeps where visible private windows are on screen, focused or not (`regions()`), for the
capture to paint over. No Qt here.
"""

from __future__ import annotations

import contextlib
import select
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from app.x11 import WindowInfo

POLL_S = 0.1  # the focused window is re-read at least this often
LOOKBACK_S = 0.35  # a private interval starts this long before it was noticed (the poll period and some slack)
AFTER_S = 0.05  # and ends this long after the focus was seen elsewhere
HISTORY_S = 120.0  # intervals older than this are forgotten (nothing in the inbox is that old)
REGIONS_S = 0.25  # visible private windows are looked for this often (~5 ms for a dozen windows on 2 cores)

# The X11 password-prompt heuristic: window titles and WM_CLASS values of the usual prompts.
PASSWORD_TITLE_WORDS = ("password", "passphrase", "pinentry", "sudo", "passwort", "mot de passe", "contraseña")
PASSWORD_WM_CLASSES = (
    "pinentry", "ssh-askpass", "ksshaskpass", "polkit", "gcr-prompter", "kwalletd", "lxqt-openssh-askpass",
)  # fmt: skip


@dataclass(frozen=True)
class PrivacyState:
    """The guard's latest reading of the focused window."""

    denied: bool = False
    reason: str | None = None  # "deny-list: KeePassXC", "password prompt: pinentry"; None when watched
    window_id: int | None = None


class PasswordDetector(Protocol):
    """Says whether the focused window is taking a secret: the X11 heuristic below, AT-SPI's password role
    (app/atspi.py); UI Automation's IsPassword (Windows) and macOS secure input would plug in here too."""

    def secret_input(self, window: WindowInfo) -> str | None: ...


@runtime_checkable
class WatchingDetector(PasswordDetector, Protocol):
    """A detector that learns of changes by itself (AT-SPI focus signals): the guard starts it with a callback
    that re-judges at once, rather than at the next poll, and stops it with the guard."""

    def start(self, on_change: Callable[[], None]) -> None: ...

    def stop(self) -> None: ...


class TitleClassPasswordHeuristic:
    """X11 heuristic: a password word in the window title, or a known prompt program's WM_CLASS."""

    def secret_input(self, window: WindowInfo) -> str | None:
        title, wm_class = window.title.casefold(), window.wm_class.casefold()
        for word in PASSWORD_TITLE_WORDS:
            if word in title:
                return f"password prompt: title contains {word!r}"
        for name in PASSWORD_WM_CLASSES:
            if name in wm_class:
                return f"password prompt: {window.wm_class}"
        return None


TITLE_HEURISTIC = TitleClassPasswordHeuristic()


class DenyList:
    """App names (matched within WM_CLASS) and window-title substrings, case-insensitive."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(p.strip() for p in patterns if p.strip())
        self._folded = tuple(p.casefold() for p in self.patterns)

    def match(self, window: WindowInfo) -> str | None:
        title, wm_class = window.title.casefold(), window.wm_class.casefold()
        for pattern, folded in zip(self.patterns, self._folded, strict=True):
            if folded in wm_class or folded in title:
                return f"deny-list: {pattern}"
        return None


def shown_privately(window: WindowInfo, deny_list: DenyList) -> bool:
    """Whether a window must be painted over in frames even when it is not focused: deny-listed, or titled or
    classed like a password prompt (AT-SPI speaks only of the focused widget)."""
    return deny_list.match(window) is not None or TITLE_HEURISTIC.secret_input(window) is not None


def judge(window: WindowInfo | None, deny_list: DenyList, detectors: Iterable[PasswordDetector] = ()) -> PrivacyState:
    """The privacy state for this focused window (None: nothing focused, nothing to hide)."""
    if window is None:
        return PrivacyState()
    reason = deny_list.match(window)
    for detector in detectors:
        if reason is not None:
            break
        reason = detector.secret_input(window)
    return PrivacyState(reason is not None, reason, window.id)


class PrivacyGuard:
    """Watches focus; answers `current()`, `check_now()` and `denied_at(t)` from any thread.

    `query(display)` reads the focused window on a connection (app/x11.focused_window); `connect()` opens a
    connection. `on_change(state)` runs (on the watcher thread, or the caller of `check_now`) at each change:
    the copilot passes a function that puts a "privacy" item in its inbox.
    """

    def __init__(
        self,
        deny_list: DenyList,
        clock: Callable[[], float],
        on_change: Callable[[PrivacyState], None] = lambda _state: None,
        detectors: tuple[PasswordDetector, ...] = (TitleClassPasswordHeuristic(),),
        query: Callable[[Any], WindowInfo | None] | None = None,
        connect: Callable[[], Any] | None = None,
    ) -> None:
        from app import x11

        self.deny_list, self.clock, self.on_change, self.detectors = deny_list, clock, on_change, detectors
        self._query = query or x11.focused_window
        self._connect = connect or x11.open_display
        self._lock = threading.Lock()
        self._state = PrivacyState()
        self._observed_at = float("-inf")
        self._intervals: list[list[float]] = []  # [start, end]; end is +inf while still private
        self._regions: list[tuple[int, int, int, int]] = []  # visible private windows on screen (x, y, w, h)
        self._regions_due = float("-inf")
        self._local = threading.local()
        self._connections: list[Any] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ----- reading -----
    def current(self) -> PrivacyState:
        return self._state

    def regions(self) -> list[tuple[int, int, int, int]]:
        """Where visible deny-listed windows and password prompts are on screen, focused or not: the capture
        paints them over in every frame. Re-read with each of the watcher's readings, never per frame."""
        return self._regions

    def denied_at(self, t: float) -> bool:
        """Whether something that happened at `t` (copilot clock) may have happened in a private window."""
        with self._lock:
            return any(start - LOOKBACK_S <= t <= end + AFTER_S for start, end in self._intervals)

    def check_now(self) -> PrivacyState:
        """Read the focused window now, on this thread's own connection (the loop calls it for keys)."""
        display = getattr(self._local, "display", None)
        if display is None:
            try:
                display = self._local.display = self._connect()
            except Exception:  # no connection: the watcher's reading is all there is
                return self._state
            with self._lock:
                self._connections.append(display)
        return self._observe(self._read(display))

    # ----- watching -----
    def start(self) -> None:
        """Open the watcher's connection (raises GhostpilotError without a display), take a first reading."""
        display = self._connect()
        with self._lock:
            self._connections.append(display)
        self._listen(display)
        self._observe(self._read(display))
        self._read_regions(display)
        self._thread = threading.Thread(target=self._watch, args=(display,), name="ghostpilot-privacy", daemon=True)
        self._thread.start()
        for detector in self.detectors:
            if isinstance(detector, WatchingDetector):
                detector.start(self._recheck)

    def stop(self) -> None:
        self._stop.set()
        for detector in self.detectors:
            if isinstance(detector, WatchingDetector):
                detector.stop()
        if self._thread is not None:
            self._thread.join(2.0)
        with self._lock:
            connections, self._connections = self._connections, []
        for display in connections:
            with contextlib.suppress(Exception):
                display.close()

    def _recheck(self) -> None:
        """A detector saw a change (on its own thread): judge the focused window again now."""
        if not self._stop.is_set():
            self.check_now()

    def _listen(self, display: Any) -> None:
        """PropertyNotify on the root: the window manager announces focus changes in `_NET_ACTIVE_WINDOW`."""
        from Xlib import X

        display.screen().root.change_attributes(event_mask=X.PropertyChangeMask)
        display.flush()

    def _watch(self, display: Any) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(OSError, ValueError):
                select.select([display.fileno()], [], [], POLL_S)
            try:
                events = 0
                while display.pending_events():
                    display.next_event()
                    events += 1
                self._observe(self._read(display))
                if events or time.monotonic() >= self._regions_due:
                    self._read_regions(display)
            except Exception:  # the server went away: the copilot's own checks report that
                if self._stop.wait(POLL_S):
                    return

    def _read(self, display: Any) -> WindowInfo | None:
        try:
            return self._query(display)
        except Exception:  # a window that vanished mid-query: unknown, judged as nothing focused
            return None

    def _read_regions(self, display: Any) -> None:
        """Where the private windows are: at most every REGIONS_S, and at once after a window manager's news."""
        from app.x11 import shown_windows

        self._regions_due = time.monotonic() + REGIONS_S
        deny_list = self.deny_list
        with contextlib.suppress(Exception):  # a server gone away: the last regions stand, the copilot reports it
            self._regions = shown_windows(lambda window: shown_privately(window, deny_list), display)

    def _observe(self, window: WindowInfo | None) -> PrivacyState:
        """Record a reading taken now; the newest reading wins, whichever thread took it."""
        state = judge(window, self.deny_list, self.detectors)
        now = self.clock()
        with self._lock:
            if now < self._observed_at:
                return self._state  # an older reading arrived late: keep the newer one
            self._observed_at = now
            changed = state.denied != self._state.denied or state.reason != self._state.reason
            if state.denied and not self._state.denied:
                self._intervals.append([now, float("inf")])
            elif not state.denied and self._state.denied and self._intervals:
                self._intervals[-1][1] = now
            self._intervals = [i for i in self._intervals if i[1] > now - HISTORY_S]
            self._state = state
        if changed:
            self.on_change(state)
        return state
