"""The action space: the one translator between input events (episode schema) and model tokens.

Modelled on VPT's `lib/actions.py`. Time is cut into ticks of 1/TICK_HZ s. Each tick becomes a short,
canonically ordered list of integer tokens:

    [MOUSE_DX bin, MOUSE_DY bin]   only if the pointer moved during the tick
    button / scroll / key tokens   in the order their events happened
    NOOP                           only if nothing at all happened

Mouse motion is the per-tick displacement divided by the screen size (its longer side, so bins are square
in pixels and a circle stays a circle), quantized into MOUSE_BINS exponentially
sized bins per axis (mu-law, as FDM-1 and VPT's camera do): small corrective motions keep pixel precision,
fast flicks keep their direction. Encoding feeds the quantization error forward into the next tick, so a
decoded path never drifts from the real one by more than one bin's error.

`decode(encode(events))` reproduces events up to that quantization and the tick rate;
`encode(decode(tokens)) == tokens` holds exactly (tests/unit/test_actions.py checks both with hypothesis).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from inference.episodes import BUTTONS, Event
from inference.keys import NAMED_KEYS, PRINTABLE_ASCII

ACTION_SPACE_VERSION = 1
TICK_HZ = 30
"""30 Hz: FDM-1's rate and a common capture rate. A pointing movement lasts 0.3-1.5 s (10-45 ticks), so its
velocity profile is well sampled, and inter-key intervals of fast typists (~80 ms) stay more than two ticks
apart. 60 Hz would double the tokens for no gain in what a ghost can show."""

TICK = 1.0 / TICK_HZ  # seconds per tick

MOUSE_BINS = 49  # per axis, odd so that bin 24 is exactly "no motion"
MOUSE_MU = 1023.0  # mu-law compression: bin edges grow exponentially with |displacement|
MOUSE_MAX = 1.0  # largest |displacement| per tick, in screen sides (a jump across the screen)
MAX_SCROLL_PER_TICK = 8

KEYS: tuple[str, ...] = PRINTABLE_ASCII + NAMED_KEYS + ("other",)
"""Key token vocabulary; any non-ASCII printable character maps to "other" (lossy, documented)."""

# ----- token layout (fixed order; changing it bumps ACTION_SPACE_VERSION) -----
NOOP = 0
DX_START = 1
DY_START = DX_START + MOUSE_BINS
BUTTON_START = DY_START + MOUSE_BINS  # (button index * 2 + 0 for down / 1 for up)
SCROLL_START = BUTTON_START + 2 * len(BUTTONS)  # up, down, left, right
KEY_START = SCROLL_START + 4  # (key index * 2 + 0 for down / 1 for up)
VOCAB_SIZE = KEY_START + 2 * len(KEYS)

SCROLL_DIRECTIONS = ((0, 1), (0, -1), (-1, 0), (1, 0))  # (dx, dy) of up, down, left, right
_KEY_INDEX = {key: index for index, key in enumerate(KEYS)}
_ZERO_BIN = MOUSE_BINS // 2


def _mu_law_edges() -> tuple[np.ndarray, np.ndarray]:
    """Bin centers (normalized displacement) and the decision boundaries between them."""
    half = MOUSE_BINS // 2
    levels = np.arange(1, half + 1) / half  # uniform in the compressed domain, (0, 1]
    magnitudes = MOUSE_MAX * (np.power(1.0 + MOUSE_MU, levels) - 1.0) / MOUSE_MU
    centers = np.concatenate([-magnitudes[::-1], [0.0], magnitudes])
    boundaries = (centers[1:] + centers[:-1]) / 2
    return centers, boundaries


BIN_CENTERS, _BIN_BOUNDARIES = _mu_law_edges()


def discretize(displacement: float) -> int:
    """Normalized displacement -> bin index in [0, MOUSE_BINS)."""
    return int(np.searchsorted(_BIN_BOUNDARIES, displacement, side="left"))


def undiscretize(bin_index: int) -> float:
    return float(BIN_CENTERS[bin_index])


def key_token(key: str, down: bool) -> int:
    index = _KEY_INDEX.get(key, _KEY_INDEX["other"])
    return KEY_START + 2 * index + (0 if down else 1)


def button_token(button: str, down: bool) -> int:
    return BUTTON_START + 2 * BUTTONS.index(button) + (0 if down else 1)


@dataclass(frozen=True)
class Tokens:
    """An encoded event stream: per-tick token lists, anchored at a start time and pointer position."""

    ticks: tuple[tuple[int, ...], ...]
    t0: float
    start_x: float
    start_y: float


def tick_of(t: float, t0: float) -> int:
    return int(math.floor((t - t0) * TICK_HZ + 1e-6))


def _scroll_tokens(dx: float, dy: float) -> list[int]:
    tokens: list[int] = []
    for direction, (sx, sy) in enumerate(SCROLL_DIRECTIONS):
        amount = dx * sx if sx else dy * sy
        count = min(int(round(amount)), MAX_SCROLL_PER_TICK) if amount > 0 else 0
        tokens.extend([SCROLL_START + direction] * count)
    return tokens


def _event_token(event: Event) -> list[int]:
    kind = event["type"]
    if kind in ("mouse.down", "mouse.up"):
        return [button_token(event["button"], kind == "mouse.down")]
    if kind == "mouse.scroll":
        return _scroll_tokens(event["dx"], event["dy"])
    if kind in ("key.down", "key.up"):
        return [key_token(event["key"], kind == "key.down")]
    return []


class _Pointer:
    """The decoder's reconstructed pointer; the encoder runs the same one so errors feed forward."""

    def __init__(self, x: float, y: float, width: int, height: int) -> None:
        self.x, self.y, self.scale = x, y, float(max(width, height))

    def move_tokens(self, target_x: float, target_y: float) -> list[int]:
        bx = discretize((target_x - self.x) / self.scale)
        by = discretize((target_y - self.y) / self.scale)
        if bx == _ZERO_BIN and by == _ZERO_BIN:
            return []
        self.apply(bx, by)
        return [DX_START + bx, DY_START + by]

    def apply(self, bin_x: int, bin_y: int) -> None:
        self.x += undiscretize(bin_x) * self.scale
        self.y += undiscretize(bin_y) * self.scale


