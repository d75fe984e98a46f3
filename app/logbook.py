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
    def __init__(self, store: Store, session_id: str, model_version: str, goal: str | None = None) -> None:
        self.store = store
        self.session_id = session_id
        self.model_version = model_version
        self.goal = goal

    @classmethod
    def begin(cls, store: Store, predictor: Any, screen: tuple[int, int], goal: str | None = None) -> StoreLogbook:
        version = model_version(predictor)
        record = SessionRecord(time.time(), screen[0], screen[1], predictor.name, version, goal)
        return cls(store, store.begin_session(record), version, goal)

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
        self.store.end_session(self.session_id, time.time())


def model_version(predictor: Any) -> str:
    """name@sha256-prefix of the model file: which exact weights made a suggestion."""
    path = getattr(predictor, "path", None)
    if path is None or not Path(path).is_file():
        return str(predictor.name)
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return f"{predictor.name}@{digest[:12]}"
