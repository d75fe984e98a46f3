"""Fast endpoint scoring for model decisions: the exact inputs `ghostpilot eval` gives the model, cached once.

`ghostpilot eval` replays every episode through the ONNX session (about 5 minutes for Balabit user 15 on one
core). To compare checkpoints quickly, this script replays the same movements once through the live session
(`ModelSession.model_inputs`, the code path eval uses), caches the model inputs at every cut point, then runs
torch checkpoints on them in batches and picks the click exactly as the session does
(`inference.suggestions.pointer_suggestions`, best first), beside "stay" at the same moments. It differs from
`ghostpilot eval` only by torch-vs-onnxruntime rounding.

    .venv/bin/python benchmarks/endpoint_cuts.py collect data/balabit/user15 --out runs/cuts-user15.npz
    .venv/bin/python benchmarks/endpoint_cuts.py score runs/cuts-user15.npz runs/default/best.safetensors [more ...]

Frames are not cached (the Balabit episodes have none): collect refuses episodes with frames.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import numpy as np

from inference import features
from inference.episodes import Event, find_episodes, iter_events, list_frame_times
from inference.evaluate import FRACTIONS, _read_meta, _scan
from inference.session import ModelSession
from inference.suggestions import pointer_suggestions

CACHED = ("tick_ids", "tick_cont", "mem_ids", "mem_cont", "screen")
TRUTH = ("model_xy", "here", "target", "fraction", "movement", "history", "now", "t", "screen_wh")


class _ConfigOnly:
    """Enough of a predictor for ModelSession.model_inputs: the config, no model."""

    def __init__(self, context: int) -> None:
        self.config = {"context_ticks": context, "use_frames": False}


class _Collector:
    """Replays one episode like inference/evaluate.py and records the model inputs at its pointer queries."""

    def __init__(self, path: Path, context: int, rows: dict[str, list[Any]], movement_base: int) -> None:
        meta = _read_meta(path)
        self.plan = _scan(iter_events(path / "events.jsonl"), FRACTIONS)
        self.queries = [q for q in self.plan.queries if q[3] >= 0]
        self.session = ModelSession(_ConfigOnly(context), meta.screen_width, meta.screen_height)
        self.screen = (meta.screen_width, meta.screen_height)
        self.rows, self.base = rows, movement_base
        self.here: tuple[float, float] | None = None
        self.next = 0

    def ask_before(self, t: float) -> None:
        while self.next < len(self.queries) and self.queries[self.next][0] < t:
            q_t, _, m, f = self.queries[self.next]
            inputs, now, model_xy = self.session.model_inputs(q_t)
            movement = self.plan.movements[m]
            remembered = np.full((features.HISTORY_CLICKS, 2), np.nan, np.float32)
            points = list(self.session.history.points)
            if points:
                remembered[-len(points) :] = points
            values = (model_xy, self.here, (movement.x, movement.y), f, self.base + m, remembered, now, q_t)
            for k, v in zip(TRUTH, (*values, self.screen), strict=True):
                self.rows[k].append(v)
            for k in CACHED:
                self.rows[k].append(inputs[k][0])
            self.next += 1

    def observe(self, event: Event) -> None:
        self.ask_before(float(event["t"]))
        self.session.observe_event(event)
        if "x" in event:
            self.here = (float(event["x"]), float(event["y"]))


def collect(episodes: list[Path], context: int = 64) -> dict[str, np.ndarray]:
    """Model inputs and truth at every cut of every scored movement, in eval's replay order."""
    rows: dict[str, list[Any]] = {k: [] for k in (*CACHED, *TRUTH)}
    base = 0
    for path in episodes:
        if list_frame_times(path / "frames"):
            raise SystemExit(f"{path}: has frames; this cache holds pointer-only inputs")
        collector = _Collector(path, context, rows, base)
        for event in iter_events(path / "events.jsonl"):
            collector.observe(event)
        collector.ask_before(math.inf)
        base += len(collector.plan.movements)
    return {k: np.asarray(v) for k, v in rows.items()}


