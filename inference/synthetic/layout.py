"""Seeded window/widget layout and colour themes for procedural screens.

Windows are tiled side by side (never overlapping) so every target is visible; inside each window widgets are
stacked in blocks (form rows, button rows, lists, static text). Labels are unique per kind across a screen, so
a goal like "Click the Save button" names exactly one element.
"""

from __future__ import annotations

import colorsys
import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from inference.synthetic import vocab

Box = tuple[int, int, int, int]
RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Element:
    """One thing on screen: `kind` in window/title/menubar/menu/menu_item/label/field/button/list/list_item/
    text/status; `parent` links menu items to their menu and list items to their list."""

    id: int
    kind: str
    label: str
    box: Box
    window: int
    parent: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "label": self.label, "box": list(self.box)}


@dataclass(frozen=True)
class Theme:
    """Colours of one screen; light or dark with a random accent hue so pixels cannot be memorized."""

    name: str
    desktop: RGB
    window: RGB
    border: RGB
    title_bg: RGB
    title_fg: RGB
    menu_bg: RGB
    text: RGB
    muted: RGB
    button: RGB
    button_pressed: RGB
    button_fg: RGB
    field_bg: RGB
    accent: RGB
    select_bg: RGB
    select_fg: RGB


def _hsv(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return int(r * 255), int(g * 255), int(b * 255)


def random_theme(rng: np.random.Generator) -> Theme:
    hue, tint = float(rng.random()), float(rng.uniform(0.0, 0.08))
    accent = _hsv(hue, float(rng.uniform(0.5, 0.8)), float(rng.uniform(0.55, 0.85)))
    if rng.random() < 0.6:
        base = float(rng.uniform(0.9, 0.98))
        return Theme(
            "light", _hsv(hue + 0.5, 0.3, float(rng.uniform(0.3, 0.7))), _hsv(hue, tint, base),
            _hsv(hue, tint, base - 0.3), accent if rng.random() < 0.5 else _hsv(hue, tint, base - 0.1),
            _hsv(0, 0, 1.0) if rng.random() < 0.5 else _hsv(0, 0, 0.1), _hsv(hue, tint, base - 0.04),
            _hsv(0, 0, 0.1), _hsv(0, 0, 0.45), _hsv(hue, tint, base - 0.08), _hsv(hue, 0.2, base - 0.25),
            _hsv(0, 0, 0.1), _hsv(0, 0, 1.0), accent, accent, _hsv(0, 0, 1.0),
        )  # fmt: skip
    base = float(rng.uniform(0.16, 0.25))
    return Theme(
        "dark", _hsv(hue + 0.5, 0.4, float(rng.uniform(0.05, 0.2))), _hsv(hue, tint, base),
        _hsv(hue, tint, base + 0.2), _hsv(hue, tint, base - 0.06), _hsv(0, 0, 0.9), _hsv(hue, tint, base + 0.04),
        _hsv(0, 0, 0.92), _hsv(0, 0, 0.6), _hsv(hue, tint, base + 0.1), accent,
        _hsv(0, 0, 0.95), _hsv(hue, tint, base - 0.08), accent, accent, _hsv(0, 0, 1.0),
    )  # fmt: skip


class _Builder:
    """Accumulates elements and keeps labels unique per kind across the screen."""

    def __init__(self, rng: np.random.Generator, font_size: int, font: Any) -> None:
        self.rng, self.font = rng, font
        self.elements: list[Element] = []
        self.used: dict[str, set[str]] = {}
        self.row = font_size + 14  # height of buttons, fields and title bars
        self.item = font_size + 10  # height of list and menu items

    def add(self, kind: str, label: str, box: Box, window: int, parent: int | None = None) -> Element:
        element = Element(len(self.elements), kind, label, box, window, parent)
        self.elements.append(element)
        return element

    def pick(self, kind: str, pool: tuple[str, ...], count: int) -> list[str]:
        used = self.used.setdefault(kind, set())
        free = [w for w in pool if w not in used]
        chosen = [free[i] for i in self.rng.permutation(len(free))[: min(count, len(free))]]
        used.update(chosen)
        return chosen

    def width(self, text: str) -> int:
        return int(self.font.getlength(text))


def _windows(rng: np.random.Generator, width: int, height: int) -> list[Box]:
    count = int(rng.choice([1, 2, 3], p=[0.4, 0.4, 0.2])) if width >= 1000 else int(rng.integers(1, 3))
    weights = rng.uniform(0.8, 1.2, count)
    edges = np.concatenate([[0], np.cumsum(weights / weights.sum() * width)]).astype(int)
    boxes = []
    for left, right in itertools.pairwise(edges):
        x0 = int(left + rng.integers(6, 30))
        x1 = int(right - rng.integers(6, 30))
        y0 = int(rng.integers(6, max(7, height // 8)))
        y1 = int(height - rng.integers(6, max(7, height // 8)))
        boxes.append((x0, y0, x1, y1))
    return boxes


def _menus(b: _Builder, window: Element, top: int) -> int:
    x0, _, x1, _ = window.box
    bar = b.add("menubar", "", (x0 + 1, top, x1 - 1, top + b.item), window.id)
    x = x0 + 6
    for name in b.pick("menu", tuple(vocab.MENUS), int(b.rng.integers(3, 6))):
        w = b.width(name) + 18
        if x + w > x1 - 6:
            break
        menu = b.add("menu", name, (x, top, x + w, top + b.item), window.id)
        labels = vocab.MENUS[name][: int(b.rng.integers(3, len(vocab.MENUS[name]) + 1))]
        item_w = max(b.width(label) for label in labels) + 40
        for k, label in enumerate(labels):
            y = bar.box[3] + 3 + k * b.item
            b.add("menu_item", label, (x, y, x + item_w, y + b.item), window.id, menu.id)
        x += w
    return bar.box[3]


def _block(b: _Builder, kind: str, window: int, x: int, y: int, width: int, bottom: int) -> int:
    """Place one block at (x, y) within `width`; returns the new y, or y unchanged if it did not fit."""
    rng, row, gap = b.rng, b.row, 8
    if kind == "form":
        labels = b.pick("field", vocab.FIELDS, int(rng.integers(2, 5)))
        label_w = max((b.width(f"{label}:") for label in labels), default=0) + 12
        if y + len(labels) * (row + gap) > bottom or width < label_w + 120:
            return y
        field_w = min(int(rng.integers(200, 340)), width - label_w)
        for label in labels:
            b.add("label", f"{label}:", (x, y, x + label_w, y + row), window)
            b.add("field", label, (x + label_w, y, x + label_w + field_w, y + row), window)
            y += row + gap
        return y + gap
    if kind == "buttons":
        xx = x
        for label in b.pick("button", vocab.BUTTONS, int(rng.integers(2, 5))):
            w = max(70, b.width(label) + 30)
            if xx + w > x + width or y + row > bottom:
                break
            b.add("button", label, (xx, y, xx + w, y + row), window)
            xx += w + 10
        return y + row + 2 * gap if xx > x else y
    if kind == "list":
        count = int(rng.integers(4, 9))
        if y + row + count * b.item + 4 > bottom:
            return y
        header = b.pick("header", vocab.LIST_HEADERS, 1)
        b.add("text", header[0] if header else "Items", (x, y, x + width, y + row), window)
        y += row
        list_w = min(int(rng.integers(180, 300)), width)
        box = b.add("list", "", (x, y, x + list_w, y + count * b.item + 4), window)
        for k, label in enumerate(b.pick("list_item", vocab.LIST_ITEMS, count)):
            top = y + 2 + k * b.item
            b.add("list_item", label, (x, top, x + list_w, top + b.item), window, box.id)
        return box.box[3] + 2 * gap
    if y + row > bottom:
        return y
    sentence = vocab.SENTENCES[int(rng.integers(len(vocab.SENTENCES)))]
    b.add("text", sentence, (x, y, x + min(width, b.width(sentence) + 12), y + row), window)
    return y + row + gap


def build_layout(rng: np.random.Generator, width: int, height: int, font_size: int, font: Any) -> list[Element]:
    """All elements of a random desktop, in drawing order (ids are list indices)."""
    b = _Builder(rng, font_size, font)
    for title_text, box in zip(b.pick("title", vocab.WINDOW_TITLES, 3), _windows(rng, width, height), strict=False):
        window = b.add("window", title_text, box, -1)
        x0, y0, x1, y1 = box
        top = b.add("title", title_text, (x0 + 1, y0 + 1, x1 - 1, y0 + b.row), window.id).box[3]
        if rng.random() < 0.75:
            top = _menus(b, window, top)
        status = (x0 + 1, y1 - b.item, x1 - 1, y1 - 1)
        columns = 2 if x1 - x0 > 640 else 1
        col_w = (x1 - x0 - 24 * (columns + 1)) // columns
        for column in range(columns):
            x, y = x0 + 24 + column * (col_w + 24), top + 16
            for kind in rng.choice(["form", "buttons", "list", "text", "buttons", "form"], size=6):
                y = _block(b, str(kind), window.id, x, y, col_w, status[1] - 8)
        b.add("status", "", status, window.id)
    return b.elements
