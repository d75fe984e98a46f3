"""A scripted "user" for `ghostpilot bench --live`, run as its own process so its CPU is not the copilot's.

It moves the pointer through XTEST along minimum-jerk paths at 60 Hz and presses Tab now and then, and writes
each injection's CLOCK_MONOTONIC time as JSON lines, so the copilot process can pair its repaints and its own
injections with the input that caused them. Usage: python -m app.benchdriver SECONDS OUT.jsonl [--tab-every S]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

MOVE_HZ = 60.0


def drive(seconds: float, out_path: str, tab_every: float, seed: int = 0) -> None:
    from Xlib import XK, X
    from Xlib.ext import xtest

    from app.x11 import open_display

    display = open_display()
    screen = display.screen()
    width, height = screen.width_in_pixels, screen.height_in_pixels
    tab = display.keysym_to_keycode(XK.string_to_keysym("Tab"))
    rng = np.random.default_rng(seed)
    x, y = width / 2, height / 2
    end, next_tab = time.monotonic() + seconds, time.monotonic() + tab_every
    with open(out_path, "w", buffering=1) as out:
        while time.monotonic() < end:
            tx, ty = rng.uniform(100, width - 100), rng.uniform(100, height - 100)
            steps = max(int(MOVE_HZ * (0.35 + 0.15 * np.log2(1 + np.hypot(tx - x, ty - y) / 30))), 2)
            for s in np.linspace(0, 1, steps)[1:]:
                blend = 10 * s**3 - 15 * s**4 + 6 * s**5
                px, py = int(x + (tx - x) * blend), int(y + (ty - y) * blend)
                xtest.fake_input(display, X.MotionNotify, x=px, y=py)
                display.sync()
                out.write(json.dumps({"t": time.monotonic(), "x": px, "y": py}) + "\n")
                time.sleep(1 / MOVE_HZ)
            x, y = tx, ty
            time.sleep(rng.uniform(0.3, 0.8))  # a pause, as people make before they click: ghosts settle
            if tab_every > 0 and time.monotonic() >= next_tab:
                xtest.fake_input(display, X.KeyPress, tab)
                display.sync()
                time.sleep(0.03)
                xtest.fake_input(display, X.KeyRelease, tab)
                display.sync()
                out.write(json.dumps({"t": time.monotonic(), "key": "tab"}) + "\n")
                next_tab = time.monotonic() + tab_every
                time.sleep(0.3)
    display.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m app.benchdriver")
    parser.add_argument("seconds", type=float)
    parser.add_argument("out")
    parser.add_argument("--tab-every", type=float, default=0.0)
    args = parser.parse_args()
    drive(args.seconds, args.out, args.tab_every)


if __name__ == "__main__":
    main()
