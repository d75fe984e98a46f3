"""Procedural desktop screens: a seeded layout of windows and widgets, and a fast PIL renderer.

A `Screen` is pure layout (element boxes, kinds, labels, theme); a `UIState` is what changes while a user
works (open menu, focused field, typed text, selected list item, pressed button, status line). Rendering a
state draws the static layer once and only the dynamic parts per frame, so a 1280x720 frame costs a few ms.
The pointer is never drawn: like real captures without the cursor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from inference.synthetic.layout import Box, Element, Theme, build_layout, random_theme

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@lru_cache(maxsize=16)
def get_font(size: int, bold: bool = False) -> Font:
    """DejaVu when installed, else Pillow's built-in font (scalable since Pillow 10.1, bitmap before)."""
    path = FONT_DIR / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:
        pass
    try:
        return ImageFont.load_default(size)
    except (TypeError, OSError, ImportError):
        return ImageFont.load_default()


@dataclass
class Screen:
    """One procedural desktop: size, theme, font size and every element (menu items included)."""

    width: int
    height: int
    theme: Theme
    font_size: int
    elements: list[Element]

    def of_kind(self, kind: str) -> list[Element]:
        return [e for e in self.elements if e.kind == kind]

    def children(self, parent: Element) -> list[Element]:
        return [e for e in self.elements if e.parent == parent.id]

    def element(self, element_id: int) -> Element:
        return self.elements[element_id]


@dataclass
class UIState:
    """Everything on screen that reacts to the user; copied into the timeline at every change."""

    open_menu: int | None = None
    hover: int | None = None
    pressed: int | None = None
    focused: int | None = None
    texts: dict[int, str] = field(default_factory=dict)
    selected: dict[int, int] = field(default_factory=dict)
    status: dict[int, str] = field(default_factory=dict)

    def copy(self) -> UIState:
        return UIState(
            self.open_menu,
            self.hover,
            self.pressed,
            self.focused,
            dict(self.texts),
            dict(self.selected),
            dict(self.status),
        )

    def key(self) -> tuple[object, ...]:
        """A hashable fingerprint: equal fingerprints render identical frames."""
        return (
            self.open_menu,
            self.hover,
            self.pressed,
            self.focused,
            tuple(sorted(self.texts.items())),
            tuple(sorted(self.selected.items())),
            tuple(sorted(self.status.items())),
        )


def make_screen(rng: np.random.Generator, width: int = 1280, height: int = 720) -> Screen:
    """A random desktop of 1-3 windows with title bars, menus, buttons, fields, lists and text."""
    theme = random_theme(rng)
    font_size = int(rng.integers(12, 16))
    elements = build_layout(rng, width, height, font_size, get_font(font_size))
    return Screen(width, height, theme, font_size, elements)


def _text(draw: ImageDraw.ImageDraw, box: Box, text: str, font: Font, fill: tuple[int, int, int], centre: bool) -> None:
    x0, y0, x1, y1 = box
    width = draw.textlength(text, font=font)
    x = (x0 + x1 - width) / 2 if centre else x0 + 6
    draw.text((x, (y0 + y1) / 2), text, font=font, fill=fill, anchor="lm")


class Renderer:
    """Draws a Screen in a given UIState; the static layer is drawn once per screen and reused."""

    def __init__(self, screen: Screen) -> None:
        self.screen = screen
        self.font = get_font(screen.font_size)
        self.bold = get_font(screen.font_size, bold=True)
        self.base = self._draw_static()

    def _draw_static(self) -> Image.Image:
        s, th = self.screen, self.screen.theme
        image = Image.new("RGB", (s.width, s.height), th.desktop)
        draw = ImageDraw.Draw(image)
        for e in s.elements:
            if e.kind == "window":
                draw.rectangle(e.box, fill=th.window, outline=th.border)
            elif e.kind == "title":
                draw.rectangle(e.box, fill=th.title_bg)
                _text(draw, e.box, e.label, self.bold, th.title_fg, centre=False)
            elif e.kind == "menubar":
                draw.rectangle(e.box, fill=th.menu_bg)
            elif e.kind == "menu":
                _text(draw, e.box, e.label, self.font, th.text, centre=True)
            elif e.kind in ("label", "text"):
                _text(draw, e.box, e.label, self.font, th.muted if e.kind == "text" else th.text, centre=False)
            elif e.kind == "button":
                self._button(draw, e, pressed=False)
            elif e.kind in ("field", "list"):
                draw.rectangle(e.box, fill=th.field_bg, outline=th.border)
            elif e.kind == "list_item":
                _text(draw, e.box, e.label, self.font, th.text, centre=False)
            elif e.kind == "status":
                draw.line((e.box[0], e.box[1], e.box[2], e.box[1]), fill=th.border)
        return image

    def _button(self, draw: ImageDraw.ImageDraw, e: Element, pressed: bool) -> None:
        th = self.screen.theme
        fill = th.button_pressed if pressed else th.button
        draw.rounded_rectangle(e.box, radius=4, fill=fill, outline=th.border)
        _text(draw, e.box, e.label, self.font, th.button_fg, centre=True)

    def render(self, state: UIState) -> np.ndarray:
        """The frame for `state` as H x W x 3 uint8."""
        image = self.base.copy()
        draw = ImageDraw.Draw(image)
        s, th = self.screen, self.screen.theme
        for list_id, item_id in state.selected.items():
            item = s.element(item_id)
            inner = (s.element(list_id).box[0] + 1, item.box[1], s.element(list_id).box[2] - 1, item.box[3])
            draw.rectangle(inner, fill=th.select_bg)
            _text(draw, item.box, item.label, self.font, th.select_fg, centre=False)
        for field_id, text in state.texts.items():
            box = s.element(field_id).box
            _text(draw, box, text, self.font, th.text, centre=False)
        if state.focused is not None:
            self._focus(draw, state)
        if state.pressed is not None:
            self._button(draw, s.element(state.pressed), pressed=True)
        for window_id, message in state.status.items():
            status = next(e for e in s.elements if e.kind == "status" and e.window == window_id)
            _text(draw, status.box, message, self.font, th.muted, centre=False)
        if state.open_menu is not None:
            self._dropdown(draw, state)
        return np.asarray(image)

    def _focus(self, draw: ImageDraw.ImageDraw, state: UIState) -> None:
        th, e = self.screen.theme, self.screen.element(state.focused or 0)
        draw.rectangle(e.box, outline=th.accent, width=2)
        text = state.texts.get(e.id, "")
        caret_x = e.box[0] + 6 + draw.textlength(text, font=self.font) + 1
        draw.line((caret_x, e.box[1] + 5, caret_x, e.box[3] - 5), fill=th.text, width=1)

    def _dropdown(self, draw: ImageDraw.ImageDraw, state: UIState) -> None:
        s, th = self.screen, self.screen.theme
        menu = s.element(state.open_menu or 0)
        draw.rectangle(menu.box, fill=th.select_bg)
        _text(draw, menu.box, menu.label, self.font, th.select_fg, centre=True)
        items = s.children(menu)
        x0, y0 = items[0].box[0], items[0].box[1]
        x1, y1 = items[-1].box[2], items[-1].box[3]
        draw.rectangle((x0 - 1, y0 - 3, x1 + 1, y1 + 3), fill=th.menu_bg, outline=th.border)
        for item in items:
            hovered = item.id == state.hover
            if hovered:
                draw.rectangle(item.box, fill=th.select_bg)
            _text(draw, item.box, item.label, self.font, th.select_fg if hovered else th.text, centre=False)


__all__ = ["Element", "Renderer", "Screen", "UIState", "get_font", "make_screen"]
