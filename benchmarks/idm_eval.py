"""IDM metrics on held-out synthetic episodes, end to end through `label_recording` on H.264 video.

Each held-out seed is rendered with a random look (cursor sprite, size, colours), encoded to mp4 (crf 23),
labelled exactly as `ghostpilot label` does, and scored against the episode's true events (docs/metrics.md).

    PYTHONPATH=. .venv/bin/python benchmarks/idm_eval.py --seeds 300000:300020 [--idm DIR] [--decoding peaks]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from inference.episodes import read_episode
from inference.idm.metrics import PointerScore, Score, event_scores, pointer_score, report_rows
from inference.idm.runtime import IdmModel
from inference.idm.synth_frames import n_ticks, random_look
from inference.idm.synth_video import synthetic_video


def evaluate(seeds: range, model: IdmModel, mode: str, sizes: bool) -> tuple[dict[str, Score], PointerScore, float]:
    from inference.idm.label import label_recording

    totals: dict[str, Score] = {}
    pointer = PointerScore(0.0, np.zeros(2), 0.0, 0)
    seconds = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            video = Path(tmp) / f"{seed}.mp4"
            look = random_look(np.random.default_rng(seed + 7), damage=False)
            size = None if sizes else (1280, 720)
            try:
                sim = synthetic_video(seed, video, look, size)
            except ValueError:
                print(f"seed {seed}: the synthetic generator fails on it; skipped", file=sys.stderr)
                continue
            started = time.perf_counter()
            out, _ = label_recording(video, Path(tmp) / f"ep-{seed}", model, mode)
            seconds += time.perf_counter() - started
            predicted = read_episode(out).events
            for name, score in event_scores(sim.events, predicted).items():
                totals[name] = totals.get(name, Score(0, 0, 0)) + score
            start = (float(sim.start[0]), float(sim.start[1]))
            pointer = pointer + pointer_score(sim.events, predicted, n_ticks(sim), start)
            print(f"seed {seed}: {n_ticks(sim)} ticks, R2 so far {pointer.r_squared:.4f}", file=sys.stderr)
    return totals, pointer, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="300000:300020")
    parser.add_argument("--idm", type=Path, default=None)
    parser.add_argument("--decoding", default="peaks", choices=("peaks", "argmax"))
    parser.add_argument("--sizes", action="store_true", help="random screen sizes up to 1920x1080 (default 1280x720)")
    args = parser.parse_args()
    lo, hi = (int(v) for v in args.seeds.split(":"))
    scores, pointer, seconds = evaluate(range(lo, hi), IdmModel(args.idm), args.decoding, args.sizes)
    print(f"seeds {args.seeds}, decoding {args.decoding}, labelling time {seconds:.1f} s")
    print("\n".join(report_rows(scores, pointer)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
