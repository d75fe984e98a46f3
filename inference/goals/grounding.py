"""Goal text -> the on-screen text it refers to: a small rule-based parser and a ranker of OCR boxes.

`parse_goal("open the File menu")` finds the verb and the element's name ("File"); `rank_boxes` scores every
OCR line against that name by lexical similarity (robust to OCR slips like "Fomat") and embedding cosine
(paraphrases: "save the file" -> "Save"). Rules, not a model: goals are short imperative sentences.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from inference.errors import GhostpilotError
from inference.goals.ocr import TextBox

VERBS = frozenset(
    [
        "click",
        "press",
        "tap",
        "hit",
        "push",
        "open",
        "choose",
        "select",
        "pick",
        "type",
        "enter",
        "write",
        "fill",
        "go",
        "check",
        "uncheck",
        "tick",
        "toggle",
        "close",
        "show",
        "find",
        "search",
        "switch",
        "expand",
        "submit",
        "save",
        "delete",
        "copy",
        "paste",
        "print",
    ]
)
"""First words read as the action; any other first word leaves `verb` empty and the whole clause the target."""
TYPING_VERBS = frozenset({"type", "enter", "write", "fill"})
CHOOSING_VERBS = frozenset({"select", "choose", "pick"})
KIND_WORDS = frozenset(
    ["button", "menu", "field", "item", "entry", "tab", "link", "icon", "option", "list", "checkbox"]
)
"""Trailing nouns naming the element's kind, not its text: "the File menu" is found by "File"."""
ARTICLES = frozenset({"the", "a", "an", "my", "this", "that"})
_QUOTED = re.compile(r"\"([^\"]+)\"|“([^”]+)”|(?<![\w])'(.+?)'(?![\w])")
_CLAUSES = re.compile(r",?\s+(?:and then|then|and)\s+|;\s*|,\s+then\s+", re.IGNORECASE)
_INTO = re.compile(r"\s(?:into|in|on|to)\s+(?!the form\b)(.+)$", re.IGNORECASE)
_PLACEHOLDER = "\x00{}\x00"


class GoalError(GhostpilotError):
    """A goal that names nothing to act on (empty text)."""


@dataclass(frozen=True)
class Goal:
    """A parsed goal: `target` is the name to look for on screen, `steps` the targets of later clauses."""

    text: str
    verb: str  # lower case; "" when the goal does not start with a known verb
    target: str  # the element's visible name for the first clause, e.g. "Save", "File", "search box"
    quoted: list[str]  # text in quotes, in order: what to type or which item to pick
    kind: str = ""  # "button", "menu", "field", ... when the goal says it
    steps: tuple[str, ...] = ()  # targets of the following clauses ("choose Export" -> "Export")


def _strip_phrase(words: list[str]) -> tuple[str, str]:
    """(name, kind): drop leading articles and a trailing kind noun and punctuation."""
    while words and words[0].lower() in ARTICLES:
        words = words[1:]
    kind = ""
    if len(words) > 1 and words[-1].lower() in KIND_WORDS:
        kind, words = words[-1].lower(), words[:-1]
    return " ".join(words).strip(" .,:;!?"), kind


def _restore(text: str, quoted: list[str]) -> str:
    for index, value in enumerate(quoted):
        text = text.replace(_PLACEHOLDER.format(index), value)
    return text


def _clause_target(clause: str, quoted: list[str]) -> tuple[str, str, str]:
    """(verb, target, kind) of one clause whose quoted parts are placeholders."""
    words = clause.strip(" .!?").split()
    verb = words[0].lower() if words and words[0].lower() in VERBS else ""
    rest = " ".join(words[1:] if verb else words)
    if verb in ("fill",) and ":" in rest:  # "Fill in the form: Name 'Jane', ..." -> the first field's name
        rest = rest.split(":", 1)[1]
        first = re.split(r"\x00\d+\x00", rest)[0]
        return verb, first.strip(" ,"), "field"
    if verb in TYPING_VERBS and (into := _INTO.search(" " + rest)):
        name, kind = _strip_phrase(_restore(into.group(1), quoted).split())
        return verb, name, kind
    placeholders = re.findall(r"\x00(\d+)\x00", rest)
    if verb in CHOOSING_VERBS and placeholders:
        return verb, quoted[int(placeholders[0])], "item"
    name, kind = _strip_phrase(_restore(rest, quoted).split())
    return verb, name, kind


def parse_goal(text: str) -> Goal:
    """Verb, target name, quoted strings and later steps of a goal like `type "hi" in the search box`."""
    if not isinstance(text, str) or not text.strip():
        raise GoalError("the goal is empty", "say what to do, e.g. 'click Save'")
    quoted: list[str] = []

    def hold(match: re.Match[str]) -> str:
        quoted.append(next(g for g in match.groups() if g is not None))
        return _PLACEHOLDER.format(len(quoted) - 1)

    masked = _QUOTED.sub(hold, text.strip())
    clauses = [c for c in _CLAUSES.split(masked) if c.strip()]
    if masked.lower().startswith("fill") and ":" in masked:
        clauses = [masked.rsplit(", then ", 1)[0], *masked.rsplit(", then ", 1)[1:]]
    verb, target, kind = _clause_target(clauses[0], quoted)
    steps = tuple(_clause_target(c, quoted)[1] for c in clauses[1:])
    if not target and quoted:
        target = quoted[0]
    return Goal(text=text, verb=verb, target=target, quoted=quoted, kind=kind, steps=steps)


def normalise(text: str) -> str:
    """Lower case, NFKC (the recogniser's full-width "：" is ":"), surrounding punctuation dropped:
    "Save as...:" -> "save as"."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).lower()).strip(" .:;,!?…*>-")


def lexical_score(target: str, text: str) -> float:
    """1 for the same words, else the best of whole-string similarity and word containment, in [0, 1]."""
    a, b = normalise(target), normalise(text)
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    ratio = difflib.SequenceMatcher(None, a, b).ratio()
    words_a, words_b = set(a.split()), set(b.split())
    contained = len(words_a & words_b) / max(len(words_a | words_b), 1)
    return max(ratio, contained) * 0.95  # never ties an exact match


def rank_boxes(
    goal: Goal,
    boxes: Sequence[TextBox],
    embeddings: np.ndarray,
    target_embedding: np.ndarray | None = None,
    lexical_weight: float = 0.6,
) -> list[tuple[TextBox, float]]:
    """Boxes sorted best first by `lexical_weight * lexical + (1 - lexical_weight) * cosine`.

    `embeddings` (N, 384) are the boxes' texts and `target_embedding` (384,) the goal's target phrase, both
    from TextEncoder (L2-normalised). Without a target embedding the score is lexical only.
    """
    if len(boxes) != len(embeddings):
        raise GoalError(f"{len(boxes)} boxes but {len(embeddings)} embeddings")
    if not boxes:
        return []
    target = goal.target or goal.text
    lexical = np.array([lexical_score(target, box.text) for box in boxes])
    if target_embedding is None:
        scores = lexical
    else:
        cosine = np.asarray(embeddings, np.float32) @ np.asarray(target_embedding, np.float32)
        scores = lexical_weight * lexical + (1.0 - lexical_weight) * cosine
    order = np.argsort(-scores, kind="stable")
    return [(boxes[i], float(scores[i])) for i in order]


__all__ = ["Goal", "GoalError", "lexical_score", "normalise", "parse_goal", "rank_boxes"]
