"""Goals on the copilot's side: the prompt guard, `--goal` checks, and the whole flow into a real SQLite log.

The copilot runs the shipped model on scripted input, with the real StoreLogbook writing a real file; only the
X key grabber is stood in for (it is exercised on a real X server in tests/e2e/test_goals_x11.py).
"""

from __future__ import annotations

import queue
from pathlib import Path
from typing import Any

import pytest

from app.bench import scripted_stream
from app.copilot import Copilot, CopilotParts
from app.ghost import GhostView
from app.goal import MAX_GOAL_CHARS, PromptGuard, goal_argument, normalize_goal
from app.logbook import StoreLogbook
from app.store import Store, read_events, read_sessions, read_suggestions
from inference import PREDICTOR_API_VERSION, load_predictor
from inference.baselines import ConstantVelocityPredictor, StayPredictor
from inference.errors import GhostpilotError

SECRET = "wire the rent to account 4471"


def key(t: float, name: str, down: bool = True) -> dict[str, Any]:
    return {"t": t, "type": "key.down" if down else "key.up", "key": name}


def test_the_guard_hides_what_went_to_the_prompt_and_nothing_else() -> None:
    guard = PromptGuard()
    assert not guard.hides(key(0.9, "ctrl"))  # the chord's ctrl, pressed before the prompt opened
    guard.opened(1.0)
    assert guard.hides(key(1.1, "w")) and guard.hides(key(1.15, "w", down=False))
    assert guard.hides({"t": 1.2, "type": "mouse.move", "x": 1, "y": 2})
    assert not guard.hides(key(1.25, "ctrl", down=False))  # its release is kept: no key stuck down for the model
    assert guard.hides(key(1.3, "enter"))
    guard.closed(1.35)
    assert guard.hides(key(1.32, "x"))  # reported late, but typed while the prompt was open
    assert guard.hides(key(1.5, "enter", down=False))  # the Enter that closed it, released after
    assert not guard.hides(key(1.6, "a")) and not guard.hides(key(1.7, "a", down=False))


def test_goal_text_is_normalised_and_bad_goals_are_one_line_errors() -> None:
    assert normalize_goal("  file\tthe   expenses \n") == "file the expenses"
    assert normalize_goal("   ") is None and normalize_goal(None) is None
    for bad, says in (("", "--goal is empty"), ("  ", "--goal is empty"), ("x" * (MAX_GOAL_CHARS + 1), "at most")):
        with pytest.raises(GhostpilotError, match=says) as caught:
            goal_argument(bad)
        assert "\n" not in str(caught.value) and caught.value.hint


@pytest.mark.parametrize("predictor", [StayPredictor(), ConstantVelocityPredictor()], ids=lambda p: p.name)
def test_every_session_class_takes_a_goal_change(predictor: Any) -> None:
    assert PREDICTOR_API_VERSION == 2
    session = predictor.new_session(800, 600, goal="first")
    assert session.goal == "first"
    session.set_goal("second")
    session.set_goal(None)
    assert session.goal is None


class GoalKeys:
    """Stands in for the X key grabber (real one: tests/e2e/test_goals_x11.py); remembers the clear-key grabs."""

    def __init__(self) -> None:
        self.goal_grabs: list[bool] = []

    def show(self) -> None: ...
    def hide(self) -> None: ...

    def goal_keys(self, active: bool) -> None:
        self.goal_grabs.append(active)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def model() -> Any:
    return load_predictor(device="cpu")


def drain(copilot: Copilot) -> list[Any]:
    items = []
    while True:
        try:
            items.append(copilot.inbox.get_nowait())
        except queue.Empty:
            return items


