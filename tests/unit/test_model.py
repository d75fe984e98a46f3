"""The model: causal in time (frames included), works without frames, and learns (loss falls)."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from inference.export import example_inputs  # noqa: E402
from inference.model import ForwardDynamicsModel, ModelConfig  # noqa: E402
from inference.train import TrainConfig, load_checkpoint, train  # noqa: E402
from tests.conftest import TINY_MODEL, scripted_episode  # noqa: E402

pytestmark = pytest.mark.train


def _random_inputs(config: ModelConfig, seed: int = 0) -> list:
    g = torch.Generator().manual_seed(seed)
    inputs = list(example_inputs(config, torch, batch=2))
    inputs[0] = torch.randint(0, config.mouse_bins, inputs[0].shape, generator=g)
    inputs[1] = torch.rand(inputs[1].shape, generator=g)
    inputs[1][..., 5] = 1.0
    inputs[4] = torch.rand(inputs[4].shape, generator=g)
    inputs[5] = torch.rand(inputs[5].shape, generator=g)
    inputs[6] = torch.tensor([[[3.0, 1.0], [10.0, 1.0]]]).expand(2, -1, -1).clone()
    return inputs


def test_future_ticks_and_later_frames_do_not_change_earlier_outputs() -> None:
    config = ModelConfig(**TINY_MODEL)
    model = ForwardDynamicsModel(config).eval()
    inputs = _random_inputs(config)
    base = model(*inputs)
    changed = [x.clone() for x in inputs]
    changed[0][:, 12:] = (changed[0][:, 12:] + 7) % config.mouse_bins  # ticks from 12 on
    changed[5][:, 1] = 1.0 - changed[5][:, 1]  # the frame captured at tick 10
    out = model(*changed)
    for name in ("dx_logits", "click_offset", "key_logits"):
        assert torch.allclose(base[name][:, :10], out[name][:, :10], atol=1e-5), name
        assert not torch.allclose(base[name][:, 10:], out[name][:, 10:], atol=1e-5), name


def test_pointer_only_model_ignores_frames() -> None:
    config = ModelConfig(**TINY_MODEL, use_frames=False)
    model = ForwardDynamicsModel(config).eval()
    inputs = _random_inputs(config)
    other = [x.clone() for x in inputs]
    other[4], other[5] = torch.zeros_like(other[4]), torch.zeros_like(other[5])
    assert torch.equal(model(*inputs)["click_offset"], model(*other)["click_offset"])


def test_tiny_training_run_lowers_validation_loss_and_checkpoint_carries_config(tmp_path: Path) -> None:
    episodes = [str(scripted_episode(tmp_path / "train" / f"ep{i}", seconds=30, seed=i)) for i in range(3)]
    held_out = str(scripted_episode(tmp_path / "val" / "ep", seconds=30, seed=99))
    cfg = TrainConfig(
        steps=50,
        batch_size=8,
        lr=3e-3,
        warmup=5,
        eval_every=25,
        eval_batches=4,
        out_dir=str(tmp_path / "run"),
        model=TINY_MODEL,
    )
    best = train(episodes, [held_out], cfg, log=lambda _: None)
    import json

    history = json.loads((tmp_path / "run" / "history.json").read_text())
    untrained = cfg.model | {}
    model, checkpoint = load_checkpoint(best)
    assert checkpoint["config"]["d_model"] == untrained["d_model"] == model.config.d_model
    first_cfg = TrainConfig(
        steps=1, batch_size=8, eval_every=1, eval_batches=4, out_dir=str(tmp_path / "run0"), model=TINY_MODEL
    )
    train(episodes, [held_out], first_cfg, log=lambda _: None)
    start = json.loads((tmp_path / "run0" / "history.json").read_text())[-1]["val_loss"]
    assert history[-1]["val_loss"] < 0.8 * start, (start, [h["val_loss"] for h in history])


def test_same_seed_same_weights(tmp_path: Path) -> None:
    episode = str(scripted_episode(tmp_path / "ep", seconds=10))
    runs = []
    for name in ("a", "b"):
        cfg = TrainConfig(steps=4, batch_size=4, eval_every=4, out_dir=str(tmp_path / name), model=TINY_MODEL, seed=7)
        runs.append(load_checkpoint(train([episode], [], cfg, log=lambda _: None))[0].state_dict())
    assert all(torch.equal(runs[0][k], runs[1][k]) for k in runs[0])
