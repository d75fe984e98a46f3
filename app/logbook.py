"""What the copilot loop tells the store: its session, the user's events, shown ghosts and decisions.

An adapter from the loop's objects (ShownGhost, Decision) to the store's records, so app/copilot.py never
depends on the table layout. Every call only enqueues (app/store.py owns the one writer thread).
"""

from __future__ import annotations

import dataclasses
import hashlib
import sqlite3
import time
from pathlib import Path
from typing import Any

from app.context_frames import NearbyFrame
from app.store import ContextFrame, ContextFramesRecord, DecisionRecord, SessionRecord, Store, SuggestionRecord
from app.tracker import Decision, ShownGhost
from inference.episodes import Event


class StoreLogbook:
    def __init__(
        self, store: Store, session_id: str, model_version: str, goal: str | None = None,
        screen: tuple[int, int] = (0, 0), model_name: str = "",
    ) -> None:  # fmt: skip
        self.store = store
        self.session_id = session_id
        self.model_version = model_version
        self.goal = goal
        self.screen = screen
        self.model_name = model_name
        self._ended = False

    @classmethod
    def begin(cls, store: Store, predictor: Any, screen: tuple[int, int], goal: str | None = None) -> StoreLogbook:
        return cls._begin(store, None, screen, predictor.name, model_version(predictor), goal)

    @classmethod
    def _begin(
        cls, store: Store, started_at: float | None, screen: tuple[int, int], name: str, version: str, goal: str | None
    ) -> StoreLogbook:
        record = SessionRecord(time.time() if started_at is None else started_at, *screen, name, version, goal)
        return cls(store, store.begin_session(record), version, goal, screen, name)

    def continue_in(self, store: Store, started_at: float) -> StoreLogbook:
        """This run's log in another store (a new data location): a new session row there, same screen, model
        and goal. `started_at` is the session clock's 0, so every row's started_at + t stays its wall time."""
        return self._begin(store, started_at, self.screen, self.model_name, self.model_version, self.goal)

    def use_model(self, name: str, version: str) -> None:
        """A model switch: later suggestions carry `version`. The session row names the model in use last (like
        its goal); each suggestion's model_version is the exact history (docs/learning.md)."""
        self.model_name, self.model_version = name, version
        session_id = self.session_id

        def write(conn: sqlite3.Connection) -> None:
            with conn:
                conn.execute(
                    "UPDATE sessions SET model_name = ?, model_version = ? WHERE id = ?", (name, version, session_id)
                )

        self.store.run_maintenance(write)

    def events(self, events: list[Event]) -> None:
        self.store.log_events(self.session_id, events)

    def suggestion(self, ghost: ShownGhost, latency_ms: float, frame: Any, window: Any) -> None:
        best, others = ghost.alternatives[0], ghost.alternatives[1:]
        record = SuggestionRecord.from_suggestion(self.session_id, ghost.shown_at, best, others)
        record = dataclasses.replace(
            record,
            id=ghost.id,
            model_version=self.model_version,
            latency_ms=round(latency_ms, 3),
            goal=self.goal,
            window=getattr(window, "title", None),
            frame=getattr(frame, "rgb", None),
        )
        self.store.log_suggestion(record)

    def context_frames(self, suggestion_id: str, frames: list[NearbyFrame]) -> None:
        record = ContextFramesRecord(suggestion_id, tuple(ContextFrame(f.offset_s, f.pointer, f.rgb) for f in frames))
        self.store.log_context_frames(record)

    def decision(self, decision: Decision) -> None:
        self.store.log_decision(
            DecisionRecord(
                decision.suggestion_id, decision.t, decision.decision, decision.steps_accepted,
                list(decision.correction), decision.endpoint_error_px,
            )
        )  # fmt: skip

    def set_goal(self, goal: str | None) -> None:
        """The goal in force from now on: it goes with every later suggestion. The session row keeps the latest
        goal set (clearing leaves it), so it says what the session was last about; each suggestion's own goal
        column is the exact history (docs/goals.md)."""
        self.goal = goal
        if goal is not None:
            session_id = self.session_id

            def write(conn: sqlite3.Connection) -> None:
                with conn:  # maintenance runs outside the writer's transactions
                    conn.execute("UPDATE sessions SET goal = ? WHERE id = ?", (goal, session_id))

            self.store.run_maintenance(write)

    def end(self) -> None:
        """The session's end time; once (a moved log ends its old session before the run stops)."""
        if not self._ended:
            self._ended = True
            self.store.end_session(self.session_id, time.time())


def model_version(predictor: Any) -> str:
    """name@sha256-prefix of the model file: which exact weights made a suggestion."""
    path = getattr(predictor, "path", None)
    if path is None or not Path(path).is_file():
        return str(predictor.name)
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return f"{predictor.name}@{digest[:12]}"
