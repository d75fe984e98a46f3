"""Human-like pointing trajectories: superposed minimum-jerk submovements timed by Fitts' law.

A movement is a primary submovement that lands short of or past the target (undershoot/overshoot) plus 0-2
corrective submovements that start before the previous one has ended (Meyer et al.'s optimized submovement
model). Each submovement follows a minimum-jerk profile, time-warped so that peak speed comes a little early
as in real reaches, and the primary is bowed sideways so paths are slightly curved. The continuous path is
then sampled like a real pointer log: ~60 Hz with jitter and dropped reports, integer pixels, and only
samples where the pointer actually moved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from inference.synthetic.params import MotorParams

Point = tuple[float, float]


@dataclass(frozen=True)
class Submovement:
    """One minimum-jerk stroke: displacement (dx, dy) over [t0, t0 + duration], peak at `peak` of it."""

    t0: float
    duration: float
    dx: float
    dy: float
    peak: float
    bow: float = 0.0  # perpendicular deviation at mid-stroke, in px (signed)


@dataclass(frozen=True)
class MovementPlan:
    """A planned movement from `start`; `end_time` is when motion stops (relative to onset)."""

    start: Point
    end: Point
    strokes: tuple[Submovement, ...]
    end_time: float
    overshoot: bool


@lru_cache(maxsize=256)
def _profile(peak: float) -> np.ndarray:
    """Cumulative position of a velocity profile v ~ u^2 (1-u)^(beta-1), peaking at `peak` of the stroke."""
    beta = 2.0 / peak - 1.0  # mode of u^2 (1-u)^(beta-1) is 2 / (beta + 1); beta = 3 is minimum jerk
    u = np.linspace(0.0, 1.0, 257)
    v = u**2 * (1.0 - u) ** (beta - 1.0)
    cumulative = np.concatenate([[0.0], np.cumsum((v[1:] + v[:-1]) / 2)])
    return cumulative / cumulative[-1]


def min_jerk(tau: np.ndarray, peak: float = 0.5) -> np.ndarray:
    """Position fraction of a stroke at normalized time tau: minimum jerk at peak=0.5, skewed otherwise."""
    key = round(min(max(peak, 0.15), 0.6), 2)
    grid = _profile(key)
    return np.asarray(np.interp(np.clip(tau, 0.0, 1.0), np.linspace(0.0, 1.0, 257), grid))


def fitts_time(params: MotorParams, distance: float, width: float) -> float:
    """Expected time from motion onset to press for a target of `width` px at `distance` px."""
    return params.fitts_a + params.fitts_b * math.log2(distance / max(width, 1.0) + 1.0)


def _click_time(rng: np.random.Generator, params: MotorParams, distance: float, width: float) -> float:
    """Sampled onset-to-press time: Fitts' prediction with lognormal scatter of unit mean."""
    sigma = params.mt_log_sigma
    return fitts_time(params, distance, width) * float(np.exp(rng.normal(-sigma * sigma / 2, sigma)))


def _submovement_count(rng: np.random.Generator, params: MotorParams, distance: float, width: float) -> int:
    if distance < width:
        return 1
    probs = np.asarray(params.submovement_probs, dtype=np.float64)
    return int(rng.choice(len(probs), p=probs / probs.sum())) + 1


