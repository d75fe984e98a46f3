"""When suggestions may show: the user's snooze and the automatic back-off after refused ghosts (no Qt).

Users of inline copilots ask for less eager suggestions more than for anything else, so a run of refused
ghosts makes Ghostpilot quieter on its own: after `rejections` dismissed or ignored ghosts in a row it stays
silent for `quiet_s`, then asks for more confidence (one `threshold_step` per back-off, up to
`max_threshold`). One accepted ghost resets it all. A snooze is the user's explicit "not now": no ghosts until
it ends. Neither stops observing; only pause does (docs/desktop.md). Times are the copilot's clock (seconds).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SNOOZE_CHOICES: dict[str, float | None] = {"15 min": 15 * 60.0, "1 h": 60 * 60.0, "until restart": None}
REJECTED = frozenset({"dismissed", "ignored"})
TAKEN = frozenset({"accepted", "partial"})


@dataclass(frozen=True)
class BackoffRules:
    """How quickly Ghostpilot gets quieter; the defaults favour fewer, surer ghosts."""

    rejections: int = 3  # refused ghosts in a row that trigger a back-off
    quiet_s: float = 120.0  # no ghosts for this long after a back-off
    threshold_step: float = 0.1  # added to the confidence threshold per back-off since the last accept
    max_threshold: float = 0.9  # the back-off never asks for more confidence than this
    min_seen_s: float = 1.5  # an ignored ghost counts only if it showed this long (one that flashed by was not read)


class SuggestionGate:
    """Decides, at a time `now`, whether ghosts may show and how confident they must be."""

    def __init__(self, rules: BackoffRules | None = None) -> None:
        self.rules = rules or BackoffRules()
        self.snoozed_until: float | None = None  # math.inf = until restart
        self.quiet_until = -math.inf
        self.rejections = 0  # refused in a row since the last back-off or accept
        self.level = 0  # back-offs since the last accept

    # ----- the user's snooze -----
    def snooze(self, now: float, seconds: float | None) -> None:
        """Snooze for `seconds` from `now`; None = until restart; 0 or less ends a snooze."""
        if seconds is None:
            self.snoozed_until = math.inf
        elif seconds <= 0:
            self.snoozed_until = None
        else:
            self.snoozed_until = now + seconds

    def snoozed(self, now: float) -> bool:
        if self.snoozed_until is not None and now >= self.snoozed_until:
            self.snoozed_until = None
        return self.snoozed_until is not None

    # ----- the automatic back-off -----
    def record(self, decision: str, now: float, shown_s: float = math.inf) -> None:
        """One ended ghost's decision ("accepted", "partial", "dismissed", "ignored"), shown for `shown_s`."""
        if decision == "ignored" and shown_s < self.rules.min_seen_s:
            return
        if decision in TAKEN:
            self.rejections = self.level = 0
            self.quiet_until = -math.inf
        elif decision in REJECTED:
            self.rejections += 1
            if self.rejections >= self.rules.rejections:
                self.rejections = 0
                self.level += 1
                self.quiet_until = now + self.rules.quiet_s

    def quiet(self, now: float) -> bool:
        return now < self.quiet_until

    def threshold(self, base: float) -> float:
        """The confidence a ghost needs now: the user's threshold raised by the back-off level."""
        if self.level == 0:
            return base
        return max(base, min(base + self.level * self.rules.threshold_step, self.rules.max_threshold))

    # ----- together -----
    def allows(self, now: float) -> bool:
        """May a ghost show (and the model run for one) at `now`?"""
        return not self.snoozed(now) and not self.quiet(now)

    def state(self, now: float) -> str:
        """ "snoozed", "quiet" (backing off) or "active"; what the tray shows."""
        if self.snoozed(now):
            return "snoozed"
        return "quiet" if self.quiet(now) else "active"

    def describe(self, now: float, base: float) -> str:
        """One line for the tray's tooltip; empty when nothing holds ghosts back."""
        if self.snoozed(now):
            assert self.snoozed_until is not None
            if math.isinf(self.snoozed_until):
                return "snoozed until restart"
            return f"snoozed for {_minutes(self.snoozed_until - now)}"
        if self.quiet(now):
            return f"quieter after {self.rules.rejections} refused ghosts: back in {_minutes(self.quiet_until - now)}"
        if self.level:
            return f"showing only ghosts of {self.threshold(base):.0%} confidence or more after refused ones"
        return ""


def _minutes(seconds: float) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return f"{minutes} min"
