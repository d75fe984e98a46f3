"""The scripted user: turns intentions (rest, point at a box, click, type) into timed input events.

Every call advances the user's clock `t` and appends episode-schema events, so a task script reads like what
a person does and the event stream comes out with human timing. Pointer kinematics live in `motion.py`;
the parameters come from `motor_params.json` (fitted to real logs) via `params.py`.
"""

from __future__ import annotations

import math
import zlib

import numpy as np

from inference.episodes import Event
from inference.synthetic import motion
from inference.synthetic.params import MotorParams, load_motor_params

Box = tuple[int, int, int, int]

SHIFTED = frozenset('~!@#$%^&*()_+{}|:"<>?')
QWERTY_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")


def needs_shift(char: str) -> bool:
    """Why: on a US layout these characters are typed with shift held, and real logs show the shift key."""
    return char.isupper() or char in SHIFTED


def neighbour_key(rng: np.random.Generator, char: str) -> str:
    """A key next to `char` on a QWERTY keyboard: the most common kind of typo."""
    lower = char.lower()
    for row_index, row in enumerate(QWERTY_ROWS):
        col = row.find(lower)
        if col < 0:
            continue
        options = [row[c] for c in (col - 1, col + 1) if 0 <= c < len(row)]
        for other in (row_index - 1, row_index + 1):
            if 0 <= other < len(QWERTY_ROWS) and col < len(QWERTY_ROWS[other]):
                options.append(QWERTY_ROWS[other][col])
        pick = options[int(rng.integers(len(options)))]
        return pick.upper() if char.isupper() else pick
    return char


def digraph_factor(prev: str | None, char: str) -> float:
    """A fixed per-digraph speed factor (0.75-1.3): some key pairs are reliably faster than others."""
    if prev is None:
        return 1.2
    bucket = zlib.crc32(f"{prev.lower()}{char.lower()}".encode()) % 1000 / 1000
    factor = 0.75 + 0.55 * bucket
    return factor * (1.25 if char == " " or prev == " " else 1.0)


