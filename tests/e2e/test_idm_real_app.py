"""The IDM on a real application: a PySide6 form under a private Xvfb, driven through XTEST, recorded with the
real X cursor to H.264, labelled by the shipped IDM and scored against the injected events (a short version
of benchmarks/idm_real_app.py)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest

from inference.episodes import read_episode
from inference.idm.classes import tick_pointer
from inference.idm.label import label_recording
from inference.idm.metrics import event_scores

ROOT = Path(__file__).resolve().parents[2]


def _benchmark() -> object:
    spec = importlib.util.spec_from_file_location("idm_real_app", ROOT / "benchmarks" / "idm_real_app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_label_a_recording_of_a_real_form(tmp_path: Path) -> None:
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is needed (apt-get install xvfb)")
    video, truth_dir = _benchmark().record_session(tmp_path, seconds=6.0, seed=1)  # type: ignore[attr-defined]
    truth = read_episode(truth_dir)
    assert truth.meta.extra["frames_recorded"] >= 0.5 * 30 * truth.duration  # ~30 fps even on a busy machine
    assert {"mouse.down", "key.down"} <= {e["type"] for e in truth.events}
    labelled, _ = label_recording(video, tmp_path / "labelled")
    predicted = read_episode(labelled).events
    assert all(e["source"] == "idm" for e in predicted)
    n_ticks = int(truth.duration * 30) + 30
    true_xy, labelled_xy = tick_pointer(truth.events, n_ticks), tick_pointer(predicted, n_ticks)
    close = float(np.nanmean(np.abs(true_xy - labelled_xy).max(axis=1) <= 20))
    scores = event_scores(truth.events, predicted)
    # Floors well under what the 40-second benchmark measures (docs/metrics.md): they catch a broken pipeline
    # (time base, coordinates, cursor compositing, resampling), not a slightly worse model. The shipped IDM
    # tracks the real X cursor poorly in text fields (pointer R² is negative there), so R² is not asserted.
    # chance: a 40x40 px square of a 1280x720 screen, ~0.2 %; this 6 s recording measured 3-4 % in repeated runs
    # (the shipped tracker loses the cursor in text fields), so the floor is 10x chance, not a quality bar
    assert close > 0.02, close
    # ~10 visible keys in 6 s; repeated runs found 1 to 3 (the model is weak: docs/metrics.md). A broken time
    # base or key path finds none (a press must match within 2 ticks); clicks are found far more reliably.
    assert scores["key.down (visible)"].matched >= 1, scores
    assert scores["mouse.down"].recall >= 0.5, scores
