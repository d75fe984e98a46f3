"""Eval-gated model swap: a fine-tuned candidate replaces the current model only if it scores better on recent
sessions held back from fine-tuning (docs/learning.md defines "better"); the registry keeps the old one.

`finetune_and_swap` is the whole `ghostpilot finetune` job: export the log to episodes, hold back the newest
sessions, fine-tune the base checkpoint on the rest, export ONNX, gate, swap.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from app.export import ExportOptions, episode_name, export_episodes, select_sessions
from inference.errors import GhostpilotError

Progress = Callable[[str, int, int | None], None]  # (stage, steps done since the last call, stage total)


@dataclass(frozen=True)
class GateOptions:
    min_movements: int = 5  # fewer scored movements on the held-back sessions: no verdict, keep the current model
    margin: float = 0.02  # the candidate's pointer error must be at least this much lower, relative
    min_keys: int = 20  # typing is compared only with at least this many held-back keystrokes
    typing_tolerance: float = 0.01  # the candidate's next-key top-1 may be this much lower, absolute


@dataclass(frozen=True)
class ModelScore:
    pointer_error_px: float  # mean over the cut fractions of the median endpoint error
    movements: int
    keys: int
    top1: float


@dataclass(frozen=True)
class SwapVerdict:
    better: bool
    reason: str
    candidate: ModelScore
    current: ModelScore


def model_score(report: Any) -> ModelScore:
    """An inference/evaluate.py EvalReport -> the figures the gate compares."""
    pointer = report.overall.pointer
    medians = [p.median for p in pointer if p.n > 0]
    error = sum(medians) / len(medians) if medians else math.nan
    typing = report.overall.typing
    return ModelScore(float(error), int(report.overall.movements), int(typing.n_keys), float(typing.top1))


def judge(candidate: ModelScore, current: ModelScore, options: GateOptions) -> SwapVerdict:
    """Better = enough movements, pointer error lower by `margin`, and typing not worse beyond tolerance."""

    def verdict(better: bool, reason: str) -> SwapVerdict:
        return SwapVerdict(better, reason, candidate, current)

    if min(candidate.movements, current.movements) < options.min_movements:
        return verdict(False, f"only {candidate.movements} held-back movements (need {options.min_movements})")
    if not (math.isfinite(candidate.pointer_error_px) and math.isfinite(current.pointer_error_px)):
        return verdict(False, "no pointer error to compare")
    limit = current.pointer_error_px * (1 - options.margin)
    if candidate.pointer_error_px > limit:
        return verdict(
            False, f"pointer error {candidate.pointer_error_px:.1f} px, needs <= {limit:.1f} px to replace the current"
        )
    typing_counts = min(candidate.keys, current.keys) >= options.min_keys and math.isfinite(current.top1)
    if typing_counts and not candidate.top1 >= current.top1 - options.typing_tolerance:
        return verdict(False, f"next-key top-1 fell from {current.top1:.3f} to {candidate.top1:.3f}")
    gain = current.pointer_error_px - candidate.pointer_error_px
    return verdict(True, f"pointer error {candidate.pointer_error_px:.1f} px ({gain:.1f} px lower)")


def compare_models(
    candidate: Path,
    current: Path,
    episodes: Sequence[Path],
    options: GateOptions | None = None,
    progress: Callable[[int], None] | None = None,
) -> SwapVerdict:
    """Score both ONNX models on the same held-back episodes (`ghostpilot eval` metrics) and judge."""
    from inference import load_predictor
    from inference.evaluate import evaluate_many

    predictors = {
        "candidate": load_predictor(candidate, device="cpu"),
        "current": load_predictor(current, device="cpu"),
    }
    reports = evaluate_many(predictors, list(episodes), progress=progress)
    return judge(model_score(reports["candidate"]), model_score(reports["current"]), options or GateOptions())


def checkpoints_dir() -> Path:
    from app.models import models_dir

    path = models_dir() / "checkpoints"
    path.mkdir(exist_ok=True, mode=0o700)
    return path


def gate_and_swap(
    candidate: Path,
    name: str,
    episodes: Sequence[Path],
    options: GateOptions | None = None,
    checkpoint: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> SwapVerdict:
    """Compare with the current model; only if better register the candidate and `use` it (one atomic index
    write; the old model stays registered and `ghostpilot model rollback` returns to it)."""
    from app import models

    current_path = models.verified_path(models.current())
    verdict = compare_models(candidate, current_path, episodes, options, progress)
    if verdict.better:
        entry = models.register(candidate, name)
        if checkpoint is not None:  # the next fine-tune starts from this model's weights
            shutil.copyfile(checkpoint, checkpoints_dir() / f"{entry.sha256}.safetensors")
        models.use(entry.name)
    return verdict


def base_checkpoint(spec: str | None) -> Path:
    """The torch checkpoint to fine-tune from: `spec`, else the current model's (kept when it was swapped in),
    else the shipped model's (`assets/models/ghostpilot-default.safetensors`, when present)."""
    if spec is not None:
        path = Path(spec)
        if not path.is_file():
            raise GhostpilotError(
                f"{path}: no such checkpoint", "pass a .safetensors file written by `ghostpilot train`"
            )
        return path
    from app import models

    entry = models.current()
    kept = checkpoints_dir() / f"{entry.sha256}.safetensors"
    if kept.is_file():
        return kept
    if entry.name == "default":
        from assets import DEFAULT_MODEL

        shipped = Path(DEFAULT_MODEL).with_suffix(".safetensors")
        if shipped.is_file():
            return shipped
    raise GhostpilotError(
        f"no torch checkpoint for the current model {entry.name!r}: fine-tuning needs its weights, not ONNX",
        "pass --base runs/default/best.safetensors (the checkpoint the model was exported from)",
    )


