"""IDM metrics on held-out synthetic episodes, end to end on H.264 video.

Each held-out seed is rendered with a random look (cursor sprite, size, colours), encoded to mp4 (crf 23),
decoded and analysed by the same functions `ghostpilot label` chains (open_recording, tick_frames, analyze),
decoded into events both ways (peaks, argmax) and scored against the episode's true events (docs/metrics.md).
The pointer does not depend on the decoding mode.

    PYTHONPATH=. .venv/bin/python benchmarks/idm_eval.py --seeds 300000:300020 [--idm DIR] [--sizes]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from inference.episodes import validate_event
from inference.idm.decode import MODES, decode_all
from inference.idm.label import analyze, open_recording, tick_frames
from inference.idm.metrics import PointerScore, Score, event_scores, pointer_score, report_rows
from inference.idm.runtime import IdmModel
from inference.idm.synth_frames import n_ticks, random_look
from inference.idm.synth_video import synthetic_video


def evaluate(seeds: range, model: IdmModel, sizes: bool) -> tuple[dict[str, dict[str, Score]], PointerScore, float]:
    """Scores per decoding mode (one analysis pass, decoded both ways), the pointer score, labelling seconds."""
    totals: dict[str, dict[str, Score]] = {mode: {} for mode in MODES}
    pointer = PointerScore(0.0, np.zeros(2), 0.0, 0)
    seconds = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            video = Path(tmp) / f"{seed}.mp4"
            look = random_look(np.random.default_rng(seed + 7), damage=False)
            try:
                sim = synthetic_video(seed, video, look, None if sizes else (1280, 720))
            except ValueError:
                print(f"seed {seed}: the synthetic generator fails on it; skipped", file=sys.stderr)
                continue
            started = time.perf_counter()
            frames, _ = open_recording(video)
            results = list(analyze(tick_frames(frames), model))
            seconds += time.perf_counter() - started
            for mode in MODES:
                predicted = [validate_event(e) for e in decode_all(iter(results), mode)]
                for name, score in event_scores(sim.events, predicted).items():
                    totals[mode][name] = totals[mode].get(name, Score(0, 0, 0)) + score
            start = (float(sim.start[0]), float(sim.start[1]))
            pointer = pointer + pointer_score(sim.events, predicted, n_ticks(sim), start)
            print(
                f"seed {seed}: {n_ticks(sim)} ticks, {look.style.shape}, R2 so far {pointer.r_squared:.4f}",
                file=sys.stderr,
            )
    return totals, pointer, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="300000:300020")
    parser.add_argument("--idm", type=Path, default=None)
    parser.add_argument("--sizes", action="store_true", help="random screen sizes up to 1920x1080 (default 1280x720)")
    args = parser.parse_args()
    lo, hi = (int(v) for v in args.seeds.split(":"))
    scores, pointer, seconds = evaluate(range(lo, hi), IdmModel(args.idm), args.sizes)
    print(f"seeds {args.seeds}, labelling (decode + analysis) {seconds:.1f} s")
    for mode in MODES:
        print(f"\ndecoding: {mode}")
        print("\n".join(report_rows(scores[mode], pointer)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
