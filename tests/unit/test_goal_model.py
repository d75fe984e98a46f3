"""The goal-conditioned model end to end: training targets, a tiny training run, ONNX parity, the live session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from inference import goal_features  # noqa: E402
from inference.dataset import load_episode_data  # noqa: E402
from inference.goal_windows import embed_episode_texts, goal_window  # noqa: E402
from inference.goals.text_encoder import TextEncoder  # noqa: E402
from inference.synthetic.generate import generate_episode  # noqa: E402

TINY_GOALS = {"d_model": 32, "n_layer": 1, "n_head": 2, "context_ticks": 16, "use_goals": True}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("goal-episodes")
    generate_episode(root, 4)
    return root


def test_the_target_of_a_button_task_is_the_buttons_label(synthetic: Path) -> None:
    data = load_episode_data(next(synthetic.iterdir()))
    encoder = TextEncoder()
    embed_episode_texts([data], encoder.embed)
    tasks = [t for t in data.goal_texts.spans if "button." in t.goal]
    assert tasks, "seed 4 has a click-the-button task"
    label = tasks[0].goal.removeprefix("Click the ").removesuffix(" button.")
    press = next(i for i, t in enumerate(data.click_t) if t >= tasks[0].t_start)
    seg = next(s for s in data.segments if s.t0 <= data.click_t[press] < s.t0 + len(s.ids) / 30)
    end = int((data.click_t[press] - seg.t0) * 30) - 3  # three ticks before the press
    rng = np.random.default_rng(1)  # OCR-like noise drops 3 % of texts; with this draw the label stays
    inputs, targets = goal_window(data, seg, end, 16, rng, goal_prob=1.0)
    assert inputs["goal"][-1] == 1.0
    slot = int(targets["text_target"][-1])
    assert targets["text_mask"][-1] == 1.0 and slot < goal_features.TEXT_SLOTS
    e = goal_features.EMBED_DIM
    assert inputs["texts"][slot, e + 5] == 1.0  # the target slot is the one whose words the goal names
    assert float(inputs["texts"][slot, :e] @ encoder.embed([label])[0]) > 0.999  # the button's own label
    centre_x = inputs["texts"][slot, e] * data.width
    assert abs(centre_x + targets["text_offset"][-1, 0] * max(data.width, data.height) - data.click_xy[press, 0]) < 1


@pytest.fixture(scope="module")
def goal_checkpoint(synthetic: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from inference.train import TrainConfig, train

    out = tmp_path_factory.mktemp("goal-run")
    cfg = TrainConfig(steps=3, batch_size=4, eval_every=3, out_dir=str(out), model=TINY_GOALS)
    return train([str(synthetic)], [], cfg, log=lambda _: None)


def test_onnx_matches_torch_on_the_goal_outputs(goal_checkpoint: Path) -> None:
    from inference import load_predictor
    from inference.export import export_onnx, output_names
    from inference.train import load_checkpoint
    from inference.windows import input_names
    from tests.unit.test_model import _random_inputs

    model, _ = load_checkpoint(goal_checkpoint)
    predictor = load_predictor(export_onnx(goal_checkpoint, goal_checkpoint.parent / "g.onnx"), device="cpu")
    inputs = _random_inputs(model.config)
    inputs[-1] = torch.rand(inputs[-1].shape)  # texts
    inputs[-1][..., -1] = (torch.arange(goal_features.TEXT_SLOTS) < 5).float()
    inputs[-2] = torch.rand(inputs[-2].shape)  # goal
    with torch.no_grad():
        expected = model(*inputs)
    got = predictor.run({name: x.numpy() for name, x in zip(input_names(True), inputs, strict=True)})
    for name in output_names(True):
        np.testing.assert_allclose(got[name], expected[name][:, -1].numpy(), rtol=1e-4, atol=1e-4, err_msg=name)
    assert got["text_logits"].shape == (2, goal_features.TEXT_SLOTS + 1)
    assert (got["text_logits"][:, 5 : goal_features.TEXT_SLOTS] < -1e3).all()  # empty slots never win


def test_a_live_session_feeds_goal_and_screen_text_to_the_model(goal_checkpoint: Path) -> None:
    from inference import load_predictor
    from inference.export import export_onnx
    from inference.goal_features import ScreenText, snapshot_from

    predictor = load_predictor(export_onnx(goal_checkpoint, goal_checkpoint.parent / "s.onnx"), device="cpu")
    session = predictor.new_session(800, 600)
    session.set_goal("Click the Save button.")
    encoder = TextEncoder()
    texts = [ScreenText("Save", (100, 100, 140, 120)), ScreenText("Delete", (300, 100, 350, 120))]
    session.observe_text(snapshot_from(0.0, texts, "Click the Save button.", encoder.embed))
    session.observe_event({"t": 0.0, "type": "mouse.move", "x": 400, "y": 300})
    inputs, _, _ = session.model_inputs(0.2)
    assert inputs["goal"][0, -1] == 1.0 and inputs["texts"][0, :, -1].sum() == 2
    assert session.suggest(0.2, min_confidence=0.0)  # runs end to end on the real ONNX model
    session.set_goal("Click the Delete button.")  # the snapshot was made for another goal: no goal input yet
    inputs, _, _ = session.model_inputs(0.3)
    assert inputs["goal"][0, -1] == 0.0 and inputs["texts"][0, :, -1].sum() == 2
