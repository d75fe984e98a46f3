"""`ghostpilot bench --live`: the whole copilot on the current X display, driven by a scripted user.

Phase "watching": nothing is shown (threshold above 1), the driver moves the pointer: CPU share of one core
and resident memory of this process. Phase "suggesting": every prediction is shown (threshold 0): from an
injected pointer move to the overlay's finished repaint of the ghost drawn from that pointer, and from the
Tab release to the executor's first injected event. The driver is a separate process (app/benchdriver.py).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QApplication

from app.live import RunOptions, require_display, start_live
from app.settings import load_settings
from ui.app import CoreBridge
from ui.overlay import GhostOverlay


class TimedOverlay(GhostOverlay):
    """The real overlay, noting when each repaint finished and which pointer position it drew from."""

    def __init__(self, style: Any) -> None:
        super().__init__(style)
        self.paints: list[tuple[float, tuple[int, int]]] = []

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        view = self.view
        if view is not None and view.current is not None and view.pointer is not None:
            self.paints.append((time.monotonic(), (int(view.pointer[0]), int(view.pointer[1]))))


def _percentiles(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0}
    ms = np.array(values) * 1000
    return {
        "p50_ms": round(float(np.median(ms)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
        "count": len(ms),
    }


def _phase(app: QApplication, options: RunOptions, seconds: float, tab_every: float) -> dict[str, Any]:
    bridge = CoreBridge()
    live = start_live(options, on_view=bridge.view.emit, on_notice=lambda _text: None)
    injected: list[float] = []
    injector = live.copilot.parts.executor.executor.injector  # type: ignore[union-attr]
    for name in ("move", "button", "key"):
        original = getattr(injector, name)
        setattr(injector, name, lambda *a, _f=original, **k: (injected.append(time.monotonic()), _f(*a, **k))[1])
    overlay = TimedOverlay("translucent" if live.compositor else "outline")
    bridge.view.connect(overlay.set_view)
    overlay.show()
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "driver.jsonl"
        driver = subprocess.Popen(
            [sys.executable, "-m", "app.benchdriver", str(seconds), str(log), "--tab-every", str(tab_every)]
        )
        usage, wall = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
        QTimer.singleShot(int(seconds * 1000) + 300, app.quit)
        app.exec()
        after, wall = resource.getrusage(resource.RUSAGE_SELF), time.monotonic() - wall
        driver.wait(timeout=30)
        driven = [json.loads(line) for line in log.read_text().splitlines()]
    live.stop()
    overlay.close()
    cpu = (after.ru_utime - usage.ru_utime + after.ru_stime - usage.ru_stime) / wall
    return {
        "cpu_share_of_one_core": round(cpu, 3),
        "rss_mb": round(_rss_mb(), 1),
        "model_runs": live.copilot.stats.model_runs,
        "input_to_repaint": _percentiles(_repaint_latencies(driven, overlay.paints)),
        "accept_to_first_injection": _percentiles(_accept_latencies(driven, injected)),
    }


def _repaint_latencies(driven: list[dict], paints: list[tuple[float, tuple[int, int]]]) -> list[float]:
    moves: dict[tuple[int, int], list[float]] = {}
    for record in driven:
        if "x" in record:
            moves.setdefault((record["x"], record["y"]), []).append(record["t"])
    latencies, previous = [], None
    for painted_at, pointer in paints:
        if pointer == previous:
            continue  # a repaint for another reason (a fresh prediction), not for this input
        previous = pointer
        before = [t for t in moves.get(pointer, []) if t <= painted_at]
        if before and painted_at - before[-1] < 1.0:
            latencies.append(painted_at - before[-1])
    return latencies


def _accept_latencies(driven: list[dict], injected: list[float]) -> list[float]:
    latencies = []
    for record in driven:
        if record.get("key") == "tab":
            after = [t for t in injected if t >= record["t"] - 0.05]  # the release is logged just after it is sent
            if after and after[0] - record["t"] < 0.5:
                latencies.append(max(after[0] - record["t"], 0.0))
    return latencies


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_live_bench(model: str | None = None, seconds: float = 20.0) -> dict[str, Any]:
    """Both phases on the current display; each starts its own copilot with a throwaway database."""
    require_display()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    settings = load_settings()
    with tempfile.TemporaryDirectory() as folder:
        common: dict[str, Any] = {"model": model, "device": "cpu", "settings": settings}
        watching = RunOptions(min_confidence=1.01, database=f"{folder}/watch.db", **common)
        suggesting = RunOptions(min_confidence=0.0, database=f"{folder}/suggest.db", **common)
        results = {"watching": _phase(app, watching, seconds, tab_every=0.0)}
        results["suggesting"] = _phase(app, suggesting, seconds, tab_every=0.5)
    screen = app.primaryScreen().geometry()
    results["screen"] = f"{screen.width()}x{screen.height()}"
    return results
