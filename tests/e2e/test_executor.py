"""XTEST injection, the ledger and the executor on a real X server, with a real Qt window as the target."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from app import x11
from app.executor import (
    ABORT_FAILSAFE,
    ABORT_FOCUS,
    ABORT_USER_INPUT,
    ExecutionPlan,
    ExecutionResult,
    Executor,
    pace,
)
from app.inject import InjectionLedger, XTestInjector
from app.input import InputRecorder
from inference.errors import GhostpilotError
from tests.e2e.test_hotkeys import TargetApp
from tests.e2e.waiting import wait_for

QT_RETURN = 0x01000004


@pytest.fixture(scope="module")
def target(x_display: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TargetApp]:
    app = TargetApp(x_display, tmp_path_factory.mktemp("target") / "log.jsonl")
    try:
        yield app
    finally:
        app.close()


@dataclass
class Kit:
    target: TargetApp
    ledger: InjectionLedger
    injector: XTestInjector
    desktop: x11.X11Desktop
    executor: Executor
    probe: Any  # a display connection of the test's own, to look at keys and buttons

    def typed(self, since: int) -> str:
        return "".join(r["text"] for r in self.target.records(since) if r["event"] == "key")

    def held(self) -> tuple[list[int], int]:
        """(keycodes down, pointer button mask): what a stuck key or button would show."""
        keymap = self.probe.query_keymap()
        keys = [8 * i + bit for i, byte in enumerate(keymap) for bit in range(8) if byte & (1 << bit)]
        return keys, int(self.probe.screen().root.query_pointer().mask) & 0x1F00  # Button1Mask..Button5Mask


@pytest.fixture
def kit(target: TargetApp, display_env: str) -> Iterator[Kit]:
    """DISPLAY is set too: pynput connects to it when first imported."""
    display = display_env
    target.xdotool("mousemove", "960", "540")
    target.focus()
    ledger = InjectionLedger()
    injector = XTestInjector(ledger, display_name=display)
    desktop = x11.X11Desktop(display)
    probe = x11.open_display(display)
    try:
        yield Kit(target, ledger, injector, desktop, Executor(injector, ledger, desktop=desktop), probe)
    finally:
        for closable in (injector, desktop, probe):
            closable.close()


def typing(text: str, t0: float = 0.0) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for i, char in enumerate(text):
        t = t0 + 0.1 * i
        events += [{"t": t, "type": "key.down", "key": char}, {"t": t + 0.05, "type": "key.up", "key": char}]
    return events


def in_background(work: Callable[[], ExecutionResult]) -> tuple[threading.Thread, list[ExecutionResult]]:
    out: list[ExecutionResult] = []
    thread = threading.Thread(target=lambda: out.append(work()), daemon=True)
    thread.start()
    return thread, out


def test_injected_clicks_land_at_the_global_position(kit: Kit) -> None:
    since = kit.target.mark()
    for x, y, button in ((345, 167, "left"), (512, 433, "right")):
        kit.injector.move(x, y)
        kit.injector.button(button, True)
        kit.injector.button(button, False)
    presses = wait_for(
        lambda: (p := [r for r in kit.target.records(since) if r["event"] == "press"]) and len(p) >= 2 and p
    )
    assert [(p["x"], p["y"], p["button"]) for p in presses] == [(345, 167, "left"), (512, 433, "right")]
    assert x11.pointer_position(kit.probe) == (512, 433)


def test_typed_text_arrives_intact_with_shift_for_capitals_and_symbols(kit: Kit) -> None:
    text = "Hello, World! ABC xyz ~#(ok)? é"  # é is not on the US map: typed through a spare keycode
    since = kit.target.mark()
    for key in [*text, "enter"]:
        kit.injector.key(key, True)
        kit.injector.key(key, False)
    records = wait_for(lambda: (r := kit.target.records(since)) and r[-1].get("key") == QT_RETURN and r)
    assert "".join(r["text"] for r in records[:-1]) == text
    assert kit.held() == ([], 0), "no key (Shift included) is left down"


class _ListQueue:
    """A stand-in for the recorder's queue that keeps events in a list the test can read at any time."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items

    def put(self, item: dict[str, Any]) -> None:
        self.items.append(item)


