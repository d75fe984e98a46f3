"""The desktop app: the Qt main thread hosts the overlay (and the practice window); the copilot runs beside it.

The core (app/live.py) knows nothing of Qt: it hands each GhostView to `on_view` from its loop thread, and a
queued signal carries it to the overlay on the GUI thread, the way napari's views subscribe to their models.
"""

from __future__ import annotations

import signal
import sys
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from app.live import RunOptions, start_live
from inference.errors import GhostpilotError


class CoreBridge(QObject):
    """Thread-safe hand-off from the copilot's loop thread to Qt (queued connections)."""

    view = Signal(object)
    notice = Signal(str)


def run_app(options: RunOptions, demo: bool = False) -> int:
    """Run the copilot with its overlay until Ctrl+C in the terminal or the app quits."""
    from ui.overlay import GhostOverlay

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Ghostpilot")
    app.setQuitOnLastWindowClosed(False)
    bridge = CoreBridge()
    bridge.notice.connect(lambda text: print(f"ghostpilot: {text}", file=sys.stderr, flush=True))
    live = start_live(options, on_view=bridge.view.emit, on_notice=bridge.notice.emit)
    try:
        overlay = GhostOverlay(style="translucent" if live.compositor else "outline")
        bridge.view.connect(overlay.set_view)
        overlay.show()
        windows: list[Any] = [overlay]
        if demo:
            windows.append(_open_demo(app))
        width, height = live.screen
        style = "translucent" if live.compositor else "outline (no compositor)"
        print(
            f"ghostpilot: watching {width}x{height} with {live.predictor.name} on {live.predictor.provider}, "
            f"{style} ghosts; Tab accepts, Esc dismisses; Ctrl+C stops",
            flush=True,
        )
        _quit_on_sigint(app)
        return int(app.exec())
    finally:
        live.stop()


def _open_demo(app: QApplication) -> Any:
    from ui.demo import DemoWindow

    window = DemoWindow()
    window.show()
    window.raise_()
    window.activateWindow()
    return window


def _quit_on_sigint(app: QApplication) -> None:
    """Ctrl+C in the terminal quits cleanly: Python handles signals only when Qt lets it run."""
    signal.signal(signal.SIGINT, lambda *_: app.quit())
    signal.signal(signal.SIGTERM, lambda *_: app.quit())
    timer = QTimer(app)
    timer.timeout.connect(lambda: None)
    timer.start(200)


__all__ = ["GhostpilotError", "run_app"]
