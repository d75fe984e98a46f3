"""IDM metrics: labelled events against the true input log of the same recording.

- Per event type (mouse.down, mouse.up, key.down): precision / recall / F1, where a predicted event matches a
  true one of the same type within +-TOLERANCE ticks (one to one, nearest first).
- Key presses twice: detection (key.down matched regardless of key) and strict (the same key required), plus
  key accuracy = the share of detection-matched presses whose key is right. Shift and other modifiers draw
  nothing on screen; `key.down` counts them, `key.down (visible)` leaves them out.
- Pointer movement R-squared: per-tick displacement of the pointer (end of tick minus end of the previous
  tick), 1 - SSE / SST pooled over both axes, on ticks where both logs know the pointer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from inference.episodes import Event
from inference.idm.classes import tick_index, tick_pointer
from inference.keys import MODIFIER_KEYS

TOLERANCE = 2


@dataclass(frozen=True)
class Score:
    true: int
    predicted: int
    matched: int

    @property
    def precision(self) -> float:
        return self.matched / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.matched / self.true if self.true else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __add__(self, other: Score) -> Score:
        return Score(self.true + other.true, self.predicted + other.predicted, self.matched + other.matched)


def match(true_ticks: Sequence[int], pred_ticks: Sequence[int], tolerance: int = TOLERANCE) -> list[tuple[int, int]]:
    """One-to-one pairs (true index, predicted index) within tolerance, closest pairs first."""
    candidates = sorted(
        (abs(t - p), i, j)
        for i, t in enumerate(true_ticks)
        for j, p in enumerate(pred_ticks)
        if abs(t - p) <= tolerance
    )
    used_true: set[int] = set()
    used_pred: set[int] = set()
    pairs = []
    for _, i, j in candidates:
        if i not in used_true and j not in used_pred:
            used_true.add(i)
            used_pred.add(j)
            pairs.append((i, j))
    return pairs


def _of(events: Sequence[Event], kind: str, visible_only: bool = False) -> list[Event]:
    return [e for e in events if e["type"] == kind and not (visible_only and e.get("key") in MODIFIER_KEYS)]


def event_scores(truth: Sequence[Event], predicted: Sequence[Event]) -> dict[str, Score]:
    """Scores per type, plus strict key matching and the counts behind key accuracy."""
    out: dict[str, Score] = {}
    for kind in ("mouse.down", "mouse.up", "key.down"):
        t, p = _of(truth, kind), _of(predicted, kind)
        out[kind] = Score(len(t), len(p), len(match([tick_index(e["t"]) for e in t], [tick_index(e["t"]) for e in p])))
    t, p = _of(truth, "key.down", True), _of(predicted, "key.down", True)
    pairs = match([tick_index(e["t"]) for e in t], [tick_index(e["t"]) for e in p])
    out["key.down (visible)"] = Score(len(t), len(p), len(pairs))
    out["key accuracy"] = Score(len(pairs), len(pairs), sum(t[i]["key"] == p[j]["key"] for i, j in pairs))
    strict = 0
    for key in {e["key"] for e in t} | {e["key"] for e in p}:
        tk = [tick_index(e["t"]) for e in t if e["key"] == key]
        pk = [tick_index(e["t"]) for e in p if e["key"] == key]
        strict += len(match(tk, pk))
    out["key.down (visible, same key)"] = Score(len(t), len(p), strict)
    return out


@dataclass(frozen=True)
class PointerScore:
    """Sums for R-squared, so scores over many recordings pool exactly."""

    sse: float
    sum_d: np.ndarray  # (2,)
    sum_d2: float
    n: int

    @property
    def r_squared(self) -> float:
        if self.n == 0:
            return float("nan")
        sst = self.sum_d2 - float((self.sum_d**2).sum()) / self.n
        return 1.0 - self.sse / sst if sst > 0 else float("nan")

    def __add__(self, other: PointerScore) -> PointerScore:
        return PointerScore(
            self.sse + other.sse, self.sum_d + other.sum_d, self.sum_d2 + other.sum_d2, self.n + other.n
        )


def pointer_score(
    truth: Sequence[Event], predicted: Sequence[Event], n_ticks: int, start: tuple[float, float] | None = None
) -> PointerScore:
    true_xy = tick_pointer(truth, n_ticks, start)
    pred_xy = tick_pointer(predicted, n_ticks)
    d_true, d_pred = np.diff(true_xy, axis=0), np.diff(pred_xy, axis=0)
    ok = np.isfinite(d_true).all(1) & np.isfinite(d_pred).all(1)
    d_true, d_pred = d_true[ok], d_pred[ok]
    return PointerScore(float(((d_true - d_pred) ** 2).sum()), d_true.sum(0), float((d_true**2).sum()), int(ok.sum()))


def report_rows(scores: dict[str, Score], pointer: PointerScore) -> list[str]:
    """Markdown table rows for docs/metrics.md."""
    rows = ["| metric | true | predicted | matched | precision | recall | F1 |", "|---|---:|---:|---:|---:|---:|---:|"]
    for name, s in scores.items():
        if name == "key accuracy":
            rows.append(f"| key accuracy (matched presses) | {s.true} | | {s.matched} | | | {s.recall:.3f} |")
        else:
            rows.append(
                f"| {name} | {s.true} | {s.predicted} | {s.matched} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} |"
            )
    rows.append(f"| pointer movement R² ({pointer.n} ticks) | | | | | | {pointer.r_squared:.4f} |")
    return rows
