"""Pointer sprites composited into synthetic frames, so the IDM learns to find the cursor as recordings show it.

The synthetic generator never draws the pointer; real screen recordings do. Sprites vary in shape (arrow,
I-beam, hand, X11's default cross), size and colour so the model cannot learn one sprite.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

SHAPES = ("arrow", "ibeam", "hand", "cross")

_ARROW = [(0, 0), (0, 16), (4, 12), (7, 19), (9, 18), (6, 11), (11, 11)]
_HAND = [(5, 0), (7, 0), (8, 1), (8, 7), (13, 8), (14, 10), (14, 16), (12, 19), (4, 19), (0, 12), (1, 10), (4, 12)]


@dataclass(frozen=True)
class CursorStyle:
    """One sprite: shape, scale (1 = 16-20 px tall), fill and outline colours."""

    shape: str = "arrow"
    scale: float = 1.0
    fill: tuple[int, int, int] = (255, 255, 255)
    outline: tuple[int, int, int] = (0, 0, 0)


@dataclass(frozen=True)
class Sprite:
    """RGB pixels, alpha in [0, 1], and the hotspot (the pixel the pointer position refers to)."""

    rgb: np.ndarray  # (h, w, 3) uint8
    alpha: np.ndarray  # (h, w, 1) float32
    hot_x: int
    hot_y: int


def random_style(rng: np.random.Generator) -> CursorStyle:
    """Mostly white-on-black arrows as on most desktops, with enough variety to generalize."""
    shape = str(rng.choice(SHAPES, p=[0.55, 0.2, 0.15, 0.1]))
    dark = rng.random() < 0.25
    fill, outline = ((0, 0, 0), (255, 255, 255)) if dark else ((255, 255, 255), (0, 0, 0))
    if rng.random() < 0.1:
        r, g, b = (int(v) for v in rng.integers(0, 256, 3))
        fill = (r, g, b)
    return CursorStyle(shape, float(rng.uniform(0.9, 2.0)), fill, outline)


@lru_cache(maxsize=256)
def sprite(style: CursorStyle) -> Sprite:
    """Draw the sprite at 4x and downsample, so edges are anti-aliased like a real cursor theme's."""
    s = style.scale * 4
    size = int(24 * s) + 8
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    width = max(int(round(s)), 1)
    pad = 2 * width
    hot: tuple[float, float]
    if style.shape in ("arrow", "hand"):
        points = [(pad + x * s, pad + y * s) for x, y in (_ARROW if style.shape == "arrow" else _HAND)]
        draw.polygon(points, fill=(*style.fill, 255), outline=(*style.outline, 255), width=width)
        hot = (pad, pad) if style.shape == "arrow" else (pad + 6 * s, pad)
    elif style.shape == "ibeam":
        cx, top, bottom = pad + 4 * s, pad, pad + 17 * s
        for colour, w in ((style.outline, 3 * width), (style.fill, width)):
            draw.line((cx, top, cx, bottom), fill=(*colour, 255), width=w)
            draw.line((cx - 3 * s, top, cx + 3 * s, top), fill=(*colour, 255), width=w)
            draw.line((cx - 3 * s, bottom, cx + 3 * s, bottom), fill=(*colour, 255), width=w)
        hot = (cx, pad + 8.5 * s)
    else:
        c = pad + 7 * s
        for colour, w in ((style.outline, 4 * width), (style.fill, 2 * width)):
            draw.line((c - 6 * s, c - 6 * s, c + 6 * s, c + 6 * s), fill=(*colour, 255), width=w)
            draw.line((c - 6 * s, c + 6 * s, c + 6 * s, c - 6 * s), fill=(*colour, 255), width=w)
        hot = (c, c)
    small = image.resize((size // 4, size // 4), Image.Resampling.BOX)
    pixels = np.asarray(small)
    return Sprite(pixels[..., :3].copy(), pixels[..., 3:4].astype(np.float32) / 255.0, int(hot[0] / 4), int(hot[1] / 4))


def composite(frame: np.ndarray, x: float, y: float, style: CursorStyle) -> np.ndarray:
    """A copy of the H x W x 3 frame with the pointer's hotspot at (x, y); parts off screen are clipped."""
    out = frame.copy()
    spr = sprite(style)
    h, w = spr.alpha.shape[:2]
    x0, y0 = int(round(x)) - spr.hot_x, int(round(y)) - spr.hot_y
    fx0, fy0 = max(x0, 0), max(y0, 0)
    fx1, fy1 = min(x0 + w, frame.shape[1]), min(y0 + h, frame.shape[0])
    if fx0 >= fx1 or fy0 >= fy1:
        return out
    sx0, sy0 = fx0 - x0, fy0 - y0
    region = out[fy0:fy1, fx0:fx1].astype(np.float32)
    a = spr.alpha[sy0 : sy0 + fy1 - fy0, sx0 : sx0 + fx1 - fx0]
    rgb = spr.rgb[sy0 : sy0 + fy1 - fy0, sx0 : sx0 + fx1 - fx0].astype(np.float32)
    out[fy0:fy1, fx0:fx1] = (region * (1 - a) + rgb * a + 0.5).astype(np.uint8)
    return out
