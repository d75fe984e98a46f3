"""IDM building blocks with hand-made cases whose right answer is known: preprocessing, decoding, metrics."""

from __future__ import annotations

import numpy as np
import pytest

from inference.actions import TICK_HZ
from inference.episodes import EpisodeError, validate_event
from inference.idm import preprocess as pp
from inference.idm.classes import KEY_OFFSET, N_CLASSES, NONE, PRESS, RELEASE, key_class, tick_classes, tick_pointer
from inference.idm.cursor import CursorStyle, composite, sprite
from inference.idm.decode import EventDecoder, decode_all
from inference.idm.label import tick_frames
from inference.idm.metrics import event_scores, match, pointer_score
from inference.idm.runtime import TickResult


def _probs(cls: int, p: float) -> np.ndarray:
    out = np.zeros(N_CLASSES, np.float32)
    out[NONE] = 1 - p
    out[cls] += p
    return out


def _results(events: dict[int, tuple[int, float]], n: int = 20) -> list[TickResult]:
    return [TickResult(i, 100.0 + i, 50.0, 0.9, _probs(*events.get(i, (NONE, 0.0)))) for i in range(n)]


def test_composite_puts_the_hotspot_at_the_pointer() -> None:
    frame = np.full((100, 100, 3), 128, np.uint8)
    style = CursorStyle("arrow", 1.0)
    out = composite(frame, 40, 30, style)
    assert sprite(style).hot_x <= 2
    changed = np.argwhere((out != frame).any(-1))
    assert (out[30, 40] != frame[30, 40]).any()  # the tip is drawn at the pointer
    assert (changed.min(0) >= [29, 39]).all()  # and the arrow extends right and down from it (its outline: 1 px)
    assert composite(frame, -500, -500, style).tolist() == frame.tolist()  # fully off screen: nothing drawn


def test_crop_pads_outside_the_screen_with_zeros() -> None:
    gray = np.arange(100, dtype=np.uint8).reshape(10, 10) + 1
    c = pp.crop(gray, 0, 0, 4)
    assert c[:2].sum() == 0 and c[:, :2].sum() == 0 and c[2, 2] == gray[0, 0]


def test_find_change_boxes_a_new_glyph_and_ignores_a_moving_pointer() -> None:
    prev = np.full((360, 640), 200, np.uint8)
    cur = prev.copy()
    cur[100:114, 300:309] = 20  # a "glyph"
    box = pp.find_change(prev, cur, [])
    assert box is not None and (box.x0, box.y0, box.x1, box.y1) == (300, 100, 309, 114)
    style = CursorStyle("arrow", 1.5)
    a = pp.to_gray(composite(np.repeat(prev[..., None], 3, -1), 50, 60, style))
    b = pp.to_gray(composite(np.repeat(prev[..., None], 3, -1), 80, 90, style))
    assert pp.find_change(a, b, [(50, 60), (80, 90)]) is None
    assert pp.find_change(a, b, []) is not None  # unmasked, it shows
    caret = prev.copy()
    caret[200:214, 400] = 0  # a 1-px caret appearing is a change too
    assert pp.find_change(prev, caret, []) == pp.Change(400, 200, 401, 214, 14)


def test_tick_labels_take_the_first_visible_event_and_pointer_at_tick_end() -> None:
    events = [
        {"t": 0.01, "type": "mouse.move", "x": 5, "y": 6},
        {"t": 1 / TICK_HZ + 0.001, "type": "key.down", "key": "shift"},
        {"t": 1 / TICK_HZ + 0.002, "type": "key.down", "key": "A"},
        {"t": 2 / TICK_HZ + 0.001, "type": "mouse.down", "x": 7, "y": 8, "button": "left"},
    ]
    classes = tick_classes(events, 4)
    assert classes.tolist() == [NONE, key_class("A"), PRESS, NONE]
    assert tick_pointer(events, 4)[:, 0].tolist() == [5, 5, 7, 7]


def test_peaks_merge_a_change_seen_over_two_ticks_where_argmax_doubles_it() -> None:
    a = key_class("a")
    assert a is not None
    results = _results({5: (a, 0.7), 6: (a, 0.9)})
    peaks = [e for e in decode_all(iter(results), "peaks") if e["type"] == "key.down"]
    argmax = [e for e in decode_all(iter(results), "argmax") if e["type"] == "key.down"]
    assert [int(e["t"] * TICK_HZ) for e in peaks] == [6]
    assert len(argmax) == 2
    assert peaks[0]["confidence"] == pytest.approx(0.9, abs=1e-3) and peaks[0]["source"] == "idm"


def test_decoder_infers_shift_and_releases_and_keeps_time_order() -> None:
    upper = key_class("A")
    assert upper is not None
    events = list(decode_all(iter(_results({4: (upper, 0.8), 10: (PRESS, 0.9)})), "peaks"))
    times = [e["t"] for e in events]
    assert times == sorted(times)
    keys = [(e["type"], e["key"]) for e in events if e["type"].startswith("key")]
    assert keys == [("key.down", "shift"), ("key.down", "A"), ("key.up", "A"), ("key.up", "shift")]
    clicks = [e for e in events if e["type"].startswith("mouse.") and e["type"] != "mouse.move"]
    assert [e["type"] for e in clicks] == ["mouse.down", "mouse.up"]  # the release is inferred
    assert clicks[0]["x"] == 110  # the pointer at the press's own tick, not at the decision's
    assert clicks[1]["confidence"] < clicks[0]["confidence"]
    for event in events:
        validate_event(event)