class TickEncoder:
    """Incremental encoder: push events as they arrive, get each tick's tokens once the tick is over.

    The live session and the training data both go through this class, so they see identical tokens.
    """

    def __init__(self, width: int, height: int, t0: float = 0.0, start: tuple[float, float] | None = None) -> None:
        self.width, self.height, self.t0 = width, height, t0
        self.pointer: _Pointer | None = None if start is None else _Pointer(*start, width, height)
        self.next_tick = 0  # index of the tick still open
        self._pending: list[Event] = []

    def push(self, event: Event) -> list[tuple[int, ...]]:
        """Add one event; returns the tokens of every tick that closed before it."""
        closed = self.close_until(tick_of(event["t"], self.t0))
        if self.pointer is None and "x" in event:
            self.pointer = _Pointer(float(event["x"]), float(event["y"]), self.width, self.height)
        self._pending.append(event)
        return closed

    def close_until(self, tick: int) -> list[tuple[int, ...]]:
        """Close every tick before `tick` (ticks with no events become NOOP)."""
        closed = []
        while self.next_tick < tick:
            closed.append(self._close())
        return closed

    def _close(self) -> tuple[int, ...]:
        pointer = self.pointer or _Pointer(0.0, 0.0, self.width, self.height)  # no positioned event yet
        tokens = tuple(_encode_tick(self._pending, pointer)) or (NOOP,)
        self._pending = []
        self.next_tick += 1
        return tokens

    def peek(self) -> tuple[tuple[int, ...], tuple[float, float] | None]:
        """Tokens of the open tick so far and the pointer after them, leaving the tick open."""
        pointer = copy.copy(self.pointer) if self.pointer else _Pointer(0.0, 0.0, self.width, self.height)
        tokens = tuple(_encode_tick(self._pending, pointer)) or (NOOP,)
        return tokens, (None if self.pointer is None else (pointer.x, pointer.y))

    @property
    def position(self) -> tuple[float, float] | None:
        """The pointer as the decoder reconstructs it after the last closed tick."""
        return None if self.pointer is None else (self.pointer.x, self.pointer.y)


