"""The action space: exact token round trips, and event round trips up to quantization and tick rate."""

from __future__ import annotations

import itertools
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from inference import actions
from inference.actions import (
    BUTTON_START,
    DX_START,
    DY_START,
    KEY_START,
    KEYS,
    MOUSE_BINS,
    NOOP,
    SCROLL_START,
    TICK_HZ,
    VOCAB_SIZE,
    Tokens,
    decode,
    discretize,
    encode,
    undiscretize,
)
from inference.episodes import validate_event

W, H = 1920, 1080
ZERO = MOUSE_BINS // 2

motion = st.tuples(st.integers(0, MOUSE_BINS - 1), st.integers(0, MOUSE_BINS - 1)).filter(lambda b: b != (ZERO, ZERO))
plain_event = st.one_of(st.integers(BUTTON_START, SCROLL_START - 1), st.integers(KEY_START, VOCAB_SIZE - 1))
scroll_run = st.tuples(
    st.sampled_from([None, 0, 1]), st.integers(1, 8), st.sampled_from([None, 2, 3]), st.integers(1, 8)
)


def _scroll_tokens(run: tuple) -> list[int]:
    vertical, v_count, horizontal, h_count = run
    tokens = [SCROLL_START + vertical] * v_count if vertical is not None else []
    tokens += [SCROLL_START + horizontal] * h_count if horizontal is not None else []
    return tokens or [SCROLL_START]


@st.composite
def canonical_tick(draw: st.DrawFn) -> tuple[int, ...]:
    """A tick as the encoder writes it: optional motion, then events; scroll runs never touch."""
    tokens: list[int] = []
    move = draw(st.none() | motion)
    if move:
        tokens += [DX_START + move[0], DY_START + move[1]]
    previous_scroll = False
    for _ in range(draw(st.integers(0, 4))):
        if not previous_scroll and draw(st.booleans()):
            tokens += _scroll_tokens(draw(scroll_run))
            previous_scroll = True
        else:
            tokens.append(draw(plain_event))
            previous_scroll = False
    return tuple(tokens) or (NOOP,)


@given(
    ticks=st.lists(canonical_tick(), min_size=1, max_size=40),
    start=st.tuples(st.floats(0, W - 1), st.floats(0, H - 1)),
    t0=st.floats(0, 1000),
)
@settings(max_examples=300, deadline=None)
def test_tokens_survive_decode_then_encode(ticks: list, start: tuple, t0: float) -> None:
    tokens = Tokens(tuple(ticks), t0, *start)
    events = decode(tokens, W, H)
    again = encode(events, W, H, t0=t0, start=start, n_ticks=len(ticks))
    assert again == tokens


@st.composite
def event_stream(draw: st.DrawFn) -> list[dict]:
    t, events = 0.0, []
    for _ in range(draw(st.integers(1, 60))):
        t += draw(st.floats(0.0, 0.2))
        kind = draw(
            st.sampled_from(["mouse.move"] * 4 + ["mouse.down", "mouse.up", "mouse.scroll", "key.down", "key.up"])
        )
        event: dict = {"t": t, "type": kind}
        if kind.startswith("mouse"):
            event.update(x=draw(st.integers(0, W - 1)), y=draw(st.integers(0, H - 1)))
        if kind in ("mouse.down", "mouse.up"):
            event["button"] = draw(st.sampled_from(["left", "right", "middle"]))
        if kind == "mouse.scroll":
            event.update(dx=0, dy=draw(st.sampled_from([-2, -1, 1, 3])))
        if kind.startswith("key"):
            event["key"] = draw(st.sampled_from(KEYS[:-1]))
        events.append(validate_event(event))
    return events


def _actions_of(events: list[dict]) -> list[tuple]:
    out = []
    for e in events:
        if e["type"] in ("mouse.down", "mouse.up"):
            out.append((e["type"], e["button"]))
        elif e["type"].startswith("key"):
            out.append((e["type"], e["key"]))
    return out


@given(event_stream())
@settings(max_examples=300, deadline=None)
def test_events_survive_encode_then_decode(events: list[dict]) -> None:
    tokens = encode(events, W, H)
    decoded = decode(tokens, W, H)
    assert _actions_of(decoded) == _actions_of(events), "buttons and keys, in order"
    real = [e for e in events if e["type"] == "mouse.down"]
    again = [e for e in decoded if e["type"] == "mouse.down"]
    for truth, guess in zip(real, again, strict=True):
        assert guess["t"] <= truth["t"] + 1e-9 < guess["t"] + 1 / TICK_HZ, "within its tick"
    scroll_real = sum(e["dy"] for e in events if e["type"] == "mouse.scroll")
    scroll_decoded = sum(e["dy"] for e in decoded if e["type"] == "mouse.scroll")
    assert abs(scroll_real - scroll_decoded) <= 8 * len(tokens.ticks)


def test_slow_pointer_path_is_reproduced_to_a_pixel() -> None:
    """Error feedback: small per-tick motions add up to the real path instead of drifting."""
    events = [{"t": i / 60, "type": "mouse.move", "x": 100 + 3 * i, "y": 500 - i} for i in range(300)]
    events.append({"t": 5.0, "type": "mouse.down", "x": 997, "y": 201, "button": "left"})
    decoded = decode(encode(events, W, H), W, H)
    click = next(e for e in decoded if e["type"] == "mouse.down")
    assert math.hypot(click["x"] - 997, click["y"] - 201) <= 1.0


def test_fast_flick_lands_within_one_bin() -> None:
    events = [
        {"t": 0.0, "type": "mouse.move", "x": 10, "y": 10},
        {"t": 0.04, "type": "mouse.move", "x": 1500, "y": 900},
        {"t": 0.05, "type": "mouse.down", "x": 1500, "y": 900, "button": "left"},
    ]
    click = next(e for e in decode(encode(events, W, H), W, H) if e["type"] == "mouse.down")
    assert math.hypot(click["x"] - 1500, click["y"] - 900) < 0.1 * math.hypot(1490, 890)


def test_bins_are_exponential_symmetric_and_invertible() -> None:
    centers = [undiscretize(b) for b in range(MOUSE_BINS)]
    assert centers[ZERO] == 0.0
    assert all(abs(centers[ZERO + i] + centers[ZERO - i]) < 1e-12 for i in range(1, ZERO + 1))
    steps = [centers[ZERO + i + 1] - centers[ZERO + i] for i in range(ZERO)]
    assert all(b > a for a, b in itertools.pairwise(steps)), "bin widths grow with displacement"
    assert all(discretize(c) == b for b, c in enumerate(centers))
    assert 0.4 < centers[ZERO + 1] * W < 2.0, "the smallest motion is about a pixel at 1080p"


def test_unknown_characters_map_to_other_and_names_are_readable() -> None:
    assert actions.token_name(actions.key_token("é", True)) == "key.down(other)"
    assert actions.token_name(actions.button_token("right", False)) == "right.up"
    assert actions.token_name(NOOP) == "noop"
    assert KEY_START + 2 * len(KEYS) == VOCAB_SIZE
