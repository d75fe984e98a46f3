"""Why kinematics alone cannot predict Balabit endpoints: how well the pointer direction at 50 % of a movement
points at the final press, and the error of an oracle that knows the remaining distance along that direction.

    .venv/bin/python benchmarks/direction_alignment.py data/balabit/user7/session_1060325796
"""

import sys

import numpy as np

from inference.episodes import read_episode
from inference.evaluate import find_movements

ep = read_episode(sys.argv[1])
mv, _ = find_movements(ep.events)
moves = [e for e in ep.events if e["type"] == "mouse.move"]
T = np.array([e["t"] for e in moves])
X = np.array([[e["x"], e["y"]] for e in moves])
cos = []
ratio = []
best = []
for m in mv:
    for f in (0.5,):
        t = m.start + f * (m.press_t - m.start)
        i = np.searchsorted(T, t, side="right") - 1
        j = np.searchsorted(T, t - 0.05, side="left")
        if i < 0 or j >= i:
            continue
        p = X[i]
        v = X[i] - X[j]
        r = np.array([m.x, m.y]) - p
        d = np.linalg.norm(r)
        if d < 100 or np.linalg.norm(v) < 1:
            continue
        c = v @ r / np.linalg.norm(v) / d
        cos.append(c)
        # onset-based: traveled so far
        k = np.searchsorted(T, m.start, side="left")
        s0 = X[k]
        trav = np.linalg.norm(p - s0)
        ratio.append(d / max(trav, 1))
        # best possible along current direction
        u = v / np.linalg.norm(v)
        along = max(r @ u, 0)
        best.append(np.linalg.norm(r - along * u))
cos = np.array(cos)
print(
    "n",
    len(cos),
    "cos mean",
    cos.mean().round(2),
    "median",
    np.median(cos).round(2),
    "share cos>0.9",
    (cos > 0.9).mean().round(2),
)
print(
    "remaining/traveled median",
    np.median(ratio).round(2),
    "oracle-distance-along-direction mean err",
    np.mean(best).round(1),
)
