"""Fit the scripted user's motor parameters to real pointer logs (Balabit), and compare real vs synthetic.

Usage: `python -m inference.synthetic.fit /work/shared/data/balabit-dev OUT.json [--users 7 9 12]`.
Only users 7, 9 and 12 are used by default: users 15 and 16 are held out by the team for validation/test.

A pointing movement is what the evaluation calls one: the samples from the onset of motion after a rest (the
first sample following a gap of more than 0.25 s) up to a left press. The logs do not say what was clicked, so
Fitts' law is fitted with an assumed target width W (ASSUMED_WIDTH_PX, a typical button/field height).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from inference.episodes import Event
from inference.synthetic.calibrate import calibrate
from inference.synthetic.params import MotorParams, params_from_json

REST_GAP_S = 0.25
ASSUMED_WIDTH_PX = 30.0
FIT_USERS = (7, 9, 12)
SIMULATED_CLICKS = 8000
MOVE, PRESS, RELEASE, OTHER = 0, 1, 2, 3


@dataclass(frozen=True)
class Log:
    """One session as arrays: time (s), kind (MOVE/PRESS/RELEASE/OTHER, left button only), x, y, break flag."""

    t: np.ndarray
    kind: np.ndarray
    x: np.ndarray
    y: np.ndarray
    brk: np.ndarray  # True where the log has a hole before this row (pointer left the screen)


def _row_kind(button: str, state: str) -> int:
    if state in ("Move", "Drag"):
        return MOVE if state == "Move" else OTHER
    if button == "Left" and state == "Pressed":
        return PRESS
    if button == "Left" and state == "Released":
        return RELEASE
    return OTHER


def read_balabit(path: Path) -> Log:
    """Read one Balabit session CSV; rows at (65535, 65535) are dropped and mark a hole."""
    t, kind, x, y, brk = [], [], [], [], []
    hole = False
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            px, py = int(row["x"]), int(row["y"])
            if px >= 65535 or py >= 65535:
                hole = True
                continue
            t.append(float(row["client timestamp"]))
            kind.append(_row_kind(row["button"], row["state"]))
            x.append(px)
            y.append(py)
            brk.append(hole)
            hole = False
    return Log(np.array(t), np.array(kind, np.int8), np.array(x, float), np.array(y, float), np.array(brk, bool))


def log_from_events(events: Sequence[Event]) -> Log:
    """The same arrays from episode-schema events, so synthetic data goes through the identical analysis."""
    rows: list[tuple[float, int, float, float]] = []
    for event in events:
        kind = event["type"]
        if kind == "mouse.move":
            rows.append((event["t"], MOVE, event["x"], event["y"]))
        elif kind in ("mouse.down", "mouse.up") and event["button"] == "left":
            rows.append((event["t"], PRESS if kind == "mouse.down" else RELEASE, event["x"], event["y"]))
    arr = np.array(rows, dtype=np.float64).reshape(-1, 4)
    return Log(arr[:, 0], arr[:, 1].astype(np.int8), arr[:, 2], arr[:, 3], np.zeros(len(arr), bool))


def _speed_profile(t: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Speed (px/s) on a 10 ms grid, smoothed over ~50 ms; duplicate timestamps keep the last sample."""
    keep = np.append(np.diff(t) > 1e-9, True)
    t, x, y = t[keep], x[keep], y[keep]
    grid = np.arange(t[0], t[-1] + 1e-9, 0.01)
    gx, gy = np.interp(grid, t, x), np.interp(grid, t, y)
    speed = np.hypot(np.diff(gx), np.diff(gy)) / 0.01
    kernel = np.ones(5) / 5
    return grid[1:] - t[0], np.convolve(speed, kernel, mode="same")


