"""Offline evaluation: replay recorded episodes through predictors and score their pointer and key guesses.

Everything goes through the Predictor API, so a model and the baselines are scored by one code path, in one
run, over the same movements. Each episode is read twice, streaming: a cheap scan finds the pointing movements
and keystrokes (a cut time needs the press time, which lies in the future), then one replay feeds every
session the events and frames in time order and asks for suggestions at the planned times. Metric definitions
are in docs/metrics.md; memory is bounded by one episode's movements and keys, never its events.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from inference.episodes import Episode, EpisodeMeta, Event, iter_events, list_frame_times, parse_meta
from inference.errors import EpisodeError
from inference.predictor import Predictor, PredictorSession, Suggestion

FRACTIONS = (0.25, 0.5, 0.75, 0.9)
REST_GAP = 0.25
"""A movement starts at the first mouse.move that follows more than this many seconds without any user event."""
HIT_RADIUS = 30.0
"""A click prediction within this many pixels of the real press counts as right."""
KEY_LEAD = 1e-3
"""Key predictions are asked for this many seconds before the key.down, so the key itself is unseen."""
ALL = "all"


def is_user(event: Event) -> bool:
    """Events Ghostpilot itself performed are never counted as the user's actions."""
    return event.get("source") != "ghostpilot"


@dataclass(frozen=True)
class Movement:
    """One pointing movement: onset of motion after a rest, and the left press it ends in."""

    start: float
    press_t: float
    x: float
    y: float


class MovementFinder:
    """Streams user events and yields the pointing movements (see docs/metrics.md, "Pointing movements")."""

    def __init__(self) -> None:
        self.last_t: float | None = None
        self.position: tuple[float, float] | None = None
        self.start: float | None = None
        self.moved = False
        self.skipped = 0

    def push(self, event: Event) -> Movement | None:
        if not is_user(event):
            return None
        t, kind = float(event["t"]), event["type"]
        found = None
        if kind == "mouse.move":
            if self.last_t is None or t - self.last_t > REST_GAP:
                self.start, self.moved = t, False
            if self.position is not None and (event["x"], event["y"]) != self.position:
                self.moved = True
        elif kind == "mouse.down" and event["button"] == "left" and self.start is not None:
            if t > self.start and self.moved:
                found = Movement(self.start, t, float(event["x"]), float(event["y"]))
            else:
                self.skipped += 1
        if "x" in event:
            self.position = (event["x"], event["y"])
        self.last_t = t
        return found


def find_movements(events: Iterable[Event]) -> tuple[list[Movement], int]:
    """All pointing movements of an event stream, and how many left presses were skipped (no motion/duration)."""
    finder = MovementFinder()
    movements = [m for m in map(finder.push, events) if m is not None]
    return movements, finder.skipped


def keystrokes_used(keys: list[str], predictions: list[tuple[str, ...]]) -> int:
    """Greedy typing simulation: Tab accepts a whole prediction that matches the next keys, else type one key."""
    used = i = 0
    while i < len(keys):
        guess = predictions[i]
        used += 1
        i += len(guess) if guess and tuple(keys[i : i + len(guess)]) == guess else 1
    return used


# ----- results -----


@dataclass(frozen=True)
class PointerResult:
    fraction: float
    n: int
    mean: float
    median: float
    within_30: float
    fallbacks: int
    shown_rate: float
    shown_right: float


@dataclass(frozen=True)
class TypingResult:
    n_keys: int
    top1: float
    ksr: float
    ksr_shown: float
    shown_rate: float
    shown_right: float


@dataclass(frozen=True)
class GroupResult:
    movements: int
    skipped: int
    pointer: tuple[PointerResult, ...]
    typing: TypingResult


@dataclass(frozen=True)
class EvalReport:
    predictor: str
    episodes: int
    overall: GroupResult
    by_user: dict[str, GroupResult]
    predictor_seconds: float


def _ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


def _summary(errors: list[float]) -> tuple[float, float, float]:
    """(mean, median, share within HIT_RADIUS), NaN when there is nothing to summarize."""
    if not errors:
        return math.nan, math.nan, math.nan
    err = np.asarray(errors, dtype=np.float64)
    return float(err.mean()), float(np.median(err)), float((err <= HIT_RADIUS).mean())


