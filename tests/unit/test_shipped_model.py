"""The shipped default model: present, small, loadable without torch, documented, and usable."""

from __future__ import annotations

from assets import DEFAULT_MODEL
from inference import load_predictor
from inference.actions import ACTION_SPACE_VERSION


def test_default_model_ships_within_30_mb_with_its_card() -> None:
    assert DEFAULT_MODEL.is_file(), "assets/models/ghostpilot-default.onnx is missing"
    assert DEFAULT_MODEL.stat().st_size <= 30 * 1024 * 1024
    card = (DEFAULT_MODEL.parent / "README.md").read_text()
    for needed in ("scripts/train-default.sh", "seed", "user 16", "stay"):
        assert needed in card, f"model card does not mention {needed!r}"


def test_default_model_loads_and_suggests_on_cpu() -> None:
    predictor = load_predictor(device="cpu")
    assert predictor.metadata["ghostpilot.action_space_version"] == str(ACTION_SPACE_VERSION)
    session = predictor.new_session(1920, 1080)
    for i in range(30):
        session.observe_event({"t": i / 60, "type": "mouse.move", "x": 100 + 20 * i, "y": 500})
    suggestions = session.suggest(0.5, min_confidence=0.0)
    pointer = next(s for s in suggestions if s.kind == "pointer")
    assert pointer.click is not None and 0 <= pointer.click[0] < 1920 and 0 <= pointer.click[1] < 1080
    assert pointer.events[-1]["type"] == "mouse.up" and pointer.events[0]["t"] >= 0.5