def model_outputs(model: Any, cuts: dict[str, np.ndarray], batch: int = 1024) -> dict[str, np.ndarray]:
    """Last-tick outputs of a torch model on cached cuts (no frames), on CUDA when there is one."""
    import torch

    from inference.export import example_inputs

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = model.to(device)
    outs: dict[str, list[np.ndarray]] = {}
    n = len(cuts["fraction"])
    with torch.no_grad():
        for lo in range(0, n, batch):
            hi = min(lo + batch, n)
            empty = example_inputs(model.config, torch, hi - lo)
            args = [torch.from_numpy(cuts[k][lo:hi]) for k in ("tick_ids", "tick_cont", "mem_ids", "mem_cont")]
            args += [empty[4], empty[5], empty[6], torch.from_numpy(cuts["screen"][lo:hi])]
            for name, value in model(*[a.to(device) for a in args]).items():
                outs.setdefault(name, []).append(value[:, -1].float().cpu().numpy())
    return {k: np.concatenate(v) for k, v in outs.items()}


def first_clicks(out: dict[str, np.ndarray], cuts: dict[str, np.ndarray]) -> np.ndarray:
    """The click eval scores at each cut: the first pointer suggestion, best first, as the session ranks them."""
    points = np.empty((len(cuts["fraction"]), 2))
    resting = cuts["tick_cont"][:, -1, 11] >= features.REST_TICKS / features.REST_CAP
    for i in range(len(points)):
        one = {k: v[i] for k, v in out.items()}
        width, height = (int(v) for v in cuts["screen_wh"][i])
        here = tuple(float(v) for v in cuts["here"][i])
        found = pointer_suggestions(
            one, here, float(cuts["t"][i]), float(cuts["now"][i]), float(max(width, height)), (width, height),
            bool(resting[i]),
        )  # fmt: skip
        ranked = sorted((s for s in found if s is not None), key=lambda s: -s.confidence)
        points[i] = ranked[0].click
    return points


def summary(errors: np.ndarray, fraction: np.ndarray) -> str:
    parts = []
    for f in FRACTIONS:
        e = errors[fraction == f]
        parts.append(f"{int(f * 100)}%: {e.mean():6.1f}/{np.median(e):5.1f}/{(e <= 30).mean():.3f}")
    return "  ".join(parts)


def score(cuts_path: str, checkpoints: list[str]) -> dict[str, np.ndarray]:
    """Print mean/median/share within 30 px per fraction for stay and each checkpoint; return the errors."""
    from inference.train import load_checkpoint

    cuts = dict(np.load(cuts_path))
    truth, fraction = cuts["target"], cuts["fraction"]
    errors = {"stay": np.hypot(*(cuts["here"] - truth).T)}
    print(f"{len(fraction) // len(FRACTIONS)} movements; mean/median/<=30px per fraction")
    print(f"{'stay':>32}  {summary(errors['stay'], fraction)}")
    for path in checkpoints:
        model, _ = load_checkpoint(path)
        errors[path] = np.hypot(*(first_clicks(model_outputs(model, cuts), cuts) - truth).T)
        print(f"{path[-32:]:>32}  {summary(errors[path], fraction)}", flush=True)
    return errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect")
    c.add_argument("episodes", nargs="+")
    c.add_argument("--out", required=True)
    c.add_argument("--context", type=int, default=64)
    s = sub.add_parser("score")
    s.add_argument("cuts")
    s.add_argument("checkpoints", nargs="+")
    args = parser.parse_args()
    if args.command == "collect":
        cuts = collect(find_episodes(args.episodes), args.context)
        np.savez_compressed(args.out, **cuts)
        print(f"{len(cuts['fraction'])} cuts -> {args.out}")
    else:
        score(args.cuts, args.checkpoints)


if __name__ == "__main__":
    main()
