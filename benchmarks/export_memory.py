"""Does `ghostpilot export` stream in constant memory? Peak RSS of each format on a log and on one 4x larger.

    .venv/bin/python benchmarks/export_memory.py [--suggestions 1500] [--scale 4] [--out results.json]

Builds two real logs through the Store (sessions of 250 suggestions, each with 30 input events, a noise
thumbnail and 5 context frames of noise: the worst case for PNG), then runs `python -m ui.cli export` for
each format in a child process and reads that child's peak resident memory (`ru_maxrss` of the waited-for
child). Constant memory means the peak does not grow with the log; the log's size on disk is printed beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PER_SESSION = 250
SCREEN = (640, 360)


def build_log(path: Path, suggestions: int, seed: int = 0) -> None:
    from app.store import ContextFrame, ContextFramesRecord, SessionRecord, Store, SuggestionRecord

    rng = np.random.default_rng(seed)
    width, height = SCREEN
    frames = [rng.integers(0, 255, (height, width, 3), dtype=np.uint8) for _ in range(8)]
    with Store.open(path) as store:
        for first in range(0, suggestions, PER_SESSION):
            session_id = store.begin_session(SessionRecord(time.time() - 86400 + first, width, height))
            for index in range(first, min(first + PER_SESSION, suggestions)):
                t = 1.0 + 2.0 * (index - first)
                moves = [{"t": t - 1.0 + k / 30, "type": "mouse.move", "x": float(k), "y": float(k)} for k in range(30)]
                store.log_events(session_id, moves)
                ghost = [{"t": t, "type": "mouse.move", "x": 300.0, "y": 200.0}]
                frame = frames[index % len(frames)]
                sid = store.log_suggestion(
                    SuggestionRecord(session_id, t, "pointer", ghost, 0.7, (300, 200), frame=frame)
                )
                nearby = tuple(ContextFrame(o, (300.0, 200.0), frames[(index + k) % 8]) for k, o in
                               enumerate((-0.2, -0.1, 0.5, 1.0, 2.0)))  # fmt: skip
                store.log_context_frames(ContextFramesRecord(sid, nearby))
                if index % 10 == 9:
                    assert store.flush(120.0)  # raw frames wait in the queue: keep it under its bound
            assert store.flush(120.0)
            store.end_session(session_id, time.time())


def peak_rss_mb(command: list[str]) -> tuple[float, float]:
    """(peak RSS in MB, wall seconds) of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed: {child.stderr.read().decode()[-500:] if child.stderr else ''}")
    return usage.ru_maxrss / 1024, time.perf_counter() - started


def measure(suggestions: int, scale: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, count in (("1x", suggestions), (f"{scale}x", suggestions * scale)):
            db = Path(tmp) / f"log-{label}.db"
            build_log(db, count)
            row: dict[str, Any] = {"suggestions": count, "log_mb": round(db.stat().st_size / 2**20, 1)}
            for fmt in ("jsonl", "parquet", "episodes"):
                out = Path(tmp) / f"out-{label}.{fmt}"
                command = [sys.executable, "-m", "ui.cli", "export", "--format", fmt, "--database", str(db),
                           "--out", str(out)]  # fmt: skip
                rss, seconds = peak_rss_mb(command)
                row[fmt] = {"peak_rss_mb": round(rss, 1), "seconds": round(seconds, 1)}
                print(label, fmt, row[fmt], flush=True)
            results[label] = row
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suggestions", type=int, default=1500)
    parser.add_argument("--scale", type=int, default=4)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    results = measure(args.suggestions, args.scale)
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
