"""The snooze and back-off rules, on plain decision sequences."""

from __future__ import annotations

import math
from typing import Any

import pytest

from app.bench import scripted_stream
from app.ghost import GhostView
from app.snooze import SNOOZE_CHOICES, BackoffRules, SuggestionGate
from tests.unit.test_copilot_core import ListLogbook, make, run_until_ghost


def test_snooze_for_a_while_then_ghosts_return() -> None:
    gate = SuggestionGate()
    gate.snooze(100.0, SNOOZE_CHOICES["15 min"])
    assert not gate.allows(100.0) and gate.state(950.0) == "snoozed"
    assert gate.describe(950.0, 0.5) == "snoozed for 1 min"
    assert gate.allows(100.0 + 15 * 60) and gate.state(100.0 + 15 * 60) == "active"
    assert gate.snoozed_until is None


def test_snooze_until_restart_lasts_and_can_be_ended() -> None:
    gate = SuggestionGate()
    gate.snooze(0.0, SNOOZE_CHOICES["until restart"])
    assert gate.snoozed_until == math.inf and not gate.allows(1e9)
    assert gate.describe(5.0, 0.5) == "snoozed until restart"
    gate.snooze(6.0, 0)
    assert gate.allows(6.0)


def test_three_refusals_in_a_row_make_it_quiet_then_stricter() -> None:
    gate = SuggestionGate(BackoffRules(rejections=3, quiet_s=60.0, threshold_step=0.1, max_threshold=0.9))
    gate.record("dismissed", 1.0)
    gate.record("ignored", 2.0)
    assert gate.allows(2.5) and gate.threshold(0.5) == 0.5
    gate.record("dismissed", 3.0)
    assert not gate.allows(3.0) and gate.state(30.0) == "quiet"
    assert gate.describe(30.0, 0.5).startswith("quieter after 3 refused ghosts: back in 1 min")
    assert gate.allows(63.0)
    assert math.isclose(gate.threshold(0.5), 0.6)
    assert "60%" in gate.describe(63.0, 0.5)


def test_threshold_rises_per_back_off_but_is_capped_and_never_lowers_the_users() -> None:
    gate = SuggestionGate(BackoffRules(rejections=1, quiet_s=0.0, threshold_step=0.25, max_threshold=0.9))
    for t in range(5):
        gate.record("ignored", float(t))
    assert gate.level == 5 and gate.threshold(0.5) == 0.9
    assert gate.threshold(0.95) == 0.95  # a stricter user setting stays


def test_an_accept_resets_the_count_the_level_and_the_quiet() -> None:
    gate = SuggestionGate(BackoffRules(rejections=2, quiet_s=100.0))
    gate.record("dismissed", 0.0)
    gate.record("dismissed", 1.0)
    assert not gate.allows(2.0)
    gate.record("accepted", 2.0)
    assert gate.allows(2.0) and gate.threshold(0.5) == 0.5 and gate.level == 0
    gate.record("dismissed", 3.0)
    gate.record("partial", 4.0)  # taking part of a ghost is not a refusal
    gate.record("dismissed", 5.0)
    assert gate.allows(5.0) and gate.describe(5.0, 0.5) == ""


def test_unknown_decisions_change_nothing() -> None:
    gate = SuggestionGate(BackoffRules(rejections=1))
    gate.record("something-else", 0.0)
    assert gate.allows(0.0) and gate.rejections == 0


# ----- wired into the copilot core (the real shipped model, driven step by step) -----


@pytest.fixture(scope="module")
def predictor() -> Any:
    from inference import load_predictor

    return load_predictor(device="cpu")


def test_a_snooze_hides_ghosts_and_stops_the_model_but_keeps_observing(predictor: Any) -> None:
    views: list[GhostView] = []
    book = ListLogbook()
    copilot = make(predictor, views, logbook=book)
    events = scripted_stream(120, seed=3, width=1920, height=1080)
    t = run_until_ghost(copilot, events)
    copilot.snooze(SNOOZE_CHOICES["15 min"])
    copilot.step([copilot.inbox.get_nowait()], t + 0.01)
    assert copilot.tracker.shown is None and views[-1].status == "snoozed" and views[-1].current is None
    assert copilot.gate.rejections == 0  # the snooze itself is not a refused ghost
    runs, logged = copilot.stats.model_runs, len(book.logged)
    later = [e for e in events if t < e["t"] < t + 60]
    for event in later:
        copilot.step([event], event["t"])
    assert copilot.stats.model_runs == runs and len(book.logged) == logged + len(later)
    assert all(v.current is None for v in views if v.status == "snoozed")
    copilot.step([], t + 15 * 60 + 1)
    assert views[-1].status == "watching"


def test_refused_ghosts_make_the_copilot_quiet_and_an_accept_resets_it(predictor: Any) -> None:
    views: list[GhostView] = []
    copilot = make(predictor, views)
    copilot.gate = SuggestionGate(BackoffRules(rejections=2, quiet_s=30.0))
    events = scripted_stream(240, seed=5, width=1920, height=1080)
    for _ in range(2):
        t = run_until_ghost(copilot, events)
        copilot.step(["dismiss"], t + 0.01)
        events = [e for e in events if e["t"] > t + 0.02]
    assert copilot.gate.quiet(t + 1) and "quieter after 2 refused ghosts" in views[-1].extra.get("quiet", "")
    runs = copilot.stats.model_runs
    quiet_events = [e for e in events if e["t"] < t + 29]
    for event in quiet_events:
        copilot.step([event], event["t"])
    assert copilot.stats.model_runs == runs and copilot.tracker.shown is None
    assert copilot.tracker.min_confidence == pytest.approx(0.5)  # raised only at the next model run
    rest = [e for e in events if e["t"] > t + 31]
    run_until_ghost(copilot, rest)
    assert copilot.tracker.min_confidence == pytest.approx(0.6)
    assert copilot.tracker.shown is not None and copilot.tracker.shown.current.confidence >= 0.6


def test_a_ghost_that_only_flashed_by_is_not_a_refusal() -> None:
    gate = SuggestionGate(BackoffRules(rejections=2, min_seen_s=1.5))
    gate.record("ignored", 1.0, shown_s=0.3)
    gate.record("ignored", 2.0, shown_s=0.5)
    assert gate.rejections == 0 and gate.allows(2.0)
    gate.record("ignored", 3.0, shown_s=2.0)
    gate.record("dismissed", 3.1, shown_s=0.1)  # Esc is a refusal however quick
    assert not gate.allows(3.2)
