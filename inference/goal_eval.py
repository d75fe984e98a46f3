"""Does the goal help? The share of goals whose first suggested click lands inside the right element.

For every task of held-out synthetic episodes (their goal text and target element are in meta.json), the
session is replayed up to a moment of the task, the screen at that moment is read by real OCR, and the top
pointer ghost's click point is checked against the task's first target box. The same moment is scored with
the goal and without it. Two moments: when the task starts (the pointer rests: only the goal can tell where
to go) and halfway through the first movement (the motion itself is evidence too).

    python -m inference.goal_eval data/synthetic-test [--model PATH] [--json] [--limit N]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from inference.episodes import Episode, find_episodes, read_episode
from inference.goal_features import ScreenText, as_screen_texts, snapshot_from

Reader = Callable[[np.ndarray], Sequence[Any]]


def _inside(point: tuple[float, float] | None, box: Sequence[float]) -> bool:
    return point is not None and box[0] <= point[0] < box[2] and box[1] <= point[1] < box[3]


def _moments(episode: Episode, task: dict) -> dict[str, float]:
    """When the task starts, and halfway from there to its first press."""
    start = float(task["t_start"])
    press = next((e["t"] for e in episode.events if e["type"] == "mouse.down" and e["t"] >= start), None)
    moments = {"start": start + 0.05}
    if press is not None:
        moves = [e["t"] for e in episode.events if e["type"] == "mouse.move" and start <= e["t"] < press]
        if moves:
            moments["mid_movement"] = moves[0] + (press - moves[0]) / 2
    return moments


def suggested_click(
    predictor: Any,
    screen: tuple[int, int],
    events: Sequence[dict],
    frame: tuple[float, np.ndarray] | None,
    texts: Sequence[ScreenText],
    goal: str | None,
    embed: Callable,
    t: float,
) -> tuple[float, float] | None:
    """The click point of the top pointer ghost at time t of a fresh session fed `events`, the frame and the
    screen text read from it, with `goal` (or none)."""
    session = predictor.new_session(*screen)
    if goal is not None:
        session.set_goal(goal)
    for event in events:
        session.observe_event(event)
    if frame is not None:
        session.observe_frame(*frame)
        session.observe_text(snapshot_from(frame[0], texts, goal, embed))
    pointers = [s for s in session.suggest(t, min_confidence=0.0) if s.kind == "pointer"]
    return pointers[0].click if pointers else None


def read_texts(read: Reader, frame: np.ndarray) -> list[ScreenText]:
    return as_screen_texts(read(frame))


def first_click(
    predictor: Any, episode: Episode, t: float, goal: str | None, read: Reader, embed: Callable, cache: dict
) -> tuple[float, float] | None:
    """The top pointer ghost's click at time t of the episode, replayed with `goal` (or none)."""
    meta = episode.meta
    frame_times = [ms for ms in episode.frame_times_ms if ms / 1000 <= t]
    frame, texts = None, []
    if frame_times:
        key = (episode.path, frame_times[-1])
        if key not in cache:
            pixels = episode.load_frame(frame_times[-1])
            cache[key] = (pixels, read_texts(read, pixels))
        frame, texts = (frame_times[-1] / 1000, cache[key][0]), cache[key][1]
    events = [e for e in episode.events if e["t"] <= t]
    return suggested_click(predictor, (meta.screen_width, meta.screen_height), events, frame, texts, goal, embed, t)


def evaluate(predictor: Any, paths: Sequence[Path], read: Reader, embed: Callable, limit: int = 0) -> dict:
    """Hit shares per moment, with and without the goal, and per task kind."""
    hits: dict[str, list[int]] = {}
    for path in paths:
        episode = read_episode(path)
        cache: dict = {}  # frames and their OCR, one episode at a time
        for task in episode.meta.extra.get("tasks", [])[: limit or None]:
            box = task["targets"][0]["box"]
            for moment, t in _moments(episode, task).items():
                for with_goal in (True, False):
                    goal = task["goal"] if with_goal else None
                    point = first_click(predictor, episode, t, goal, read, embed, cache)
                    condition = "goal" if with_goal else "no_goal"
                    for key in (f"{moment}/{condition}", f"{moment}/{task['kind']}/{condition}"):
                        hits.setdefault(key, []).append(int(_inside(point, box)))
    return {key: {"share": float(np.mean(v)), "n": len(v)} for key, v in sorted(hits.items())}


def main(argv: Sequence[str] | None = None) -> int:
    from inference.goals.ocr import OcrModel
    from inference.goals.text_encoder import TextEncoder
    from inference.runtime import OnnxPredictor

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("episodes", nargs="+")
    parser.add_argument("--model", default=None, help="a goal-conditioned ONNX model (default: the shipped one)")
    parser.add_argument("--limit", type=int, default=0, help="tasks per episode (0: all)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    predictor = OnnxPredictor.load(args.model, device="cpu")
    result = evaluate(predictor, find_episodes(args.episodes), OcrModel().read, TextEncoder().embed, args.limit)
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        for key, value in result.items():
            print(f"{key:40s} {value['share']:.3f}  (n={value['n']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
