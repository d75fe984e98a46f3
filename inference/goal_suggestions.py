"""Ghosts that follow a goal: the click on the text the goal names, then the goal's quoted text as keys.

The goal-conditioned model points at one of the screen-text slots (or "none") and says where the click lands
relative to that text (on a button's label, in the field right of a "Email:" label). Quoted text in the goal
(`type "hello world" in the search box`) becomes ghost keystrokes once the user (or an accepted ghost) has
clicked where the goal pointed: typing it is then what the goal asks for.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from inference.episodes import Event
from inference.goal_features import TEXT_SLOTS, ScreenText
from inference.predictor import Suggestion
from inference.suggestions import KEY_INTERVAL, _click_events, _softmax

FITTS_A, FITTS_B = 0.25, 0.12  # s, s/bit: a typical pointing time, only for pacing the drawn path
GROUNDED_REACH = 40.0  # px: a click this close to the grounded point counts as "on the goal's target"
NAMED_MATCH = 0.9  # lexical_score at which a screen text *is* the goal's target ("Department:" for "Department")
NAMED_MIN_P = 0.05  # and the model must point at it at least this much
NAMED_CONFIDENCE = 0.7  # such clicks hit their element 16 times in 22 on validation (docs/goal-model.md)


def goal_click(
    out: dict[str, np.ndarray],
    slots: Sequence[ScreenText | None],
    pointer: tuple[float, float],
    t: float,
    scale: float,
    screen: tuple[int, int],
    target: str = "",
) -> Suggestion | None:
    """The pointer ghost to the text the model points at, or None if it points at none. `target`: the name
    the goal gives its element (grounding.parse_goal), for `named_slot` when "none" wins."""
    probs = _softmax(np.asarray(out["text_logits"], np.float64))
    best = int(np.argmax(probs[:TEXT_SLOTS]))
    confidence = float(probs[best])
    if probs[best] <= probs[TEXT_SLOTS]:
        named = named_slot(probs, slots, target)
        if named is None:
            return None
        best, confidence = named, NAMED_CONFIDENCE  # the model's own p is far below how often these hit
    text = slots[best] if best < len(slots) else None
    if text is None:
        return None
    cx, cy = text.centre
    dx, dy = out["text_offsets"][best]
    point = (float(np.clip(cx + dx * scale, 0, screen[0] - 1)), float(np.clip(cy + dy * scale, 0, screen[1] - 1)))
    distance = float(np.hypot(point[0] - pointer[0], point[1] - pointer[1]))
    duration = FITTS_A + FITTS_B * float(np.log2(distance / 20.0 + 1.0))
    details = {"p_text": float(probs[best]), "p_no_text": float(probs[TEXT_SLOTS]), "goal": 1.0}
    events = _click_events(pointer, point, t, duration, "left")
    return Suggestion("pointer", events, confidence, point, details)


def named_slot(probs: np.ndarray, slots: Sequence[ScreenText | None], target: str) -> int | None:
    """The likeliest slot whose text is the goal's target by name (lexical match >= NAMED_MATCH), if the model
    gives it at least NAMED_MIN_P: the goal and the model agree on the element while the model doubts that a
    click is due (a field's label, which its training clicked beside rather than on)."""
    from inference.goals.grounding import lexical_score

    if not target:
        return None
    named = [
        i for i, s in enumerate(slots[:TEXT_SLOTS]) if s is not None and lexical_score(target, s.text) >= NAMED_MATCH
    ]
    best = max(named, key=lambda i: probs[i], default=None)
    return best if best is not None and probs[best] >= NAMED_MIN_P else None


def quoted_keys(
    texts_to_type: Sequence[str], typed_since_click: Sequence[str], t: float, confidence: float
) -> Suggestion | None:
    """The rest of the first quoted text the keys typed since the last click are a prefix of."""
    typed = "".join(k for k in typed_since_click if len(k) == 1)
    for text in texts_to_type:
        if text.startswith(typed) and len(typed) < len(text):
            rest = text[len(typed) :]
            events: list[Event] = []
            for i, char in enumerate(rest):
                events.append({"t": t + (i + 1) * KEY_INTERVAL, "type": "key.down", "key": char})
                events.append({"t": t + (i + 1) * KEY_INTERVAL + 0.05, "type": "key.up", "key": char})
            return Suggestion("keys", events, confidence, None, {"quoted": 1.0})
    return None
