"""The IDM's preprocessing, shared by training-data generation and `ghostpilot label` (numpy + Pillow only).

Every frame is reduced once to a gray image; what the networks see is cut from it:
- a low-resolution global view (GLOBAL_W x GLOBAL_H) and its difference to the previous view, where the
  cursor network finds the pointer (a 16-40 px sprite is 3-10 px there);
- a half-resolution difference, where screen changes are detected;
- a full-resolution crop around that coarse position, where the refine network places the hotspot to a pixel;
- full-resolution crops at the biggest screen change (typed glyphs are 12-15 px high and unreadable at low
  resolution), which the change network classifies (a key, a press reaction, nothing).
Training applies `degrade` (blur, noise, gain) to rendered frames so that decoded mp4 input looks familiar.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

GLOBAL_W, GLOBAL_H = 320, 180
STRIDE = 4  # global pixels per cursor-heatmap cell
HEAT_W, HEAT_H = GLOBAL_W // STRIDE, GLOBAL_H // STRIDE
REFINE = 48  # full-resolution crop (px) the refine network sees around the coarse pointer
CHANGE = 32  # full-resolution crop (px) the change network sees at the change
VIEW_CHANGE = 10  # a global-view pixel changed by more than this (of 255) counts as a screen change
PIXEL_CHANGE = 40  # a full-resolution pixel inside a changed area counts when it changed by more than this
CURSOR_MASK = (-22, -24, 40, 46)  # around a moving pointer's hotspot: its own pixels are not a screen change
N_CHANGE_FEATURES = 6


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """H x W x 3 uint8 RGB -> H x W uint8 luma (ITU-R 601-2, as a decoder's gray output)."""
    return np.asarray(Image.fromarray(np.ascontiguousarray(rgb[..., :3])).convert("L"))


def global_view(gray: np.ndarray) -> np.ndarray:
    """The whole screen at GLOBAL_W x GLOBAL_H (area averaging), uint8; any aspect ratio is stretched."""
    return np.asarray(Image.fromarray(gray).resize((GLOBAL_W, GLOBAL_H), Image.Resampling.BOX))


def view_scale(width: int, height: int) -> tuple[float, float]:
    """Screen pixels per global-view pixel, per axis."""
    return width / GLOBAL_W, height / GLOBAL_H


def cursor_input(view: np.ndarray, prev_view: np.ndarray) -> np.ndarray:
    """(2, GLOBAL_H, GLOBAL_W) float32: the view and its signed change since the previous tick."""
    v = view.astype(np.float32) / 255.0
    return np.stack([v, v - prev_view.astype(np.float32) / 255.0])


def _view_delta(view: np.ndarray, prev_view: np.ndarray) -> np.ndarray:
    return np.abs(view.astype(np.int16) - prev_view.astype(np.int16)) > VIEW_CHANGE


def pointer_still(view: np.ndarray, prev_view: np.ndarray, x: float, y: float, sx: float, sy: float) -> bool:
    """Nothing changed where the pointer's sprite was, so it has not moved (a moving sprite changes pixels)."""
    x0, y0 = max(int((x + CURSOR_MASK[0]) / sx), 0), max(int((y + CURSOR_MASK[1]) / sy), 0)
    x1, y1 = max(int((x + CURSOR_MASK[2]) / sx) + 1, 0), max(int((y + CURSOR_MASK[3]) / sy) + 1, 0)
    return not _view_delta(view[y0:y1, x0:x1], prev_view[y0:y1, x0:x1]).any()


def changed_cells(view: np.ndarray, prev_view: np.ndarray) -> np.ndarray:
    """(HEAT_H, HEAT_W) bool: heatmap cells where the view changed, grown by one cell (a pointer that moved
    shows up where it arrived)."""
    delta: np.ndarray = np.asarray(
        _view_delta(view, prev_view).reshape(HEAT_H, STRIDE, HEAT_W, STRIDE).any(axis=(1, 3))
    )
    grown = delta.copy()
    grown[1:] |= delta[:-1]
    grown[:-1] |= delta[1:]
    grown[:, 1:] |= grown[:, :-1].copy()
    grown[:, :-1] |= grown[:, 1:].copy()
    return grown


def crop(gray: np.ndarray, cx: float, cy: float, size: int) -> np.ndarray:
    """A size x size crop centred at (cx, cy), zero outside the screen; uint8."""
    out = np.zeros((size, size), np.uint8)
    x0, y0 = int(round(cx)) - size // 2, int(round(cy)) - size // 2
    fx0, fy0 = max(x0, 0), max(y0, 0)
    fx1, fy1 = min(x0 + size, gray.shape[1]), min(y0 + size, gray.shape[0])
    if fx0 < fx1 and fy0 < fy1:
        out[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0] = gray[fy0:fy1, fx0:fx1]
    return out


def refine_origin(cx: float, cy: float) -> tuple[int, int]:
    """Screen position of the refine crop's top-left pixel for a crop centred at (cx, cy)."""
    return int(round(cx)) - REFINE // 2, int(round(cy)) - REFINE // 2


@dataclass(frozen=True)
class Change:
    """Where the screen changed between two ticks (full-resolution box, x1/y1 exclusive) and how much."""

    x0: int
    y0: int
    x1: int
    y1: int
    pixels: int

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2


def _cursor_mask(shape: tuple[int, int], pointers: list[tuple[float, float]]) -> np.ndarray:
    mask = np.ones(shape, bool)
    for x, y in pointers:
        x0, y0 = max(int(x) + CURSOR_MASK[0], 0), max(int(y) + CURSOR_MASK[1], 0)
        mask[y0 : max(int(y) + CURSOR_MASK[3], 0), x0 : max(int(x) + CURSOR_MASK[2], 0)] = False
    return mask


def half(gray: np.ndarray) -> np.ndarray:
    """2x2 block means: noise averages out, a 1-px caret or a thin glyph still changes a block by ~1/2 of
    its contrast (on the 4-6x smaller global view it can vanish under the threshold)."""
    return np.asarray(Image.fromarray(gray).reduce(2))


def find_change(
    prev: np.ndarray,
    gray: np.ndarray,
    moving_pointers: list[tuple[float, float]],
    halves: tuple[np.ndarray, np.ndarray] | None = None,
) -> Change | None:
    """The box around what changed on screen, ignoring the pointer's own pixels where it moved.

    Detection runs at half resolution (2x2 means: robust to codec noise), the box is then tightened at full
    resolution inside the detected area. None when nothing but the pointer changed. `halves`: `half` of
    prev and gray, when the caller already has them.
    """
    height, width = gray.shape
    half_prev, half_gray = halves or (half(prev), half(gray))
    delta = _view_delta(half_gray, half_prev)
    if moving_pointers:
        delta &= _view_mask(delta.shape, [(x / 2, y / 2) for x, y in moving_pointers], 2.0, 2.0)
    rows, cols = np.flatnonzero(delta.any(1)), np.flatnonzero(delta.any(0))
    if not len(rows):
        return None
    x0, x1 = max(int(cols[0]) * 2 - 2, 0), min((int(cols[-1]) + 1) * 2 + 2, width)
    y0, y1 = max(int(rows[0]) * 2 - 2, 0), min((int(rows[-1]) + 1) * 2 + 2, height)
    full = np.abs(gray[y0:y1, x0:x1].astype(np.int16) - prev[y0:y1, x0:x1].astype(np.int16)) > PIXEL_CHANGE
    if moving_pointers:
        full &= _cursor_mask((height, width), moving_pointers)[y0:y1, x0:x1]
    fr, fc = np.flatnonzero(full.any(1)), np.flatnonzero(full.any(0))
    if not len(fr):
        return None
    return Change(x0 + int(fc[0]), y0 + int(fr[0]), x0 + int(fc[-1]) + 1, y0 + int(fr[-1]) + 1, int(full.sum()))


def _view_mask(shape: tuple[int, int], view_pointers: list[tuple[float, float]], sx: float, sy: float) -> np.ndarray:
    """The cursor mask in global-view pixels (the sprite's box scaled down, one pixel of margin)."""
    mask = np.ones(shape, bool)
    for x, y in view_pointers:
        x0, y0 = int(x + CURSOR_MASK[0] / sx) - 1, int(y + CURSOR_MASK[1] / sy) - 1
        x1, y1 = int(x + CURSOR_MASK[2] / sx) + 2, int(y + CURSOR_MASK[3] / sy) + 2
        mask[max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)] = False
    return mask


