"""Fine-tune the shipped default model on a log written by the real copilot core, and gate it.

    .venv/bin/python benchmarks/finetune_default.py [--sessions 12] [--steps 300] [--out runs/finetune_default.json]

The log: held-out synthetic episodes (seeds 600000+, never used for training; 1280x720) replayed through the
real `Copilot` loop with the shipped model, the real SQLite `Store` and logbook, and the episode's rendered
screens as the captured frames (10 fps), so every suggestion has its thumbnail and context frames. The
scripted user does not see the ghosts, so a ghost whose click is more than 100 px from the user's next press
is dismissed at the next input event (what a user rejecting a wrong ghost does, faster than people react:
the loop replaces ghosts within a tick or two while the pointer moves); the rest are ignored or
carried out. Then `app.swap.finetune_and_swap` (export -> fine-tune from assets/models/ghostpilot-default.
safetensors -> ONNX -> gate on the newest 20 % of sessions) runs with --no-swap semantics in a private
temporary data directory, and the timings and the verdict are printed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SEED0 = 600_000
FPS = 10.0
DISMISS_PX = 100.0
DISMISS_AFTER_S = 0.0  # at the first input after it: ghosts are replaced faster than anyone reacts


@dataclass
class Frame:
    t: float
    rgb: np.ndarray
    origin: tuple[int, int] = (0, 0)


class TimelineCapture:
    """The episode's rendered screen at the loop's time, a new frame every 1/FPS s (like app/capture.py)."""

    def __init__(self, sim: Any) -> None:
        from inference.synthetic.screens import Renderer

        self.renderer, self.timeline = Renderer(sim.screen), sim.timeline
        self.t, self._frame, self._cache = 0.0, None, {}

    def advance(self, t: float) -> None:
        if self._frame is not None and t < self._frame.t + 1 / FPS:
            return
        index = max((i for i, (start, _) in enumerate(self.timeline) if start <= t), default=0)
        if index not in self._cache:
            self._cache = {index: self.renderer.render(self.timeline[index][1])}  # one state at a time
        self._frame = Frame(t, self._cache[index])

    def latest(self) -> Frame | None:
        return self._frame

    def set_mask(self, rects: list) -> None:
        pass


def replay(sim: Any, predictor: Any, store: Any) -> dict[str, int]:
    """One episode through the copilot loop; returns counts of what it logged."""
    from app.copilot import Copilot, CopilotParts
    from app.logbook import StoreLogbook

    width, height = sim.meta.screen_width, sim.meta.screen_height
    book = StoreLogbook.begin(store, predictor, (width, height))
    capture = TimelineCapture(sim)
    parts = CopilotParts(session=predictor.new_session(width, height), on_view=lambda _view: None, capture=capture)
    parts.logbook = book
    copilot = Copilot(parts, min_confidence=0.5)
    presses = [e for e in sim.events if e["type"] == "mouse.down"]
    shown: set[str] = set()
    dismissals = 0
    for event in sim.events:
        t = float(event["t"])
        ghost = copilot.tracker.shown
        if ghost is not None and ghost.id not in shown and t >= ghost.shown_at + DISMISS_AFTER_S:
            shown.add(ghost.id)
            if _wrong(ghost, presses, ghost.shown_at):
                copilot.step(["dismiss"], t)
                dismissals += 1
        capture.advance(t)
        copilot.step([event], t)
    end = float(sim.events[-1]["t"]) if sim.events else 0.0
    for tick in range(1, 40):  # the correction windows close
        capture.advance(end + 0.1 * tick)
        copilot.step([], end + 0.1 * tick)
    copilot.step([], end + 10.0)
    book.end()
    return {"dismissed": dismissals}


def _wrong(ghost: Any, presses: list[dict[str, Any]], now: float) -> bool:
    click = ghost.current.click
    following = next((p for p in presses if p["t"] > now), None)
    if click is None or following is None:
        return False
    return math.dist(click, (following["x"], following["y"])) > DISMISS_PX


def build_log(path: Path, sessions: int) -> dict[str, Any]:
    from app.store import Store, count_rows
    from inference import load_predictor
    from inference.synthetic.generate import simulate_episode

    predictor = load_predictor(device="cpu")
    started = time.perf_counter()
    dismissed = 0
    with Store.open(path) as store:
        for index in range(sessions):
            dismissed += replay(simulate_episode(SEED0 + index, (1280, 720)), predictor, store)["dismissed"]
            assert store.flush(120.0)
    return {"replay_s": round(time.perf_counter() - started, 1), "dismissed": dismissed, **count_rows(path)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=12)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gp-finetune-bench-") as tmp:
        for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
            os.environ[name] = str(Path(tmp) / name.lower())  # the registry and data dir stay private
        from app.swap import FinetuneJob, finetune_and_swap
        from assets import DEFAULT_MODEL

        db = Path(tmp) / "log.db"
        results: dict[str, Any] = {"log": build_log(db, args.sessions)}
        print(json.dumps(results["log"]), flush=True)
        stages: dict[str, float] = {}
        last = [time.perf_counter()]

        def progress(stage: str, _n: int, _total: int | None) -> None:
            now = time.perf_counter()
            stages[stage] = stages.get(stage, 0.0) + now - last[0]
            last[0] = now

        base = str(Path(DEFAULT_MODEL).with_suffix(".safetensors"))
        job = FinetuneJob(steps=args.steps, base=base, database=db, swap=False)
        outcome = finetune_and_swap(job, Path(tmp) / "out", progress)
        verdict = outcome.verdict
        results["finetune"] = {
            "steps": args.steps, "seconds_by_stage": {k: round(v, 1) for k, v in stages.items()},
            "seconds_per_step": round(stages.get("finetune", 0.0) / args.steps, 3),
            "trained_sessions": outcome.trained_sessions, "held_back_sessions": outcome.held_back_sessions,
            "negatives": outcome.negatives, "better": verdict.better, "reason": verdict.reason,
            "candidate": _score(verdict, "candidate"), "current": _score(verdict, "current"),
        }  # fmt: skip
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


def _score(verdict: Any, which: str) -> Any:
    score = getattr(verdict, which, None)
    return None if score is None else {k: round(v, 3) if isinstance(v, float) else v for k, v in vars(score).items()}


if __name__ == "__main__":
    sys.exit(main())