def count_submovements(speed: np.ndarray) -> int:
    """Speed peaks above 15 % of the maximum, separated by a dip below 60 % of the smaller neighbour."""
    top = speed.max()
    peaks: list[float] = []
    valley = np.inf
    rising = True
    for prev, cur, nxt in zip(speed[:-2], speed[1:-1], speed[2:], strict=True):
        valley = min(valley, cur)
        if rising and cur >= prev and cur > nxt and cur > 0.15 * top:
            if not peaks or valley < 0.6 * min(peaks[-1], cur):
                peaks.append(cur)
            else:
                peaks[-1] = max(peaks[-1], cur)
            valley = np.inf
    return max(1, len(peaks))


def movement_stats(log: Log) -> dict[str, np.ndarray]:
    """Per-movement statistics of every clean left-press pointing movement in one log."""
    gap = np.append(np.inf, np.diff(log.t)) > REST_GAP_S
    starts = np.maximum.accumulate(np.where(gap | log.brk, np.arange(len(log.t)), 0))
    rows: list[list[float]] = []
    for press in np.flatnonzero(log.kind == PRESS):
        start = int(starts[press])
        body = log.kind[start:press]
        if press - start < 4 or np.any(body != MOVE):
            continue
        t, x, y = log.t[start : press + 1], log.x[start : press + 1], log.y[start : press + 1]
        dx, dy = x[-1] - x[0], y[-1] - y[0]
        distance = float(np.hypot(dx, dy))
        motion_end = float(t[-2] - t[0])
        if distance < 20 or motion_end < 0.05 or t[-1] - t[0] > 5.0:
            continue
        grid, speed = _speed_profile(t[:-1], x[:-1], y[:-1])
        ux, uy = dx / distance, dy / distance
        along = (x - x[0]) * ux + (y - y[0]) * uy
        across = np.abs(-(x - x[0]) * uy + (y - y[0]) * ux)
        rest = float(log.t[start] - log.t[start - 1]) if start > 0 and not log.brk[start] else np.nan
        rows.append(
            [
                distance,
                float(t[-1] - t[0]),
                float(speed.max() / (distance / motion_end)),
                float(grid[int(np.argmax(speed))] / motion_end),
                float(along.max() - along[-1] > 5.0),
                count_submovements(speed),
                float(across.max() / distance),
                float(t[-1] - t[-2]),
                min(rest, 30.0),
                _hold_after(log, int(press)),
            ]
        )
    names = ("distance", "mt", "peak_ratio", "time_to_peak", "overshoot", "submovements", "curvature", "dwell")
    table = np.array(rows, dtype=np.float64).reshape(-1, len(names) + 2)
    stats = {name: table[:, i] for i, name in enumerate(names)}
    stats["rest"], stats["hold"] = table[:, -2], table[:, -1]
    return stats


def _hold_after(log: Log, press: int) -> float:
    """Press-to-release time of a plain click (no drag in between), else NaN."""
    for index in range(press + 1, min(press + 50, len(log.t))):
        if log.kind[index] == RELEASE:
            hold = float(log.t[index] - log.t[press])
            return hold if hold < 1.0 else np.nan
        if log.kind[index] != OTHER or log.x[index] != log.x[press] or log.y[index] != log.y[press]:
            return np.nan
    return np.nan


def rest_pauses(log: Log) -> np.ndarray:
    """Pauses between a left release and the next motion that leads to a left press (the pre-click rest)."""
    out: list[float] = []
    releases = np.flatnonzero(log.kind == RELEASE)
    presses = np.flatnonzero(log.kind == PRESS)
    for release in releases:
        after = presses[presses > release]
        if not len(after) or after[0] - release < 3 or np.any(log.kind[release + 1 : after[0]] != MOVE):
            continue
        if not np.any(log.brk[release + 1 : after[0] + 1]):
            out.append(float(log.t[release + 1] - log.t[release]))
    return np.array(out)