def listening(kit: Kit, on_user_input: Callable[[dict[str, Any]], None]) -> tuple[InputRecorder, list[dict[str, Any]]]:
    """A recorder wired as in the live app, started and proven live: pynput's listeners miss events for a
    moment after wait() returns, so xdotool nudges the pointer until one is seen."""
    seen: list[dict[str, Any]] = []
    sink: Any = _ListQueue(seen)
    recorder = InputRecorder(sink=sink, is_injected=kit.ledger.claim, on_user_input=on_user_input)
    recorder.start()
    nudges = iter(range(10_000))

    def nudge_seen() -> bool:
        kit.target.xdotool("mousemove", str(20 + next(nudges) % 50), "40")
        return any(e["type"] == "mouse.move" and e["y"] == 40 for e in seen)

    wait_for(nudge_seen, what="the listener to start")
    kit.target.xdotool("mousemove", "960", "540")
    wait_for(lambda: seen[-1].get("x") == 960, what="the listener to catch up")
    seen.clear()
    return recorder, seen


def stop_listening(kit: Kit, recorder: InputRecorder) -> None:
    """pynput's X11 listeners notice stop() only at their next event: give them one, then join them."""
    recorder.stop()
    for attempt in range(200):
        alive = [listener for listener in recorder._listeners if listener.is_alive()]
        if not alive:
            return
        kit.injector.move(30 + attempt % 50, 30)
        kit.injector.key("shift", True)
        kit.injector.key("shift", False)
        for listener in alive:
            listener.join(0.05)
    raise AssertionError("the input listeners did not stop")


def test_the_ledger_claims_what_a_listener_sees_and_only_that(kit: Kit) -> None:
    unclaimed: list[dict[str, Any]] = []
    recorder, seen = listening(kit, unclaimed.append)
    unclaimed.clear()
    try:
        kit.injector.move(300, 200)
        kit.injector.button("left", True)
        kit.injector.button("left", False)
        kit.injector.scroll(0, -2)
        for key in "Ab!":
            kit.injector.key(key, True)
            kit.injector.key(key, False)
        kit.target.xdotool("key", "z")  # not ours: a "physical" key as far as X is concerned
        kit.target.xdotool("mousemove", "900", "700")
        wait_for(lambda: any(e.get("x") == 900 for e in seen), what="the xdotool move")
    finally:
        stop_listening(kit, recorder)
    ours = [e for e in seen if e.get("source") == "ghostpilot"]
    kinds = [e["type"] for e in ours]
    assert kinds.count("mouse.down") == 1 and kinds.count("mouse.up") == 1 and kinds.count("mouse.scroll") == 2
    assert [e["key"] for e in ours if e["type"] == "key.down"] == ["shift", "A", "b", "shift", "!"]
    assert [e["type"] for e in unclaimed] == ["key.down", "key.up", "mouse.move"]
    assert unclaimed[0]["key"] == "z" and (unclaimed[2]["x"], unclaimed[2]["y"]) == (900, 700)


def test_a_sequence_performs_fully_and_fast(kit: Kit) -> None:
    window = x11.focused_window()
    assert window is not None and window.id == kit.target.window_id
    path = [{"t": 0.02 * i, "type": "mouse.move", "x": 600 - 10 * i, "y": 500 - 12 * i} for i in range(26)]
    click = [
        {"t": 0.6, "type": "mouse.down", "x": 350, "y": 190, "button": "left"},
        {"t": 0.7, "type": "mouse.up", "x": 350, "y": 190, "button": "left"},
    ]
    events = path + click + typing("Hi there!", 1.0)
    since = kit.target.mark()
    executor = Executor(kit.injector, kit.ledger)  # its desktop connection opens on first use, from DISPLAY
    result = executor.perform(events, ExecutionPlan(expected_window_id=window.id))
    assert result == ExecutionResult(len(events), len(events), None, executor.first_event_latency)
    assert result.first_event_latency is not None and result.first_event_latency > 0
    wait_for(lambda: kit.typed(since) == "Hi there!", what="the typed text")
    presses = [r for r in kit.target.records(since) if r["event"] == "press"]
    assert [(p["x"], p["y"]) for p in presses] == [(350, 190)]
    assert kit.held() == ([], 0)


