"""The click a session reports first is the model's primary point, placed from the real pointer."""

from __future__ import annotations

import numpy as np

from inference import features
from inference.suggestions import pointer_suggestions


def _outputs(correct_logit: float) -> dict[str, np.ndarray]:
    """Raw model outputs: primary 0.1 screen right of the pointer, one confident alternative far below it."""
    return {
        "click_soon_logit": np.array(3.0),
        "correct_logit": np.array(correct_logit),
        "click_log_ticks": np.array(np.log(10.0)),
        "button_logits": np.array([5.0, 0.0, 0.0]),
        "click_offset": np.array([0.1, 0.0]),
        "hyp_offsets": np.array([[0.0, 0.3], [0.0, -0.3], [0.2, 0.2]]),
        "hyp_logits": np.array([8.0, 0.0, 0.0]),
        "key_logits": np.zeros(features.N_KEY_CLASSES),
    }


def _ranked(correct_logit: float, pointer: tuple[float, float]) -> list:
    found = pointer_suggestions(_outputs(correct_logit), pointer, 10.0, 10.02, 1000.0, (1000, 800))
    return sorted((s for s in found if s is not None), key=lambda s: -s.confidence)


def test_the_primary_point_comes_first_even_when_the_model_doubts_it() -> None:
    for correct_logit in (4.0, 0.0, -6.0):  # p_within_30px from 0.98 down to 0.002
        ranked = _ranked(correct_logit, (300.0, 400.0))
        assert ranked[0].click == (400.0, 400.0), f"an alternative outranked the primary at {correct_logit}"
        assert len(ranked) >= 2 and ranked[1].click == (300.0, 700.0)


def test_offsets_are_placed_from_the_real_pointer() -> None:
    ranked = _ranked(0.0, (123.0, 456.0))
    assert ranked[0].click == (223.0, 456.0)
    assert ranked[0].events[0]["type"] == "mouse.move" and ranked[0].events[-2]["type"] == "mouse.down"
