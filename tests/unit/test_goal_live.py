"""A goal reaches the ghosts in the live path: frame -> screen-text worker (real OCR and MiniLM) -> the shipped
goal-conditioned model's session -> a pointer ghost on the element the goal names."""

from __future__ import annotations

import time

import numpy as np

from app.copilot_parts import CopilotParts
from app.goal import GoalControl
from app.screen_text import ScreenTextWorker
from inference import load_predictor
from inference.goals.ocr import OcrModel
from inference.goals.text_encoder import TextEncoder
from inference.synthetic.screens import Renderer, UIState, make_screen


def _wait(check: object, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not check() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.05)


def test_a_goal_points_the_ghost_at_the_named_button_through_the_worker() -> None:
    screen = make_screen(np.random.default_rng(4))
    frame = Renderer(screen).render(UIState())
    button = screen.of_kind("button")[0]
    predictor = load_predictor(device="cpu")
    assert predictor.config["use_goals"]
    session = predictor.new_session(screen.width, screen.height)
    worker = ScreenTextWorker(OcrModel(), TextEncoder()).start()
    try:
        parts = CopilotParts(session=session, on_view=lambda _view: None, screen_text=worker)
        goals = GoalControl(parts)
        goals.start()
        session.observe_event({"t": 0.0, "type": "mouse.move", "x": 1200, "y": 650})
        goals.offer_frame(0.1, frame)
        session.observe_frame(0.1, frame)
        goals.set_text(f"Click the {button.label} button.")  # as the prompt does: session and worker
        _wait(lambda: worker.latest is not None and worker.latest.goal is not None)
        goals.pull_text()
    finally:
        worker.stop()
    assert session.goal_state.snapshot is worker.latest.model_input
    ghosts = [s for s in session.suggest(1.0, min_confidence=0.0) if s.kind == "pointer"]
    assert ghosts[0].details.get("goal") == 1.0, "the goal's ghost comes first"
    x0, y0, x1, y1 = button.box
    assert x0 <= ghosts[0].click[0] < x1 and y0 <= ghosts[0].click[1] < y1
    goals.set_text(None)
    assert session.goal is None
    assert all(s.details.get("goal") is None for s in session.suggest(1.1, min_confidence=0.0))
