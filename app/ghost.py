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


def ghost_rects(view: GhostView, margin: int = 60) -> list[tuple[int, int, int, int]]:
    """Screen rectangles (x, y, w, h) the overlay may paint for this view (rings, labels: the margin), masked
    out of captured frames so the model never sees its own ghosts."""
    rects = []
    for path in view.alternatives:
        xs = [p[0] for p in path.points] + ([path.click[0]] if path.click else [])
        ys = [p[1] for p in path.points] + ([path.click[1]] if path.click else [])
        if path.keys:
            anchor = view.caret or view.pointer or (0.0, 0.0)
            xs += [anchor[0], anchor[0] + 14 * len(path.keys) + 40]
            ys += [anchor[1], anchor[1] + 40]
        if xs:
            left, top = int(min(xs)) - margin, int(min(ys)) - margin
            rects.append((left, top, int(max(xs)) + margin - left, int(max(ys)) + margin - top))
    return rects
