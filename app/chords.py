"""Chords for the global keys: their names ("ctrl+alt+g", "alt+]"), X keysyms and masks, and which stay grabbed.

Pure parsing, no X connection: app/hotkeys.py grabs what this module parses, and app/settings.py validates the
user's bindings with it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

from inference.errors import GhostpilotError

# Action name -> chord. The settings module overrides these; actions in ALWAYS_ACTIONS stay grabbed for the
# grabber's lifetime, those in GOAL_ACTIONS only between goal_keys(True) and goal_keys(False) (while a goal is
# set), the others only between show() and hide() (while a ghost shows).
DEFAULT_BINDINGS: dict[str, str] = {
    "pause": "ctrl+alt+g",
    "accept": "tab",
    "accept_step": "ctrl+right",
    "next_alternative": "alt+bracketright",
    "previous_alternative": "alt+bracketleft",
    "dismiss": "escape",
    "goal": "ctrl+space",
    "clear_goal": "ctrl+shift+space",
}
ALWAYS_ACTIONS: frozenset[str] = frozenset({"pause", "goal"})
GOAL_ACTIONS: frozenset[str] = frozenset({"clear_goal"})

MODIFIER_ORDER = ("ctrl", "alt", "shift", "super")
_MODIFIER_NAMES = {
    "ctrl": "ctrl", "control": "ctrl", "alt": "alt", "mod1": "alt", "shift": "shift",
    "super": "super", "cmd": "super", "win": "super", "meta": "super", "mod4": "super",
}  # fmt: skip
_MODIFIER_MASKS = {"shift": 1 << 0, "ctrl": 1 << 2, "alt": 1 << 3, "super": 1 << 6}  # X ShiftMask.. Mod4Mask
LOCK_MASK = 1 << 1
# Friendly names and the episode format's names -> X keysym names
_KEY_ALIASES = {
    "esc": "Escape", "escape": "Escape", "enter": "Return", "return": "Return", "tab": "Tab", "space": "space",
    "backspace": "BackSpace", "delete": "Delete", "del": "Delete", "insert": "Insert", "home": "Home",
    "end": "End", "page_up": "Prior", "pageup": "Prior", "page_down": "Next", "pagedown": "Next",
    "left": "Left", "right": "Right", "up": "Up", "down": "Down", "menu": "Menu", "pause": "Pause",
    "print_screen": "Print", "print": "Print",
}  # fmt: skip
BINDINGS_HINT = "use names like tab, escape, ctrl+right, alt+bracketright, alt+], ctrl+alt+g"


@dataclass(frozen=True)
class Chord:
    """One key with its exact modifiers; `str()` gives the canonical form ("ctrl+alt+g")."""

    modifiers: frozenset[str]
    key: str  # X keysym name: "Tab", "bracketright", "g"
    keysym: int

    @property
    def mask(self) -> int:
        """The X modifier mask of `modifiers` (without the lock variants)."""
        return sum(_MODIFIER_MASKS[m] for m in self.modifiers)

    def __str__(self) -> str:
        return "+".join([*(m for m in MODIFIER_ORDER if m in self.modifiers), self.key.lower()])


@functools.cache
def _keysym_tables() -> tuple[dict[str, tuple[str, int]], dict[int, str]]:
    """Every keysym python-xlib knows by default (latin1 + misc): by lowercased name, and names by value."""
    from Xlib import XK

    by_lower: dict[str, tuple[str, int]] = {}
    names: dict[int, str] = {}
    for attr in sorted(dir(XK)):
        if attr.startswith("XK_"):
            name, keysym = attr[3:], int(getattr(XK, attr))
            lower = name.lower()
            if lower not in by_lower or name == lower:  # "a" wins over "A", "eacute" over "Eacute"
                by_lower[lower] = (name, keysym)
            names.setdefault(keysym, name)
    return by_lower, names


def _parse_key(token: str, text: str) -> tuple[str, int]:
    """A key token -> (keysym name, keysym); single characters stand for themselves ("]" -> bracketright)."""
    by_lower, names = _keysym_tables()
    if len(token) == 1 and token.isprintable():
        keysym = ord(token) if ord(token) < 0x100 else 0x1000000 + ord(token)
        return names.get(keysym, f"U{ord(token):04X}"), keysym
    found = by_lower.get(_KEY_ALIASES.get(token, token).lower())
    if found is None:
        raise GhostpilotError(f"unknown key {token!r} in hotkey {text!r}", BINDINGS_HINT)
    return found


def parse_chord(text: str) -> Chord:
    """A chord from text like ctrl+right, alt+], Escape (case-insensitive); else a one-line GhostpilotError."""
    if not isinstance(text, str) or not text.strip():
        raise GhostpilotError(f"empty hotkey {text!r}", BINDINGS_HINT)
    raw = text.strip().lower()
    if raw == "+" or raw.endswith("++"):  # the plus key itself: "+", "ctrl++"
        head, key_token = raw[:-2], "+"
        parts = head.split("+") if head else []
    else:
        *parts, key_token = raw.split("+")
    modifiers: set[str] = set()
    for part in parts:
        modifier = _MODIFIER_NAMES.get(part.strip())
        if modifier is None:
            if part.strip() in _KEY_ALIASES or len(part.strip()) == 1:
                raise GhostpilotError(f"hotkey {text!r} has more than one key", BINDINGS_HINT)
            raise GhostpilotError(f"unknown modifier {part!r} in hotkey {text!r}", BINDINGS_HINT)
        if modifier in modifiers:
            raise GhostpilotError(f"modifier {modifier!r} repeated in hotkey {text!r}", BINDINGS_HINT)
        modifiers.add(modifier)
    key_token = key_token.strip()
    if not key_token:
        raise GhostpilotError(f"hotkey {text!r} has no key", BINDINGS_HINT)
    if key_token in _MODIFIER_NAMES:
        raise GhostpilotError(f"hotkey {text!r} is only modifiers", BINDINGS_HINT)
    name, keysym = _parse_key(key_token, text)
    return Chord(frozenset(modifiers), name, keysym)


def parse_bindings(bindings: Mapping[str, str]) -> dict[str, Chord]:
    """Action -> chord string, validated: every chord parses and no two actions share one."""
    chords: dict[str, Chord] = {}
    owners: dict[tuple[frozenset[str], int], str] = {}
    for action, text in bindings.items():
        chord = parse_chord(text)
        other = owners.setdefault((chord.modifiers, chord.keysym), action)
        if other != action:
            raise GhostpilotError(f"hotkey {chord} is bound to both {other!r} and {action!r}", BINDINGS_HINT)
        chords[action] = chord
    return chords


Groups = tuple[dict[str, Chord], dict[str, Chord], dict[str, Chord]]


def split_bindings(chords: Mapping[str, Chord]) -> Groups:
    """(always, while_visible, while_goal): pause and the goal prompt stay grabbed, clear-goal only while a
    goal is set, the ghost keys only while a ghost shows."""
    always = {a: c for a, c in chords.items() if a in ALWAYS_ACTIONS}
    goal = {a: c for a, c in chords.items() if a in GOAL_ACTIONS}
    return always, {a: c for a, c in chords.items() if a not in ALWAYS_ACTIONS | GOAL_ACTIONS}, goal
