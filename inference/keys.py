"""The fixed key vocabulary of episode format v1.

A key is either one printable character as itself (`"a"`, `"A"`, `" "`) or one of `NAMED_KEYS`.
Left/right variants of modifiers are folded into one name at capture time (`shift_r` -> `shift`).
"""

from __future__ import annotations

from typing import Any

PRINTABLE_ASCII: tuple[str, ...] = tuple(chr(code) for code in range(32, 127))

NAMED_KEYS: tuple[str, ...] = (
    "enter", "tab", "backspace", "escape", "delete", "insert",
    "home", "end", "page_up", "page_down", "left", "right", "up", "down",
    "shift", "ctrl", "alt", "cmd", "alt_gr", "caps_lock", "num_lock", "scroll_lock",
    "print_screen", "pause", "menu",
    "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10", "f11", "f12",
)  # fmt: skip

MODIFIER_KEYS: frozenset[str] = frozenset({"shift", "ctrl", "alt", "cmd", "alt_gr"})

_NAMED = frozenset(NAMED_KEYS)


def is_valid_key(key: Any) -> bool:
    """A single printable character (any script) or a name from NAMED_KEYS."""
    if not isinstance(key, str) or not key:
        return False
    if len(key) == 1:
        return key.isprintable()
    return key in _NAMED
