"""Hotkey grab/ungrab cost and accept -> first injected event latency, on a real X server.

    .venv/bin/python benchmarks/inject_latency.py [--runs 200] [--display :N]

Without --display it starts its own Xvfb (1920x1080x24). Measures, as medians and 95th percentiles:
- show() / hide(): from the call on this thread until the grabber thread has (un)grabbed 5 chords and synced;
- Tab release (XTEST, from a separate connection) -> the grabber's on_action callback;
- callback -> the worker thread's executor.perform() -> first injected event (flushed to the server),
  with and without the focus check (a real focused window);
- Tab release -> the injected move as a pynput listener reports it (the whole accept path, end to end);
- pynput's `injected` flag and duplicate reports for XTEST keys (traps 6/8 in the stack notes).
"""

from __future__ import annotations

import argparse
import os
import queue
import signal
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from app.xvfb import private_xvfb


@contextmanager
def xvfb(display: str | None) -> Iterator[str]:
    if display:
        yield display
        return
    with private_xvfb() as own:
        yield own


def summary(name: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
    return f"{name:<52} median {statistics.median(ms):7.3f} ms   p95 {p95:7.3f} ms   (n={len(ms)})"


def grab_costs(runs: int) -> list[str]:
    from app.hotkeys import HotkeyGrabber

    grabber = HotkeyGrabber(lambda _name: None)
    grabber.start()
    shows, hides = [], []
    for _ in range(runs):
        start = time.perf_counter()
        grabber.show()
        shows.append(time.perf_counter() - start)
        start = time.perf_counter()
        grabber.hide()
        hides.append(time.perf_counter() - start)
    grabber.stop()
    return [summary("show(): grab 5 chords x 4 lock variants, synced", shows), summary("hide(): ungrab them", hides)]


class AcceptBench:
    """Grabber -> worker queue -> executor, as the copilot wires them; a separate connection presses Tab."""

    def __init__(self) -> None:
        from Xlib import X

        from app.executor import Executor
        from app.hotkeys import HotkeyGrabber
        from app.inject import InjectionLedger, XTestInjector
        from app.x11 import open_display

        self.keyboard = open_display()
        self.window = self.keyboard.screen().root.create_window(100, 100, 400, 300, 0, X.CopyFromParent)
        self.window.map()
        self.keyboard.sync()
        self.window.set_input_focus(X.RevertToParent, X.CurrentTime)
        self.keyboard.sync()
        self.ledger = InjectionLedger()
        self.executor = Executor(XTestInjector(self.ledger), self.ledger)
        self.accepted: queue.SimpleQueue[float] = queue.SimpleQueue()
        self.results: queue.SimpleQueue[tuple[float, float, float]] = queue.SimpleQueue()
        self.grabber = HotkeyGrabber(lambda _name: self.accepted.put(time.perf_counter()))
        self.grabber.start()
        self.plan: Any = None
        self.worker = threading.Thread(target=self._work, daemon=True)
        self.worker.start()

    def _work(self) -> None:
        while True:
            t_callback = self.accepted.get()
            t_perform = time.perf_counter()
            events = [{"t": 0.0, "type": "mouse.move", "x": 700, "y": 500}]
            self.executor.perform(events, self.plan)
            latency = self.executor.first_event_latency or 0.0
            self.results.put((t_callback, t_perform, t_perform + latency))

    def press_tab(self) -> float:
        from Xlib import XK, X
        from Xlib.ext import xtest

        tab = self.keyboard.keysym_to_keycode(XK.XK_Tab)
        xtest.fake_input(self.keyboard, X.KeyPress, tab)
        self.keyboard.sync()
        sent = time.perf_counter()
        xtest.fake_input(self.keyboard, X.KeyRelease, tab)
        self.keyboard.flush()
        return sent

    def run(self, runs: int, check_focus: bool, seen_moves: queue.SimpleQueue[float] | None = None) -> list[str]:
        from app.executor import ExecutionPlan

        self.plan = ExecutionPlan(expected_window_id=self.window.id if check_focus else None)
        to_callback, to_inject, perform_to_inject, to_seen = [], [], [], []
        for _ in range(runs):
            self._park_pointer()
            self.grabber.show()
            sent = self.press_tab()
            t_callback, t_perform, t_injected = self.results.get(timeout=10)
            to_callback.append(t_callback - sent)
            to_inject.append(t_injected - t_callback)
            perform_to_inject.append(t_injected - t_perform)
            if seen_moves is not None:
                to_seen.append(seen_moves.get(timeout=10) - sent)
            self.grabber.hide()
        label = "with focus check" if check_focus else "no focus check"
        lines = [
            summary("Tab release -> grabber callback", to_callback),
            summary(f"callback -> first injected event ({label})", to_inject),
            summary(f"perform() -> first injected event ({label})", perform_to_inject),
        ]
        if to_seen:
            lines.append(summary("Tab release -> injected move seen by pynput", to_seen))
        return lines

    def _park_pointer(self) -> None:
        from Xlib import X
        from Xlib.ext import xtest

        xtest.fake_input(self.keyboard, X.MotionNotify, x=300, y=300)
        self.keyboard.sync()
        time.sleep(0.01)


def pynput_flags(count: int = 50) -> list[str]:
    """What a pynput listener reports for XTEST keys: the injected flag, and duplicates."""
    from pynput import keyboard

    from app.inject import XTestInjector

    reports: list[tuple[str, bool]] = []
    listener = keyboard.Listener(on_press=lambda key, injected=False: reports.append((str(key), injected)))
    listener.start()
    listener.wait()
    injector = XTestInjector()
    deadline = time.monotonic() + 5
    while not reports and time.monotonic() < deadline:  # the listener is live once it sees a key
        injector.key("x", True)
        injector.key("x", False)
        time.sleep(0.05)
    reports.clear()
    for _ in range(count):
        injector.key("a", True)
        injector.key("a", False)
    time.sleep(0.5)
    stop_listener(listener, lambda: (injector.key("x", True), injector.key("x", False)))
    injector.close()
    ours = [injected for key, injected in reports if key == "'a'"]
    flagged = sum(ours)
    return [f"pynput listener, {count} XTEST presses of 'a': {len(ours)} reports, {flagged} with injected=True"]


def stop_listener(listener: Any, nudge: Callable[[], Any] | None = None) -> None:
    """pynput's X11 listener thread only notices stop() at its next event: give it one, then join."""
    from app.inject import XTestInjector

    listener.stop()
    injector = XTestInjector()
    for step in range(100):
        if not listener.is_alive():
            break
        nudge() if nudge is not None else injector.move(20 + step, 20)
        listener.join(0.02)
    injector.close()


def wait_until_live(moves: list[tuple[int, int]]) -> float:
    """pynput's RECORD context misses events for a moment after wait(): nudge the pointer until one shows."""
    from app.inject import XTestInjector

    injector, start = XTestInjector(), time.perf_counter()
    for step in range(1000):
        injector.move(10 + step % 50, 10)
        time.sleep(0.005)
        if moves:
            break
    injector.close()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--display", default=None, help="an X display to use (default: start an Xvfb)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so a killed run still stops its Xvfb
    with xvfb(args.display) as display:
        os.environ["DISPLAY"] = display
        from pynput import mouse

        seen: queue.SimpleQueue[float] = queue.SimpleQueue()
        moves: list[tuple[int, int]] = []

        def on_move(x: int, y: int, *_: Any) -> None:
            moves.append((x, y))
            if (x, y) == (700, 500):
                seen.put(time.perf_counter())

        listener = mouse.Listener(on_move=on_move)
        listener.start()
        listener.wait()
        live_after = wait_until_live(moves)
        lines = [
            f"display {display}, runs {args.runs}; pynput mouse listener live {live_after * 1000:.0f} ms after wait()"
        ]
        lines += grab_costs(args.runs)
        bench = AcceptBench()
        lines += bench.run(args.runs, check_focus=False, seen_moves=seen)
        lines += bench.run(args.runs, check_focus=True)
        bench.grabber.stop()
        stop_listener(listener)
        lines += pynput_flags()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
