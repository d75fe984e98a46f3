"""A live session's goal: the goal text, the latest screen text, and what the goal's ghosts have done so far.

Kept apart from ModelSession so the pointer/key model stays readable; the session asks this object for the
model's goal inputs and for the goal's suggestions.
"""

from __future__ import annotations

import numpy as np

from inference import goal_features
from inference.goal_features import ScreenText, TextSnapshot
from inference.goal_suggestions import GROUNDED_REACH, goal_click, quoted_keys
from inference.predictor import Suggestion

QUOTED_CONFIDENCE = 0.9  # quoted text after a click on the goal's target: the goal spells out what comes next


class GoalState:
    def __init__(self, goal: str | None, snapshot: TextSnapshot | None = None) -> None:
        self.goal = goal
        self.snapshot = snapshot
        self.quoted = goal_features.quoted(goal) if goal else []
        self.target = _target_name(goal)
        self.slots: list[ScreenText | None] = []
        self.grounded: tuple[float, float] | None = None  # the last click point the goal's ghost showed
        self.on_target = False  # the last click landed where the goal pointed
        self.typed_keys: list[str] = []  # keys typed since that click
        self.done: list[str] = []  # quoted texts already typed in full
        self._ranked: tuple[TextSnapshot | None, dict[str, np.ndarray]] | None = None  # inputs of a goal snapshot

    def _goal_embedding(self) -> np.ndarray | None:
        snap = self.snapshot
        return snap.goal_embedding if snap is not None and self.goal and snap.goal == self.goal else None

    def inputs(self, pointer: tuple[float, float], width: int, height: int) -> dict[str, np.ndarray]:
        """The model's `goal` and `texts` inputs; remembers which text fills each slot."""
        snap, goal_embedding = self.snapshot, self._goal_embedding()
        goal = self.goal if goal_embedding is not None else None
        if goal is not None and self._ranked is not None and self._ranked[0] is snap:
            return self._ranked[1]  # with a goal the slots follow the snapshot, not the pointer: once per snapshot
        texts: tuple[ScreenText, ...] = snap.texts if snap is not None else ()
        vectors = snap.embeddings if snap is not None else np.zeros((0, goal_features.EMBED_DIM), np.float32)
        slots, filled = goal_features.text_input(texts, vectors, goal, goal_embedding, pointer, width, height)
        self.slots = [texts[i] if i >= 0 else None for i in filled]
        inputs = {"goal": goal_features.goal_input(goal_embedding), "texts": slots}
        self._ranked = (snap, inputs) if goal is not None else None
        return inputs

    def clicked(self, point: tuple[float, float]) -> None:
        grounded = self.grounded
        near = grounded is not None and np.hypot(point[0] - grounded[0], point[1] - grounded[1]) <= GROUNDED_REACH
        self.on_target, self.typed_keys = bool(near), []

    def key_typed(self, key: str) -> None:
        self.typed_keys.append(key)
        typed = "".join(k for k in self.typed_keys if len(k) == 1)
        if typed in self.quoted and typed not in self.done:
            self.done.append(typed)

    def suggestions(
        self, out: dict[str, np.ndarray], pointer: tuple[float, float], t: float, scale: float, screen: tuple[int, int]
    ) -> list[Suggestion | None]:
        if self._goal_embedding() is None:
            return []
        found: list[Suggestion | None] = []
        click = goal_click(out, self.slots, pointer, t, scale, screen, self.target)
        if click is not None:
            self.grounded = click.click
            found.append(click)
        remaining = [q for q in self.quoted if q not in self.done]
        if self.on_target and remaining:
            found.append(quoted_keys(remaining, self.typed_keys, t, QUOTED_CONFIDENCE))
        return found


def _target_name(goal: str | None) -> str:
    """The element the goal names ("Department" in "fill in my Department"), "" when it names none."""
    from inference.goals.grounding import GoalError, parse_goal

    if not goal:
        return ""
    try:
        return parse_goal(goal).target
    except GoalError:
        return ""