def test_user_input_from_another_thread_aborts_at_once(kit: Kit) -> None:
    text = "abcdefghijklmnopqrstuvwxyz" * 6  # 3 s of typing: ample time to interrupt on a slow machine
    since = kit.target.mark()
    thread, result = in_background(lambda: kit.executor.perform(typing(text), ExecutionPlan()))
    wait_for(lambda: len(kit.typed(since)) >= 5, what="typing to start")
    kit.executor.note_user_input({"type": "key.up", "key": "tab"})  # the accept key's release: not new input
    typed_then = len(kit.typed(since))
    wait_for(lambda: len(kit.typed(since)) >= typed_then + 5, what="typing to go on after a key release")
    kit.executor.note_user_input({"type": "mouse.move", "x": 1, "y": 1})
    thread.join(timeout=30)
    (outcome,) = result
    assert outcome.aborted == ABORT_USER_INPUT
    assert 10 <= outcome.performed < outcome.total
    assert kit.typed(since) == text[: len(kit.typed(since))] and len(kit.typed(since)) < len(text)
    assert kit.held() == ([], 0)


def test_a_real_pointer_move_aborts_a_drag_and_releases_the_button(kit: Kit) -> None:
    """The live wiring: a listener whose unclaimed events reach note_user_input; the user moves the mouse."""
    recorder, _seen = listening(kit, kit.executor.note_user_input)
    try:
        drag = [{"t": 0.0, "type": "mouse.move", "x": 200, "y": 300}]
        drag += [{"t": 0.0, "type": "mouse.down", "x": 200, "y": 300, "button": "left"}]
        drag += [{"t": 0.02 * i, "type": "mouse.move", "x": 200 + 2 * i, "y": 300} for i in range(1, 201)]
        drag += [{"t": 4.0, "type": "mouse.up", "x": 600, "y": 300, "button": "left"}]
        plan = ExecutionPlan(max_path_s=4.0)  # a slow drag, so the user can interrupt it
        thread, result = in_background(lambda: kit.executor.perform(drag, plan))
        wait_for(lambda: 240 <= x11.pointer_position(kit.probe)[0] < 500, what="the drag to be under way")
        assert kit.executor.running, "the executor's own events must not count as user input"
        assert kit.held()[1] != 0, "the button is down during the drag"
        kit.target.xdotool("mousemove", "900", "700")
        thread.join(timeout=30)
    finally:
        stop_listening(kit, recorder)
    (outcome,) = result
    assert outcome.aborted == ABORT_USER_INPUT
    assert 2 < outcome.performed < outcome.total
    assert kit.held() == ([], 0), "no button left pressed"


def test_focus_change_aborts(kit: Kit) -> None:
    from Xlib import X

    other = kit.probe.screen().root.create_window(50, 600, 200, 100, 0, X.CopyFromParent)
    other.map()
    kit.probe.sync()
    try:
        plan = ExecutionPlan(expected_window_id=kit.target.window_id)
        since = kit.target.mark()
        thread, result = in_background(lambda: kit.executor.perform(typing("x" * 150), plan))
        wait_for(lambda: len(kit.typed(since)) >= 5, what="typing to start")
        kit.target.xdotool("windowfocus", "--sync", str(other.id))
        thread.join(timeout=30)
        (outcome,) = result
        assert outcome.aborted == ABORT_FOCUS and 5 <= outcome.performed < outcome.total

        wrong_window = ExecutionPlan(expected_window_id=kit.target.window_id)
        assert kit.executor.perform(typing("y"), wrong_window) == ExecutionResult(0, 2, ABORT_FOCUS, None)
    finally:
        other.destroy()
        kit.probe.sync()
        kit.target.focus()
    assert kit.held() == ([], 0)


def test_pointer_in_a_corner_aborts(kit: Kit) -> None:
    kit.target.xdotool("mousemove", "0", "0")
    assert kit.executor.perform(typing("no"), ExecutionPlan()) == ExecutionResult(0, 4, ABORT_FAILSAFE, None)

    kit.target.xdotool("mousemove", "960", "540")
    since = kit.target.mark()
    thread, result = in_background(lambda: kit.executor.perform(typing("z" * 150), ExecutionPlan()))
    wait_for(lambda: len(kit.typed(since)) >= 5, what="typing to start")
    kit.target.xdotool("mousemove", "1918", "1079")  # within 2 px of the bottom-right corner
    thread.join(timeout=30)
    (outcome,) = result
    assert outcome.aborted == ABORT_FAILSAFE and 5 <= outcome.performed < outcome.total
    assert kit.held() == ([], 0)


