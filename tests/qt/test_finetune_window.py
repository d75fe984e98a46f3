"""Tray > Fine-tune: a real tiny fine-tune on a real tiny log, in the background, with progress and outcome."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")

from app.ghost import GhostView
from app.swap import FinetuneJob
from tests.unit._learning_log import make_log
from ui.finetune import NEEDS_TORCH, FinetuneRunner, FinetuneWindow, missing_requirement
from ui.tray import COMING_SOON, TrayCommands, TrayController

TIMEOUT_MS = 120_000  # a slow 2-core machine: the job itself takes a few seconds


def _tray(tmp_path: Path) -> TrayController:
    nothing = lambda *_: None  # noqa: E731
    commands = TrayCommands(nothing, nothing, nothing, lambda: tmp_path, nothing)
    return TrayController(commands, use_tray=False)


def _runner(tiny_checkpoint: Path, database: Path, out: Path, flushed: list[bool]) -> FinetuneRunner:
    job = FinetuneJob(steps=3, base=str(tiny_checkpoint), database=database, finetune={"batch_size": 4, "threads": 1})
    runner = FinetuneRunner(lambda: job, flush=lambda: flushed.append(True))
    runner.out_dir = lambda: out
    return runner


def test_the_tray_item_runs_a_real_fine_tune_in_the_background(
    qtbot, tiny_onnx: Path, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    from app import models

    models.use(models.register(tiny_onnx, "tiny").name)
    make_log(tmp_path / "log.db", sessions=3, seconds=12.0)
    flushed: list[bool] = []
    window = FinetuneWindow(_runner(tiny_checkpoint, tmp_path / "log.db", tmp_path / "out", flushed))
    qtbot.addWidget(window)
    tray = _tray(tmp_path)
    tray.enable("fine-tune", window.start)
    seen: list[tuple[str, int, int]] = []
    window.runner.progress.connect(lambda *args: seen.append(args))

    with qtbot.waitSignal(window.runner.finished, timeout=TIMEOUT_MS) as done:
        tray.actions["fine-tune"].trigger()
        assert window.isVisible() and window.runner.running
        assert not window.runner.start()  # one job at a time
    outcome = done.args[0]
    assert flushed == [True]  # the running store was flushed before the log was read
    assert list(dict.fromkeys(stage for stage, *_ in seen)) == ["export", "finetune", "eval"]
    assert ("finetune", 3, 3) in seen and ("export", 3, 3) in seen and ("eval", 1, 1) in seen
    assert window.outcome.text() and window.stage.text() == "done"
    if outcome.swapped:
        assert models.current().name == outcome.candidate.stem
        assert window.outcome.text().startswith(f"New model {outcome.candidate.stem} is in use now: ")
    else:
        assert models.current().name == "tiny"
        assert window.outcome.text() == f"Kept the current model: {outcome.verdict.reason}"


def test_a_failed_job_says_why_in_one_line(qtbot, tiny_checkpoint: Path, tmp_path: Path) -> None:
    make_log(tmp_path / "log.db", sessions=1, seconds=4.0)
    window = FinetuneWindow(_runner(tiny_checkpoint, tmp_path / "log.db", tmp_path / "out", []))
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.runner.failed, timeout=TIMEOUT_MS) as failed:
        window.start()
    assert "at least 2 logged sessions" in failed.args[0] and "\n" not in failed.args[0]
    assert window.outcome.text() == failed.args[0]
    qtbot.waitUntil(lambda: not window.runner.running, timeout=TIMEOUT_MS)
    assert window.runner.start()  # a new job may start after a failure
    qtbot.waitUntil(lambda: not window.runner.running, timeout=TIMEOUT_MS)


def test_without_torch_the_item_says_what_is_missing(qtbot, tmp_path: Path) -> None:
    assert missing_requirement() == ""  # torch, safetensors and onnx are installed here
    tray = _tray(tmp_path)
    tray.unavailable("fine-tune", NEEDS_TORCH)
    action = tray.actions["fine-tune"]
    assert not action.isEnabled() and NEEDS_TORCH in action.text() and COMING_SOON not in action.text()
    tray.set_view(GhostView())  # the state updates leave it as it is
    assert NEEDS_TORCH in action.text()


def test_the_app_wires_the_item_to_the_running_store(qtbot, tmp_path: Path) -> None:
    from types import SimpleNamespace

    from app.settings import Settings
    from app.store import Store
    from ui.app import _wire_finetune

    tray = _tray(tmp_path)
    with Store.open(tmp_path / "log.db") as store:
        live = SimpleNamespace(copilot=SimpleNamespace(parts=SimpleNamespace(logbook=SimpleNamespace(store=store))))
        _wire_finetune(tray, live, Settings())  # type: ignore[arg-type]  # only the store is read
        window = tray.windows[0]
        qtbot.addWidget(window)
        assert tray.actions["fine-tune"].isEnabled() and COMING_SOON not in tray.actions["fine-tune"].text()
        assert window.runner.make_job().database == store.path and window.runner.flush() is True


def test_the_outcome_line_says_whether_the_new_model_runs_now(tmp_path: Path) -> None:
    from app.swap import FinetuneOutcome, ModelScore, SwapVerdict
    from ui.finetune import outcome_message

    score = ModelScore(10.0, 20, 0, float("nan"))
    verdict = SwapVerdict(True, "pointer error 10.0 px (2.0 px lower)", score, score)
    outcome = FinetuneOutcome(tmp_path / "ft-1.onnx", tmp_path / "ft.safetensors", verdict, True, 2, 1, 0)
    assert outcome_message(outcome) == "New model ft-1 is in use now: pointer error 10.0 px (2.0 px lower)"
    assert outcome_message(outcome, pinned="mine.onnx") == (
        "New model ft-1 is current in the registry; this run keeps the pinned model mine.onnx: "
        "pointer error 10.0 px (2.0 px lower)"
    )
