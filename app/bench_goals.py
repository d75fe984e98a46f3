"""OCR and text-embedding latency for `ghostpilot bench` (one intra-op thread, as the screen-text worker runs).

Frames are rendered synthetic desktops (inference/synthetic), so the figures depend on no one's screen:
- `cold`: a screen never seen before, every text line detected and recognised;
- `after_typing_full_read`: the same screen after text was typed into a field, recognised crops cached (most
  lines did not change: the whole-frame detector and the changed lines run);
- `after_typing_changed_region`: the same, as the worker does it: only the changed region is detected again;
- `change_check`: the worker's cost of deciding whether (and where) the screen changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np


def _stats(durations_s: list[float]) -> dict[str, float | int]:
    d = np.array(durations_s) * 1000
    return {"median_ms": round(float(np.median(d)), 1), "p95_ms": round(float(np.percentile(d, 95)), 1), "n": len(d)}


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _screens(size: tuple[int, int], count: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(resting frame, frame after typing into the first field) for `count` synthetic desktops."""
    from inference.synthetic.screens import Renderer, UIState, make_screen

    pairs = []
    for index in range(count):
        screen = make_screen(np.random.default_rng(seed + index), *size)
        renderer = Renderer(screen)
        fields = screen.of_kind("field")
        typed = UIState(texts={fields[0].id: "jane.doe@example.com"}) if fields else UIState(status={0: "Saved."})
        pairs.append((renderer.render(UIState()), renderer.render(typed)))
    return pairs


def bench_ocr(sizes: tuple[tuple[int, int], ...] = ((1280, 720), (1920, 1080)), screens: int = 5) -> dict[str, Any]:
    from app.screen_text import changed_region, screen_changed, thumbnail
    from inference.goals.ocr import OcrModel

    started = time.perf_counter()
    model = OcrModel()
    results: dict[str, Any] = {"load_s": round(time.perf_counter() - started, 3)}
    for width, height in sizes:
        cold, typed, region, check, lines = [], [], [], [], []
        for rest, after in _screens((width, height), screens, seed=90_000):
            model.clear_cache()
            started = time.perf_counter()
            found = model.read(rest)
            cold.append(time.perf_counter() - started)
            lines.append(len(found))
            typed.append(_timed(partial(model.read, after)))
            started = time.perf_counter()
            before, now = thumbnail(rest), thumbnail(after)
            changed = changed_region(before, now) if screen_changed(before, now) else None
            check.append(time.perf_counter() - started)
            region.append(_timed(partial(model.read, after, found, changed)))
        results[f"{width}x{height}"] = {
            "cold": _stats(cold),
            "after_typing_full_read": _stats(typed),
            "after_typing_changed_region": _stats(region),
            "change_check": _stats(check),
            "text_lines_median": int(np.median(lines)),
        }
    return results


def bench_embedding(calls: int = 50) -> dict[str, Any]:
    from inference.goals.text_encoder import TextEncoder
    from inference.synthetic.vocab import BUTTONS, FIELDS, LIST_ITEMS

    started = time.perf_counter()
    encoder = TextEncoder()
    results: dict[str, Any] = {"load_s": round(time.perf_counter() - started, 3)}
    goal = ["Open the File menu and choose Export."]
    labels = list(BUTTONS + FIELDS + LIST_ITEMS)[:60]
    encoder.embed(goal)  # first run allocates
    results["goal_sentence"] = _stats([_timed(partial(encoder.embed, goal)) for _ in range(calls)])
    results[f"{len(labels)}_labels"] = _stats([_timed(partial(encoder.embed, labels)) for _ in range(calls // 5)])
    return results


def run_goals_bench() -> dict[str, Any]:
    """Both benchmarks; a missing model is reported as such, not raised (the predictor bench still counts)."""
    results: dict[str, Any] = {}
    for name, fn in (("ocr", bench_ocr), ("text_embedding", bench_embedding)):
        try:
            results[name] = fn()
        except Exception as exc:  # e.g. the OCR wheel is not installed: say so in the report
            results[name] = f"unavailable ({str(exc).splitlines()[0][:120]})"
    return results


__all__ = ["bench_embedding", "bench_ocr", "run_goals_bench"]
