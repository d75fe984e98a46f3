"""The text on a synthetic episode's screen, over time: what an OCR model would read, for training goals.

Running OCR on every training frame would cost hours on two cores, so training reads the text from the
generator's own layout instead (rebuilt from the episode's seed and checked against the targets in meta.json)
and jitters the boxes like OCR does; evaluation uses real OCR on the rendered frames (inference/goal_eval.py).
Static labels (titles, menus, form labels, buttons, list items, text) are always visible; a menu's items only
while it is open, which the events tell (the press on the menu to the release on the chosen item).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from inference.episodes import Episode
from inference.goal_features import ScreenText
from inference.synthetic.generate import RESOLUTIONS
from inference.synthetic.layout import Element
from inference.synthetic.screens import Screen, get_font, make_screen

TEXT_KINDS = ("title", "menu", "label", "button", "list_item", "text")


@dataclass(frozen=True)
class GoalSpan:
    """One task of the episode: its goal text, when it runs, and the element(s) it targets, in order."""

    goal: str
    t_start: float
    t_end: float
    targets: list[tuple[float, float, float, float]]


@dataclass
class EpisodeTexts:
    """Always-visible texts, and menu items with the times their menu is open."""

    static: list[ScreenText]
    timed: list[tuple[float, float, ScreenText]]
    spans: list[GoalSpan]
    embeddings: dict[str, np.ndarray] = field(default_factory=dict)  # text -> embedding (training fills it)

    def visible(self, t: float) -> list[ScreenText]:
        return self.static + [text for start, end, text in self.timed if start <= t < end]

    def span_at(self, t: float) -> GoalSpan | None:
        return next((s for s in self.spans if s.t_start <= t <= s.t_end), None)


def _rebuild(meta_extra: dict[str, Any], width: int, height: int) -> Screen | None:
    """The episode's layout from its seed, or None if it does not reproduce the recorded targets."""
    seed = int(meta_extra["generator"]["seed"])
    targets = {t["id"]: t["box"] for t in meta_extra.get("targets", [])}
    for draw_size in (False, True):
        rng = np.random.default_rng(seed)
        if draw_size and RESOLUTIONS[int(rng.integers(len(RESOLUTIONS)))] != (width, height):
            continue
        screen = make_screen(rng, width, height)
        if all(i < len(screen.elements) and list(screen.elements[i].box) == box for i, box in targets.items()):
            return screen
    return None


def _text_box(element: Element, font: Any, font_size: int) -> tuple[float, float, float, float]:
    """Where the renderer draws an element's label (centred on buttons and menus, else 6 px in)."""
    x0, y0, x1, y1 = element.box
    width = float(font.getlength(element.label))
    left = (x0 + x1 - width) / 2 if element.kind in ("button", "menu") else x0 + 6
    middle, half = (y0 + y1) / 2, font_size * 0.6
    return (left, middle - half, left + width, middle + half)


def _menu_open_times(episode: Episode, menu: Element, item: Element, after: float) -> tuple[float, float] | None:
    def inside(e: dict, box: tuple[int, int, int, int]) -> bool:
        return box[0] <= e["x"] < box[2] and box[1] <= e["y"] < box[3]

    downs = [e for e in episode.events if e["type"] == "mouse.down" and e["t"] >= after]
    opened = next((e["t"] for e in downs if inside(e, menu.box)), None)
    if opened is None:
        return None
    ups = [e for e in episode.events if e["type"] == "mouse.up" and e["t"] > opened and inside(e, item.box)]
    return (opened, ups[0]["t"] if ups else opened + 5.0)


def episode_texts(episode: Episode) -> EpisodeTexts | None:
    """The texts of a synthetic episode (None: not a synthetic episode, or its layout does not reproduce)."""
    extra = episode.meta.extra
    if "generator" not in extra or "tasks" not in extra:
        return None
    width, height = episode.meta.screen_width, episode.meta.screen_height
    screen = _rebuild(extra, width, height)
    if screen is None:
        return None
    elements, font_size = screen.elements, screen.font_size
    font = get_font(font_size)
    static = [ScreenText(e.label, _text_box(e, font, font_size)) for e in elements if e.kind in TEXT_KINDS and e.label]
    timed: list[tuple[float, float, ScreenText]] = []
    spans = []
    for task in extra["tasks"]:
        boxes = [tuple(float(v) for v in t["box"]) for t in task["targets"]]
        spans.append(GoalSpan(task["goal"], float(task["t_start"]), float(task["t_end"]), boxes))  # type: ignore[arg-type]
        if task["kind"] == "menu" and len(task["targets"]) == 2:
            menu, item = (elements[t["id"]] for t in task["targets"])
            times = _menu_open_times(episode, menu, item, float(task["t_start"]))
            if times is not None:
                siblings = [e for e in elements if e.parent == menu.id]
                timed += [(*times, ScreenText(e.label, _text_box(e, font, font_size))) for e in siblings]
    return EpisodeTexts(static, timed, spans)


def jitter(texts: list[ScreenText], rng: np.random.Generator) -> list[ScreenText]:
    """OCR-like noise: boxes a few px off, 3 % of texts missed."""
    out = []
    for text in texts:
        if rng.random() < 0.03:
            continue
        noise = rng.normal(0.0, 2.0, 4)
        x0, y0, x1, y1 = (a + b for a, b in zip(text.box, noise, strict=True))
        out.append(ScreenText(text.text, (x0, y0, max(x1, x0 + 2), max(y1, y0 + 2)), float(rng.uniform(0.8, 1.0))))
    return out