def test_decoder_below_threshold_emits_nothing_but_moves() -> None:
    events = list(decode_all(iter(_results({5: (KEY_OFFSET + 10, 0.3)})), "peaks", threshold=0.5))
    assert {e["type"] for e in events} == {"mouse.move"}
    assert EventDecoder("peaks").push(_results({})[0]) == []  # held until the lookahead has settled it


def test_match_is_one_to_one_within_the_tolerance() -> None:
    assert sorted(match([10, 20], [11, 12, 30])) == [(0, 0)]
    assert match([10], [13]) == []
    assert sorted(match([10, 11], [11, 12])) == [(0, 1), (1, 0)]  # the exact pair 11-11 goes first


def test_event_scores_on_a_hand_made_case() -> None:
    def key(t: int, k: str) -> dict:
        return {"t": t / TICK_HZ, "type": "key.down", "key": k}

    truth = [key(10, "shift"), key(10, "H"), key(20, "i"), key(40, "!")]
    pred = [key(11, "H"), key(21, "j"), key(60, "x")]
    s = event_scores(truth, pred)
    assert (s["key.down"].true, s["key.down"].matched) == (4, 2)
    visible = s["key.down (visible)"]
    assert (visible.true, visible.predicted, visible.matched) == (3, 3, 2)
    assert visible.f1 == pytest.approx(2 / 3)
    assert s["key.down (visible, same key)"].matched == 1
    assert s["key accuracy"].recall == pytest.approx(0.5)


def test_pointer_r_squared_is_one_for_a_perfect_copy_and_lower_for_a_lagged_one() -> None:
    truth = [{"t": (i + 0.5) / TICK_HZ, "type": "mouse.move", "x": 10 * i, "y": 3 * i * i % 50} for i in range(30)]
    assert pointer_score(truth, truth, 30).r_squared == pytest.approx(1.0)
    lagged = [dict(e, t=e["t"] + 3 / TICK_HZ) for e in truth]
    assert pointer_score(truth, lagged, 30).r_squared < 0.5


def test_tick_frames_show_the_latest_frame_before_each_tick_ends() -> None:
    frames = [(0.0, np.zeros((2, 2), np.uint8)), (0.1, np.ones((2, 2), np.uint8))]
    ticks = [(tick, int(gray[0, 0])) for tick, gray in tick_frames(iter(frames))]
    assert ticks == [(0, 0), (1, 0), (2, 0), (3, 1)]  # tick 2 ends at 0.1 s: the second frame is not before it


def test_confidence_outside_zero_one_is_rejected() -> None:
    with pytest.raises(ValueError, match="confidence"):
        validate_event({"t": 0.0, "type": "key.down", "key": "a", "confidence": 1.5})
    assert validate_event({"t": 0.0, "type": "key.down", "key": "a", "source": "idm", "confidence": 0.4})
    assert EpisodeError  # the reader turns the ValueError into a one-line EpisodeError (tests/unit/test_episodes.py)


def test_a_seen_release_replaces_the_inferred_one_and_far_apart_presses_stay_in_order() -> None:
    events = list(decode_all(iter(_results({10: (PRESS, 0.9), 14: (RELEASE, 0.8), 60: (PRESS, 0.9)}, 80))))
    clicks = [(e["type"], int(e["t"] * TICK_HZ)) for e in events if e["type"] in ("mouse.down", "mouse.up")]
    assert clicks == [("mouse.down", 10), ("mouse.up", 14), ("mouse.down", 60), ("mouse.up", 63)]
    assert [e["t"] for e in events] == sorted(e["t"] for e in events)
    assert all("cancelled" not in e for e in events)
    lone = [e["type"] for e in decode_all(iter(_results({30: (RELEASE, 0.8)}, 50))) if e["type"] != "mouse.move"]
    assert lone == ["mouse.down", "mouse.up"]  # a release reaction implies a press nobody saw


def test_pointer_still_and_changed_cells_on_a_hand_made_view() -> None:
    prev = np.full((pp.GLOBAL_H, pp.GLOBAL_W), 100, np.uint8)
    view = prev.copy()
    view[50:52, 200:202] = 200  # something changed far from a pointer at screen (400, 400) with scale 4
    assert pp.pointer_still(view, prev, 400, 400, 4.0, 4.0)
    assert not pp.pointer_still(view, prev, 800, 200, 4.0, 4.0)  # the change is under this pointer's sprite
    cells = pp.changed_cells(view, prev)
    assert cells[12, 50] and cells[11, 49] and cells[13, 51]  # the changed cell and its neighbours
    assert cells.sum() == 9


def test_a_brief_excursion_that_returns_to_the_same_pixel_is_flattened_but_a_movement_is_kept() -> None:
    xs = [100.0] * 10 + [400.0] * 4 + [100.0] * 10 + [300.0 + i for i in range(10)]
    results = [TickResult(i, x, 50.0, 0.9, _probs(NONE, 0.0)) for i, x in enumerate(xs)]
    moves = [(int(e["t"] * TICK_HZ), e["x"]) for e in decode_all(iter(results)) if e["type"] == "mouse.move"]
    assert moves[0] == (0, 100) and all(x != 400 for _, x in moves)
    assert moves[1:3] == [(24, 300), (25, 301)] and moves[-1] == (33, 309)
