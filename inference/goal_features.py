"""Goal inputs of the forward-dynamics model: the goal's embedding and the text located on screen.

numpy only, shared by the live session (runtime) and training (dataset), so the model sees the same features
either way. A goal ("Click the Save button.") is embedded once; each piece of screen text (from OCR at run
time, from the synthetic layout in training) becomes one token: its embedding, where it is, and how well it
matches the goal, by meaning (cosine of the embeddings) and by words (the text's words appear in the goal).
The model then points at the token the goal names (a pointer head over text slots) and learns where to click
relative to it (on a button's label, or in the field right of a "Name:" label).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

EMBED_DIM = 384  # all-MiniLM-L6-v2
TEXT_SLOTS = 16  # screen texts given to the model: the best matches to the goal (or the nearest, without one)
GEOMETRY = 8  # centre x/W, centre y/H, width/W, height/H, cosine, word match, rank / TEXT_SLOTS, valid
TEXT_FEATURES = EMBED_DIM + GEOMETRY
GOAL_FEATURES = EMBED_DIM + 1  # embedding, valid

_WORD = re.compile(r"[a-z0-9]+(?:['.@-][a-z0-9]+)*")
_STOP = frozenset({"the", "a", "an", "in", "into", "on", "to", "and", "then", "of", "for", "it", "this", "menu"})


@dataclass(frozen=True)
class ScreenText:
    """One piece of text on screen (an OCR box): its text and box (x0, y0, x1, y1) in screen pixels."""

    text: str
    box: tuple[float, float, float, float]
    confidence: float = 1.0

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2)


def as_screen_texts(boxes: Sequence[Any]) -> list[ScreenText]:
    """OCR boxes (anything with text, box and confidence, e.g. inference.goals.ocr.TextBox) -> ScreenTexts."""
    return [ScreenText(b.text, (b.box[0], b.box[1], b.box[2], b.box[3]), float(b.confidence)) for b in boxes]


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def word_match(goal: str, text: str) -> float:
    """Share of the text's content words that the goal names (1.0: "Save" in "Click the Save button.")."""
    text_words = [w for w in words(text) if w not in _STOP]
    if not text_words:
        return 0.0
    goal_words = set(words(goal))
    return sum(w in goal_words for w in text_words) / len(text_words)


def split_words(item: ScreenText) -> list[ScreenText]:
    """A short box of 2-4 words (OCR often reads a menu bar "File Edit View" as one box) -> the box itself and
    one box per word, x split in proportion to character counts (a fair guess for proportional fonts)."""
    parts = item.text.split()
    if not 2 <= len(parts) <= 4:
        return [item]
    x0, y0, x1, y1 = item.box
    per_char = (x1 - x0) / max(len(item.text), 1)
    out, start = [item], 0
    for part in parts:
        begin = item.text.index(part, start)
        start = begin + len(part)
        out.append(ScreenText(part, (x0 + begin * per_char, y0, x0 + start * per_char, y1), item.confidence))
    return out


def goal_input(goal_embedding: np.ndarray | None) -> np.ndarray:
    """(GOAL_FEATURES,) float32: the goal's embedding and 1, or zeros without a goal."""
    out = np.zeros(GOAL_FEATURES, np.float32)
    if goal_embedding is not None:
        out[:EMBED_DIM], out[EMBED_DIM] = goal_embedding, 1.0
    return out


def rank_texts(
    texts: Sequence[ScreenText],
    embeddings: np.ndarray,
    goal: str | None,
    goal_embedding: np.ndarray | None,
    pointer: tuple[float, float],
) -> tuple[list[int], np.ndarray, np.ndarray]:
    """Indices of the texts that fill the slots, best first, and every text's (cosine, word match).

    With a goal: by word match + cosine; without one: the nearest to the pointer.
    """
    n = len(texts)
    cosine = embeddings @ goal_embedding if goal_embedding is not None and n else np.zeros(n, np.float32)
    match = np.array([word_match(goal, t.text) for t in texts], np.float32) if goal else np.zeros(n, np.float32)
    if goal_embedding is not None:
        order = np.argsort(-(match + cosine), kind="stable")
    else:
        centres = np.array([t.centre for t in texts], np.float64).reshape(-1, 2)
        order = np.argsort(np.hypot(centres[:, 0] - pointer[0], centres[:, 1] - pointer[1]), kind="stable")
    return [int(i) for i in order[:TEXT_SLOTS]], cosine.astype(np.float32), match


def text_input(
    texts: Sequence[ScreenText],
    embeddings: np.ndarray,
    goal: str | None,
    goal_embedding: np.ndarray | None,
    pointer: tuple[float, float],
    width: int,
    height: int,
    slot_order: np.ndarray | None = None,
) -> tuple[np.ndarray, list[int]]:
    """(TEXT_SLOTS, TEXT_FEATURES) float32 slots and which text fills each slot (-1: empty).

    `slot_order` permutes the slots (training shuffles them so the model cannot rely on slot positions).
    """
    chosen, cosine, match = rank_texts(texts, embeddings, goal, goal_embedding, pointer)
    out = np.zeros((TEXT_SLOTS, TEXT_FEATURES), np.float32)
    filled = [-1] * TEXT_SLOTS
    slots = slot_order if slot_order is not None else np.arange(TEXT_SLOTS)
    for rank, index in enumerate(chosen):
        slot = int(slots[rank])
        x0, y0, x1, y1 = texts[index].box
        out[slot, :EMBED_DIM] = embeddings[index]
        out[slot, EMBED_DIM:] = (
            (x0 + x1) / 2 / width, (y0 + y1) / 2 / height, (x1 - x0) / width, (y1 - y0) / height,
            cosine[index], match[index], rank / TEXT_SLOTS, 1.0,
        )  # fmt: skip
        filled[slot] = index
    return out, filled


def quoted(goal: str) -> list[str]:
    """Text the goal asks to type: `type "hello world" in the search box` -> ["hello world"]."""
    return [a or b or c for a, b, c in re.findall(r"\"([^\"]+)\"|“([^”]+)”|(?<![\w])'([^']+)'(?![\w])", goal)]


@dataclass(frozen=True)
class TextSnapshot:
    """What the screen-text worker publishes: the text on screen at time t with its embeddings, and the goal
    (with its embedding) it was made for. Immutable, so the live session can hold it without locks."""

    t: float
    texts: tuple[ScreenText, ...]
    embeddings: np.ndarray  # (len(texts), EMBED_DIM) float32, L2-normalised
    goal: str | None = None
    goal_embedding: np.ndarray | None = None  # (EMBED_DIM,)


def snapshot_from(
    t: float, texts: Sequence[ScreenText], goal: str | None, embed: Callable[[list[str]], np.ndarray]
) -> TextSnapshot:
    """Split and embed OCR'd texts and the goal into a snapshot (one embedding call for all of them)."""
    items = tuple(w for text in texts for w in split_words(text))
    strings = [w.text for w in items] + ([goal] if goal else [])
    vectors = embed(strings) if strings else np.zeros((0, EMBED_DIM), np.float32)
    vectors = np.asarray(vectors, np.float32).reshape(-1, EMBED_DIM)
    goal_vector = vectors[-1] if goal else None
    return TextSnapshot(t, items, vectors[: len(items)], goal, goal_vector)
