"""`ghostpilot run` in a terminal: the predictor follows your pointer and keys and prints its ghosts.

The overlay, Tab-to-accept and execution come with the live-copilot work; this loop is the same data path
(listeners enqueue, one loop thread observes and suggests at the tick rate) without a window.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from inference.errors import GhostpilotError

TICK_S = 1 / 30
FRAME_EVERY_S = 0.5


def require_display() -> None:
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        raise GhostpilotError(
            "no display: DISPLAY is not set", "run Ghostpilot inside an X11 (or XWayland) desktop session"
        )


def _screen_size() -> tuple[int, int, Any]:
    import mss

    grabber = mss.MSS() if hasattr(mss, "MSS") else mss.mss()
    monitor = grabber.monitors[0]  # the whole virtual screen, in the pointer's coordinates
    return int(monitor["width"]), int(monitor["height"]), grabber


def describe(suggestion: Any) -> str:
    if suggestion.kind == "keys":
        return f"ghost keys {''.join(suggestion.keys)!r} ({suggestion.confidence:.0%})"
    x, y = suggestion.click
    seconds = suggestion.details.get("seconds_to_click", 0.0)
    return f"ghost click at ({x:.0f}, {y:.0f}) in {seconds:.1f}s ({suggestion.confidence:.0%})"


def run_console(model: str | None, device: str = "auto", min_confidence: float = 0.5) -> int:
    require_display()
    from app.input import InputRecorder
    from inference import load_predictor

    predictor = load_predictor(model, device=device)
    try:
        width, height, grabber = _screen_size()
        recorder = InputRecorder()
        recorder.start()
    except Exception as exc:  # Xlib and mss raise their own types when the X server refuses us
        raise GhostpilotError(f"cannot watch this display ({type(exc).__name__}: {exc})") from None
    session = predictor.new_session(width, height)
    print(f"ghostpilot: watching {width}x{height} with {predictor.name} on {predictor.provider}; Ctrl+C stops")
    _loop(session, recorder, grabber, min_confidence)
    return 0


def _loop(session: Any, recorder: Any, grabber: Any, min_confidence: float) -> None:
    import numpy as np

    last_line, last_frame = "", -1.0
    try:
        while True:
            time.sleep(TICK_S)
            while not recorder.events.empty():
                session.observe_event(recorder.events.get())
            now = recorder.now()
            if now - last_frame >= FRAME_EVERY_S:
                shot = grabber.grab(grabber.monitors[0])
                session.observe_frame(now, np.asarray(shot)[..., 2::-1])  # BGRA -> RGB
                last_frame = now
            suggestions = session.suggest(now, min_confidence=min_confidence)
            line = describe(suggestions[0]) if suggestions else ""
            if line != last_line:
                print(f"\r\x1b[K{line}", end="", flush=True)
                last_line = line
    except KeyboardInterrupt:
        print()
    finally:
        recorder.stop()
