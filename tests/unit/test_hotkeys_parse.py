"""Hotkey chord parsing: the names settings may use, canonical forms, and one-line errors for the rest."""

from __future__ import annotations

import pytest

pytest.importorskip("Xlib")  # keysym names come from python-xlib (a Linux dependency); no display is opened

from app.hotkeys import ALWAYS_ACTIONS, DEFAULT_BINDINGS, GOAL_ACTIONS, parse_bindings, parse_chord, split_bindings
from inference.errors import GhostpilotError


@pytest.mark.parametrize(
    ("text", "modifiers", "key", "keysym", "canonical"),
    [
        ("tab", set(), "Tab", 0xFF09, "tab"),
        ("Escape", set(), "Escape", 0xFF1B, "escape"),
        ("esc", set(), "Escape", 0xFF1B, "escape"),
        ("ctrl+right", {"ctrl"}, "Right", 0xFF53, "ctrl+right"),
        ("alt+bracketright", {"alt"}, "bracketright", 0x5D, "alt+bracketright"),
        ("alt+]", {"alt"}, "bracketright", 0x5D, "alt+bracketright"),
        ("ALT+[", {"alt"}, "bracketleft", 0x5B, "alt+bracketleft"),
        ("ctrl+alt+g", {"ctrl", "alt"}, "g", 0x67, "ctrl+alt+g"),
        ("Alt+Ctrl+G", {"ctrl", "alt"}, "g", 0x67, "ctrl+alt+g"),
        ("ctrl+space", {"ctrl"}, "space", 0x20, "ctrl+space"),
        ("control+Return", {"ctrl"}, "Return", 0xFF0D, "ctrl+return"),
        ("super+f5", {"super"}, "F5", 0xFFC2, "super+f5"),
        ("ctrl+page_down", {"ctrl"}, "Next", 0xFF56, "ctrl+next"),
        ("ctrl++", {"ctrl"}, "plus", 0x2B, "ctrl+plus"),
        (" shift + tab ", {"shift"}, "Tab", 0xFF09, "shift+tab"),
    ],
)
def test_chords_parse_case_insensitively(text: str, modifiers: set[str], key: str, keysym: int, canonical: str) -> None:
    chord = parse_chord(text)
    assert chord.modifiers == frozenset(modifiers)
    assert (chord.key, chord.keysym) == (key, keysym)
    assert str(chord) == canonical
    assert parse_chord(str(chord)) == chord  # the canonical form parses back to the same chord


def test_masks_are_the_x_modifier_bits() -> None:
    assert parse_chord("tab").mask == 0
    assert parse_chord("ctrl+alt+g").mask == 4 | 8  # ControlMask | Mod1Mask
    assert parse_chord("shift+super+a").mask == 1 | 64  # ShiftMask | Mod4Mask


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty hotkey"),
        ("ctrl+", "has no key"),
        ("ctrl", "only modifiers"),
        ("ctrl+alt", "only modifiers"),
        ("tabb", "unknown key 'tabb'"),
        ("ctrl+foo", "unknown key 'foo'"),
        ("hyper+tab", "unknown modifier 'hyper'"),
        ("ctrl+ctrl+g", "repeated"),
        ("a+b", "more than one key"),
    ],
)
def test_bad_chords_are_one_line_errors(text: str, says: str) -> None:
    with pytest.raises(GhostpilotError) as caught:
        parse_chord(text)
    assert says in str(caught.value)
    assert "\n" not in str(caught.value)
    assert caught.value.hint  # tells the user what names look like


def test_default_bindings_parse_and_split_into_always_while_visible_and_while_goal() -> None:
    chords = parse_bindings(DEFAULT_BINDINGS)
    always, while_visible, while_goal = split_bindings(chords)
    assert set(always) == set(ALWAYS_ACTIONS) == {"pause", "goal"}
    assert set(while_visible) == {"accept", "accept_step", "next_alternative", "previous_alternative", "dismiss"}
    assert set(while_goal) == set(GOAL_ACTIONS) == {"clear_goal"}
    assert (str(chords["goal"]), str(chords["clear_goal"])) == ("ctrl+space", "ctrl+shift+space")
    assert str(chords["next_alternative"]) == "alt+bracketright"


def test_two_actions_on_one_chord_are_rejected() -> None:
    with pytest.raises(GhostpilotError, match="bound to both 'accept' and 'dismiss'"):
        parse_bindings({"accept": "tab", "dismiss": "TAB"})
    with pytest.raises(GhostpilotError, match="bound to both"):
        parse_bindings({"next_alternative": "alt+]", "previous_alternative": "alt+bracketright"})
