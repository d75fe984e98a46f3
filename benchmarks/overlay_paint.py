"""How long the ghost overlay takes to show a new view: the live loop replaces it up to 30 times a second.

A typical view (3 alternatives of 20 points, a click ring each, ghost keys, a goal) moves a few pixels per frame,
as a prediction does while the pointer moves. Per style it times, over 300 frames (medians and 95th percentiles):
  set_view + repaint   the overlay's real path: layout, dirty rectangle (and window mask in outline style),
                       synchronous repaint of the dirty rectangle only
  full repaint         the whole window repainted, for comparison
  render_view          painting the view into a full-size offscreen QImage

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/overlay_paint.py
    .venv/bin/python benchmarks/overlay_paint.py --xvfb             # starts its own Xvfb 1920x1080, xcb platform
    .venv/bin/python benchmarks/overlay_paint.py --xvfb --compositor  # ... with xcompmgr running
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.ghost import GhostPath, GhostView
from app.xvfb import start_xvfb, stop_process

FRAMES = 300


def typical_view(frame: int) -> GhostView:
    """Three alternatives fanning out from a pointer that drifts 3 px right per frame."""
    px, py = 600.0 + 3 * (frame % 100), 400.0
    paths = []
    for k, (dx, dy, button) in enumerate(((420, 180, "left"), (300, 320, "right"), (120, 380, "left"))):
        points = tuple((px + dx * i / 19, py + dy * i / 19 - 40 * (i / 19) * (1 - i / 19), i / 30) for i in range(20))
        paths.append(GhostPath(points, (px + dx, py + dy), button, "hello⏎" if k == 0 else "", 0.7 - 0.2 * k))
    return GhostView(tuple(paths), 0, (px, py), None, "Fill in the form and press Save", "suggesting")


def timings(step: Callable[[int], None]) -> tuple[float, float]:
    """Median and 95th percentile of step(frame), in ms."""
    samples = []
    for frame in range(FRAMES):
        start = time.perf_counter()
        step(frame)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * len(samples))]


@contextmanager
def xvfb(compositor: bool) -> Iterator[None]:
    server, display = start_xvfb()
    os.environ["DISPLAY"] = display
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    manager = subprocess.Popen(["xcompmgr"], stderr=subprocess.DEVNULL) if compositor else None
    try:
        yield
    finally:
        stop_process(manager)  # type: ignore[arg-type]
        stop_process(server)


def run(style: str) -> None:
    """Time one style in this process (a fresh process per style keeps one from disturbing the other)."""
    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    from ui.overlay import GhostOverlay
    from ui.painter import render_view

    app = QApplication([])
    qInstallMessageHandler(lambda *_: None)  # offscreen: "This plugin does not support setting window masks"
    overlay = GhostOverlay(style=style)  # type: ignore[arg-type]
    overlay.set_view(typical_view(0))
    overlay.show()
    app.processEvents()

    def partial(frame: int) -> None:
        before = overlay.layout_now.region
        overlay.set_view(typical_view(frame))
        overlay.repaint(before.united(overlay.layout_now.region))  # what set_view's update() leads to, now

    def full(frame: int) -> None:
        overlay.repaint()

    def offscreen(frame: int) -> None:
        render_view(typical_view(frame), overlay.size(), overlay.style_name)

    for what, step in (("set_view + repaint", partial), ("full repaint", full), ("render_view", offscreen)):
        median, p95 = timings(step)
        print(f"{style:<12} {what:<20} {median:>10.2f} {p95:>8.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--xvfb", action="store_true", help="start an Xvfb 1920x1080 and use the xcb platform")
    parser.add_argument("--compositor", action="store_true", help="with --xvfb: run xcompmgr too")
    parser.add_argument("--style", choices=["translucent", "outline"], help="time one style in this process")
    args = parser.parse_args()
    if args.style:
        run(args.style)
        return
    with xvfb(args.compositor) if args.xvfb else nullcontext():
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        platform = f"{os.environ['QT_QPA_PLATFORM']} (DISPLAY {os.environ.get('DISPLAY', '-')})"
        print(f"platform {platform}, compositor {'xcompmgr' if args.compositor else 'none'}, {FRAMES} frames")
        print(f"{'style':<12} {'what':<20} {'median ms':>10} {'p95 ms':>8}", flush=True)
        for style in ("translucent", "outline"):
            subprocess.run([sys.executable, __file__, "--style", style], check=True)


if __name__ == "__main__":
    main()
