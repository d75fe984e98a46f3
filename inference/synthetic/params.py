"""Motor and typing parameters of the scripted user, fitted to real pointer logs where we have them.

`motor_params.json` (next to this file) is written by `python -m inference.synthetic.fit`; the defaults below
are what the scripted user falls back to when it is missing, so the generator never needs the data set.
Typing parameters are not fitted (the pointer logs hold no keystrokes): they are literature values, see
docs/synthetic.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

PARAMS_PATH = Path(__file__).with_name("motor_params.json")


@dataclass(frozen=True)
class MotorParams:
    """Distributions the scripted user samples from; lognormals are (log_mu, log_sigma) of seconds."""

    # Fitts' law MT = a + b * log2(D / W + 1), MT measured from motion onset to the button press.
    fitts_a: float = 0.35
    fitts_b: float = 0.12
    mt_log_sigma: float = 0.35  # multiplicative scatter of MT around the Fitts prediction
    target_width_px: float = 30.0  # W assumed when fitting (targets are unknown in the logs)
    time_to_peak: float = 0.45  # peak speed within each submovement, as a fraction of it (literature)
    time_to_peak_sd: float = 0.05
    primary_share: float = 0.65  # share of the motion time taken by the primary submovement (if corrected)
    primary_error: float = 0.1  # sd of the primary submovement's relative distance error (if corrected)
    correction_gap_s: float = 0.05  # mean pause before a corrective submovement (half of them have none)
    overshoot_rate: float = 0.2  # share of movements that pass their final point and come back
    submovement_probs: tuple[float, float, float] = (0.45, 0.35, 0.2)  # 1, 2, 3 submovements
    curvature_sd: float = 0.06  # peak perpendicular deviation / distance
    rest_short_share: float = 0.3  # pauses between clicks shorter than 0.25 s (uniform 0.05-0.25 s)
    rest_log_mu: float = -0.2  # the other pauses: lognormal, conditioned on > 0.25 s
    rest_log_sigma: float = 0.9
    dwell_log_mu: float = -2.7  # from the last motion sample to the press
    dwell_log_sigma: float = 0.6
    hold_log_mu: float = -2.2  # button held (press -> release)
    hold_log_sigma: float = 0.3
    sample_interval_s: float = 0.016  # pointer report period while moving (~60 Hz)
    sample_jitter_s: float = 0.002
    sample_drop_rate: float = 0.05  # share of report periods with no report (bursty logging)
    # Typing: literature values (not fitted), see docs/synthetic.md.
    iki_log_mu: float = -1.6  # inter-key interval median ~0.2 s
    iki_log_sigma: float = 0.35
    key_hold_log_mu: float = -2.4  # key held ~0.09 s
    key_hold_log_sigma: float = 0.25
    typo_rate: float = 0.02
    fitted_on_users: tuple[int, ...] = ()

    def with_overrides(self, **changes: Any) -> MotorParams:
        return replace(self, **changes)


def params_from_json(data: dict[str, Any]) -> MotorParams:
    """Read the `generator` section of motor_params.json; unknown keys are ignored so old files still load."""
    section = data.get("generator", data)
    known = {f.name for f in fields(MotorParams)}
    values: dict[str, Any] = {}
    for key, value in section.items():
        if key in known:
            values[key] = tuple(value) if isinstance(value, list) else value
    if "fitted_on_users" in data:
        values["fitted_on_users"] = tuple(data["fitted_on_users"])
    return MotorParams(**values)


def load_motor_params(path: Path | None = None) -> MotorParams:
    """The fitted parameters from `path` (default: the committed motor_params.json), else the defaults."""
    target = PARAMS_PATH if path is None else path
    if not target.exists():
        return MotorParams()
    return params_from_json(json.loads(target.read_text(encoding="utf-8")))
