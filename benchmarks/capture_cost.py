"""What screen capture costs: mss grab, BGRA->RGB, overlay masking (and an optional resize) per frame, and the
CPU a ScreenCapture thread uses at a given fps, in this process and in the X server.

    .venv/bin/python benchmarks/capture_cost.py                 # starts its own Xvfb 1920x1080
    .venv/bin/python benchmarks/capture_cost.py --display :0    # your real desktop

CPU % is of one core: process CPU time (all threads) over wall time while the capture thread runs alone.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GHOST_RECTS = [(600, 400, 420, 90), (900, 520, 40, 40), (300, 900, 260, 28)]  # a path, a click ring, ghost keys


@contextmanager
def xvfb(width: int, height: int) -> Iterator[int]:
    """A private Xvfb; yields its pid (so its CPU time can be read) with DISPLAY set."""
    from app.xvfb import start_xvfb, stop_process

    server, display = start_xvfb(width, height)
    os.environ["DISPLAY"] = display
    try:
        yield server.pid
    finally:
        stop_process(server)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of another process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def median_ms(fn: Callable[[], object], iterations: int) -> float:
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def stage_costs(iterations: int) -> dict[str, float]:
    import mss

    from app.capture import _resize, apply_mask, bgra_to_rgb

    with mss.MSS() as grabber:
        monitor = grabber.monitors[0]
        shot = grabber.grab(monitor)
        width, height = shot.size
        rgb = bgra_to_rgb(shot.raw, width, height)
        clean = rgb.copy()
        costs = {
            "grab (mss, XShm)": median_ms(lambda: grabber.grab(monitor), iterations),
            "BGRA->RGB (3 channel copies)": median_ms(lambda: bgra_to_rgb(shot.raw, width, height), iterations),
            "mask 3 ghost rects": median_ms(lambda: apply_mask(rgb, clean, GHOST_RECTS), iterations),
            "resize to 128x64 (optional)": median_ms(lambda: _resize(clean, (128, 64)), iterations),
        }
    costs["grab + convert + mask"] = sum(list(costs.values())[:3])
    return costs


def thread_cpu(fps: float, seconds: float, server_pid: int | None) -> tuple[float, float | None, int, float]:
    """(our CPU %, X server CPU % or None, frames, median grab ms) while a ScreenCapture runs at `fps`."""
    from app.capture import ScreenCapture

    capture = ScreenCapture(fps)
    capture.start()
    capture.set_mask(GHOST_RECTS)
    wall0, cpu0 = time.monotonic(), time.process_time()
    server0 = cpu_seconds(server_pid) if server_pid else 0.0
    frames0 = capture.stats.frames
    time.sleep(seconds)
    wall = time.monotonic() - wall0
    ours = (time.process_time() - cpu0) / wall * 100
    server = (cpu_seconds(server_pid) - server0) / wall * 100 if server_pid else None
    stats = capture.stats
    capture.stop()
    return ours, server, stats.frames - frames0, stats.grab_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--display", help="an existing X display; default: start Xvfb")
    parser.add_argument("--size", default="1920x1080", help="Xvfb screen size (default 1920x1080)")
    parser.add_argument("--fps", type=float, nargs="+", default=[10.0, 30.0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per fps setting")
    parser.add_argument("--iterations", type=int, default=200)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))

    @contextmanager
    def server() -> Iterator[int | None]:
        if args.display:
            os.environ["DISPLAY"] = args.display
            yield None
        else:
            with xvfb(width, height) as pid:
                yield pid

    with server() as pid:
        print(f"display {os.environ['DISPLAY']}, {os.cpu_count()} CPUs, python {sys.version.split()[0]}")
        for name, ms in stage_costs(args.iterations).items():
            print(f"  {name:<36} {ms:7.2f} ms (median of {args.iterations})")
        for fps in args.fps:
            ours, x_server, frames, grab = thread_cpu(fps, args.seconds, pid)
            server_text = f", X server {x_server:.1f}%" if x_server is not None else ""
            print(f"  capture thread at {fps:g} fps: {frames} frames in {args.seconds:g} s, "
                  f"CPU {ours:.1f}% of one core{server_text}, grab median {grab:.2f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