class ScriptedUser:
    """A simulated person at the keyboard and mouse; deterministic given its random generator."""

    def __init__(
        self, rng: np.random.Generator, params: MotorParams | None = None, start: tuple[int, int] = (0, 0)
    ) -> None:
        self.rng = rng
        self.params = load_motor_params() if params is None else params
        self.t = 0.0
        self.x, self.y = start
        self.events: list[Event] = []
        self.speed = float(rng.uniform(0.8, 1.25))  # this person's typing tempo (1 = median typist)

    # ----- time -----
    def _lognormal(self, mu: float, sigma: float) -> float:
        return float(np.exp(self.rng.normal(mu, sigma)))

    def rest(self, low: float = 0.05, high: float = 3.0) -> None:
        """A pause before acting (reading, deciding); some are shorter than the 0.25 s rest threshold."""
        p = self.params
        if self.rng.random() < p.rest_short_share:
            pause = float(self.rng.uniform(0.05, 0.25))
        else:
            pause = 0.26
            for _ in range(50):  # the lognormal conditioned on > 0.25 s
                pause = self._lognormal(p.rest_log_mu, p.rest_log_sigma)
                if pause > 0.25:
                    break
        self.t += float(np.clip(pause, low, high))

    def wait(self, seconds: float) -> None:
        self.t += seconds

    # ----- pointer -----
    def pick_point(self, box: Box) -> tuple[int, int]:
        """Where in a box a person clicks: near the centre, more spread along the long side, never outside."""
        x0, y0, x1, y1 = box
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        x = cx + self.rng.normal(0.0, (x1 - x0) / 7)
        y = cy + self.rng.normal(0.0, (y1 - y0) / 7)
        margin_x, margin_y = min(3, (x1 - x0) // 4), min(3, (y1 - y0) // 4)
        px = int(np.clip(round(x), x0 + margin_x, x1 - 1 - margin_x))
        return px, int(np.clip(round(y), y0 + margin_y, y1 - 1 - margin_y))

    def move_to(self, point: tuple[int, int], width: float, dwell: bool = True) -> tuple[int, int]:
        """Point at `point` (target `width` px); returns the event index range of the emitted moves."""
        distance = math.hypot(point[0] - self.x, point[1] - self.y)
        first = len(self.events)
        motion_time, dwell_time = motion.click_timing(self.rng, self.params, distance, width)
        if distance >= 1:
            plan = motion.plan_movement(self.rng, self.params, (self.x, self.y), point, width, motion_time)
            samples = motion.sample_movement(self.rng, self.params, plan, self.t)
            for t, x, y in samples:
                self.events.append({"t": t, "type": "mouse.move", "x": x, "y": y})
            # The pointer has stopped once it stops changing pixel: sub-pixel creep is never reported.
            self.t = samples[-1][0] if samples else self.t + plan.end_time
        self.x, self.y = point
        if dwell:
            self.t += dwell_time
        return first, len(self.events)

    def point_at(self, box: Box) -> tuple[int, int]:
        """Move onto a box the way a person aims at a GUI target; returns the landed point."""
        point = self.pick_point(box)
        self.move_to(point, float(min(box[2] - box[0], box[3] - box[1])))
        return point

    def press(self, button: str = "left") -> float:
        self.t = round(self.t, 3)
        self.events.append({"t": self.t, "type": "mouse.down", "x": self.x, "y": self.y, "button": button})
        return self.t

    def release(self, button: str = "left") -> float:
        p = self.params
        self.t = round(self.t + float(np.clip(self._lognormal(p.hold_log_mu, p.hold_log_sigma), 0.04, 0.3)), 3)
        self.events.append({"t": self.t, "type": "mouse.up", "x": self.x, "y": self.y, "button": button})
        return self.t

    # ----- keyboard -----
    def _key(self, t: float, key: str, down: bool) -> None:
        self.events.append({"t": round(t, 3), "type": "key.down" if down else "key.up", "key": key})

    def _keystroke_plan(self, text: str) -> list[tuple[str, float]]:
        """Keys to press with extra delay before each: the text, with occasional typos noticed and fixed."""
        plan: list[tuple[str, float]] = []
        index = 0
        while index < len(text):
            char = text[index]
            if char.isalnum() and self.rng.random() < self.params.typo_rate:
                wrong = neighbour_key(self.rng, char)
                more = min(int(self.rng.integers(0, 3)), len(text) - index - 1)
                plan.append((wrong, 0.0))
                plan.extend((c, 0.0) for c in text[index + 1 : index + 1 + more])
                notice = float(self.rng.uniform(0.25, 0.7))
                plan.extend(("backspace", notice if k == 0 else 0.0) for k in range(more + 1))
            plan.append((char, 0.0))
            index += 1
        return plan

    def type_text(self, text: str) -> list[tuple[float, str]]:
        """Type `text`; returns (t, key) of every character/backspace key-down so the screen can follow."""
        p = self.params
        downs: list[tuple[float, str]] = []
        prev: str | None = None
        shift_up_pending: float | None = None
        t = start = self.t
        last_up: dict[str, float] = {}
        for key, extra in self._keystroke_plan(text):
            iki = self._lognormal(p.iki_log_mu, p.iki_log_sigma) / self.speed
            if key == "backspace" and prev == "backspace":
                iki *= 0.6  # repeated backspaces are fast
            t = max(t + extra + iki * digraph_factor(prev, key), last_up.get(key, 0.0) + 0.02)
            shifted = len(key) == 1 and needs_shift(key)
            if shift_up_pending is not None and not shifted:
                self._key(min(shift_up_pending, t - 0.01), "shift", False)
                shift_up_pending = None
            if shifted and shift_up_pending is None:
                self._key(max(start, t - float(self.rng.uniform(0.04, 0.09))), "shift", True)
            hold = float(np.clip(self._lognormal(p.key_hold_log_mu, p.key_hold_log_sigma), 0.03, 0.25))
            self._key(t, key, True)
            self._key(t + hold, key, False)
            last_up[key] = t + hold
            downs.append((round(t, 3), key))
            if shifted:
                shift_up_pending = t + hold + float(self.rng.uniform(0.01, 0.05))
            prev = key
        end = max([t + 0.15, *(up + 0.02 for up in last_up.values())])
        if shift_up_pending is not None:
            self._key(shift_up_pending, "shift", False)
            end = max(end, shift_up_pending)
        self.t = end
        return downs

    def press_key(self, key: str) -> float:
        """A single named key (tab, enter): a deliberate press after a short pause."""
        p = self.params
        self.t += self._lognormal(p.iki_log_mu, p.iki_log_sigma) / self.speed
        down = round(self.t, 3)
        self._key(down, key, True)
        self.t += float(np.clip(self._lognormal(p.key_hold_log_mu, p.key_hold_log_sigma), 0.03, 0.25))
        self._key(self.t, key, False)
        return down

    def sorted_events(self) -> list[Event]:
        """Events in time order (key rollover interleaves downs and ups); stable, so ties keep their order."""
        return sorted(self.events, key=lambda event: event["t"])
