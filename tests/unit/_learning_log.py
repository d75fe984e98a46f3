"""A real correction log for the learning tests: sessions of scripted input, ghosts shown, decisions taken."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from app.bench import scripted_stream
from app.store import ContextFrame, ContextFramesRecord, DecisionRecord, SessionRecord, Store, SuggestionRecord

WIDTH, HEIGHT = 640, 360
DISMISSED_OFFSET = (150.0, -90.0)  # a dismissed ghost points this far from where the user really clicked


def make_log(path: Path, sessions: int = 3, seconds: float = 20.0, start: float | None = None) -> list[str]:
    """Write `sessions` sessions to a new log at `path` (an hour apart, oldest first); returns their ids.

    Every user press gets a pointer ghost 0.3 s before it: even presses are accepted (the ghost was right and
    Ghostpilot performed the click: the press is logged with source "ghostpilot"), odd ones dismissed (the
    ghost pointed DISMISSED_OFFSET away and the user clicked themselves).
    """
    start = time.time() - 86400 if start is None else start
    ids = []
    with Store.open(path) as store:
        for index in range(sessions):
            record = SessionRecord(start + 3600 * index, WIDTH, HEIGHT, "default", "v-test", goal="practice")
            session_id = store.begin_session(record)
            ids.append(session_id)
            events = scripted_stream(seconds, seed=index, width=WIDTH, height=HEIGHT)
            rng = np.random.default_rng(index)
            presses = [i for i, e in enumerate(events) if e["type"] == "mouse.down"]
            for n, i in enumerate(presses):
                press = events[i]
                accepted = n % 2 == 0
                if accepted:
                    events[i] = {**press, "source": "ghostpilot"}
                dx, dy = (0.0, 0.0) if accepted else DISMISSED_OFFSET
                click = (press["x"] + dx, press["y"] + dy)
                t = max(press["t"] - 0.3, 0.0)
                frame = rng.integers(0, 255, (HEIGHT, WIDTH, 3), dtype=np.uint8)
                ghost = [{"t": t, "type": "mouse.move", "x": click[0], "y": click[1]}]
                suggestion = SuggestionRecord(session_id, t, "pointer", ghost, 0.7, click, goal="practice", frame=frame)
                sid = store.log_suggestion(suggestion)
                pointer = (float(press["x"]), float(press["y"]))  # the frame the model saw, and one after the ghost
                nearby = (ContextFrame(-0.1, pointer, frame), ContextFrame(0.5, pointer, frame[::-1]))
                store.log_context_frames(ContextFramesRecord(sid, nearby))
                after = [e for e in events if t < e["t"] <= t + 2.0]
                decision = "accepted" if accepted else "dismissed"
                error = float(np.hypot(dx, dy))
                store.log_decision(DecisionRecord(sid, press["t"], decision, int(accepted), after, error))
            store.log_events(session_id, events)
            store.end_session(session_id, start + 3600 * index + seconds)
            assert store.flush(60.0)  # one session's frames at a time: the queue never sheds thumbnails
    return ids