def change_input(
    prev: np.ndarray, gray: np.ndarray, nxt: np.ndarray, change: Change, pointer: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """What the change network sees: crops of the previous, this and the next tick at the change's centre
    plus their difference, (4, CHANGE, CHANGE) float32, and N_CHANGE_FEATURES numbers about the change."""
    cx, cy = change.centre
    a, b, c = (crop(g, cx, cy, CHANGE).astype(np.float32) / 255.0 for g in (prev, gray, nxt))
    image = np.stack([a, b, c, b - a])
    numbers = np.array(
        [
            (change.x1 - change.x0) / 100.0,
            (change.y1 - change.y0) / 100.0,
            np.log1p(change.pixels) / 10.0,
            np.clip((cx - pointer[0]) / 200.0, -5, 5),
            np.clip((cy - pointer[1]) / 200.0, -5, 5),
            float(np.abs(b - a).mean()),
        ],
        np.float32,
    )
    return image, numbers


_NOISE: list[np.ndarray] = []


def _noise_bank() -> np.ndarray:
    """One fixed table of unit Gaussian noise (int8, x16); frames take random windows of it (fast)."""
    if not _NOISE:
        _NOISE.append((np.random.default_rng(0).standard_normal((1200, 2048)) * 16).clip(-127, 127).astype(np.int8))
    return _NOISE[0]


def degrade(gray: np.ndarray, rng: np.random.Generator, blur: float, gain: float) -> np.ndarray:
    """Codec-like damage for training: a slight 3x3 blur (per recording), gain, and per-frame noise (gray)."""
    image = Image.fromarray(gray)
    if blur > 0.05:
        side, centre = blur, 1.0 / max(blur, 0.05)
        weights = [side * side, side, side * side, side, centre, side, side * side, side, side * side]
        image = image.filter(ImageFilter.Kernel((3, 3), weights, scale=sum(weights)))
    height, width = gray.shape
    bank = _noise_bank()
    y0, x0 = int(rng.integers(0, bank.shape[0] - height + 1)), int(rng.integers(0, bank.shape[1] - width + 1))
    sigma = float(rng.uniform(0.0, 2.5))
    noise = bank[y0 : y0 + height, x0 : x0 + width].astype(np.float32) * (sigma / 16.0)
    return np.clip(np.asarray(image).astype(np.float32) * gain + noise + 0.5, 0, 255).astype(np.uint8)
