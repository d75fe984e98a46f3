"""Extra change-network samples for key identity: one text field, one keystroke, rendered in a millisecond.

Whole synthetic episodes give a few dozen keystrokes each, too few to learn ~95 glyphs. Here a single field
is drawn by the episode renderer itself (same fonts, themes, caret), with a string before and after one
keystroke (a character, or a backspace), the pointer sometimes resting nearby, and the same codec damage.
Caret blinks (the caret vanishing or appearing with nothing typed) are added as "none": real text fields
blink, synthetic ones do not.
"""

from __future__ import annotations

import numpy as np

from inference.idm import preprocess as pp
from inference.idm.classes import NONE, key_class
from inference.idm.cursor import CursorStyle, composite
from inference.keys import PRINTABLE_ASCII
from inference.synthetic.layout import Element, random_theme
from inference.synthetic.screens import Renderer, Screen, UIState, get_font

FIELD_W, FIELD_H, PAD = 360, 30, 40


def _field_screen(rng: np.random.Generator) -> tuple[Renderer, Element]:
    font_size = int(rng.integers(12, 16))
    height = FIELD_H + int(rng.integers(-4, 8))
    box = (PAD, PAD, PAD + FIELD_W, PAD + height)
    field = Element(0, "field", "", box, 0)
    screen = Screen(FIELD_W + 2 * PAD, height + 2 * PAD, random_theme(rng), font_size, [field])
    return Renderer(screen), field


def _text(rng: np.random.Generator) -> str:
    n = int(rng.integers(0, 24))
    return "".join(PRINTABLE_ASCII[int(i)] for i in rng.integers(0, len(PRINTABLE_ASCII), n))


def _erase_caret(frame: np.ndarray, renderer: Renderer, field: Element, text: str) -> np.ndarray:
    """The same frame with the caret in its blink-off phase."""
    from PIL import Image, ImageDraw

    image = Image.fromarray(frame)
    draw = ImageDraw.Draw(image)
    x = field.box[0] + 6 + draw.textlength(text, font=get_font(renderer.screen.font_size)) + 1
    draw.line((x, field.box[1] + 5, x, field.box[3] - 5), fill=renderer.screen.theme.field_bg, width=1)
    return np.asarray(image)


def keystroke_sample(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, int] | None:
    """(3 x CHANGE x CHANGE uint8 crops: previous, current, next; numbers; class) or None if nothing changed."""
    renderer, field = _field_screen(rng)
    before = _text(rng)
    kind = rng.random()
    if kind < 0.1 and before:
        after, cls = before[:-1], key_class("backspace")
    elif kind < 0.18:
        after, cls = before, NONE
    else:
        char = PRINTABLE_ASCII[int(rng.integers(len(PRINTABLE_ASCII)))]
        after, cls = before + char, key_class(char)
    prev = renderer.render(UIState(focused=0, texts={0: before}))
    cur = renderer.render(UIState(focused=0, texts={0: after}))
    if cls == NONE:  # a caret blink: it vanishes or comes back
        cur = _erase_caret(cur, renderer, field, after)
        prev, cur = (cur, prev) if rng.random() < 0.5 else (prev, cur)
    frames = [prev, cur, cur]
    pointer = (float(rng.uniform(0, prev.shape[1])), float(rng.uniform(0, prev.shape[0])))
    if rng.random() < 0.6:
        style = CursorStyle(str(rng.choice(["ibeam", "arrow"])), float(rng.uniform(0.9, 2.0)))
        frames = [composite(f, *pointer, style) for f in frames]
    blur, gain = float(rng.uniform(0, 0.8)) if rng.random() < 0.7 else 0.0, float(rng.uniform(0.9, 1.08))
    gray = [pp.degrade(pp.to_gray(f), rng, blur, gain) for f in frames]
    change = _box(gray[0], gray[1])
    if change is None:
        return None
    image, numbers = pp.change_input(gray[0], gray[1], gray[2], change, pointer)
    return (np.clip(image[:3], 0, 1) * 255 + 0.5).astype(np.uint8), numbers, int(cls if cls is not None else NONE)


def _box(prev: np.ndarray, cur: np.ndarray) -> pp.Change | None:
    """find_change's full-resolution stage (a lone field has nothing else changing)."""
    diff = np.abs(cur.astype(np.int16) - prev.astype(np.int16)) > pp.PIXEL_CHANGE
    rows, cols = np.flatnonzero(diff.any(1)), np.flatnonzero(diff.any(0))
    if not len(rows):
        return None
    return pp.Change(int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1, int(diff.sum()))


def keystroke_samples(count: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`count` samples as arrays (images, numbers, classes)."""
    rng = np.random.default_rng(seed)
    images: list[np.ndarray] = []
    numbers: list[np.ndarray] = []
    classes: list[int] = []
    while len(classes) < count:
        sample = keystroke_sample(rng)
        if sample is not None:
            images.append(sample[0])
            numbers.append(sample[1])
            classes.append(sample[2])
    return np.stack(images), np.stack(numbers), np.array(classes, np.int64)
