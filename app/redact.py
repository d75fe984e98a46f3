"""Redaction for exports: e-mail addresses, card numbers, API keys and tokens, private key blocks.

Exports leave the machine (a bug report, a shared data set), so they are redacted by default. Three entry
points: `redact_text` for free text (window titles, goals), `redact_event` for one episode event, and
`redact_key_stream` for what was typed: keys arrive one character per event, so a typed secret is only visible
once the run of key events is put back together. Measured recall and precision on tests/data/redaction/ are
in docs/reliability.md.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

REDACTED_KEY = "\u2588"  # a printable character, so a redacted key event is still a valid episode event
PLACEHOLDERS = {"email": "[EMAIL]", "card": "[CARD]", "secret": "[SECRET]", "private_key": "[PRIVATE KEY]"}

_KEY_LABEL = r"(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?"
_PRIVATE_KEY = re.compile(rf"-----BEGIN {_KEY_LABEL}-----.*?(?:-----END {_KEY_LABEL}-----|\Z)", re.DOTALL)
_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,24}\b")
_CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?!\w)")
_KNOWN_TOKENS = re.compile(
    r"""(?x)
    \b(?:
        sk-(?:proj-|ant-|live-)?[A-Za-z0-9_-]{20,}        # OpenAI, Anthropic and similar
      | (?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,}      # Stripe
      | gh[pousr]_[A-Za-z0-9]{30,}                      # GitHub tokens
      | github_pat_[A-Za-z0-9_]{40,}
      | glpat-[A-Za-z0-9_-]{20,}                        # GitLab
      | xox[abposr]-[A-Za-z0-9-]{10,}                   # Slack
      | (?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}        # AWS access key ids
      | AIza[0-9A-Za-z_-]{35}                           # Google API keys
      | npm_[A-Za-z0-9]{36}
      | hf_[A-Za-z0-9]{30,}                             # Hugging Face
      | eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}  # JWT
    )"""
)
_CANDIDATE = re.compile(r"[A-Za-z0-9+/_-]{24,}={0,2}")  # "=" only as base64 padding, not KEY=value
MIN_ENTROPY_BITS = 4.0  # per character; English words and identifiers stay below, random base62/64 lies above


@dataclass(frozen=True)
class Finding:
    start: int
    end: int
    kind: str  # a key of PLACEHOLDERS


def luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def shannon_bits(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def looks_random(token: str) -> bool:
    """A long token of mixed upper, lower and digits with high entropy: a key, not a word, path or hash."""
    core = token.strip("=")
    classes = sum(any(test(c) for c in core) for test in (str.isupper, str.islower, str.isdigit))
    digits = sum(c.isdigit() for c in core)
    return len(core) >= 24 and classes == 3 and digits >= 2 and shannon_bits(core) >= MIN_ENTROPY_BITS


def find_secrets(text: str) -> list[Finding]:
    """Non-overlapping findings in text order; earlier kinds (private keys) win over later ones inside them."""
    found: list[Finding] = []
    for kind, pattern in (("private_key", _PRIVATE_KEY), ("secret", _KNOWN_TOKENS), ("email", _EMAIL)):
        found += [Finding(m.start(), m.end(), kind) for m in pattern.finditer(text)]
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            found.append(Finding(m.start(), m.end(), "card"))
    for m in _CANDIDATE.finditer(text):
        if looks_random(m.group()):
            found.append(Finding(m.start(), m.end(), "secret"))
    return _without_overlaps(found)


def _without_overlaps(found: list[Finding]) -> list[Finding]:
    kept: list[Finding] = []
    for finding in sorted(found, key=lambda f: (f.start, -(f.end - f.start))):
        if kept and finding.start < kept[-1].end:
            continue
        kept.append(finding)
    return kept


def redact_text(text: str) -> str:
    """`text` with each finding replaced by its placeholder ("[EMAIL]", "[CARD]", "[SECRET]", "[PRIVATE KEY]")."""
    out, position = [], 0
    for finding in find_secrets(text):
        out += [text[position : finding.start], PLACEHOLDERS[finding.kind]]
        position = finding.end
    return "".join([*out, text[position:]])


STRUCTURAL_FIELDS = frozenset({"type", "source", "button", "key"})


def redact_event(event: dict[str, Any]) -> dict[str, Any]:
    """A copy of one event with its free-text fields redacted; a one-character `key` needs redact_key_stream."""
    return {k: redact_text(v) if isinstance(v, str) and k not in STRUCTURAL_FIELDS else v for k, v in event.items()}


RUN_BREAKING_KEYS = frozenset({"enter", "tab", "escape", "up", "down", "page_up", "page_down", "home", "end"})


def _typed_runs(events: list[dict[str, Any]]) -> list[list[int]]:
    """Indices of the key.down events that typed each run of text (Backspace takes the last one back)."""
    runs: list[list[int]] = [[]]
    for index, event in enumerate(events):
        kind, key = event.get("type"), event.get("key")
        if kind == "mouse.down" or (kind == "key.down" and key in RUN_BREAKING_KEYS):
            runs.append([])
        elif kind == "key.down" and key == "backspace":
            if runs[-1]:
                runs[-1].pop()
        elif kind == "key.down" and isinstance(key, str) and len(key) == 1:
            runs[-1].append(index)
    return [run for run in runs if run]


def redact_key_stream(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copies of `events` where each key that typed part of a secret (and its release) has key REDACTED_KEY.

    Free-text fields are redacted as in `redact_event`. Mouse events and keys outside secrets are unchanged.
    """
    out = [redact_event(e) for e in events]
    hidden: set[int] = set()
    for run in _typed_runs(out):
        text = "".join(out[i]["key"] for i in run)
        for finding in find_secrets(text):
            hidden.update(run[finding.start : finding.end])
    for index in sorted(hidden):
        original = out[index]["key"]
        out[index] = {**out[index], "key": REDACTED_KEY}
        _hide_release(out, index, original)
    return out


def _hide_release(events: list[dict[str, Any]], down_index: int, key: str) -> None:
    """Hide the key.up of this press (shift+b is pressed as 'B' and released as 'b')."""
    for index in range(down_index + 1, len(events)):
        event = events[index]
        if event.get("type") == "key.up" and str(event.get("key", "")).lower() == key.lower():
            events[index] = {**event, "key": REDACTED_KEY}
            return