def plan_movement(
    rng: np.random.Generator, params: MotorParams, start: Point, end: Point, width: float, motion_time: float
) -> MovementPlan:
    """Plan strokes from `start` that come to rest exactly at `end` after `motion_time` seconds."""
    dx, dy = end[0] - start[0], end[1] - start[1]
    distance = math.hypot(dx, dy)
    count = _submovement_count(rng, params, distance, width)
    multi_share = max(1e-6, 1.0 - params.submovement_probs[0])
    overshoot = count > 1 and rng.random() < min(1.0, params.overshoot_rate / multi_share)
    # Where each stroke aims to end: the primary misses by a distance-proportional error.
    waypoints: list[Point] = []
    error = 0.02 + abs(rng.normal(0.0, params.primary_error))
    sign = 1.0 if overshoot else -1.0
    along = rng.normal(0.0, 0.015)
    px, py = -dy, dx  # perpendicular direction (unnormalized, length = distance)
    for _ in range(count - 1):
        gain = 1.0 + sign * error
        waypoints.append((start[0] + gain * dx + along * px, start[1] + gain * dy + along * py))
        error *= rng.uniform(0.2, 0.6)
        sign = -sign if rng.random() < 0.5 else sign
        along *= 0.3
    waypoints.append(end)
    # Durations: the primary takes most of the time; corrections overlap the previous stroke's tail.
    primary = float(np.clip(rng.normal(params.primary_share, 0.08), 0.2, 0.95))
    shares = [1.0] if count == 1 else [primary] + [0.0] * (count - 1)
    for index in range(1, count):
        shares[index] = (1.0 - shares[0]) / (count - 1) * rng.uniform(0.8, 1.2)
    strokes: list[Submovement] = []
    t, position = 0.0, start
    for index, (share, target) in enumerate(zip(shares, waypoints, strict=True)):
        duration = max(0.06, share * motion_time)
        peak = float(np.clip(rng.normal(params.time_to_peak, params.time_to_peak_sd), 0.3, 0.6))
        sdx, sdy = target[0] - position[0], target[1] - position[1]
        bow = rng.normal(0.0, params.curvature_sd) * math.hypot(sdx, sdy) if index == 0 else 0.0
        strokes.append(Submovement(t, duration, sdx, sdy, peak, bow))
        pause = rng.uniform(0.0, 2.0 * params.correction_gap_s) if rng.random() < 0.5 else 0.0
        t += duration * rng.uniform(0.8, 1.0) + pause
        position = target
    end_time = max(s.t0 + s.duration for s in strokes)
    if end_time > motion_time:  # pauses between strokes come out of the Fitts time, not on top of it
        scale = motion_time / end_time
        strokes = [replace(s, t0=s.t0 * scale, duration=s.duration * scale) for s in strokes]
        end_time = motion_time
    return MovementPlan(start, end, tuple(strokes), end_time, overshoot)


def position_at(plan: MovementPlan, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Continuous pointer position at `times` (seconds after onset): the sum of all strokes."""
    x = np.full(times.shape, plan.start[0], dtype=np.float64)
    y = np.full(times.shape, plan.start[1], dtype=np.float64)
    for stroke in plan.strokes:
        tau = (times - stroke.t0) / stroke.duration
        s = min_jerk(tau, stroke.peak)
        length = math.hypot(stroke.dx, stroke.dy)
        x += stroke.dx * s
        y += stroke.dy * s
        if stroke.bow and length > 0:
            bump = 4.0 * s * (1.0 - s) * stroke.bow / length
            x += -stroke.dy * bump
            y += stroke.dx * bump
    return x, y


def sample_times(rng: np.random.Generator, params: MotorParams, duration: float) -> np.ndarray:
    """Report times in (0, duration] like a ~60 Hz pointer log: jittered, with occasional dropped reports."""
    count = int(duration / params.sample_interval_s) + 3
    steps = params.sample_interval_s + rng.normal(0.0, params.sample_jitter_s, count)
    steps = np.maximum(steps, 0.004)
    steps[rng.random(count) < params.sample_drop_rate] *= 2
    times = np.cumsum(steps)
    times = times[times < duration]
    return np.append(times, duration)


def sample_movement(
    rng: np.random.Generator, params: MotorParams, plan: MovementPlan, t0: float
) -> list[tuple[float, int, int]]:
    """Sampled (t, x, y) reports of a planned movement starting at absolute time t0; moves only."""
    rel = sample_times(rng, params, plan.end_time)
    xs, ys = position_at(plan, rel)
    out: list[tuple[float, int, int]] = []
    last = (round(plan.start[0]), round(plan.start[1]))
    for t, x, y in zip(rel, xs, ys, strict=True):
        pixel = (round(float(x)), round(float(y)))
        if pixel != last:
            out.append((round(t0 + float(t), 3), pixel[0], pixel[1]))
            last = pixel
    return out


def click_timing(rng: np.random.Generator, params: MotorParams, distance: float, width: float) -> tuple[float, float]:
    """(motion time, dwell before the press): together they make the Fitts onset-to-press time."""
    total = _click_time(rng, params, distance, width)
    dwell = float(np.clip(np.exp(rng.normal(params.dwell_log_mu, params.dwell_log_sigma)), 0.01, 0.22))
    motion = max(0.12 + 0.0004 * distance, total - dwell)
    return motion, dwell
