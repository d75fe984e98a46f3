"""Fine-tuning from the correction log: real tiny runs (seconds) from a real tiny checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.export import ExportOptions, export_episodes
from tests.unit._learning_log import make_log

torch = pytest.importorskip("torch")

from inference.finetune import (  # noqa: E402
    FinetuneConfig,
    Negative,
    _locate,
    click_mass_near,
    finetune,
    imitation_loss,
    load_episodes,
    negative_batch,
    read_negatives,
    score_negatives,
)
from inference.train import load_checkpoint  # noqa: E402
from inference.windows import INPUT_NAMES  # noqa: E402

FAST = {"batch_size": 4, "negatives_per_step": 8, "lr": 2e-3, "anchor": 0.01, "threads": 1}


@pytest.fixture(scope="module")
def episodes(tmp_path_factory: pytest.TempPathFactory, tiny_checkpoint: Path) -> Path:
    """Exported episodes whose dismissed ghosts point where the base model itself puts its endpoint (as a real
    dismissed ghost does: it was the model's own suggestion)."""
    root = tmp_path_factory.mktemp("ft")
    make_log(root / "log.db", sessions=2, seconds=12.0)
    out = root / "episodes"
    export_episodes(out, ExportOptions(database=root / "log.db"))
    model, _ = load_checkpoint(tiny_checkpoint)
    paths, data = load_episodes([out], model.config.use_frames)
    for episode, (path, item) in enumerate(zip(paths, data, strict=True)):
        sidecar = path / "suggestions.jsonl"
        rows = [json.loads(line) for line in sidecar.read_text().splitlines()]
        for row in rows:
            where = _locate(item, row["t"]) if row["decision"] == "dismissed" else None
            if where is None:
                continue
            neg = Negative(episode, *where, (0.0, 0.0))
            inputs, pointer, _, scale = negative_batch([neg], data, model.config.context_ticks, torch)
            with torch.no_grad():
                heads = model(*[inputs[k] for k in INPUT_NAMES])
            row["click"] = [float(v) for v in (pointer + heads["click_offset"][:, -1] * scale[:, None])[0]]
        sidecar.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return out


def test_the_imitation_loss_falls(episodes: Path, tiny_checkpoint: Path, tmp_path: Path) -> None:
    steps: list[float] = []
    result = finetune([episodes], tiny_checkpoint, tmp_path, FinetuneConfig(steps=15, **FAST),
                      lambda n, record: steps.append(record["loss"]))  # fmt: skip
    assert len(steps) == 15 == len(result.history) and result.checkpoint.is_file()
    base, _ = load_checkpoint(tiny_checkpoint)
    tuned, checkpoint = load_checkpoint(result.checkpoint)  # the same layout as `ghostpilot train` writes
    assert checkpoint["record"]["base"] == str(tiny_checkpoint)
    _, data = load_episodes([episodes], base.config.use_frames)
    assert imitation_loss(tuned, data) < imitation_loss(base, data)


def test_a_dismissed_ghost_lowers_the_score_at_its_point(episodes: Path, tiny_checkpoint: Path, tmp_path: Path) -> None:
    base, _ = load_checkpoint(tiny_checkpoint)
    paths, data = load_episodes([episodes], base.config.use_frames)
    negatives = read_negatives(paths, data)
    assert len(negatives) >= 4
    radius = FinetuneConfig().negative_radius_px
    before = score_negatives(base, negatives, data, radius)
    assert before > 0.3  # the ghosts were the base model's own endpoints
    scores = {}
    for weight in (1.0, 0.0):
        cfg = FinetuneConfig(steps=8, unlikelihood=weight, seed=3, **FAST)
        result = finetune([episodes], tiny_checkpoint, tmp_path / str(weight), cfg)
        assert result.negatives == len(negatives)
        tuned, _ = load_checkpoint(result.checkpoint)
        scores[weight] = score_negatives(tuned, negatives, data, radius)
    assert scores[1.0] < scores[0.0] and scores[1.0] < before


def test_the_click_mass_is_one_on_the_endpoint_and_falls_away() -> None:
    k = 3
    out = {
        "click_offset": torch.zeros(1, 1, 2),
        "hyp_offsets": torch.zeros(1, 1, k, 2),
        "hyp_logits": torch.zeros(1, 1, k),
    }
    pointer, scale = torch.tensor([[100.0, 100.0]]), torch.tensor([1000.0])
    at = click_mass_near(out, pointer, torch.tensor([[100.0, 100.0]]), scale, 30.0)
    far = click_mass_near(out, pointer, torch.tensor([[400.0, 100.0]]), scale, 30.0)
    assert at.item() == pytest.approx(1.0) and far.item() < 1e-6


def test_a_goal_conditioned_model_fine_tunes_on_its_dismissed_ghosts(episodes: Path, tmp_path: Path) -> None:
    """The shipped model takes goals: its negatives' windows need the goal inputs too (no goal: none logged)."""
    from inference.train import TrainConfig, train
    from tests.conftest import TINY_MODEL, scripted_episode

    episode = scripted_episode(tmp_path / "episodes" / "ep0")
    cfg = TrainConfig(steps=2, batch_size=4, eval_every=2, out_dir=str(tmp_path / "run"),
                      model={**TINY_MODEL, "use_goals": True})  # fmt: skip
    base = train([str(episode)], [], cfg, log=lambda _: None)
    model, _ = load_checkpoint(base)
    assert model.config.use_goals
    paths, data = load_episodes([episodes], model.config.use_frames)
    negatives = read_negatives(paths, data)
    assert negatives
    result = finetune([episodes], base, tmp_path / "ft", FinetuneConfig(steps=3, **FAST))
    assert result.negatives == len(negatives) and result.checkpoint.is_file()
    tuned, _ = load_checkpoint(result.checkpoint)
    assert 0 <= score_negatives(tuned, negatives, data, 30.0) <= 1
