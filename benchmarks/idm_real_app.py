"""IDM metrics on a recording of a real application: a PySide6 form under a private Xvfb, driven by XTEST.

A scripted user points at the form's fields and buttons (minimum-jerk paths at ~60 Hz), clicks, and types
words (mixed case, shift pressed by the injector as a person would); every injected event is logged with its
time on the recording's clock. The screen is recorded with the real X cursor (app/screen_recorder.py) to
H.264, labelled exactly as `ghostpilot label` does, and scored against the log (docs/metrics.md).

    PYTHONPATH=. .venv/bin/python benchmarks/idm_real_app.py --seconds 40 --out runs/idm-real [--idm DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WORDS = ("Invoice", "total", "Paris", "blue", "Order", "note", "Anna", "alpha", "Zeta", "seven", "Quick", "fox")


class ScriptedDriver:
    """Moves, clicks and types through XTEST, logging each event at the time it was sent."""

    def __init__(self, display: str, t0: float, rng: np.random.Generator) -> None:
        from app.inject import XTestInjector

        self.injector = XTestInjector(display_name=display)
        self.t0, self.rng = t0, rng
        self.events: list[dict[str, Any]] = []
        self.x, self.y = 640, 360
        self.injector.move(self.x, self.y)

    def _log(self, **event: Any) -> None:
        self.events.append({"t": round(time.monotonic() - self.t0, 4), **event})

    def move_to(self, x: int, y: int) -> None:
        """A minimum-jerk path (the shape of a human pointing movement) reported at ~60 Hz."""
        x0, y0 = self.x, self.y
        duration = float(np.clip(0.25 + np.hypot(x - x0, y - y0) / 1500, 0.25, 0.9))
        start = time.monotonic()
        while (u := (time.monotonic() - start) / duration) < 1.0:
            s = 10 * u**3 - 15 * u**4 + 6 * u**5
            px, py = int(round(x0 + (x - x0) * s)), int(round(y0 + (y - y0) * s))
            if (px, py) != (self.x, self.y):
                self._log(type="mouse.move", x=px, y=py)
                self.injector.move(px, py)
                self.x, self.y = px, py
            time.sleep(1 / 60)
        if (x, y) != (self.x, self.y):
            self._log(type="mouse.move", x=x, y=y)
            self.injector.move(x, y)
            self.x, self.y = x, y

    def click(self) -> None:
        for pressed in (True, False):
            self._log(type="mouse.down" if pressed else "mouse.up", x=self.x, y=self.y, button="left")
            self.injector.button("left", pressed)
            time.sleep(float(self.rng.uniform(0.06, 0.12)))

    def type_text(self, text: str) -> None:
        from inference.synthetic.user import needs_shift

        for char in text:
            shifted = needs_shift(char)
            if shifted:
                self._log(type="key.down", key="shift")  # the injector presses shift around the key
            self._log(type="key.down", key=char)
            self.injector.key(char, True)
            time.sleep(float(self.rng.uniform(0.05, 0.1)))
            self._log(type="key.up", key=char)
            self.injector.key(char, False)
            if shifted:
                self._log(type="key.up", key="shift")
            time.sleep(float(self.rng.uniform(0.08, 0.25)))


def _start_app(display: str, log: Path) -> tuple[subprocess.Popen[bytes], dict[str, list[int]]]:
    env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb")
    app = subprocess.Popen([sys.executable, str(ROOT / "tests/e2e/workflow_app.py"), str(log)], env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        lines = log.read_text().splitlines() if log.exists() else []
        ready = [json.loads(line) for line in lines if '"ready"' in line]
        if ready:
            return app, ready[0]["targets"]
        time.sleep(0.1)
    app.kill()
    raise RuntimeError("the form application did not start")


def _session(driver: ScriptedDriver, targets: dict[str, list[int]], seconds: float) -> None:
    fields = [n for n in ("name", "amount", "note") if n in targets]
    rng = driver.rng
    while time.monotonic() - driver.t0 < seconds:
        field = fields[int(rng.integers(len(fields)))]
        fx, fy = targets[field]
        driver.move_to(fx + int(rng.integers(-60, 60)), fy + int(rng.integers(-8, 8)))
        driver.click()
        time.sleep(float(rng.uniform(0.2, 0.5)))
        driver.type_text(WORDS[int(rng.integers(len(WORDS)))])
        time.sleep(float(rng.uniform(0.3, 0.8)))
        bx, by = targets[str(rng.choice(["add", "urgent", "save"]))]
        driver.move_to(bx + int(rng.integers(-40, 40)), by + int(rng.integers(-10, 10)))
        driver.click()
        time.sleep(float(rng.uniform(0.3, 1.0)))


def record_session(out: Path, seconds: float, seed: int = 0) -> tuple[Path, Path]:
    """Record a driven session; returns the video and the truth episode (the injected events)."""
    from app.screen_recorder import ScreenRecorder
    from app.xvfb import private_xvfb, stop_process
    from inference.episodes import EpisodeMeta, write_episode

    out.mkdir(parents=True, exist_ok=True)
    video = out / "recording.mp4"
    with private_xvfb(1280, 720) as display:
        app, targets = _start_app(display, out / "app-log.jsonl")
        try:
            time.sleep(0.5)
            recorder = ScreenRecorder(video, display)
            t0 = recorder.start()
            driver = ScriptedDriver(display, t0, np.random.default_rng(seed))
            _session(driver, targets, seconds)
            time.sleep(0.5)
            frames = recorder.stop()
            driver.injector.close()
        finally:
            stop_process(app)  # type: ignore[arg-type]
    meta = EpisodeMeta(1280, 720, app="workflow_app", source="recording", extra={"frames_recorded": frames})
    truth = write_episode(out / "truth", meta, sorted(driver.events, key=lambda e: e["t"]))
    return video, truth


def main() -> int:
    from inference.episodes import read_episode
    from inference.idm.label import label_recording
    from inference.idm.metrics import event_scores, pointer_score, report_rows
    from inference.idm.runtime import IdmModel

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--out", type=Path, default=Path("runs/idm-real"))
    parser.add_argument("--idm", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--decoding", default="peaks", choices=("peaks", "argmax"))
    args = parser.parse_args()
    video, truth_dir = record_session(args.out, args.seconds, args.seed)
    labelled, _ = label_recording(video, args.out / f"labelled-{args.decoding}", IdmModel(args.idm), args.decoding)
    truth, predicted = read_episode(truth_dir), read_episode(labelled)
    n_ticks = int(truth.duration * 30) + 30
    scores, pointer = (
        event_scores(truth.events, predicted.events),
        pointer_score(truth.events, predicted.events, n_ticks),
    )
    print(f"{truth.meta.extra['frames_recorded']} frames over {truth.duration:.1f} s; {len(truth.events)} true events")
    print("\n".join(report_rows(scores, pointer)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