def encode(
    events: Sequence[Event],
    width: int,
    height: int,
    t0: float = 0.0,
    start: tuple[float, float] | None = None,
    n_ticks: int | None = None,
) -> Tokens:
    """Events (time-ordered, episode schema) -> per-tick tokens.

    The pointer starts at `start` (default: the first positioned event); ticks run from t0 to the last
    event unless `n_ticks` says how many (later events are dropped). Events before t0 are ignored.
    """
    events = [e for e in events if e["t"] >= t0]
    if start is None:
        first = next((e for e in events if "x" in e), None)
        start = (float(first["x"]), float(first["y"])) if first else (0.0, 0.0)
    if n_ticks is None:
        n_ticks = tick_of(events[-1]["t"], t0) + 1 if events else 0
    encoder = TickEncoder(width, height, t0, start)
    ticks: list[tuple[int, ...]] = []
    for event in events:
        if tick_of(event["t"], t0) >= n_ticks:
            break
        ticks.extend(encoder.push(event))
    ticks.extend(encoder.close_until(n_ticks))
    return Tokens(tuple(ticks), t0, start[0], start[1])


def _encode_tick(in_tick: list[Event], pointer: _Pointer) -> list[int]:
    """Motion goes first, aimed at the first positioned non-move event (so a click lands where it happened)."""
    actions = [e for e in in_tick if e["type"] != "mouse.move"]
    anchor = next((e for e in actions if "x" in e), None)
    if anchor is None:
        anchor = next((e for e in reversed(in_tick) if "x" in e), None)
    tokens = pointer.move_tokens(anchor["x"], anchor["y"]) if anchor is not None else []
    for event in actions:
        tokens.extend(_event_token(event))
    return tokens


def decode(tokens: Tokens, width: int, height: int) -> list[Event]:
    """Per-tick tokens -> events (episode schema) at each tick's start time, in float pixel positions."""
    pointer = _Pointer(tokens.start_x, tokens.start_y, width, height)
    events: list[Event] = []
    for tick, tick_tokens in enumerate(tokens.ticks):
        t = tokens.t0 + tick / TICK_HZ
        events.extend(decode_tick(tick_tokens, pointer, t))
    return events


def decode_tick(tick_tokens: Iterable[int], pointer: _Pointer, t: float) -> list[Event]:
    events: list[Event] = []
    pending_dx: int | None = None
    for token in tick_tokens:
        if DX_START <= token < DY_START:
            pending_dx = token - DX_START
        elif DY_START <= token < BUTTON_START:
            pointer.apply(pending_dx if pending_dx is not None else _ZERO_BIN, token - DY_START)
            events.append({"t": t, "type": "mouse.move", "x": pointer.x, "y": pointer.y})
        elif BUTTON_START <= token < SCROLL_START:
            button, up = divmod(token - BUTTON_START, 2)
            kind = "mouse.up" if up else "mouse.down"
            events.append({"t": t, "type": kind, "x": pointer.x, "y": pointer.y, "button": BUTTONS[button]})
        elif SCROLL_START <= token < KEY_START:
            sx, sy = SCROLL_DIRECTIONS[token - SCROLL_START]
            if events and events[-1]["type"] == "mouse.scroll":  # a run of scroll tokens is one event
                events[-1]["dx"] += sx
                events[-1]["dy"] += sy
            else:
                events.append({"t": t, "type": "mouse.scroll", "x": pointer.x, "y": pointer.y, "dx": sx, "dy": sy})
        elif KEY_START <= token < VOCAB_SIZE:
            key, up = divmod(token - KEY_START, 2)
            events.append({"t": t, "type": "key.up" if up else "key.down", "key": KEYS[key]})
    return events


def token_name(token: int) -> str:
    """A readable name for debugging and docs, e.g. 'dx[+3]', 'left.down', 'key.down(a)'."""
    if token == NOOP:
        return "noop"
    if token < DY_START:
        return f"dx[{token - DX_START - _ZERO_BIN:+d}]"
    if token < BUTTON_START:
        return f"dy[{token - DY_START - _ZERO_BIN:+d}]"
    if token < SCROLL_START:
        button, up = divmod(token - BUTTON_START, 2)
        return f"{BUTTONS[button]}.{'up' if up else 'down'}"
    if token < KEY_START:
        return f"scroll.{('up', 'down', 'left', 'right')[token - SCROLL_START]}"
    key, up = divmod(token - KEY_START, 2)
    return f"key.{'up' if up else 'down'}({KEYS[key]})"
