"""Context windows: the model's inputs (shared by training and the live session) and training targets."""

from __future__ import annotations

import numpy as np

from inference import features
from inference.actions import TICK, TICK_HZ
from inference.dataset import EpisodeData, Segment

INPUT_NAMES = ("tick_ids", "tick_cont", "mem_ids", "mem_cont", "frame_global", "frame_crop", "frame_meta", "screen")
GOAL_INPUT_NAMES = ("goal", "texts")  # goal-conditioned models only (ModelConfig.use_goals)


def input_names(use_goals: bool) -> tuple[str, ...]:
    return INPUT_NAMES + GOAL_INPUT_NAMES if use_goals else INPUT_NAMES


def frame_inputs(
    frame_t: np.ndarray, frame_global: np.ndarray, frame_crop: np.ndarray, window_start: float, now: float
) -> dict[str, np.ndarray]:
    """The last FRAME_SLOTS frames captured before `now`, placed at their tick in the window (-1: earlier)."""
    s = features.FRAME_SLOTS
    g = np.zeros((s, 3, features.GLOBAL_H, features.GLOBAL_W), np.float32)
    c = np.zeros((s, 3, features.CROP, features.CROP), np.float32)
    meta = np.zeros((s, 2), np.float32)
    meta[:, 0] = -1.0
    last = int(np.searchsorted(frame_t, now, side="left"))
    for slot, index in enumerate(range(max(last - s, 0), last)):
        g[slot] = frame_global[index].transpose(2, 0, 1) / 255.0
        c[slot] = frame_crop[index].transpose(2, 0, 1) / 255.0
        meta[slot] = (max(np.floor((frame_t[index] - window_start) * TICK_HZ), -1.0), 1.0)
    return {"frame_global": g, "frame_crop": c, "frame_meta": meta}


def screen_input(width: int, height: int) -> np.ndarray:
    return np.array([width / 2000.0, height / 2000.0], np.float32)