@dataclass(frozen=True)
class FinetuneJob:
    steps: int = 300
    since: float | None = None
    base: str | None = None  # checkpoint path; None: the current model's
    holdout: float = 0.2  # share of the newest sessions held back for the gate (at least one)
    swap: bool = True  # False: fine-tune and report the verdict, never change the current model
    database: Path | None = None
    gate: GateOptions = field(default_factory=GateOptions)
    finetune: dict[str, Any] = field(default_factory=dict)  # FinetuneConfig overrides


@dataclass(frozen=True)
class FinetuneOutcome:
    candidate: Path  # the ONNX file (kept in the output folder whatever the verdict)
    checkpoint: Path
    verdict: SwapVerdict
    swapped: bool
    trained_sessions: int
    held_back_sessions: int
    negatives: int


def default_out_dir() -> Path:
    """data_dir()/finetune/<time>: candidates and their checkpoints stay, whatever the verdict."""
    from app.paths import data_dir, private_dir

    return private_dir(data_dir() / "finetune") / time.strftime("%Y%m%d-%H%M%S")


def _split(episodes_dir: Path, sessions: list[dict[str, Any]], holdout: float) -> tuple[list[Path], list[Path]]:
    if len(sessions) < 2:
        raise GhostpilotError(
            f"fine-tuning needs at least 2 logged sessions, found {len(sessions)}",
            "the newest sessions are held back to check the result; use the copilot a little longer",
        )
    held = max(1, min(len(sessions) - 1, math.ceil(holdout * len(sessions))))
    folders = [episodes_dir / episode_name(s) for s in sessions]  # oldest first
    return folders[:-held], folders[-held:]


def finetune_and_swap(job: FinetuneJob, out_dir: Path, progress: Progress | None = None) -> FinetuneOutcome:
    """The `ghostpilot finetune` job; `progress(stage, n, total)` for "export", "finetune" and "eval"."""
    from inference.export import export_onnx
    from inference.finetune import FinetuneConfig, finetune

    base = base_checkpoint(job.base)
    report = progress or (lambda stage, n, total: None)
    options = ExportOptions(database=job.database, since=job.since)
    sessions = select_sessions(options)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ghostpilot-finetune-") as scratch:
        episodes_dir = Path(scratch) / "episodes"
        train_dirs, held_back = _split(episodes_dir, sessions, job.holdout)
        export_episodes(episodes_dir, options, lambda n: report("export", n, len(sessions)))
        cfg = replace(FinetuneConfig(**job.finetune), steps=job.steps)
        result = finetune(train_dirs, base, out_dir, cfg, lambda n, _: report("finetune", n, cfg.steps))
        stamp = time.strftime("%Y%m%d-%H%M%S")
        candidate = export_onnx(result.checkpoint, out_dir / f"ft-{stamp}.onnx")
        gate_progress: Callable[[int], None] = lambda n: report("eval", n, len(held_back))  # noqa: E731
        if job.swap:
            verdict = gate_and_swap(candidate, candidate.stem, held_back, job.gate, result.checkpoint, gate_progress)
        else:
            from app import models

            current = models.verified_path(models.current())
            verdict = compare_models(candidate, current, held_back, job.gate, gate_progress)
    return FinetuneOutcome(
        candidate, result.checkpoint, verdict, job.swap and verdict.better, len(train_dirs), len(held_back),
        result.negatives,
    )  # fmt: skip
