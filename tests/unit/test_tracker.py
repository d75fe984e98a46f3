"""The ghost rules: when a ghost shows, stays, goes, and what decision each ending logs."""

from __future__ import annotations

from app.tracker import CORRECTION_S, GhostTracker
from inference.predictor import Suggestion
from inference.suggestions import _click_events


def pointer(x: float, y: float, confidence: float = 0.9, t: float = 0.0) -> Suggestion:
    events = _click_events((0.0, 0.0), (x, y), t, 0.4, "left")
    return Suggestion("pointer", events, confidence, (x, y), {"seconds_to_click": 0.4})


def keys(text: str, confidence: float = 0.9) -> Suggestion:
    events = []
    for i, k in enumerate(text):
        events += [{"t": 0.1 * i, "type": "key.down", "key": k}, {"t": 0.1 * i + 0.05, "type": "key.up", "key": k}]
    return Suggestion("keys", events, confidence)


def move(t: float, x: float, y: float) -> dict:
    return {"t": t, "type": "mouse.move", "x": x, "y": y}


def test_below_threshold_is_not_shown_and_above_is() -> None:
    tracker = GhostTracker(min_confidence=0.5)
    assert not tracker.offer([pointer(500, 300, confidence=0.3)], 1.0, (100, 100))
    assert tracker.shown is None
    assert tracker.offer([pointer(500, 300)], 1.0, (100, 100))
    view = tracker.view(1.0, (100, 100), "watching", None)
    assert view.status == "suggesting"
    assert view.current is not None and view.current.click == (500, 300)
    assert view.current.points[0][:2] != (500, 300) and view.current.points[-1][:2] == (500, 300)


def test_a_nearby_fresh_prediction_refreshes_the_same_ghost() -> None:
    tracker = GhostTracker(0.5)
    tracker.offer([pointer(500, 300)], 1.0, (100, 100))
    first = tracker.shown
    tracker.offer([pointer(520, 310)], 1.03, (110, 105))
    assert tracker.shown is first and not tracker.pending


def test_a_better_different_prediction_replaces_and_logs_the_old_as_ignored() -> None:
    tracker = GhostTracker(0.5)
    tracker.offer([pointer(500, 300, 0.6)], 1.0, (100, 100))
    old = tracker.shown
    tracker.offer([pointer(900, 700, 0.5)], 1.1, (100, 100))
    assert tracker.shown is old  # a weaker different guess does not make the ghost jump
    tracker.offer([pointer(900, 700, 0.8)], 1.2, (100, 100))
    assert tracker.shown is not old and tracker.pending[0].decision == "ignored"


def test_moving_away_from_the_target_hides_the_ghost() -> None:
    tracker = GhostTracker(0.5)
    tracker.offer([pointer(500, 300)], 1.0, (100, 100))
    assert tracker.observe(move(1.05, 200, 150))  # towards: still shown, redrawn from the pointer
    assert tracker.shown is not None
    tracker.observe(move(1.10, 150, 110))  # back past the closest approach by more than MOVE_AWAY_PX
    assert tracker.shown is None
    assert tracker.pending[0].decision == "ignored"


def test_correction_records_what_the_user_did_and_the_endpoint_error() -> None:
    tracker = GhostTracker(0.5)
    tracker.offer([pointer(500, 300)], 1.0, (100, 100))
    tracker.observe({"t": 1.5, "type": "mouse.down", "x": 530, "y": 340, "button": "left"})
    tracker.observe({"t": 1.6, "type": "mouse.up", "x": 530, "y": 340, "button": "left"})
    tracker.observe(move(1.5 + CORRECTION_S + 1, 0, 0))  # after the window: not part of the correction
    assert tracker.due(1.5 + CORRECTION_S - 0.1) == []
    (decision,) = tracker.due(1.5 + CORRECTION_S + 0.1)
    assert decision.decision == "ignored"
    assert [e["type"] for e in decision.correction] == ["mouse.down", "mouse.up"]
    assert decision.endpoint_error_px == 50.0


def test_tab_accepts_the_whole_pointer_ghost_from_the_current_pointer() -> None:
    tracker = GhostTracker(0.5)
    tracker.offer([pointer(500, 300)], 1.0, (100, 100))
    events = tracker.accept(2.0, (120, 130))
    assert events[0]["type"] == "mouse.move" and events[-2]["type"] == "mouse.down"
    assert (events[-1]["x"], events[-1]["y"]) == (500, 300) and events[-1]["type"] == "mouse.up"
    assert tracker.shown is None and tracker.pending[0].decision == "accepted"
    assert tracker.accept(2.1, (500, 300)) == []  # nothing left to accept


def test_next_step_moves_first_then_clicks() -> None:
    tracker = GhostTracker(0.5)
    tracker.offer([pointer(500, 300)], 1.0, (100, 100))
    first = tracker.accept(2.0, (100, 100), whole=False)
    assert {e["type"] for e in first} == {"mouse.move"} and tracker.shown is not None
    second = tracker.accept(2.5, (500, 300), whole=False)
    assert [e["type"] for e in second] == ["mouse.down", "mouse.up"]
    assert tracker.pending[0].decision == "accepted" and tracker.pending[0].steps_accepted == 2


def test_partly_accepted_keys_then_left_is_partial() -> None:
    tracker = GhostTracker(0.5)
    tracker.offer([keys("hi there")], 1.0, (0, 0))
    typed = tracker.accept(1.5, (0, 0), whole=False)
    assert [e["key"] for e in typed if e["type"] == "key.down"] == ["h", "i", " "]
    tracker.observe({"t": 1.7, "type": "key.down", "key": "x"})
    assert tracker.shown is None and tracker.pending[0].decision == "partial"


def test_typing_through_a_key_ghost_keeps_the_rest() -> None:
    tracker = GhostTracker(0.5)
    tracker.offer([keys("abc")], 1.0, (0, 0))
    tracker.observe({"t": 1.1, "type": "key.down", "key": "a"})
    view = tracker.view(1.1, (0, 0), "watching", None)
    assert view.current is not None and view.current.keys == "bc"
    tracker.observe({"t": 1.2, "type": "key.down", "key": "z"})
    assert tracker.shown is None


def test_escape_dismisses_and_alternatives_cycle() -> None:
    tracker = GhostTracker(0.5)
    tracker.offer([pointer(500, 300, 0.9), pointer(900, 700, 0.6), pointer(505, 302, 0.55)], 1.0, (0, 0))
    assert len(tracker.shown.alternatives) == 2  # the near-duplicate is folded into the first
    tracker.cycle(+1)
    assert tracker.view(1.0, (0, 0), "watching", None).current.click == (900, 700)
    tracker.cycle(+1)
    assert tracker.shown.selected == 0
    tracker.dismiss(1.2)
    assert tracker.shown is None and tracker.pending[0].decision == "dismissed"


def test_pointing_elsewhere_ends_a_key_ghost() -> None:
    tracker = GhostTracker(0.5)
    tracker.offer([keys("abc")], 1.0, (100, 100))
    assert not tracker.observe(move(1.1, 140, 120))  # a small nudge keeps it
    assert tracker.shown is not None
    tracker.observe(move(1.2, 400, 300))
    assert tracker.shown is None and tracker.pending[0].decision == "ignored"
