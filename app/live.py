"""Assemble the live copilot from its parts (Qt-free): input, capture, hotkeys, executor, store, model.

`ui/app.py` hosts this beside the overlay; `ghostpilot run --console` prints ghosts in a terminal instead.
Every part that can be refused by the desktop (no display, a key held by another app, a full disk) degrades
to a notice rather than stopping the copilot, except the display itself.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.copilot import Copilot
from app.copilot_parts import CopilotParts
from app.ghost import GhostView
from app.goal import normalize_goal
from app.settings import Settings, load_settings
from app.tracker import MODIFIERS
from inference.errors import GhostpilotError

if TYPE_CHECKING:
    from app.live_log import LiveLog
    from app.model_switch import ModelSwitcher

# settings.keys field -> the copilot's command name
KEY_ACTIONS = {
    "accept": "accept",
    "accept_step": "accept_step",
    "next_alternative": "next_alternative",
    "previous_alternative": "previous_alternative",
    "dismiss": "dismiss",
    "pause": "pause",
    "goal": "goal",  # open the goal prompt (docs/goals.md)
    "clear_goal": "clear_goal",
}


def require_display() -> None:
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        raise GhostpilotError(
            "no display: DISPLAY is not set", "run Ghostpilot inside an X11 (or XWayland) desktop session"
        )


@dataclass
class RunOptions:
    """What `ghostpilot run` was asked for; unset fields come from the settings file."""

    model: str | None = None
    device: str | None = None
    min_confidence: float | None = None
    fps: float | None = None
    store: bool = True  # log sessions, suggestions and decisions to SQLite
    database: str | None = None
    trace: str | None = None  # write what the copilot shows, as JSON lines (bug reports, end-to-end tests)
    recall: bool = True  # offer repeated workflows' next step (app/recall.py); GHOSTPILOT_RECALL=0 turns it off
    goal: str | None = None  # start with this goal (`--goal`); private text, stored only in the goal fields
    settings: Settings = field(default_factory=Settings)

    @classmethod
    def from_settings(cls, **overrides: Any) -> RunOptions:
        return cls(settings=load_settings(), **overrides)


@dataclass
class LiveCopilot:
    """The running parts, so they stop in the right order."""

    copilot: Copilot
    recorder: Any
    predictor: Any
    compositor: bool
    screen: tuple[int, int]
    stoppers: list[Callable[[], None]] = field(default_factory=list)
    switcher: ModelSwitcher | None = None  # model changes without a restart (app/model_switch.py)
    log: LiveLog | None = None  # None without logging; retention and data location without a restart

    def stop(self) -> None:
        self.copilot.stop()
        for stop in reversed(self.stoppers):
            with contextlib.suppress(Exception):  # best effort: one stuck part must not keep the others running
                stop()


def start_live(
    options: RunOptions,
    on_view: Callable[[GhostView], None],
    on_notice: Callable[[str], None],
    on_prompt: Callable[[str | None], None] | None = None,
) -> LiveCopilot:
    """Start everything; raises GhostpilotError (one line) when the desktop cannot be watched at all.

    `on_prompt(current_goal)` opens the goal prompt (a UI's job; without one the goal chord says so)."""
    require_display()
    if options.trace:
        on_view = _traced(on_view, options.trace)
    from app import x11
    from app.input import InputRecorder

    settings = options.settings
    predictor = _load_model(options.model or settings.model, options.device or settings.device, on_notice)
    width, height = x11.screen_size()
    compositor = x11.has_compositor()
    clock_start = time.monotonic()
    stoppers: list[Callable[[], None]] = []
    injector, ledger, executor = _executor(clock_start)
    goal = normalize_goal(options.goal)
    session = predictor.new_session(width, height, goal=goal)
    parts = CopilotParts(session=session, on_view=on_view, on_notice=on_notice, executor=executor)
    parts.on_prompt = on_prompt
    parts.clock = lambda: time.monotonic() - clock_start
    parts.focused_window = _safe(x11.focused_window)
    parts.command_keys = command_keys(settings)
    parts.recall = _recall(options)
    copilot = Copilot(parts, min_confidence=_pick(options.min_confidence, settings.min_confidence), goal=goal)

    def physical_input(event: dict[str, Any]) -> None:
        if event.get("key") not in parts.command_keys | MODIFIERS:  # the accept chord's release must not abort it
            executor.note_user_input(event)

    recorder = InputRecorder(clock_start, sink=copilot.inbox, is_injected=ledger.claim, on_user_input=physical_input)
    parts.privacy = guard = _privacy(settings, parts.clock, copilot, stoppers)
    parts.hotkeys = _hotkeys(settings, copilot, on_notice, stoppers)
    fps = _pick(options.fps, settings.capture_fps)
    parts.capture = _capture(fps, parts.clock, on_notice, stoppers, guard.regions)
    if parts.capture is not None:
        parts.screen_text = _screen_text(predictor, on_notice, stoppers)
    log = _log(options, copilot, predictor, (width, height), stoppers) if options.store else None
    if log is not None:
        parts.logbook = log.book
        _seed_recall(parts.recall, parts.logbook, on_notice)
    recorder.start()
    stoppers.append(recorder.stop)
    stoppers.append(injector.close)
    copilot.start()
    live = LiveCopilot(copilot, recorder, predictor, compositor, (width, height), stoppers, log=log)
    live.switcher = _switcher(options, live)
    return live


def _load_model(spec: str | None, device: str, on_notice: Callable[[str], None]) -> Any:
    """The model, or a stand-in that never suggests when the file is bad: the copilot keeps running.

    A device the machine cannot provide (`--device cuda` without CUDA) stays an error: the user asked for it.
    """
    from app.models import NoModel, device_notice, load_model
    from inference.errors import ModelError
    from inference.runtime import DeviceError

    try:
        predictor = load_model(spec, device=device)
    except DeviceError:
        raise
    except ModelError as exc:
        on_notice(f"running without suggestions: {exc}")
        return NoModel(str(exc))
    notice = device_notice(predictor, device)
    if notice:
        on_notice(notice)
    return predictor


def _traced(on_view: Callable[[GhostView], None], path: str) -> Callable[[GhostView], None]:
    """Also write each change of what is shown to `path` (one JSON object per line)."""
    import json

    out = open(path, "a", buffering=1)  # noqa: SIM115 - open for the copilot's lifetime
    last: list[Any] = [None]

    def show(view: GhostView) -> None:
        ghost = view.current
        state = (view.status, ghost.click if ghost else None, ghost.keys if ghost else None)
        if state != last[0]:
            last[0] = state
            record = {"status": view.status, "shown": ghost is not None}
            if ghost is not None:
                record.update(click=ghost.click, keys=ghost.keys, confidence=round(ghost.confidence, 3))
            out.write(json.dumps(record) + "\n")
        on_view(view)

    return show


CHORD_KEY_NAMES = {"bracketright": "]", "bracketleft": "[", "space": " ", "return": "enter", "esc": "escape"}


def command_keys(settings: Settings) -> frozenset[str]:
    """The episode key names of the while-visible chords (Tab, Esc, Right, ]), modifiers aside."""
    names: set[str] = set()
    for field_name in ("accept", "accept_step", "next_alternative", "previous_alternative", "dismiss"):
        for part in getattr(settings.keys, field_name).lower().split("+"):
            names.add(CHORD_KEY_NAMES.get(part, "cmd" if part == "super" else part))
    return frozenset(names - MODIFIERS)


def _recall(options: RunOptions) -> Any:
    """The workflow memory, unless turned off (measurements compare the model alone against it)."""
    if not options.recall or os.environ.get("GHOSTPILOT_RECALL", "1") == "0":
        return None
    from app.recall import WorkflowMemory

    return WorkflowMemory()


def _seed_recall(memory: Any, book: Any, on_notice: Callable[[str], None]) -> None:
    """Workflows from earlier sessions count too: the memory learns the newest logged ones before any input."""
    if memory is None:
        return
    from app.recall import seed_from_store

    try:
        seed_from_store(memory, book.store.path, exclude=book.session_id)
    except Exception as exc:  # an unreadable log only means starting with an empty memory
        on_notice(f"workflow memory starts empty: {type(exc).__name__}: {exc}")


def _pick(value: Any, default: Any) -> Any:
    return default if value is None else value


def _safe(query: Callable[[], Any]) -> Callable[[], Any]:
    def guarded() -> Any:
        try:
            return query()
        except Exception:  # a window that vanished mid-query is just "unknown"
            return None

    return guarded


class PlannedExecutor:
    """The copilot's view of the executor: perform these events for that window, with the default pacing."""

    def __init__(self, executor: Any) -> None:
        self.executor = executor
        self.note_user_input = executor.note_user_input

    def perform(self, events: list[Any], expected_window_id: int | None) -> Any:
        from app.executor import ExecutionPlan

        return self.executor.perform(events, ExecutionPlan(expected_window_id=expected_window_id))


def _executor(clock_start: float) -> tuple[Any, Any, PlannedExecutor]:
    from app.executor import Executor
    from app.inject import InjectionLedger, XTestInjector

    ledger = InjectionLedger()
    injector = XTestInjector(ledger=ledger)
    return injector, ledger, PlannedExecutor(Executor(injector, ledger))


def _hotkeys(settings: Settings, copilot: Copilot, on_notice: Callable[[str], None], stoppers: list) -> Any:
    from app.hotkeys import HotkeyGrabber

    bindings = {action: getattr(settings.keys, key) for key, action in KEY_ACTIONS.items()}
    grabber = HotkeyGrabber(copilot.command, bindings, on_notice=on_notice)
    grabber.start()
    stoppers.append(grabber.stop)
    return grabber


def _privacy(settings: Settings, clock: Callable[[], float], copilot: Copilot, stoppers: list) -> Any:
    """The deny-list watcher; without it nothing may be watched, so its failure stops the start. On Linux AT-SPI
    reports password fields inside ordinary windows (it stays quiet where the desktop has no accessibility bus)."""
    from app.privacy import DenyList, PasswordDetector, PrivacyGuard, TitleClassPasswordHeuristic

    detectors: tuple[PasswordDetector, ...] = (TitleClassPasswordHeuristic(),)
    if sys.platform.startswith("linux"):
        from app.atspi import AtspiPasswordDetector

        detectors = (AtspiPasswordDetector(), *detectors)
    guard = PrivacyGuard(
        DenyList(settings.deny_list), clock, on_change=lambda _state: copilot.inbox.put("privacy"), detectors=detectors
    )
    guard.start()  # and the detectors that listen by themselves
    stoppers.append(guard.stop)
    return guard


def _capture(
    fps: float, clock: Callable[[], float], on_notice: Callable[[str], None], stoppers: list, private: Callable
) -> Any:
    """Frames for the model, with visible deny-listed windows painted over (`private`: PrivacyGuard.regions)."""
    from app.capture import ScreenCapture

    capture = ScreenCapture(fps, clock=clock, private_regions=private)
    try:
        capture.start()
    except GhostpilotError as exc:
        on_notice(f"screen capture unavailable, predicting from input only: {exc.message}")
        return None
    stoppers.append(capture.stop)
    return capture


def _screen_text(predictor: Any, on_notice: Callable[[str], None], stoppers: list) -> Any:
    """The screen-text worker for a goal-conditioned model (app/model_switch.start_screen_text), or None."""
    from app.model_switch import start_screen_text

    worker = start_screen_text(predictor, on_notice)
    if worker is not None:
        stoppers.append(worker.stop)
    return worker


def _log(options: RunOptions, copilot: Copilot, predictor: Any, screen: tuple[int, int], stoppers: list) -> LiveLog:
    """The log in the data location (settings `data_dir`), or at `--database`, which pins it there."""
    from pathlib import Path

    from app.live_log import LiveLog

    database = Path(options.database) if options.database else None
    log = LiveLog.open(copilot, predictor, screen, options.settings, database)
    stoppers.append(log.stop)  # ends the session, stops retention, closes the store
    return log


def _switcher(options: RunOptions, live: LiveCopilot) -> ModelSwitcher:
    """Follow the registry (`model use`, a fine-tune's swap) and model settings without a restart."""
    from app.model_switch import ModelChoice, ModelSource, ModelSwitcher

    settings = options.settings
    source = ModelSource(ModelChoice(options.model, options.device), ModelChoice(settings.model, settings.device))
    switcher = ModelSwitcher(live.copilot, live.predictor, live.screen, source, live.stoppers)
    switcher.listeners.append(lambda predictor: setattr(live, "predictor", predictor))
    live.stoppers.append(switcher.start().stop)
    return switcher


def describe(view: GhostView) -> str:
    """One terminal line for what the overlay would draw."""
    ghost = view.current
    if ghost is None:
        return ""
    if ghost.keys:
        return f"ghost keys {ghost.keys!r} ({ghost.confidence:.0%})"
    assert ghost.click is not None
    seconds = ghost.points[-1][2] if ghost.points else 0.0
    return f"ghost click at ({ghost.click[0]:.0f}, {ghost.click[1]:.0f}) in {seconds:.1f}s ({ghost.confidence:.0%})"


def run_console(options: RunOptions) -> int:
    """`ghostpilot run --console`: the same copilot, its ghosts printed instead of drawn (Tab still accepts)."""
    last = [""]

    def show(view: GhostView) -> None:
        line = describe(view)
        if line != last[0]:
            print(f"\r\x1b[K{line}", end="", flush=True)
            last[0] = line

    live = start_live(options, show, lambda message: print(f"\nghostpilot: {message}", file=sys.stderr))
    from app.display_watch import DisplayWatch

    watch = DisplayWatch(live.stop)
    watch.start()
    width, height = live.screen
    print(
        f"ghostpilot: watching {width}x{height} with {live.predictor.name} on {live.predictor.provider}; Ctrl+C stops"
    )
    try:
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        print()
    finally:
        watch.stop()
        live.stop()
    return 0