@dataclass
class _Tally:
    """Running counts of one predictor on one group of episodes."""

    fractions: tuple[float, ...]
    errors: dict[float, list[float]] = field(default_factory=dict)
    counts: Counter[tuple[str, float]] = field(default_factory=Counter)  # (what, fraction or -1 for keys)

    def __post_init__(self) -> None:
        self.errors = {f: [] for f in self.fractions}

    def result(self) -> GroupResult:
        c = self.counts
        pointer = tuple(
            PointerResult(
                f, len(self.errors[f]), *_summary(self.errors[f]), c["fallback", f],
                _ratio(c["shown", f], c["asked", f]), _ratio(c["right", f], c["shown", f]),
            )
            for f in self.fractions
        )  # fmt: skip
        n = c["keys", -1]
        typing = TypingResult(
            n, _ratio(c["top1", -1], n), 1 - _ratio(c["used", -1], n), 1 - _ratio(c["used_shown", -1], n),
            _ratio(c["shown", -1], n), _ratio(c["right", -1], c["shown", -1]),
        )  # fmt: skip
        return GroupResult(c["movements", -1], c["skipped", -1], pointer, typing)


# ----- the replay -----


@dataclass
class _Plan:
    """What the scan of one episode found: movements, user key.downs, and the time-sorted queries."""

    movements: list[Movement]
    skipped: int
    keys: list[tuple[float, str]]
    queries: list[tuple[float, int, int, float]]  # (time, order, index, fraction or -1 for a key query)


def _scan(events: Iterator[Event], fractions: tuple[float, ...]) -> _Plan:
    finder = MovementFinder()
    movements: list[Movement] = []
    keys: list[tuple[float, str]] = []
    for event in events:
        movement = finder.push(event)
        if movement is not None:
            movements.append(movement)
        if event["type"] == "key.down" and is_user(event):
            keys.append((float(event["t"]), event["key"]))
    queries = [(m.start + f * (m.press_t - m.start), 0, i, f) for i, m in enumerate(movements) for f in fractions]
    queries += [(t - KEY_LEAD, 0, i, -1.0) for i, (t, _) in enumerate(keys)]
    queries = [(q[0], order, q[2], q[3]) for order, q in enumerate(queries)]
    queries.sort()
    return _Plan(movements, finder.skipped, keys, queries)


def _first(suggestions: list[Suggestion], kind: str) -> Suggestion | None:
    return next((s for s in suggestions if s.kind == kind and (kind != "pointer" or s.click is not None)), None)


class _Scorer:
    """One predictor's session in one episode, answering the planned queries into the episode's tallies."""

    def __init__(self, session: PredictorSession, tallies: list[_Tally], plan: _Plan) -> None:
        self.session, self.tallies, self.plan = session, tallies, plan
        self.key_guess: list[tuple[str, ...]] = [() for _ in plan.keys]
        self.key_shown: list[tuple[str, ...]] = [() for _ in plan.keys]
        self.seconds = 0.0

    def ask(self, t: float, kind: str) -> tuple[Suggestion | None, list[Suggestion]]:
        """The first suggestion of `kind` at min_confidence 0, and what the default threshold shows."""
        start = time.perf_counter()
        best = _first(self.session.suggest(t, min_confidence=0.0), kind)
        shown = self.session.suggest(t)
        self.seconds += time.perf_counter() - start
        return best, shown

    def add(self, what: str, f: float, amount: int = 1) -> None:
        for tally in self.tallies:
            tally.counts[what, f] += amount

    def pointer_query(self, t: float, movement: Movement, f: float, here: tuple[float, float]) -> None:
        best, shown = self.ask(t, "pointer")
        click = best.click if best is not None and best.click is not None else here
        top = shown[0].click if shown else None
        for tally in self.tallies:
            tally.errors[f].append(math.hypot(click[0] - movement.x, click[1] - movement.y))
        self.add("asked", f)
        self.add("fallback", f, best is None)
        self.add("shown", f, bool(shown))
        self.add("right", f, top is not None and math.hypot(top[0] - movement.x, top[1] - movement.y) <= HIT_RADIUS)

    def key_query(self, t: float, index: int) -> None:
        best, shown = self.ask(t, "keys")
        actual = self.plan.keys[index][1]
        self.key_guess[index] = tuple(best.keys) if best is not None else ()
        shown_keys = _first(shown, "keys")
        self.key_shown[index] = tuple(shown_keys.keys) if shown_keys is not None else ()
        self.add("top1", -1, self.key_guess[index][:1] == (actual,))
        self.add("shown", -1, bool(shown))
        self.add("right", -1, bool(shown) and shown[0].kind == "keys" and shown[0].keys[:1] == [actual])

    def observe(self, event: Event) -> None:
        start = time.perf_counter()
        self.session.observe_event(event)
        self.seconds += time.perf_counter() - start

    def finish(self) -> None:
        keys = [k for _, k in self.plan.keys]
        self.add("keys", -1, len(keys))
        self.add("used", -1, keystrokes_used(keys, self.key_guess))
        self.add("used_shown", -1, keystrokes_used(keys, self.key_shown))
        self.add("movements", -1, len(self.plan.movements))
        self.add("skipped", -1, self.plan.skipped)


