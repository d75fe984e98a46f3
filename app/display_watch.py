"""When the X server goes away: one line, the copilot's parts stopped, exit; no thread tracebacks.

Measured on Xvfb (November 2026): killing the server makes every thread with its own X connection (pynput's
two listeners, the hotkey grabber, mss) raise within milliseconds, and Qt's xcb plugin prints "The X11
connection broke" and calls exit(1) without Python's cleanup. So a loss is noticed three ways, whichever
comes first: a watcher thread blocked on its own X connection, a `threading.excepthook` that recognises X
connection errors in other threads, and (ui/app.py) Qt's warning. Each calls `DisplayWatch.lost()`, which
prints once, stops the copilot with a bounded wait (the log queue is written) and ends the process.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

EXIT_DISPLAY_LOST = 2  # like every other one-line error of the CLI
STOP_TIMEOUT_S = 3.0
_X_ERROR_TEXT = ("connection closed", "connection to x server closed", "connection broke")


def is_display_loss(exc: BaseException | None) -> bool:
    """An exception that means the X connection is gone (python-xlib, mss, or the socket itself)."""
    if exc is None:
        return False
    if type(exc).__name__ in ("ConnectionClosedError", "XError", "DisplayConnectionError"):
        return any(text in str(exc).lower() for text in _X_ERROR_TEXT)
    return is_display_loss(exc.__cause__ or exc.__context__)


class DisplayWatch:
    """Install with `start()` once the copilot runs; `stop()` before a normal shutdown."""

    def __init__(self, stop_copilot: Callable[[], None], exit_process: Callable[[int], Any] = os._exit) -> None:
        self.stop_copilot = stop_copilot
        self.exit_process = exit_process
        self.display_name = os.environ.get("DISPLAY", "")
        self._lock = threading.Lock()
        self._fired = False
        self._ended = threading.Event()  # never set while the process lives: later callers of lost() wait
        self._stopping = False
        self._connection: Any = None
        self._previous_hook = threading.excepthook

    def start(self) -> None:
        try:
            from Xlib import display as xdisplay

            self._connection = xdisplay.Display()
        except Exception:  # not X11 (another platform): nothing to watch
            return
        threading.excepthook = self._excepthook
        threading.Thread(target=self._watch, name="ghostpilot-display-watch", daemon=True).start()

    def stop(self) -> None:
        """A normal shutdown: the watcher's connection closes without counting as a loss."""
        with self._lock:
            if self._fired:
                return  # the process is ending through lost()
            self._stopping = True
        threading.excepthook = self._previous_hook
        if self._connection is not None:
            with contextlib.suppress(Exception):  # already gone: nothing to close
                self._connection.close()

    def lost(self) -> None:
        """Print one line, stop the copilot (bounded), end the process. Later callers wait for the end (Qt's
        xcb thread must not go on to its own exit(1), a dying thread must not print its traceback)."""
        with self._lock:
            first, self._fired = not self._fired, True
            stopping = self._stopping
        if stopping:
            return
        if not first:
            self._ended.wait()
            return
        print(
            f"ghostpilot: error: the X server went away (display {self.display_name}); Ghostpilot stopped",
            file=sys.stderr,
            flush=True,
        )
        stopper = threading.Thread(target=self._stop_quietly, name="ghostpilot-stop", daemon=True)
        stopper.start()
        stopper.join(STOP_TIMEOUT_S)
        sys.stdout.flush()
        self.exit_process(EXIT_DISPLAY_LOST)

    def _stop_quietly(self) -> None:
        with contextlib.suppress(Exception):  # parts that talk to the dead server fail; the rest still stops
            self.stop_copilot()

    def _watch(self) -> None:
        try:
            while True:
                self._connection.next_event()  # blocks; raises when the server closes the connection
        except Exception:
            if not self._stopping:
                self.lost()

    def _excepthook(self, args: threading.ExceptHookArgs) -> None:
        if is_display_loss(args.exc_value):
            self.lost()
            return
        self._previous_hook(args)
