"""Workflow memory on plain event lists: what the user did next last time is offered in the same context."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

from app.recall import MAX_ACTIONS, WorkflowMemory, window_key
from inference.episodes import Event

FORM = SimpleNamespace(wm_class="Form", title="Invoice")
OTHER = SimpleNamespace(wm_class="Mail", title="Inbox")


def click(x: float, y: float, t: float = 0.0, button: str = "left") -> list[Event]:
    return [
        {"t": t, "type": "mouse.move", "x": x, "y": y},
        {"t": t, "type": "mouse.down", "x": x, "y": y, "button": button},
        {"t": t + 0.05, "type": "mouse.up", "x": x, "y": y, "button": button},
    ]


def typed(text: str, t: float = 0.0) -> list[Event]:
    events: list[Event] = []
    for i, char in enumerate(text):
        if char.isupper():
            events.append({"t": t + i * 0.1, "type": "key.down", "key": "shift"})
        events.append({"t": t + i * 0.1, "type": "key.down", "key": char})
        events.append({"t": t + i * 0.1 + 0.05, "type": "key.up", "key": char})
    return events


# (kind, value): a 6-step workflow with two visits to the same button (the 2-action context tells them apart)
WORKFLOW = [("click", (100, 100)), ("type", "alice"), ("click", (100, 200)), ("type", "42"),
            ("click", (500, 500)), ("click", (300, 300)), ("click", (500, 500)), ("click", (700, 100))]  # fmt: skip


def step_events(step: tuple[str, object]) -> list[Event]:
    kind, value = step
    if kind == "click":
        assert isinstance(value, tuple)
        return click(*value)
    assert isinstance(value, str)
    return typed(value)


def feed(memory: WorkflowMemory, events: list[Event], window: object = FORM) -> None:
    for event in events:
        memory.observe(event, window)


def matches(memory: WorkflowMemory, step: tuple[str, object], pointer: tuple[float, float] = (0, 0)) -> bool:
    offers = memory.suggest(10.0, pointer)
    if not offers or offers[0].confidence < 0.5:
        return False
    kind, value = step
    best = offers[0]
    if kind == "click":
        assert isinstance(value, tuple)
        return best.kind == "pointer" and best.click is not None and math.dist(best.click, value) <= 30
    return best.kind == "keys" and "".join(best.keys) == value


def offered_share(memory: WorkflowMemory, repetition: list[tuple[str, object]]) -> float:
    hits = 0
    for step in repetition:
        hits += matches(memory, step)
        feed(memory, step_events(step))
    return hits / len(repetition)


def test_a_new_memory_offers_nothing() -> None:
    memory = WorkflowMemory()
    assert memory.suggest(0.0, (10, 10)) == []
    feed(memory, click(100, 100))
    assert memory.suggest(0.0, (100, 100)) == []  # a context never seen before has no continuation


def test_the_fourth_repetition_is_offered_in_full() -> None:
    memory = WorkflowMemory()
    shares = [offered_share(memory, WORKFLOW) for _ in range(4)]
    assert shares[0] == 0.0
    assert shares[3] == 1.0, shares
    assert shares[1] >= 7 / 8  # only the first step of the 2nd repetition has an unseen context


def test_the_offer_is_a_ghost_the_tracker_can_draw_and_perform() -> None:
    memory = WorkflowMemory()
    for _ in range(2):
        for step in WORKFLOW:
            feed(memory, step_events(step))
    feed(memory, click(100, 100))
    [keys] = memory.suggest(5.0, (100, 100))[:1]
    assert keys.kind == "keys" and keys.keys == list("alice")
    assert [e["type"] for e in keys.events[:2]] == ["key.down", "key.up"] and keys.events[0]["t"] > 5.0
    feed(memory, typed("alice"))
    pointer = memory.suggest(6.0, (120, 110))[0]
    assert pointer.kind == "pointer" and pointer.click == (100, 200)
    moves = [e for e in pointer.events if e["type"] == "mouse.move"]
    assert math.dist((moves[0]["x"], moves[0]["y"]), (120, 110)) < math.dist(
        (moves[-1]["x"], moves[-1]["y"]), (120, 110)
    )
    assert [e["type"] for e in pointer.events[-2:]] == ["mouse.down", "mouse.up"]
    assert 0.5 < pointer.confidence < 1.0 and pointer.details["recall"] == 1.0


def test_confidence_grows_with_repetitions_and_falls_with_inconsistency() -> None:
    memory = WorkflowMemory()
    confidences = []
    for _ in range(3):
        feed(memory, click(100, 100) + typed("x"))
        confidences.append(memory.suggest(0.0, (0, 0))[0].confidence if memory.suggest(0.0, (0, 0)) else 0.0)
        feed(memory, click(400, 400))
    assert confidences[0] == 0.0 and 0.5 < confidences[1] < confidences[2]
    feed(memory, click(100, 100) + typed("x") + click(800, 800))  # this time something else followed
    feed(memory, click(100, 100) + typed("x"))
    offers = memory.suggest(0.0, (0, 0))
    assert {o.click for o in offers} == {(400, 400), (800, 800)}
    assert all(o.confidence < confidences[2] for o in offers)


def test_the_newest_habit_ranks_first() -> None:
    memory = WorkflowMemory()
    feed(memory, click(100, 100) + click(400, 400) + click(100, 100) + click(800, 800))
    feed(memory, click(100, 100))
    offers = memory.suggest(0.0, (0, 0))
    assert offers[0].click == (800, 800) and offers[1].click == (400, 400)  # last time first


def test_typing_through_offers_the_rest_and_then_what_followed() -> None:
    memory = WorkflowMemory()
    feed(memory, click(100, 100) + typed("Bob smith") + click(300, 300))
    feed(memory, click(100, 100) + typed("Bob"))
    [rest] = memory.suggest(0.0, (100, 100))
    assert rest.kind == "keys" and "".join(rest.keys) == " smith"
    feed(memory, typed(" smith"))
    assert memory.suggest(0.0, (100, 100))[0].click == (300, 300)  # the whole text typed: the next click
    feed(memory, typed("x"))
    assert memory.suggest(0.0, (100, 100)) == []  # typed past what was typed before: no guess


def test_windows_keep_workflows_apart() -> None:
    memory = WorkflowMemory()
    feed(memory, click(100, 100) + click(300, 300), FORM)
    feed(memory, click(100, 100), OTHER)
    assert memory.suggest(0.0, (0, 0)) == []
    feed(memory, click(100, 100), FORM)
    assert memory.suggest(0.0, (0, 0))[0].click == (300, 300)
    assert window_key(None) == "" and window_key(FORM) == "Form|Invoice"


def test_nearby_presses_are_the_same_action_and_far_ones_are_not() -> None:
    memory = WorkflowMemory()
    feed(memory, click(100, 100) + click(300, 300))
    feed(memory, click(120, 115))
    assert memory.suggest(0.0, (0, 0))[0].click == (300, 300)
    feed(memory, click(200, 200))
    assert memory.suggest(0.0, (0, 0)) == []


def test_nothing_is_offered_while_a_button_is_held() -> None:
    memory = WorkflowMemory()
    feed(memory, click(100, 100) + click(300, 300))
    memory.observe({"t": 1.0, "type": "mouse.down", "x": 100, "y": 100, "button": "left"}, FORM)
    assert memory.suggest(1.0, (100, 100)) == []
    memory.observe({"t": 1.1, "type": "mouse.up", "x": 100, "y": 100, "button": "left"}, FORM)
    assert memory.suggest(1.1, (100, 100))[0].click == (300, 300)


def test_memory_is_bounded() -> None:
    memory = WorkflowMemory(max_actions=50)
    for i in range(500):
        feed(memory, click(i * 40 % 1900, 100))
    assert len(memory.actions) == 50
    assert MAX_ACTIONS >= 1000


def test_seeding_from_a_log_works_like_watching() -> None:
    events = []
    for _ in range(2):
        for step in WORKFLOW:
            events += step_events(step)
    seeded = WorkflowMemory()
    seeded.observe_all(events)
    assert offered_share(seeded, WORKFLOW) == 1.0


def test_the_copilot_shows_the_recalled_step_and_a_followed_ghost_is_not_refused() -> None:
    """The real loop with the shipped model: recall ranks first, and carrying a ghost out by hand (decision
    'ignored' in the log) never makes the back-off go quiet."""
    from app.copilot import Copilot, CopilotParts
    from inference import load_predictor

    session = load_predictor(device="cpu").new_session(1920, 1080)
    copilot = Copilot(CopilotParts(session=session, on_view=lambda _view: None, recall=WorkflowMemory()))
    clock = [1.0]

    def user(events: list[Event]) -> None:
        for event in events:
            clock[0] += 0.05
            copilot.step([{**event, "t": clock[0]}], clock[0])

    def idle(seconds: float) -> None:
        for _ in range(int(seconds / 0.04)):
            clock[0] += 0.04
            copilot.step([], clock[0])

    pointer = (960.0, 540.0)
    shown_right = []
    for repetition in range(4):
        for step in WORKFLOW:
            idle(0.3)
            ghost = copilot.tracker.shown
            kind, value = step
            if kind == "click":
                assert isinstance(value, tuple)
                right = ghost is not None and ghost.current.click is not None
                right = right and math.dist(ghost.current.click, value) <= 30  # type: ignore[union-attr, arg-type]
                moves = [{"type": "mouse.move", "x": pointer[0] + (value[0] - pointer[0]) * s / 8,
                          "y": pointer[1] + (value[1] - pointer[1]) * s / 8} for s in range(1, 9)]  # fmt: skip
                user(moves + click(*value)[1:])
                pointer = (float(value[0]), float(value[1]))
            else:
                right = ghost is not None and "".join(ghost.current.keys) == value
                user(typed(str(value)))
            if repetition == 3:
                shown_right.append(right)
    assert sum(shown_right) == len(WORKFLOW), shown_right
    assert copilot.gate.allows(clock[0]) and copilot.gate.level == 0


def test_seeding_from_the_sqlite_log_carries_a_workflow_across_restarts(tmp_path: Path) -> None:
    import time

    from app.recall import seed_from_store
    from app.store import SessionRecord, Store

    database = tmp_path / "log.db"
    store = Store.open(database)
    earlier = SessionRecord(started_at=time.time(), screen_width=1920, screen_height=1080)
    store.begin_session(earlier)
    events = []
    for _ in range(2):
        for step in WORKFLOW:
            events += step_events(step)
    events.append({"t": 0.0, "type": "mouse.down", "x": 5, "y": 5, "button": "left"})  # quit mid-press
    store.log_events(earlier.id, [{**event, "t": i * 0.01} for i, event in enumerate(events)])  # the log sorts by t
    current = SessionRecord(started_at=time.time() + 1, screen_width=1920, screen_height=1080)
    store.begin_session(current)
    store.log_events(current.id, click(1, 1) + click(2, 2))  # this run's own events are not history
    assert store.close()
    memory = WorkflowMemory()
    assert seed_from_store(memory, database, exclude=current.id) == 2 * len(WORKFLOW)
    assert offered_share(memory, WORKFLOW) == 1.0
    assert seed_from_store(WorkflowMemory(), database, exclude=current.id, max_events=3) == 1


def test_ghosts_the_user_carries_out_by_hand_never_make_the_copilot_back_off() -> None:
    """Logged as 'ignored', but right: three in a row, each read for 2 s, must not trigger the quiet period."""
    from app.copilot import Copilot, CopilotParts
    from inference import load_predictor

    session = load_predictor(device="cpu").new_session(1920, 1080)
    copilot = Copilot(CopilotParts(session=session, on_view=lambda _view: None, recall=WorkflowMemory()))
    clock = [1.0]

    def user(events: list[Event]) -> None:
        for event in events:
            clock[0] += 0.05
            copilot.step([{**event, "t": clock[0]}], clock[0])

    user(click(300, 300) + click(900, 700))
    followed = 0
    for _ in range(4):
        user(click(300, 300))
        for _ in range(50):  # 2 s to read the ghost
            clock[0] += 0.04
            copilot.step([], clock[0])
        shown = copilot.tracker.shown
        followed += shown is not None and shown.current.click == (900, 700)
        user(click(900, 700))
    for _ in range(100):  # the correction windows close; decisions reach the back-off rules
        clock[0] += 0.04
        copilot.step([], clock[0])
    assert followed == 4
    assert copilot.gate.allows(clock[0]) and copilot.gate.level == 0
