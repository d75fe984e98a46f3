"""What the overlay draws, as plain data: the Qt-free contract between the copilot core and `ui/`.

Coordinates are physical pixels of the virtual screen (the same space as pointer events and mss), so the
core never needs to know about Qt's logical pixels; the overlay maps them with the screen's device pixel ratio.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from inference.predictor import Suggestion

KEY_GLYPHS = {"enter": "⏎", "tab": "⇥", "backspace": "⌫", " ": "␣", "escape": "⎋"}


@dataclass(frozen=True)
class GhostPath:
    """One alternative: a pointer path ending in a click, and/or ghost keystrokes."""

    points: tuple[tuple[float, float, float], ...] = ()  # (x, y, seconds from now), along the predicted path
    click: tuple[float, float] | None = None  # the endpoint marker (a click ring)
    button: str | None = None  # "left" | "right" | "middle" when the path ends in a press
    keys: str = ""  # ghost keystrokes, rendered for display ("hello⏎")
    confidence: float = 0.0


@dataclass(frozen=True)
class GhostView:
    """Everything on the overlay at one moment; `alternatives[selected]` is drawn strongest."""

    alternatives: tuple[GhostPath, ...] = ()
    selected: int = 0
    pointer: tuple[float, float] | None = None
    caret: tuple[float, float] | None = None  # where ghost keys are drawn; the pointer when unknown
    goal: str | None = None
    status: str = "watching"  # "watching" | "suggesting" | "performing" | "paused" | "snoozed" | "private"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def current(self) -> GhostPath | None:
        return self.alternatives[self.selected] if self.alternatives else None


def key_text(keys: list[str]) -> str:
    """Episode key names -> a short display string for ghost keystrokes."""
    return "".join(KEY_GLYPHS.get(k, k if len(k) == 1 else f"[{k}]") for k in keys)


def ghost_path(suggestion: Suggestion, now: float) -> GhostPath:
    """A Predictor API suggestion -> what the overlay draws (times become seconds from `now`)."""
    points = tuple(
        (float(e["x"]), float(e["y"]), max(float(e["t"]) - now, 0.0))
        for e in suggestion.events
        if e["type"] == "mouse.move"
    )
    button = next((str(e["button"]) for e in suggestion.events if e["type"] == "mouse.down"), None)
    return GhostPath(points, suggestion.click, button, key_text(suggestion.keys), float(suggestion.confidence))