def feed_until_ghost(copilot: Copilot, clock: Clock, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Feed events until a new ghost shows; return the rest of the stream."""
    for index, event in enumerate(events):
        clock.now = float(event["t"])
        shown = copilot.tracker.shown
        copilot.step([event, *drain(copilot)], clock.now)
        if copilot.tracker.shown is not None and copilot.tracker.shown is not shown:
            return events[index + 1 :]
    pytest.fail("no new ghost in the scripted stream")


def test_a_goal_set_in_the_prompt_goes_with_later_suggestions_and_the_session(model: Any, tmp_path: Path) -> None:
    database, clock, views, prompts = tmp_path / "log.db", Clock(), list[GhostView](), list[str | None]()
    store = Store.open(database)
    book = StoreLogbook.begin(store, model, (1920, 1080))
    session, hotkeys = model.new_session(1920, 1080), GoalKeys()
    parts = CopilotParts(session=session, on_view=views.append, clock=clock, logbook=book, hotkeys=hotkeys)
    parts.on_prompt = prompts.append
    copilot = Copilot(parts, min_confidence=0.5)
    stream = [dict(e, t=e["t"] + 1.0) for e in scripted_stream(120, seed=3)]
    fed = len(stream)
    stream = feed_until_ghost(copilot, clock, stream)
    fed -= len(stream)  # events the user did outside the prompt, fed so far
    before = copilot.tracker.shown.id

    copilot.open_prompt()  # the goal chord: the ghost goes, the user's typing goes to the prompt
    clock.now += 0.01
    copilot.step(drain(copilot), clock.now)
    assert prompts == [None] and copilot.tracker.shown is None and views[-1].status == "prompting"
    typed = [key(clock.now + 0.02 * i, ch, down) for i, ch in enumerate(SECRET) for down in (True, False)]
    typed.append(key(clock.now + 1.0, "enter"))
    for event in typed:
        copilot.step([event], clock.now)
    assert copilot.stats.views == len(views) and copilot.tracker.shown is None  # no ghost while prompting
    clock.now += 1.01
    closed_at = clock.now
    copilot.prompt_closed(f"  {SECRET} ")  # Enter in the prompt
    copilot.step([*drain(copilot), key(clock.now + 0.05, "enter", down=False)], clock.now)
    assert copilot.goal == SECRET and session.goal == SECRET and views[-1].goal == SECRET
    assert hotkeys.goal_grabs == [True]  # clear-goal is grabbed while a goal is set

    stream = [dict(e, t=e["t"] + clock.now) for e in stream]
    fed += len(stream)
    stream = feed_until_ghost(copilot, clock, stream)
    under_goal = copilot.tracker.shown.id
    copilot.command("clear_goal")  # the clear key (or the tray's Clear goal)
    copilot.step(drain(copilot), clock.now)
    assert copilot.goal is None and session.goal is None and hotkeys.goal_grabs == [True, False]
    fed -= len(feed_until_ghost(copilot, clock, stream))
    after = copilot.tracker.shown.id
    copilot.stop()
    book.end()
    assert store.flush() and store.close()

    goals = {row["id"]: row["goal"] for row in read_suggestions(database, limit=1000)}
    assert (goals[before], goals[under_goal], goals[after]) == (None, SECRET, None)
    assert read_sessions(database)[0]["goal"] == SECRET  # the latest goal set stays with the session
    logged = read_events(database, book.session_id)
    assert not [e for e in logged if typed[0]["t"] <= e["t"] <= closed_at + 0.05]  # nothing typed into the prompt
    assert len(logged) >= 0.9 * fed  # what the user did outside the prompt is logged as ever
    assert SECRET.encode() not in _table_bytes(database, "events")


def test_escape_in_the_prompt_changes_nothing_and_a_start_goal_is_kept(model: Any, tmp_path: Path) -> None:
    database, clock = tmp_path / "log.db", Clock()
    store = Store.open(database)
    book = StoreLogbook.begin(store, model, (1920, 1080), goal="start goal")
    session, hotkeys = model.new_session(1920, 1080, goal="start goal"), GoalKeys()
    parts = CopilotParts(session=session, on_view=lambda _v: None, clock=clock, logbook=book, hotkeys=hotkeys)
    parts.on_prompt = lambda _goal: None
    copilot = Copilot(parts, goal="start goal")
    copilot.goals.start()  # what start() does before the loop thread runs
    copilot.open_prompt()
    copilot.step(drain(copilot), 0.1)
    copilot.prompt_closed(None)  # Esc
    copilot.step(drain(copilot), 0.2)
    copilot.set_goal("")  # a blank goal from the tray clears it too
    copilot.step(drain(copilot), 0.3)
    assert copilot.goal is None and not copilot.goals.prompt.open and hotkeys.goal_grabs == [True, False]
    book.end()
    assert store.flush() and store.close()
    assert read_sessions(database)[0]["goal"] == "start goal"


def test_without_a_prompt_ui_the_chord_says_how_to_set_a_goal(model: Any) -> None:
    notices: list[str] = []
    copilot = Copilot(
        CopilotParts(session=model.new_session(800, 600), on_view=lambda _v: None, on_notice=notices.append)
    )
    copilot.command("goal")
    copilot.step(drain(copilot), 0.1)
    assert not copilot.goals.prompt.open and "--goal" in notices[-1]


def _table_bytes(database: Path, table: str) -> bytes:
    import sqlite3

    with sqlite3.connect(database) as conn:
        return b"".join(str(row).encode() for row in conn.execute(f"SELECT * FROM {table}"))
