"""`ghostpilot bench`: predictor step latency (observe + suggest) on one CPU core, and on CUDA when present.

The input is a scripted stream: minimum-jerk pointing movements to random targets with clicks, and bursts
of typing, so the step mixes pointer-only suggestions and key rollouts as a real session does.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from inference.episodes import Event


def scripted_stream(seconds: float, seed: int = 0, width: int = 1920, height: int = 1080) -> list[Event]:
    """Events of a plausible session: move, click, sometimes type a word, at ~60 Hz pointer sampling."""
    rng = np.random.default_rng(seed)
    events: list[Event] = []
    t, x, y = 0.0, width / 2, height / 2
    while t < seconds:
        tx, ty = rng.uniform(0, width), rng.uniform(0, height)
        duration = 0.3 + 0.15 * np.log2(1 + np.hypot(tx - x, ty - y) / 30)
        for s in np.linspace(0, 1, max(int(duration * 60), 2))[1:]:
            blend = 10 * s**3 - 15 * s**4 + 6 * s**5
            events.append(
                {"t": t + s * duration, "type": "mouse.move", "x": x + (tx - x) * blend, "y": y + (ty - y) * blend}
            )
        t, x, y = t + duration, tx, ty
        events.append({"t": t + 0.05, "type": "mouse.down", "x": x, "y": y, "button": "left"})
        events.append({"t": t + 0.13, "type": "mouse.up", "x": x, "y": y, "button": "left"})
        t += 0.13
        if rng.random() < 0.3:
            for char in "hello world"[: rng.integers(3, 11)]:
                t += rng.uniform(0.08, 0.2)
                events += [{"t": t, "type": "key.down", "key": char}, {"t": t + 0.05, "type": "key.up", "key": char}]
        t += rng.uniform(0.2, 0.8)
    return events


def time_steps(predictor: Any, events: list[Event], steps: int) -> dict[str, float]:
    session = predictor.new_session(1920, 1080)
    frame = np.random.default_rng(1).integers(0, 255, (1080, 1920, 3), dtype=np.uint8)
    session.observe_frame(0.0, frame)
    durations = []
    for event in events[: steps + 50]:
        started = time.perf_counter()
        session.observe_event(event)
        session.suggest(event["t"])
        durations.append(time.perf_counter() - started)
    d = np.array(durations[50:]) * 1000  # the first steps warm caches up
    return {
        "median_ms": round(float(np.median(d)), 3),
        "p95_ms": round(float(np.percentile(d, 95)), 3),
        "steps": len(d),
    }


def run_bench(model: str | None = None, steps: int = 2000, goals: bool = True) -> dict[str, Any]:
    from app.models import resolve_model
    from inference.runtime import OnnxPredictor

    started = time.perf_counter()
    model = str(resolve_model(model))  # a registered name or a path; the registry checks its SHA-256
    cpu = OnnxPredictor.load(model, device="cpu", threads=1)
    results: dict[str, Any] = {"model": str(cpu.path), "model_mb": round(cpu.path.stat().st_size / 1e6, 2)}
    results["load_s"] = round(time.perf_counter() - started, 3)
    events = scripted_stream(seconds=steps / 30 + 10)
    results["cpu_1_thread_step"] = time_steps(cpu, events, steps)
    results["cpu_count"] = os.cpu_count()
    try:
        gpu = OnnxPredictor.load(model, device="cuda")
        results["cuda_step"] = time_steps(gpu, events, steps)
    except Exception as exc:  # no CUDA here is a normal outcome, reported as such
        results["cuda_step"] = f"unavailable ({str(exc).splitlines()[0][:100]})"
    if goals:  # OCR and goal embedding run off the per-frame path, but their latency bounds grounding's freshness
        from app.bench_goals import run_goals_bench

        results["goals"] = run_goals_bench()
    return results