def _read_meta(path: Path) -> EpisodeMeta:
    meta_path = path / "meta.json"
    try:
        raw = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EpisodeError(f"{meta_path}: unreadable ({exc})") from None
    return parse_meta(raw, str(meta_path))


class _Replay:
    """Feeds one episode to several scorers: frames lazily and in time order, queries before later events."""

    def __init__(self, path: Path, meta: EpisodeMeta, plan: _Plan, scorers: list[_Scorer]) -> None:
        self.episode = Episode(path, meta, [], list_frame_times(path / "frames"))
        self.plan, self.scorers = plan, scorers
        self.next_frame = self.next_query = 0
        self.position: tuple[float, float] | None = None

    def frames_until(self, t: float) -> None:
        frames = self.episode.frame_times_ms
        while self.next_frame < len(frames) and frames[self.next_frame] / 1000 <= t:
            t_ms = frames[self.next_frame]
            frame = self.episode.load_frame(t_ms)
            for scorer in self.scorers:
                start = time.perf_counter()
                scorer.session.observe_frame(t_ms / 1000, frame)
                scorer.seconds += time.perf_counter() - start
            self.next_frame += 1

    def queries_before(self, t: float) -> None:
        queries = self.plan.queries
        while self.next_query < len(queries) and queries[self.next_query][0] < t:
            q_t, _, index, f = queries[self.next_query]
            self.frames_until(q_t)
            for scorer in self.scorers:
                if f < 0:
                    scorer.key_query(q_t, index)
                else:
                    assert self.position is not None  # the movement's onset sample is at or before q_t
                    scorer.pointer_query(q_t, self.plan.movements[index], f, self.position)
            self.next_query += 1

    def run(self, events: Iterator[Event]) -> None:
        for event in events:
            t = float(event["t"])
            self.queries_before(t)
            self.frames_until(t)
            for scorer in self.scorers:
                scorer.observe(event)
            if "x" in event:
                self.position = (float(event["x"]), float(event["y"]))
        self.queries_before(math.inf)
        for scorer in self.scorers:
            scorer.finish()


# ----- public API -----


def evaluate_many(
    predictors: Mapping[str, Predictor],
    episodes: list[Path],
    fractions: tuple[float, ...] = FRACTIONS,
    progress: Callable[[int], None] | None = None,
) -> dict[str, EvalReport]:
    """Score several predictors over the same episodes in one replay each; `progress(1)` after every episode."""
    tallies: dict[str, dict[str, _Tally]] = {name: {} for name in predictors}
    seconds = dict.fromkeys(predictors, 0.0)
    for path in map(Path, episodes):
        meta = _read_meta(path)
        plan = _scan(iter_events(path / "events.jsonl"), tuple(fractions))
        user = meta.extra.get("user")
        groups = [ALL] if user is None else [ALL, str(user)]
        scorers = []
        for name, predictor in predictors.items():
            own = [tallies[name].setdefault(g, _Tally(tuple(fractions))) for g in groups]
            session = predictor.new_session(meta.screen_width, meta.screen_height, meta.goal)
            scorers.append(_Scorer(session, own, plan))
        _Replay(path, meta, plan, scorers).run(iter_events(path / "events.jsonl"))
        for name, scorer in zip(predictors, scorers, strict=True):
            seconds[name] += scorer.seconds
        if progress is not None:
            progress(1)
    reports = {}
    for name in predictors:
        overall = tallies[name].pop(ALL, None) or _Tally(tuple(fractions))
        by_user = {u: tallies[name][u].result() for u in sorted(tallies[name], key=_user_order)}
        reports[name] = EvalReport(name, len(episodes), overall.result(), by_user, seconds[name])
    return reports


def evaluate(
    predictor: Predictor,
    episodes: list[Path],
    fractions: tuple[float, ...] = FRACTIONS,
    progress: Callable[[int], None] | None = None,
) -> EvalReport:
    """Score one predictor; see evaluate_many to compare several over the very same movements."""
    return evaluate_many({predictor.name: predictor}, episodes, fractions, progress)[predictor.name]


def _user_order(user: str) -> tuple[int, str]:
    return (int(user), "") if user.isdigit() else (1 << 30, user)
