"""Evaluation reports as a plain-text table (`ghostpilot eval`) or JSON (`--json`)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any

from inference.evaluate import EvalReport, GroupResult


def _cell(value: float, spec: str) -> str:
    return "-" if math.isnan(value) else format(value, spec)


def _pointer_rows(name: str, group: GroupResult) -> list[str]:
    return [
        f"{name:<20} {p.fraction:>5.0%} {p.n:>7} {_cell(p.mean, '7.1f')} {_cell(p.median, '7.1f')} "
        f"{_cell(p.within_30, '7.1%')} {p.fallbacks:>5} {_cell(p.shown_rate, '7.1%')} {_cell(p.shown_right, '7.1%')}"
        for p in group.pointer
    ]


def format_report(reports: Mapping[str, EvalReport] | Iterable[EvalReport]) -> str:
    """A plain-text table: pointer error per fraction, typing, then the same per user."""
    items = list(reports.values()) if isinstance(reports, Mapping) else list(reports)
    if not items:
        return "no reports"
    head = f"{'predictor':<20} {'frac':>5} {'n':>7} {'mean':>7} {'median':>7} {'<=30px':>7} {'fallb':>5} "
    head += f"{'shown':>7} {'right':>7}"
    first = items[0].overall
    lines = [
        f"{items[0].episodes} episodes, {first.movements} movements ({first.skipped} presses skipped)",
        "",
        "Pointer: endpoint error (px) of the first click suggestion at each fraction of the movement",
        head,
    ]
    for report in items:
        lines += _pointer_rows(report.predictor, report.overall)
    lines += [
        "",
        "Typing",
        f"{'predictor':<20} {'keys':>7} {'top1':>7} {'KSR':>7} {'KSRshow':>7} {'shown':>7} {'right':>7}",
    ]
    for report in items:
        k = report.overall.typing
        lines.append(
            f"{report.predictor:<20} {k.n_keys:>7} {_cell(k.top1, '7.1%')} {_cell(k.ksr, '7.1%')} "
            f"{_cell(k.ksr_shown, '7.1%')} {_cell(k.shown_rate, '7.1%')} {_cell(k.shown_right, '7.1%')}"
        )
    users = list(dict.fromkeys(u for report in items for u in report.by_user))
    for user in users:
        lines += ["", f"User {user}", head]
        for report in items:
            if user in report.by_user:
                lines += _pointer_rows(report.predictor, report.by_user[user])
    lines += ["", "predictor time: " + ", ".join(f"{r.predictor} {r.predictor_seconds:.1f} s" for r in items)]
    return "\n".join(lines)


def _no_nan(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {str(k): _no_nan(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_no_nan(v) for v in value]
    return value


def report_to_json(reports: Mapping[str, EvalReport] | EvalReport) -> dict[str, Any]:
    """Plain JSON-able dict (NaN -> null), keyed by predictor name."""
    items = {reports.predictor: reports} if isinstance(reports, EvalReport) else dict(reports)
    return {name: _no_nan(asdict(report)) for name, report in items.items()}
