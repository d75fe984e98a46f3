"""Shows a GhostOverlay with a view read from JSON, on the real X server, for end-to-end tests.

Run as `python tests/e2e/overlay_host.py VIEW_JSON STYLE [--cycle]` with QT_QPA_PLATFORM=xcb. It prints
{"event": "ready", "wid": ..., "geometry": [x, y, w, h], "dpr": ...} once shown, and {"event": "focused"} if the
overlay ever becomes the active or focus window. With --cycle it keeps replacing the view (shifted by a pixel
and back, every 30 ms), as the live copilot does, and keeps raising it and asking for its activation: it must
stay on top without ever taking the keyboard.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from app.ghost import GhostPath, GhostView  # noqa: E402
from ui.overlay import GhostOverlay  # noqa: E402


def _pair(value: Any) -> tuple[float, float] | None:
    return (float(value[0]), float(value[1])) if value is not None else None


def view_from_json(data: dict[str, Any]) -> GhostView:
    paths = tuple(
        GhostPath(
            points=tuple((float(x), float(y), float(t)) for x, y, t in path.get("points", ())),
            click=_pair(path.get("click")),
            button=path.get("button"),
            keys=path.get("keys", ""),
            confidence=float(path.get("confidence", 0.0)),
        )
        for path in data.get("alternatives", ())
    )
    return GhostView(
        alternatives=paths,
        selected=int(data.get("selected", 0)),
        pointer=_pair(data.get("pointer")),
        caret=_pair(data.get("caret")),
        goal=data.get("goal"),
        status=data.get("status", "watching"),
    )


def shifted(view: GhostView, dx: float) -> GhostView:
    paths = tuple(
        replace(
            p, points=tuple((x + dx, y, t) for x, y, t in p.points), click=p.click and (p.click[0] + dx, p.click[1])
        )
        for p in view.alternatives
    )
    return replace(view, alternatives=paths)


def main() -> None:
    view = view_from_json(json.loads(Path(sys.argv[1]).read_text()))
    style = sys.argv[2]
    app = QApplication([])
    overlay = GhostOverlay(style=style)  # type: ignore[arg-type]
    overlay.set_view(view)
    overlay.show()
    frames = [view, shifted(view, 1.0)]
    tick = {"n": 0}

    def step() -> None:
        if overlay.isActiveWindow() or app.focusWindow() is not None:
            print(json.dumps({"event": "focused"}), flush=True)
        if "--cycle" in sys.argv:
            tick["n"] += 1
            overlay.set_view(frames[tick["n"] % 2])
            overlay.raise_()
            overlay.activateWindow()

    def ready() -> None:
        g = overlay.geometry()
        record = {"wid": int(overlay.winId()), "geometry": [g.x(), g.y(), g.width(), g.height()]}
        print(json.dumps({"event": "ready", **record, "dpr": overlay.devicePixelRatioF()}), flush=True)

    timer = QTimer()
    timer.timeout.connect(step)
    timer.start(30)
    QTimer.singleShot(0, ready)
    sys.exit(app.exec())


if __name__ == "__main__":
    main()
