"""What the change network tells apart: nothing, a pointer press or release reaction, or one typed key.

Key identity is only learnable from what a key does on screen: a printable character draws its glyph,
backspace removes one, tab and enter move the focus. Modifiers (shift) draw nothing; the decoder infers
shift from upper-case glyphs and shifted symbols instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from inference.actions import TICK_HZ
from inference.episodes import Event
from inference.keys import PRINTABLE_ASCII

NONE, PRESS, RELEASE = 0, 1, 2
VISIBLE_KEYS: tuple[str, ...] = (*PRINTABLE_ASCII, "backspace", "tab", "enter")
KEY_OFFSET = 3
CLASS_NAMES: tuple[str, ...] = ("none", "press", "release", *VISIBLE_KEYS)
N_CLASSES = len(CLASS_NAMES)
_KEY_CLASS = {key: KEY_OFFSET + i for i, key in enumerate(VISIBLE_KEYS)}


def key_class(key: str) -> int | None:
    return _KEY_CLASS.get(key)


def class_key(cls: int) -> str | None:
    return VISIBLE_KEYS[cls - KEY_OFFSET] if cls >= KEY_OFFSET else None


def tick_index(t: float) -> int:
    """The tick an event at time t falls in (ticks are [i, i+1) / TICK_HZ from the recording's start)."""
    return int(np.floor(t * TICK_HZ + 1e-6))


def tick_classes(events: Sequence[Event], n_ticks: int) -> np.ndarray:
    """(n_ticks,) int: the first visible event in each tick (a press, release or a visible key), else NONE."""
    out = np.full(n_ticks, NONE, np.int64)
    for event in events:
        tick = tick_index(event["t"])
        if not 0 <= tick < n_ticks or out[tick] != NONE:
            continue
        kind = event["type"]
        if kind == "mouse.down":
            out[tick] = PRESS
        elif kind == "mouse.up":
            out[tick] = RELEASE
        elif kind == "key.down":
            out[tick] = key_class(event["key"]) or NONE
    return out


def tick_pointer(events: Sequence[Event], n_ticks: int, start: tuple[float, float] | None = None) -> np.ndarray:
    """(n_ticks, 2) float: where the pointer is at the end of each tick (the last positioned event before it);
    NaN before the first positioned event when no start is known."""
    out = np.full((n_ticks, 2), np.nan)
    here = start
    index = 0
    positioned = [e for e in events if "x" in e]
    for tick in range(n_ticks):
        end = (tick + 1) / TICK_HZ
        while index < len(positioned) and positioned[index]["t"] < end - 1e-9:
            here = (float(positioned[index]["x"]), float(positioned[index]["y"]))
            index += 1
        if here is not None:
            out[tick] = here
    return out