def merge(parts: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


def fit_fitts(distance: np.ndarray, mt: np.ndarray, width: float) -> tuple[float, float, float]:
    """(a, b, log-scatter): a line through per-bin median MTs (0.5-bit bins), robust to the logs' long tail."""
    index = np.log2(distance / width + 1.0)
    edges = np.arange(0.0, index.max() + 0.5, 0.5)
    centres, medians, weights = [], [], []
    for lo, hi in itertools.pairwise(edges):
        inside = (index >= lo) & (index < hi)
        if inside.sum() >= 10:
            centres.append(float(np.median(index[inside])))
            medians.append(float(np.median(mt[inside])))
            weights.append(float(np.sqrt(inside.sum())))
    b, a = np.polyfit(centres, medians, 1, w=weights)
    scatter = float(np.std(np.log(mt / np.maximum(a + b * index, 0.05))))
    return float(a), float(b), scatter


def _lognormal(values: np.ndarray) -> tuple[float, float]:
    logs = np.log(values[np.isfinite(values) & (values > 0)])
    return float(np.mean(logs)), float(np.std(logs))


def sampling_stats(log: Log) -> tuple[float, float, float]:
    """(report period, its jitter, share of doubled periods) of move reports while the pointer moves."""
    moving = (log.kind[1:] == MOVE) & (log.kind[:-1] == MOVE)
    dt = np.diff(log.t)[moving]
    dt = dt[(dt > 0.001) & (dt < 0.05)]
    period = float(np.median(dt))
    single = dt[np.abs(dt - period) < 0.5 * period]
    return period, float(np.std(single)), float(np.mean(np.abs(dt - 2 * period) < 0.5 * period))


def fit_generator(stats: dict[str, np.ndarray], rests: np.ndarray, sampling: tuple[float, float, float]) -> dict:
    """Turn real statistics into the scripted user's parameters (the `generator` section of the json)."""
    a, b, scatter = fit_fitts(stats["distance"], stats["mt"], ASSUMED_WIDTH_PX)
    subs = stats["submovements"]
    probs = [float(np.mean(subs == 1)), float(np.mean(subs == 2)), float(np.mean(subs >= 3))]
    rest_mu, rest_sigma = _lognormal(rests[(rests > REST_GAP_S) & (rests < 30.0)])
    dwell_mu, dwell_sigma = _lognormal(stats["dwell"])
    hold_mu, hold_sigma = _lognormal(stats["hold"])
    return {
        "fitts_a": a,
        "fitts_b": b,
        "mt_log_sigma": min(scatter, 0.6),
        "target_width_px": ASSUMED_WIDTH_PX,
        "overshoot_rate": float(np.mean(stats["overshoot"])),
        "submovement_probs": probs,
        "curvature_sd": float(np.median(stats["curvature"]) / 0.674),
        "rest_short_share": float(np.mean(rests <= REST_GAP_S)),
        "rest_log_mu": rest_mu,
        "rest_log_sigma": rest_sigma,
        "dwell_log_mu": dwell_mu,
        "dwell_log_sigma": dwell_sigma,
        "hold_log_mu": hold_mu,
        "hold_log_sigma": hold_sigma,
        "sample_interval_s": sampling[0],
        "sample_jitter_s": sampling[1],
        "sample_drop_rate": sampling[2],
    }


def summarize(stats: dict[str, np.ndarray], rests: np.ndarray, sampling: tuple[float, float, float]) -> dict:
    """The statistics compared between real and synthetic data (docs/synthetic.md)."""
    a, b, _ = fit_fitts(stats["distance"], stats["mt"], ASSUMED_WIDTH_PX)
    subs = stats["submovements"]
    return {
        "movements": len(subs),
        "distance_median_px": float(np.median(stats["distance"])),
        "mt_median_s": float(np.median(stats["mt"])),
        "fitts_a_s": a,
        "fitts_b_s_per_bit": b,
        "peak_to_mean_speed": float(np.median(stats["peak_ratio"])),
        "time_to_peak_frac": float(np.median(stats["time_to_peak"])),
        "overshoot_rate": float(np.mean(stats["overshoot"])),
        "submovements_1": float(np.mean(subs == 1)),
        "submovements_2": float(np.mean(subs == 2)),
        "submovements_3plus": float(np.mean(subs >= 3)),
        "curvature_median": float(np.median(stats["curvature"])),
        "dwell_median_s": float(np.median(stats["dwell"])),
        "hold_median_s": float(np.nanmedian(stats["hold"])),
        "rest_median_s": float(np.median(rests)),
        "rest_share_over_0.25s": float(np.mean(rests > REST_GAP_S)),
        "report_period_s": sampling[0],
    }


def simulate_log(params: MotorParams, distances: np.ndarray, seed: int = 0) -> Log:
    """Synthetic point-and-click sessions at the given distances (random directions), as a Log."""
    from inference.synthetic.user import ScriptedUser

    rng = np.random.default_rng(seed)
    user = ScriptedUser(rng, params, start=(2000, 2000))
    half = int(round(params.target_width_px / 2))
    for distance in distances:
        angle = rng.uniform(0, 2 * np.pi)
        cx, cy = int(user.x + distance * np.cos(angle)), int(user.y + distance * np.sin(angle))
        user.rest()
        user.point_at((cx - half, cy - half, cx + half, cy + half))
        user.press()
        user.release()
    return log_from_events(user.sorted_events())


def analyse(logs: Sequence[Log]) -> tuple[dict[str, np.ndarray], np.ndarray, tuple[float, float, float]]:
    stats = merge([movement_stats(log) for log in logs])
    rests = np.concatenate([rest_pauses(log) for log in logs])
    samplings = np.array([sampling_stats(log) for log in logs])
    return stats, rests, (float(samplings[:, 0].mean()), float(samplings[:, 1].mean()), float(samplings[:, 2].mean()))


def fit_dataset(root: Path, users: Sequence[int] = FIT_USERS, seed: int = 0, rounds: int = 6) -> dict:
    """Fit on the given users' sessions and compare with synthetic data generated from the fitted parameters."""
    paths = sorted(p for user in users for p in (root / f"user{user}").glob("session_*"))
    if not paths:
        raise SystemExit(f"{root}: no sessions for users {list(users)}")
    stats, rests, sampling = analyse([read_balabit(p) for p in paths])
    direct = fit_generator(stats, rests, sampling)
    real = summarize(stats, rests, sampling)
    rng = np.random.default_rng(seed)
    distances = rng.choice(stats["distance"], size=SIMULATED_CLICKS)

    def simulate(params: MotorParams) -> dict[str, Any]:
        return summarize(*analyse([simulate_log(params, distances, seed)]))

    params, synthetic = calibrate(params_from_json({"generator": direct}), real, simulate, rounds)
    generator = {k: v for k, v in asdict(params).items() if k != "fitted_on_users"}
    return {
        "source": "Balabit Mouse Dynamics Challenge (training_files), " + str(root),
        "fitted_on_users": list(users),
        "held_out_users": [u for u in (7, 9, 12, 15, 16) if u not in users],
        "assumed_target_width_px": ASSUMED_WIDTH_PX,
        "movement_definition": "onset after a >0.25 s gap up to a left press; only moves between; D >= 20 px; <= 5 s",
        "sessions": len(paths),
        "calibration_rounds": rounds,
        "direct_fit": direct,
        "generator": generator,
        "real": real,
        "synthetic": synthetic,
    }


def comparison_table(result: dict) -> str:
    """A markdown table of real vs synthetic statistics."""
    lines = ["| statistic | real | synthetic |", "|---|---:|---:|"]
    for key, real in result["real"].items():
        synth = result["synthetic"][key]
        fmt = "{:d}" if isinstance(real, int) else "{:.3f}"
        lines.append(f"| {key} | {fmt.format(real)} | {fmt.format(synth)} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("data", type=Path, help="balabit-dev folder (userNN/session_*)")
    parser.add_argument("out", type=Path, help="where to write the fitted parameters (json)")
    parser.add_argument("--users", type=int, nargs="+", default=list(FIT_USERS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=6, help="calibration rounds (0: direct fit only)")
    args = parser.parse_args(argv)
    held = sorted({15, 16} & set(args.users))
    if held:
        print(f"warning: fitting on held-out users {held}", file=sys.stderr)
    result = fit_dataset(args.data, args.users, args.seed, args.rounds)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(comparison_table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