def test_the_executor_never_moves_into_a_corner_itself(kit: Kit) -> None:
    result = kit.executor.perform([{"t": 0.0, "type": "mouse.move", "x": -5, "y": 1}], ExecutionPlan())
    assert result.aborted is None
    assert x11.pointer_position(kit.probe) == (3, 1)


def test_a_malformed_suggestion_is_refused_before_anything_is_done(kit: Kit) -> None:
    events = [*typing("ok"), {"t": 1.0, "type": "key.down", "key": "nonsense"}]
    with pytest.raises(GhostpilotError, match="unknown key 'nonsense'"):
        kit.executor.perform(events, ExecutionPlan())
    assert len(kit.ledger) == 0, "nothing was injected"


def test_pace_compresses_paths_and_keeps_keys_steady() -> None:
    plan = ExecutionPlan()
    path = [{"t": 0.01 * i, "type": "mouse.move", "x": i, "y": i} for i in range(200)]  # 2 s predicted
    steps = pace(
        [*path, {"t": 2.5, "type": "mouse.down", "x": 199, "y": 199, "button": "left"}, *typing("ab", 3)], plan
    )
    moves = [s for s in steps if s.event["type"] == "mouse.move"]
    assert moves[-1].offset <= plan.max_path_s and moves[-1].index == 199  # the path ends where predicted
    assert len(moves) <= plan.max_path_s * plan.max_events_per_s + 1  # thinned to the rate cap
    gaps = [b.offset - a.offset for a, b in itertools.pairwise(steps)]
    assert min(gaps) >= 1 / plan.max_events_per_s - 1e-9
    downs = [s.offset for s in steps if s.event["type"] == "key.down"]
    assert downs[1] - downs[0] == pytest.approx(2 * plan.key_gap_s)
    assert steps[-1].index == len(path) + 1 + 4 - 1  # every accepted event is covered


class ManualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_ledger_matching_duplicates_and_expiry() -> None:
    clock = ManualClock()
    ledger = InjectionLedger(max_age_s=1.0, move_tolerance_px=3.0, duplicate_window_s=0.15, clock=clock)
    ledger.record({"type": "mouse.move", "x": 100, "y": 100})
    assert not ledger.claim({"type": "mouse.move", "x": 110, "y": 100}), "a move elsewhere is the user's"
    assert ledger.claim({"type": "mouse.move", "x": 102, "y": 101})
    ledger.record({"type": "key.down", "key": "B"})
    ledger.record({"type": "key.up", "key": "B"})
    assert not ledger.claim({"type": "key.down", "key": "c"})
    assert ledger.claim({"type": "key.down", "key": "B"})
    assert ledger.claim({"type": "key.up", "key": "b"}), "shift+b is reported 'b' on release"
    assert ledger.claim({"type": "key.up", "key": "b"}), "one XTEST key reported twice"
    assert not ledger.claim({"type": "key.up", "key": "b"}), "but not three times"
    ledger.record({"type": "key.down", "key": "!"})
    assert ledger.claim({"type": "key.down", "key": "1"})
    clock.now += 0.5
    assert not ledger.claim({"type": "key.down", "key": "1"}), "a duplicate only within the duplicate window"
    ledger.record({"type": "mouse.scroll", "dx": 0, "dy": -1})
    assert not ledger.claim({"type": "mouse.scroll", "x": 5, "y": 5, "dx": 0, "dy": 1})
    assert ledger.claim({"type": "mouse.scroll", "x": 5, "y": 5, "dx": 0, "dy": -1})
    ledger.record({"type": "mouse.down", "button": "left"})
    clock.now += 1.5
    assert not ledger.claim({"type": "mouse.down", "x": 1, "y": 1, "button": "left"}), "too old to be ours"
    assert len(ledger) == 0
