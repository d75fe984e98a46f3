"""The live copilot's core: one loop thread turns input, frames and key commands into ghosts and actions.

No Qt here. Input callbacks, the hotkey thread and the executor only put items in `inbox`; this loop owns the
predictor session and the ghost tracker, so none of them needs a lock. It wakes on every input event (the
ghost follows the pointer at once) and runs the model at most once per 30 Hz tick while the user is active,
so a desktop at rest costs nothing. What to draw leaves through `on_view`, decisions go to the store.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

from app.context_frames import ContextFrameCollector
from app.copilot_parts import CopilotParts, LoopStats, drain
from app.ghost import ghost_rects
from app.goal import GoalControl
from app.snooze import SuggestionGate
from app.tracker import GhostTracker, ShownGhost, carried_out
from inference.actions import TICK
from inference.episodes import Event
from inference.predictor import PredictorSession, Suggestion

ACTIVE_AFTER_INPUT_S = 2.5  # the model runs only this long after the user's last input
QUIET_EVERY_TICKS = 3  # within that time, ticks with no new input run the model only this often
MIN_GHOST_DISTANCE_PX = 24.0  # a pointer ghost on the pointer itself tells the user nothing
COMMANDS = ("accept", "accept_step", "next_alternative", "previous_alternative", "dismiss", "pause")


class Copilot:
    def __init__(self, parts: CopilotParts, min_confidence: float = 0.5, goal: str | None = None) -> None:
        self.parts = parts
        self.goals = GoalControl(parts, goal)  # the goal in force and the prompt box's state (app/goal.py)
        self.inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.tracker = GhostTracker(min_confidence)
        self.min_confidence = min_confidence  # the user's threshold; the back-off may ask for more
        self.gate = SuggestionGate()  # snooze and back-off (app/snooze.py)
        self.frame_interval = 0.0  # feed the model at most one frame per this many seconds (settings fps)
        self.status = "watching"
        self.pointer: tuple[float, float] | None = None
        self.stats = LoopStats()
        self._last_model = -1.0
        self._last_input = -1e9
        self._fresh_input = False  # any event since the model last ran
        self._last_frame_t = -1.0
        self._latency_ms = 0.0
        self._grabbed = False
        self._counted: set[str] = set()  # decisions already given to the gate
        self._shown_at: dict[str, float] = {}  # ghost id -> when it appeared, for the back-off rules
        self._gate_shown = ("active", "")  # what the last published view said about snooze / back-off
        self._private = False  # a deny-listed window or password prompt has the focus
        self._swallowed: set[str] = set()  # command keys pressed under the grab: their release is ours too
        self._followed: set[str] = set()  # ghosts the user carried out by hand: right, so not refused
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.context_frames = ContextFrameCollector.for_parts(parts, self._denied_at)  # frames around each ghost

    # ----- lifecycle -----
    @property
    def goal(self) -> str | None:
        return self.goals.goal

    def start(self) -> None:
        self.goals.start()
        self._thread = threading.Thread(target=self._run, name="ghostpilot-loop", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.inbox.put("wake")
        if self._thread is not None:
            self._thread.join(timeout)
        self._set_grab(False)
        self._log_remaining(self.parts.clock())

    def _log_remaining(self, now: float) -> None:
        """On the way out, a visible ghost counts as ignored and every decision is logged as it stands."""
        self.tracker.abandon(now)
        if self.parts.logbook is not None:
            for decision in self.tracker.due(float("inf")):
                self.parts.logbook.decision(decision)

    def replace_session(self, session: PredictorSession, now: float) -> None:
        """Loop thread only: a new model's session; a shown ghost just goes (no one refused it) and the new
        session gets the newest frame and screen text at once."""
        self.tracker.abandon(now)
        self._count_decisions(to_gate=False)
        self.parts.session, self._last_frame_t, self._fresh_input = session, -1.0, True
        self.goals.resend_text()

    def replace_logbook(self, logbook: Any, now: float) -> None:
        """Loop thread only: log into `logbook` from now on; what is shown or pending is decided into the old one."""
        self._log_remaining(now)
        self._count_decisions(to_gate=False)
        self.context_frames.forget()  # frames still due belong to ghosts in the old log
        self.parts.logbook = logbook

    def command(self, name: str) -> None:
        """From any thread (the hotkey thread): queue a key command for the loop."""
        if name == "goal":
            self.open_prompt()
        elif name == "clear_goal":
            self.set_goal(None)
        else:
            self.inbox.put(name)

    def open_prompt(self) -> None:
        """From any thread: open the goal prompt; from now on the user's typing belongs to it."""
        self.inbox.put(("prompt", ("open", self.parts.clock())))

    def prompt_closed(self, text: str | None) -> None:
        """From the UI thread: the prompt closed now, with its text (Enter; "" clears) or None (Esc)."""
        self.inbox.put(("prompt", ("closed", self.parts.clock(), text)))

    def set_goal(self, goal: str | None) -> None:
        """From any thread: set the goal (None clears it) without the prompt (tray, clear key)."""
        self.inbox.put(("prompt", ("set", goal)))

    def snooze(self, seconds: float | None) -> None:
        """From any thread: no ghosts for `seconds` (None = until restart, 0 = end the snooze)."""
        self.inbox.put(("snooze", seconds))

    def apply_settings(self, settings: Any) -> None:
        """From any thread: take new app.settings.Settings (threshold, deny-list, fps) without a restart."""
        self.inbox.put(("settings", settings))

    def _run(self) -> None:
        while not self._stop.is_set():
            items = drain(self.inbox, TICK)
            if items:
                self.stats.last_input_at = time.perf_counter()
            try:
                self.step(items, self.parts.clock())
            except Exception as exc:  # one bad step must not kill the copilot; say what happened
                self.parts.on_notice(f"prediction step failed: {type(exc).__name__}: {exc}")

    # ----- one step (public so tests drive it deterministically) -----
    def step(self, items: list[Any], now: float) -> None:
        changed = self._update_privacy(items, now) | self._update_prompt(items, now)
        logged: list[Event] = []
        for item in items:
            if isinstance(item, dict):
                changed |= self._event(item, logged)
            elif isinstance(item, tuple) and item[0] != "prompt":
                changed |= self._message(item, now)
            elif item in COMMANDS:
                changed |= self._command(item, now)
        if changed:
            self._publish(now)  # the ghost follows the input first; model work comes after
        if self.parts.logbook is not None and logged:
            self.parts.logbook.events(logged)
        if self.status == "watching" and not self._private and not self.goals.prompt.open:
            self._feed_frame()
            if self.gate.allows(now) and self._predict(now):
                self._publish(now)
        self._count_decisions()
        if self._gate_view(now) != self._gate_shown:
            self._publish(now)  # a snooze or back-off began or ended: the tray shows it
        if self.parts.logbook is not None:
            for decision in self.tracker.due(now):
                self.parts.logbook.decision(decision)

    def _event(self, event: Event, logged: list[Event]) -> bool:
        if self.status == "paused":
            return False  # paused means nothing is observed, predicted or stored
        if self._private or self._denied_at(float(event["t"])):
            return False  # typed into a private window: never observed, logged or used
        if self._is_command(event):
            return False  # Tab/Esc pressed for Ghostpilot never reached an application: not user behaviour
        if self.goals.prompt.hides(event):
            return False  # typed into the goal prompt: private, and not what the user does in applications
        self.parts.session.observe_event(event)
        self._remember(event)
        self._fresh_input = True
        logged.append(event)
        if "x" in event:
            self.pointer = (float(event["x"]), float(event["y"]))
        if event.get("source") == "ghostpilot":
            return "x" in event and self.tracker.shown is not None
        self._last_input = float(event["t"])
        shown = self.tracker.shown
        changed = self.tracker.observe(event)
        if shown is not None and shown is not self.tracker.shown and carried_out(shown, event):
            self._followed.add(shown.id)
        return changed

    def _remember(self, event: Event) -> None:
        """Teach the workflow memory; accepted ghosts' injected events too (the user chose them)."""
        recall = self.parts.recall
        if recall is None:
            return
        query = self.parts.focused_window
        recall.observe(event, query() if query is not None and recall.wants_window(event) else None)

    def _update_privacy(self, items: list[Any], now: float) -> bool:
        """Enter or leave private mode; keys and presses get a fresh focus reading (they carry the secrets)."""
        privacy = self.parts.privacy
        if privacy is None:
            return False
        fresh = any(isinstance(item, dict) and item.get("type") != "mouse.move" for item in items)
        state = privacy.check_now() if fresh else privacy.current()
        if bool(state.denied) == self._private:
            return False
        self._private = bool(state.denied)
        if self._private:
            self.tracker.abandon(now)
            self.context_frames.forget()
            self.parts.on_notice(f"private window ({state.reason}): nothing is watched or stored")
        else:
            self.parts.on_notice("watching again")
        return True

    def _update_prompt(self, items: list[Any], now: float) -> bool:
        """Goal messages first: whether this step's events went to the prompt depends on when it opened."""
        changed = False
        for item in items:
            if isinstance(item, tuple) and item[0] == "prompt":
                result = self.goals.handle(item[1])
                if result == "opened":
                    self.tracker.abandon(now)  # Tab and Esc go to the prompt now, not to a ghost
                    self._count_decisions(to_gate=False)  # opening the prompt is not refusing the ghost
                changed |= bool(result)
        return changed

    def _denied_at(self, t: float) -> bool:
        return self.parts.privacy is not None and self.parts.privacy.denied_at(t)

    def _is_command(self, event: Event) -> bool:
        key = event.get("key")
        if key is None or key not in self.parts.command_keys:
            return False
        if event["type"] == "key.down" and self._grabbed:
            self._swallowed.add(key)
            return True
        if event["type"] == "key.up" and key in self._swallowed:
            self._swallowed.discard(key)
            return True
        return False

    def _feed_frame(self) -> None:
        frame = self.parts.capture.latest() if self.parts.capture is not None else None
        self.context_frames.tick(frame, self.pointer)
        if frame is not None and frame.t >= self._last_frame_t + max(self.frame_interval, 1e-9):
            self._last_frame_t = frame.t
            if self._denied_at(float(frame.t)):
                return  # captured while a private window had the focus
            self.parts.session.observe_frame(frame.t, frame.rgb)
            self.context_frames.fed(frame.t, frame.rgb, self.pointer)
            self.goals.offer_frame(frame.t, frame.rgb)

    def _predict(self, now: float) -> bool:
        self.goals.pull_text()
        if self.pointer is None or now - self._last_input > ACTIVE_AFTER_INPUT_S or now - self._last_model < TICK:
            return False
        if not self._fresh_input and now - self._last_model < QUIET_EVERY_TICKS * TICK:
            return False  # nothing new: the prediction only ages, so refresh it less often
        self._last_model, self._fresh_input = now, False
        started = time.perf_counter()
        self.tracker.min_confidence = self.gate.threshold(self.min_confidence)
        suggestions = self._recalled(now) + self.parts.session.suggest(now, min_confidence=self.tracker.min_confidence)
        self._latency_ms = (time.perf_counter() - started) * 1000
        self.stats.model_runs += 1
        self.stats.model_ms.append(self._latency_ms)
        pointer = self.pointer
        useful = [
            s for s in suggestions if s.click is None or abs(s.click[0] - pointer[0]) + abs(s.click[1] - pointer[1])
            > MIN_GHOST_DISTANCE_PX
        ]  # fmt: skip
        self._count_decisions()  # ghosts the user ended; one the model replaces below was not refused
        changed = self.tracker.offer(useful, now, pointer)
        self._count_decisions(to_gate=False)
        new = self.tracker.new_ghost
        if new is not None:
            self.tracker.new_ghost = None
            self._on_new_ghost(new)
        return changed

    def _recalled(self, now: float) -> list[Suggestion]:
        """The user's own last continuation of this context, ranked before the model's general guesses."""
        return self.parts.recall.suggest(now, self.pointer) if self.parts.recall is not None else []

    def _on_new_ghost(self, ghost: ShownGhost) -> None:
        window = self.parts.focused_window() if self.parts.focused_window is not None else None
        ghost.window_id = getattr(window, "id", None)
        self._shown_at[ghost.id] = ghost.shown_at
        if self.parts.logbook is not None:
            frame = self.parts.capture.latest() if self.parts.capture is not None else None
            if frame is not None and self._denied_at(float(frame.t)):
                frame = None
            self.parts.logbook.suggestion(ghost, self._latency_ms, frame, window)
            self.context_frames.shown(ghost.id, ghost.shown_at)

    def _command(self, name: str, now: float) -> bool:
        if name == "pause":
            if self.status == "paused":
                self.status = "watching"
                self.parts.on_notice("watching again")
            else:
                self.tracker.abandon(now)
                self.context_frames.forget()
                self.status = "paused"
                self.parts.on_notice("paused: nothing is observed or stored until you resume")
            return True
        if self.tracker.shown is None or self.status != "watching" or self._private:
            return False
        if name in ("accept", "accept_step"):
            window_id = self.tracker.shown.window_id
            events = self.tracker.accept(now, self.pointer or (0.0, 0.0), whole=name == "accept")
            self._perform(events, window_id)
        elif name == "dismiss":
            self.tracker.dismiss(now)
        else:
            self.tracker.cycle(+1 if name == "next_alternative" else -1)
        return True

    def _perform(self, events: list[Event], window_id: int | None) -> None:
        executor = self.parts.executor
        if executor is None or not events:
            return
        self.status = "performing"

        def work() -> None:
            result = executor.perform(events, window_id)
            self.inbox.put(("performed", result))

        threading.Thread(target=work, name="ghostpilot-executor", daemon=True).start()

    def _message(self, item: tuple[str, Any], now: float) -> bool:
        kind, value = item
        if kind == "snooze":
            self.gate.snooze(now, value)
            if not self.gate.allows(now):
                self.tracker.abandon(now)
                self._count_decisions(to_gate=False)  # the user's snooze is not a refused ghost
            return True
        if kind == "run":  # a change prepared off the loop, applied here (app/model_switch.py, app/live_log.py)
            return bool(value(self, now))
        if kind == "settings":
            self.min_confidence = self.tracker.min_confidence = float(value.min_confidence)
            self.frame_interval = 0.75 / float(value.capture_fps)  # slack for the capture thread's jitter
            if self.parts.privacy is not None and hasattr(self.parts.privacy, "deny_list"):
                from app.privacy import DenyList

                self.parts.privacy.deny_list = DenyList(value.deny_list)
            return False
        return self._performed(item)

    def _count_decisions(self, to_gate: bool = True) -> None:
        """Give each newly ended ghost's decision to the back-off rules, once."""
        pending = self.tracker.pending
        for decision in pending:
            if decision.suggestion_id not in self._counted:
                shown_at = self._shown_at.pop(decision.suggestion_id, decision.t)
                followed = decision.suggestion_id in self._followed  # right all along: as good as taken
                self._followed.discard(decision.suggestion_id)
                if to_gate:
                    self.gate.record("accepted" if followed else decision.decision, decision.t, decision.t - shown_at)
        self._counted = {d.suggestion_id for d in pending}

    def _gate_view(self, now: float) -> tuple[str, str]:
        return self.gate.state(now), self.gate.describe(now, self.min_confidence)

    def _performed(self, item: tuple[str, Any]) -> bool:
        if aborted := getattr(item[1], "aborted", None):
            self.parts.on_notice(f"stopped performing: {aborted}")
        if self.status == "performing":
            self.status = "watching"
        return True

    # ----- output -----
    def _publish(self, now: float) -> None:
        status = "private" if self._private and self.status == "watching" else self.status
        self._gate_shown = gate_state, quiet = self._gate_view(now)
        if gate_state == "snoozed" and status == "watching":
            status = "snoozed"
        if self.goals.prompt.open and status == "watching":
            status = "prompting"
        view = self.tracker.view(now, self.pointer, status, self.goal)
        if quiet:
            view.extra["quiet"] = quiet
        self._set_grab(view.current is not None and self.status == "watching")
        if self.parts.capture is not None:
            self.parts.capture.set_mask(ghost_rects(view))
        self.stats.views += 1
        self.parts.on_view(view)

    def _set_grab(self, visible: bool) -> None:
        """Accept and dismiss keys belong to Ghostpilot only while a ghost is on screen."""
        hotkeys = self.parts.hotkeys
        if hotkeys is None or visible == self._grabbed:
            return
        self._grabbed = visible
        try:
            hotkeys.show() if visible else hotkeys.hide()
        except Exception as exc:  # a refused grab leaves the copilot usable without its keys
            self.parts.on_notice(f"accept keys unavailable: {exc}")
