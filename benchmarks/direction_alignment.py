"""Why kinematics alone cannot predict Balabit endpoints.

At 50 % of each pointing movement with >= 100 px still to go: how well the pointer's direction over the last
50 ms points at the final press (cosine), and the mean error of an oracle that knows the exact remaining
distance along that direction.

    .venv/bin/python benchmarks/direction_alignment.py data/balabit/user7/session_1060325796
"""

from __future__ import annotations

import sys

import numpy as np

from inference.episodes import read_episode
from inference.evaluate import find_movements


def alignment(path: str, fraction: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    episode = read_episode(path)
    movements, _ = find_movements(episode.events)
    moves = [e for e in episode.events if e["type"] == "mouse.move"]
    times = np.array([e["t"] for e in moves])
    points = np.array([[e["x"], e["y"]] for e in moves], dtype=np.float64)
    cosines, oracle_errors = [], []
    for movement in movements:
        t = movement.start + fraction * (movement.press_t - movement.start)
        now = int(np.searchsorted(times, t, side="right")) - 1
        before = int(np.searchsorted(times, t - 0.05, side="left"))
        if now < 0 or before >= now:
            continue
        velocity = points[now] - points[before]
        remaining = np.array([movement.x, movement.y]) - points[now]
        if np.linalg.norm(remaining) < 100 or np.linalg.norm(velocity) < 1:
            continue
        unit = velocity / np.linalg.norm(velocity)
        cosines.append(float(remaining @ unit / np.linalg.norm(remaining)))
        oracle_errors.append(float(np.linalg.norm(remaining - max(remaining @ unit, 0.0) * unit)))
    return np.array(cosines), np.array(oracle_errors)


if __name__ == "__main__":
    for episode_path in sys.argv[1:]:
        cos, oracle = alignment(episode_path)
        print(
            f"{episode_path}: n={len(cos)} cosine mean {cos.mean():.2f} median {np.median(cos):.2f} "
            f"share > 0.9 {np.mean(cos > 0.9):.2f}; oracle-along-direction mean error {oracle.mean():.1f} px"
        )
