"""The eval-gated swap with two real tiny ONNX models, the real registry and held-back episodes."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from app.swap import (
    FinetuneJob,
    GateOptions,
    ModelScore,
    base_checkpoint,
    checkpoints_dir,
    compare_models,
    finetune_and_swap,
    gate_and_swap,
    judge,
)
from inference.errors import GhostpilotError
from tests.conftest import scripted_episode
from tests.unit._learning_log import make_log


@pytest.fixture(scope="module")
def worse_onnx(tiny_checkpoint: Path) -> Path:
    """The tiny model with its click head pushed ~100 px off: a real model that is clearly worse."""
    pytest.importorskip("torch")
    from inference.checkpoints import read_checkpoint, save_checkpoint
    from inference.export import export_onnx

    checkpoint = read_checkpoint(tiny_checkpoint)
    bias = checkpoint["model"]["click_head.bias"]
    bias[:2] = 2.5  # sinh(2.5) * 0.01 of 640 px on both axes; the hypotheses keep theirs
    path = tiny_checkpoint.parent / "worse.safetensors"
    save_checkpoint(path, checkpoint["model"], checkpoint["config"], checkpoint["train"], checkpoint["record"])
    return export_onnx(path, tiny_checkpoint.parent / "worse.onnx")


@pytest.fixture(scope="module")
def held_back(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("held")
    return [scripted_episode(root / f"ep{i}", seconds=15.0, seed=10 + i) for i in range(2)]


def _score(error: float, movements: int = 20, keys: int = 0, top1: float = math.nan) -> ModelScore:
    return ModelScore(error, movements, keys, top1)


def test_better_means_lower_pointer_error_by_the_margin_without_worse_typing() -> None:
    options = GateOptions(min_movements=5, margin=0.02, min_keys=20, typing_tolerance=0.01)
    assert judge(_score(90.0), _score(100.0), options).better
    assert not judge(_score(99.0), _score(100.0), options).better  # within the margin: keep the current
    assert not judge(_score(100.0), _score(100.0), options).better
    assert not judge(_score(50.0, movements=4), _score(100.0, movements=4), options).better
    assert not judge(_score(math.nan), _score(100.0), options).better
    worse_typing = judge(_score(90.0, keys=30, top1=0.40), _score(100.0, keys=30, top1=0.45), options)
    assert not worse_typing.better and "top-1" in worse_typing.reason
    assert judge(_score(90.0, keys=10, top1=0.0), _score(100.0, keys=10, top1=0.9), options).better  # too few keys


def test_compare_models_prefers_the_better_real_model(tiny_onnx: Path, worse_onnx: Path, held_back: list[Path]) -> None:
    steps: list[int] = []
    verdict = compare_models(tiny_onnx, worse_onnx, held_back, progress=steps.append)
    assert verdict.better, verdict.reason
    assert verdict.candidate.movements == verdict.current.movements >= 5 and sum(steps) == len(held_back)
    assert verdict.candidate.pointer_error_px < verdict.current.pointer_error_px
    assert not compare_models(worse_onnx, tiny_onnx, held_back).better
    assert not compare_models(tiny_onnx, tiny_onnx, held_back).better  # equal is not better


def test_a_better_candidate_is_swapped_in_and_the_old_one_stays_for_rollback(
    tiny_onnx: Path, worse_onnx: Path, tiny_checkpoint: Path, held_back: list[Path]
) -> None:
    from app import models

    models.use(models.register(worse_onnx, "worse").name)
    kept = gate_and_swap(worse_onnx, "worse-again", held_back)
    assert not kept.better and models.current().name == "worse"
    assert "worse-again" not in {m.name for m in models.list_models()}  # a rejected candidate is not registered

    verdict = gate_and_swap(tiny_onnx, "ft-tiny", held_back, checkpoint=tiny_checkpoint)
    assert verdict.better and models.current().name == "ft-tiny"
    assert base_checkpoint(None) == checkpoints_dir() / f"{models.current().sha256}.safetensors"
    assert models.rollback().name == "worse" and models.current().name == "worse"
    with pytest.raises(GhostpilotError, match="no torch checkpoint"):
        base_checkpoint(None)  # "worse" was registered by hand, without its weights


def test_finetune_and_swap_runs_the_whole_job(
    tiny_onnx: Path, worse_onnx: Path, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    pytest.importorskip("torch")
    from app import models

    models.use(models.register(worse_onnx, "worse").name)
    db = tmp_path / "log.db"
    make_log(db, sessions=3, seconds=12.0)
    stages: dict[str, int] = {}
    job = FinetuneJob(steps=3, base=str(tiny_checkpoint), database=db, finetune={"batch_size": 4, "threads": 1})
    outcome = finetune_and_swap(job, tmp_path / "out", lambda s, n, _: stages.update({s: stages.get(s, 0) + n}))
    assert (outcome.trained_sessions, outcome.held_back_sessions) == (2, 1)
    assert stages == {"export": 3, "finetune": 3, "eval": 1}
    assert outcome.candidate.is_file() and outcome.checkpoint.is_file() and outcome.negatives > 0
    assert models.current().name == (outcome.candidate.stem if outcome.verdict.better else "worse")
    assert outcome.swapped == outcome.verdict.better


def test_one_session_is_not_enough_to_fine_tune(tiny_checkpoint: Path, tmp_path: Path) -> None:
    make_log(tmp_path / "log.db", sessions=1, seconds=4.0)
    job = FinetuneJob(steps=1, base=str(tiny_checkpoint), database=tmp_path / "log.db")
    with pytest.raises(GhostpilotError, match="at least 2 logged sessions"):
        finetune_and_swap(job, tmp_path / "out")


def test_the_cli_reports_the_verdict(
    worse_onnx: Path, tiny_checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from app import models
    from app.cli import main

    models.use(models.register(worse_onnx, "worse").name)
    make_log(tmp_path / "log.db", sessions=2, seconds=8.0)
    argv = ["finetune", "--steps", "2", "--base", str(tiny_checkpoint), "--database", str(tmp_path / "log.db")]
    assert main([*argv, "--no-swap", "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "held-back pointer error" in printed and "kept the current model" in printed
    assert models.current().name == "worse"
