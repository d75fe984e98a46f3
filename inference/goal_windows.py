"""Goal inputs and targets of a training window (the goal-conditioned model, `ModelConfig.use_goals`).

A window of a synthetic episode gets the goal of the task under way (or, with probability 1 - goal_prob, no
goal, so the model still works without one) and the text visible on screen at its last tick, with OCR-like
noise. Every tick's target is the text the user's next press (within 3 s) lands on, or the text just left of
it on the same row (a field's label), or "none"; and where the press lands relative to that text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from inference import goal_features
from inference.actions import TICK
from inference.dataset import EpisodeData, Segment
from inference.goal_features import TEXT_SLOTS, ScreenText
from inference.synthetic.texts import EpisodeTexts, jitter

NEXT_PRESS_HORIZON = 3.0  # seconds: a press further away is not "the next click" of this moment
LABEL_REACH = 400.0  # px: how far right of its label a field's click may land


def target_slot(point: tuple[float, float], slots: Sequence[ScreenText | None]) -> int:
    """The slot of the text a click at `point` is for, or TEXT_SLOTS ("none"): the text it is on (4 px margin);
    else a text on its row close on either side (a click beside a button's centred label, within 1.5 line
    heights); else the nearest text left of it on its row, within LABEL_REACH (a field's label)."""
    x, y = point
    near, near_gap, left, left_gap = TEXT_SLOTS, np.inf, TEXT_SLOTS, LABEL_REACH
    for slot, text in enumerate(slots):
        if text is None:
            continue
        x0, y0, x1, y1 = text.box
        if x0 - 4 <= x <= x1 + 4 and y0 - 4 <= y <= y1 + 4:
            return slot
        line = max(y1 - y0, 12.0)
        if abs(y - (y0 + y1) / 2) > line:
            continue
        gap = x0 - x if x < x0 else x - x1
        if gap <= 1.5 * line and gap < near_gap:
            near, near_gap = slot, gap
        if x1 < x and gap < left_gap:
            left, left_gap = slot, gap
    return near if near < TEXT_SLOTS else left


def goal_window(
    data: EpisodeData, seg: Segment, end: int, context: int, rng: np.random.Generator, goal_prob: float = 0.75
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(inputs: goal, texts; targets: text_target, text_mask, text_offset) for the window ending at `end`."""
    k, texts_info = TEXT_SLOTS, data.goal_texts
    inputs: dict[str, np.ndarray] = {
        "goal": np.zeros(goal_features.GOAL_FEATURES, np.float32),
        "texts": np.zeros((k, goal_features.TEXT_FEATURES), np.float32),
    }
    targets: dict[str, np.ndarray] = {
        "text_target": np.full(context, k, np.int64),
        "text_mask": np.zeros(context, np.float32),
        "text_offset": np.zeros((context, 2), np.float32),
    }
    if not isinstance(texts_info, EpisodeTexts) or seg.true_xy is None:
        return inputs, targets
    now = seg.t0 + (end + 1) * TICK
    pointer = tuple(float(v) for v in seg.true_xy[min(end, len(seg.true_xy) - 1)])
    visible = [w for t in jitter(texts_info.visible(now), rng) for w in goal_features.split_words(t)]
    span = texts_info.span_at(now)
    goal = span.goal if span is not None and rng.random() < goal_prob else None
    embed = texts_info.embeddings
    goal_embedding = embed[goal] if goal else None
    vectors = np.array([embed[t.text] for t in visible], np.float32).reshape(-1, goal_features.EMBED_DIM)
    texts, filled = goal_features.text_input(
        visible, vectors, goal, goal_embedding, (pointer[0], pointer[1]), data.width, data.height, rng.permutation(k)
    )
    inputs["goal"], inputs["texts"] = goal_features.goal_input(goal_embedding), texts
    slots = [visible[i] if i >= 0 else None for i in filled]
    _press_targets(data, seg, end, context, slots, targets)
    return inputs, targets


def _press_targets(
    data: EpisodeData, seg: Segment, end: int, context: int, slots: list[ScreenText | None], targets: dict
) -> None:
    ticks = np.arange(end - context + 1, end + 1)
    tick_end = seg.t0 + (ticks + 1) * TICK
    index = np.searchsorted(data.click_t, tick_end, side="left")
    scale = float(max(data.width, data.height))
    for i in np.flatnonzero(ticks >= 0):
        press = int(index[i])
        if press >= len(data.click_t) or data.click_t[press] - tick_end[i] > NEXT_PRESS_HORIZON:
            continue
        point = (float(data.click_xy[press, 0]), float(data.click_xy[press, 1]))
        slot = target_slot(point, slots)
        targets["text_target"][i], targets["text_mask"][i] = slot, 1.0
        text = slots[slot] if slot < TEXT_SLOTS else None
        if text is not None:
            cx, cy = text.centre
            targets["text_offset"][i] = ((point[0] - cx) / scale, (point[1] - cy) / scale)


def embed_episode_texts(datas: Sequence[EpisodeData], embed: Callable[[list[str]], np.ndarray]) -> None:
    """Embed every goal and screen text of the episodes once (texts repeat a lot: a cache by string)."""
    wanted: set[str] = set()
    for data in datas:
        info = data.goal_texts
        if isinstance(info, EpisodeTexts):
            items = info.static + [t for _, _, t in info.timed]
            wanted |= {w.text for t in items for w in goal_features.split_words(t)}
            wanted |= {s.goal for s in info.spans}
    ordered = sorted(wanted)
    vectors = embed(ordered) if ordered else np.zeros((0, goal_features.EMBED_DIM), np.float32)
    table = dict(zip(ordered, vectors, strict=True))
    for data in datas:
        if isinstance(data.goal_texts, EpisodeTexts):
            data.goal_texts.embeddings = table