def idle_rows(count: int, x: float, y: float, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows for ticks in which nothing happened with the pointer resting at (x, y)."""
    ids = np.zeros((count, 2 + features.EVENT_SLOTS), np.int64)
    ids[:, :2] = features.ZERO_BIN
    cont = np.tile(features.idle_cont(x, y, width, height), (count, 1))
    return ids, cont


def _tick_window(seg: Segment, start: int, end: int, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    ids = seg.ids[max(start, 0) : end + 1].astype(np.int64)
    cont = seg.cont[max(start, 0) : end + 1]
    if start < 0:
        pad_ids, pad_cont = idle_rows(-start, seg.cont[0, 0] * width, seg.cont[0, 1] * height, width, height)
        ids, cont = np.concatenate([pad_ids, ids]), np.concatenate([pad_cont, cont])
    return ids, cont


def window_inputs(data: EpisodeData, seg: Segment, end: int, context: int) -> dict[str, np.ndarray]:
    """Model inputs for the window of `context` ticks ending at tick `end` of `seg` (no batch axis)."""
    start = end - context + 1
    ids, cont = _tick_window(seg, start, end, data.width, data.height)
    window_start, now = seg.t0 + start * TICK, seg.t0 + (end + 1) * TICK
    n_clicks = int(np.searchsorted(data.mem_click_t, window_start, side="left"))
    n_keys = int(np.searchsorted(data.key_t, window_start, side="left"))
    lo_c, lo_k = max(n_clicks - features.MEMORY_CLICKS, 0), max(n_keys - features.MEMORY_KEYS, 0)
    clicks = [
        (data.mem_click_t[i], int(data.mem_click_token[i]), *map(float, data.mem_click_xy[i]))
        for i in range(lo_c, n_clicks)
    ]
    keys = [(data.key_t[i], int(data.key_token[i])) for i in range(lo_k, n_keys)]
    mem_ids, mem_cont = features.memory_arrays(clicks, keys, now, data.width, data.height)
    inputs = {"tick_ids": ids, "tick_cont": cont, "mem_ids": mem_ids, "mem_cont": mem_cont}
    inputs.update(frame_inputs(data.frame_t, data.frame_global, data.frame_crop, window_start, now))
    inputs["screen"] = screen_input(data.width, data.height)
    return inputs


def window_targets(
    data: EpisodeData,
    seg: Segment,
    end: int,
    context: int,
    click_horizon: int,
    key_horizon: int,
    endpoint_press_only: bool = False,
    per_movement: bool = False,
) -> dict[str, np.ndarray]:
    """What the model should predict at each of the window's ticks (mask = 0 where unknown).

    Click offsets are measured from the real pointer (the last positioned event), which is where the live
    session places them. `endpoint_weight` says how much each tick's endpoint counts: every moving tick, or
    only those of movements that end in a press (the ones the endpoint metric scores), each tick weighted
    1 / (its movement's moving ticks) when `per_movement` (each movement counts once, as in the metric).
    """
    ticks = np.arange(end - context + 1, end + 1)  # (T,) tick index in the segment
    real = ticks >= 0
    n = len(seg.ids)
    nxt = np.clip(ticks + 1, 0, n - 1)
    action_mask = real & (ticks + 1 < n) & ~seg.ghost[nxt]
    tick_end = seg.t0 + (ticks + 1) * TICK
    scale = float(max(data.width, data.height))
    assert seg.end_tick is not None and seg.end_press is not None and seg.true_xy is not None
    pos = seg.true_xy[np.clip(ticks, 0, n - 1)]
    g = np.clip(ticks, 0, n - 1)
    end_tick, end_press = seg.end_tick[g], seg.end_press[g]
    to_end = end_tick - ticks  # ticks until the movement ends
    click_mask = real & (end_tick >= 0) & (to_end <= click_horizon)
    moving = seg.cont[g, 11] < features.REST_TICKS / features.REST_CAP  # a movement is under way
    pressed = click_mask & (end_press >= 0)
    press = np.maximum(end_press, 0)
    end_pos = seg.true_xy[np.maximum(end_tick, 0)]
    click_xy = np.where(pressed[:, None], data.click_xy[press] if len(data.click_t) else end_pos, end_pos)
    button = (data.click_token[press] - features.BUTTON_START) // 2 if len(data.click_t) else np.zeros(len(ticks))

    ki = np.searchsorted(data.key_t, tick_end, side="left")
    user_keys = data.key_user
    key_class = np.zeros(len(ticks), np.int64)
    if len(data.key_t):
        ki_c = np.minimum(ki, len(data.key_t) - 1)
        ok = (ki < len(data.key_t)) & ((data.key_t[ki_c] - tick_end) < key_horizon * TICK) & user_keys[ki_c]
        key_class = np.where(ok, features.key_class(data.key_token[ki_c]), 0)
    endpoint = (click_mask & moving & (pressed if endpoint_press_only else True)).astype(np.float32)
    if per_movement:
        assert seg.move_weight is not None
        endpoint = endpoint * seg.move_weight[g]
    confidence = seg.confidence if seg.confidence is not None else np.ones(n, np.float32)
    press_conf = np.where(pressed, data.click_confidence[press] if len(data.click_t) else 1.0, 1.0)
    key_conf = np.ones(len(ticks), np.float32)
    if len(data.key_t):
        key_conf = np.where(key_class > 0, data.key_confidence[np.minimum(ki, len(data.key_t) - 1)], 1.0)
    return {
        "next_dx": seg.ids[nxt, 0].astype(np.int64),
        "next_dy": seg.ids[nxt, 1].astype(np.int64),
        "next_event": seg.ids[nxt, 2].astype(np.int64),
        "action_mask": (action_mask * confidence[nxt]).astype(np.float32),  # IDM labels weigh by confidence
        "click_offset": ((click_xy - pos) / scale).astype(np.float32),
        "click_mask": click_mask.astype(np.float32),
        "move_mask": (click_mask & moving).astype(np.float32),
        "endpoint_weight": (endpoint * press_conf).astype(np.float32),
        "click_soon": pressed.astype(np.float32),
        "click_ticks": np.where(click_mask, np.maximum(to_end, 1), 1).astype(np.float32),
        "button_mask": (pressed * press_conf).astype(np.float32),
        "click_button": np.where(pressed, button, 0).astype(np.int64),
        "key_class": key_class.astype(np.int64),
        "key_mask": (real * key_conf).astype(np.float32),
        "scale_px": np.full(len(ticks), scale, np.float32),
    }
