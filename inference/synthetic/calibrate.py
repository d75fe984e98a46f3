"""Indirect inference: tune the generator's inputs until its *measured* statistics match the real ones.

Directly fitted numbers are not the right inputs: e.g. sub-pixel motion at the end of a stroke is never
reported, so the measured dwell before a press is longer than the dwell the user script waits, and
overlapping submovements are counted as one. So we simulate, measure with the same code as the real logs,
and nudge each input towards its target statistic a few rounds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from inference.synthetic.params import MotorParams

Simulate = Callable[[MotorParams], dict[str, Any]]


def _ratio(real: float, synthetic: float, damping: float = 0.7) -> float:
    """A damped multiplicative correction, clipped so one noisy round cannot run away."""
    if synthetic <= 1e-9 or real <= 1e-9:
        return 1.0
    return float(np.clip((real / synthetic) ** damping, 0.5, 2.0))


def step(params: MotorParams, real: dict[str, Any], synthetic: dict[str, Any]) -> MotorParams:
    """One correction round: each input moves towards the statistic it mainly drives."""
    target = np.array([real["submovements_1"], real["submovements_2"], real["submovements_3plus"]])
    got = np.array([synthetic["submovements_1"], synthetic["submovements_2"], synthetic["submovements_3plus"]])
    probs = np.asarray(params.submovement_probs) * np.clip((target + 0.01) / (got + 0.01), 0.5, 2.0)
    total = float(probs.sum())
    dwell_fix = np.log(real["dwell_median_s"] / max(synthetic["dwell_median_s"], 1e-3))
    return replace(
        params,
        fitts_a=max(0.0, params.fitts_a + 0.8 * (real["fitts_a_s"] - synthetic["fitts_a_s"])),
        fitts_b=max(0.02, params.fitts_b + 0.8 * (real["fitts_b_s_per_bit"] - synthetic["fitts_b_s_per_bit"])),
        primary_share=float(
            np.clip(params.primary_share * _ratio(real["time_to_peak_frac"], synthetic["time_to_peak_frac"]), 0.2, 0.9)
        ),
        correction_gap_s=float(
            np.clip(
                params.correction_gap_s * _ratio(real["peak_to_mean_speed"], synthetic["peak_to_mean_speed"]), 0.0, 0.12
            )
        ),
        submovement_probs=(float(probs[0] / total), float(probs[1] / total), float(probs[2] / total)),
        primary_error=float(
            np.clip(
                params.primary_error * _ratio(1 - real["submovements_1"], 1 - synthetic["submovements_1"]), 0.02, 0.5
            )
        ),
        rest_short_share=float(
            np.clip(
                params.rest_short_share + 0.8 * (synthetic["rest_share_over_0.25s"] - real["rest_share_over_0.25s"]),
                0,
                0.95,
            )
        ),
        rest_log_mu=params.rest_log_mu + 0.5 * float(np.log(real["rest_median_s"] / synthetic["rest_median_s"])),
        overshoot_rate=float(
            np.clip(params.overshoot_rate * _ratio(real["overshoot_rate"], synthetic["overshoot_rate"]), 0, 0.9)
        ),
        curvature_sd=params.curvature_sd * _ratio(real["curvature_median"], synthetic["curvature_median"]),
        dwell_log_mu=max(-5.0, params.dwell_log_mu + 0.8 * float(dwell_fix)),
    )


def calibrate(
    params: MotorParams, real: dict[str, Any], simulate: Simulate, rounds: int = 6
) -> tuple[MotorParams, dict[str, Any]]:
    """Run `rounds` correction rounds; returns the last parameters and their measured statistics."""
    synthetic = simulate(params)
    for _ in range(rounds):
        params = step(params, real, synthetic)
        synthetic = simulate(params)
    return params, synthetic
