"""`ghostpilot finetune`: adapt a trained model to one user's correction log (torch, the `train` extra).

Three terms (docs/learning.md):
- imitation: the training loss of inference/train.py on the user's own events. Whatever the user did is the
  target, whether a ghost was shown, accepted or not; events Ghostpilot performed (`source: "ghostpilot"`)
  are context, never targets (inference/dataset.py).
- unlikelihood on dismissed ghosts: at the tick a dismissed ghost was shown, -log(1 - m), where m is the click
  head's mass within ~`negative_radius_px` of the dismissed click point (see `click_mass_near`).
- an L2 pull toward the base model's weights (L2-SP), so a few hundred steps on one user's log do not
  forget what the base model knew.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from inference.actions import tick_of
from inference.checkpoints import SUFFIX, save_checkpoint
from inference.dataset import EpisodeData, load_many
from inference.errors import GhostpilotError
from inference.train import WindowSampler, load_checkpoint, make_batch, require_torch, to_device

SIDECAR = "suggestions.jsonl"  # written by app/export.py beside each exported episode's events


@dataclass
class FinetuneConfig:
    steps: int = 300
    batch_size: int = 16  # imitation windows per step
    lr: float = 1e-4  # constant: short runs from a trained model need no warmup or schedule
    anchor: float = 1.0  # weight of sum((w - w_base)^2) over all parameters
    unlikelihood: float = 1.0  # weight of the dismissed-ghost term
    negatives_per_step: int = 8
    negative_radius_px: float = 30.0  # the kernel's sigma; also the evaluator's hit radius
    seed: int = 0
    threads: int = 0  # torch intra-op threads on CPU (0: torch's default)


@dataclass(frozen=True)
class Negative:
    """A dismissed pointer ghost: where its window ends and the click point the user turned down."""

    episode: int  # index into the loaded episodes
    segment: int
    end: int  # the last tick the session had seen when the ghost was shown
    point: tuple[float, float]  # screen px


@dataclass(frozen=True)
class FinetuneResult:
    checkpoint: Path
    history: list[dict[str, float]]  # per step: imitation, unlikelihood, anchor, loss
    negatives: int


def _locate(data: EpisodeData, t: float) -> tuple[int, int] | None:
    """(segment, end tick) of the window the live session had at time t; None inside an idle gap."""
    for index, seg in enumerate(data.segments):
        end = tick_of(t, seg.t0) - 1
        if 0 <= end < len(seg.ids):
            return index, end
    return None


def read_negatives(paths: Sequence[Path], data: Sequence[EpisodeData]) -> list[Negative]:
    """Dismissed pointer ghosts with a click point, from each episode's suggestions.jsonl (if any)."""
    negatives = []
    for episode, (path, item) in enumerate(zip(paths, data, strict=True)):
        sidecar = Path(path) / SIDECAR
        if not sidecar.is_file():
            continue
        with open(sidecar, encoding="utf-8") as lines:
            for line in lines:
                row = json.loads(line)
                if row.get("decision") != "dismissed" or row.get("kind") != "pointer" or row.get("click") is None:
                    continue
                where = _locate(item, float(row["t"]))
                if where is not None:
                    negatives.append(Negative(episode, *where, (float(row["click"][0]), float(row["click"][1]))))
    return negatives


def negative_batch(
    negatives: Sequence[Negative],
    data: Sequence[EpisodeData],
    context: int,
    torch: Any,
    goal_rng: np.random.Generator | None = None,
) -> tuple[dict[str, Any], Any, Any, Any]:
    """Model inputs for the negatives' windows, with each window's pointer position, point and scale (px).
    `goal_rng`: the model is goal-conditioned, so the windows also get its goal and screen-text inputs (a
    logged episode carries no screen text: "no goal", as `make_batch` gives its windows)."""
    from inference.goal_windows import goal_window
    from inference.windows import window_inputs

    inputs, pointer, points, scale = [], [], [], []
    for neg in negatives:
        item = data[neg.episode]
        seg = item.segments[neg.segment]
        inputs.append(window_inputs(item, seg, neg.end, context))
        if goal_rng is not None:
            inputs[-1].update(goal_window(item, seg, neg.end, context, goal_rng)[0])
        true_xy = getattr(seg, "true_xy", None)  # the real pointer, where the live session measures offsets from
        xy = true_xy[neg.end] if true_xy is not None else seg.cont[neg.end, :2] * (item.width, item.height)
        pointer.append(np.asarray(xy, np.float32))
        points.append(neg.point)
        scale.append(float(max(item.width, item.height)))
    stacked = {k: torch.from_numpy(np.stack([i[k] for i in inputs])) for k in inputs[0]}

    def tensor(values: Any) -> Any:
        return torch.tensor(np.asarray(values, np.float32))

    return stacked, tensor(pointer), tensor(points), tensor(scale)


def click_mass_near(out: dict[str, Any], pointer: Any, point: Any, scale: Any, radius_px: float) -> Any:
    """(B,) how much of the click head's belief at the window's last tick lies near `point` (px), in [0, 1]:
    half from the primary endpoint, half from the hypotheses weighted by their softmax scores, each through a
    Gaussian kernel of sigma `radius_px`. A ghost is drawn at these endpoints, so lowering m moves it away."""
    torch = require_torch()
    primary = pointer + out["click_offset"][:, -1] * scale[:, None]  # (B, 2) px
    hyps = pointer[:, None] + out["hyp_offsets"][:, -1] * scale[:, None, None]  # (B, K, 2) px
    weights = torch.softmax(out["hyp_logits"][:, -1], dim=-1)  # (B, K)

    def kernel(distance_sq: Any) -> Any:
        return torch.exp(-distance_sq / (2 * radius_px**2))

    near_primary = kernel((primary - point).square().sum(-1))
    near_hyps = (weights * kernel((hyps - point[:, None]).square().sum(-1))).sum(-1)
    return 0.5 * near_primary + 0.5 * near_hyps


def score_negatives(model: Any, negatives: Sequence[Negative], data: Sequence[EpisodeData], radius: float) -> float:
    """Mean `click_mass_near` over the negatives (no gradients): what the unlikelihood term pushes down."""
    torch = require_torch()
    goal_rng = np.random.default_rng(0) if model.config.use_goals else None
    inputs, pointer, points, scale = negative_batch(negatives, data, model.config.context_ticks, torch, goal_rng)
    model.eval()
    with torch.no_grad():
        out = model(*[inputs[k] for k in _input_order(model.config)])
        return float(click_mass_near(out, pointer, points, scale, radius).mean())


def imitation_loss(model: Any, data: Sequence[EpisodeData], batches: int = 4, size: int = 16, seed: int = 99) -> float:
    """The imitation loss on fixed windows (same seed, same windows for every model): a steady measure where
    a single step's batch loss is noisy."""
    torch = require_torch()
    from inference.model import loss_terms, total_loss

    sampler = WindowSampler([list(data)], seed)
    model.eval()
    total = 0.0
    with torch.no_grad():
        for _ in range(batches):
            inputs, targets = (to_device(b, "cpu") for b in make_batch(sampler, size, model.config, torch))
            total += total_loss(loss_terms(model(*[inputs[k] for k in _input_order(model.config)]), targets)).item()
    return total / batches


def _input_order(model_config: Any) -> tuple[str, ...]:
    from inference.windows import input_names

    return input_names(model_config.use_goals)


def load_episodes(roots: Sequence[str | Path], use_frames: bool) -> tuple[list[Path], list[EpisodeData]]:
    from inference.episodes import find_episodes

    paths = find_episodes(roots)
    if not paths:
        raise GhostpilotError("no episodes to fine-tune on", "log some sessions with the copilot first")
    return paths, load_many(paths, use_frames)


def finetune(
    roots: Sequence[str | Path],
    base_checkpoint: str | Path,
    out_dir: str | Path,
    cfg: FinetuneConfig,
    progress: Callable[[int, dict[str, float]], None] | None = None,
) -> FinetuneResult:
    """Fine-tune the base checkpoint on the episodes under `roots`; writes `out_dir/finetuned.safetensors`."""
    torch = require_torch()
    from inference.model import loss_terms, total_loss

    torch.manual_seed(cfg.seed)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    model, checkpoint = load_checkpoint(base_checkpoint)
    model.train()
    base = [p.detach().clone() for p in model.parameters()]
    paths, data = load_episodes(roots, model.config.use_frames)
    sampler = WindowSampler([data], cfg.seed)
    negatives = read_negatives(paths, data)
    rng = np.random.default_rng(cfg.seed + 1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.0)  # the anchor replaces decay
    history = []
    for _ in range(cfg.steps):
        inputs, targets = (to_device(b, "cpu") for b in make_batch(sampler, cfg.batch_size, model.config, torch))
        imitation = total_loss(loss_terms(model(*[inputs[k] for k in _input_order(model.config)]), targets))
        unlikely = torch.zeros(())
        if negatives and cfg.unlikelihood > 0:
            drawn = [negatives[i] for i in rng.integers(len(negatives), size=cfg.negatives_per_step)]
            goal_rng = rng if model.config.use_goals else None
            neg_inputs, pointer, points, scale = negative_batch(
                drawn, data, model.config.context_ticks, torch, goal_rng
            )
            out = model(*[neg_inputs[k] for k in _input_order(model.config)])
            mass = click_mass_near(out, pointer, points, scale, cfg.negative_radius_px)
            unlikely = -torch.log((1 - mass).clamp(min=1e-6)).mean()
        anchor = sum(((p - p0).square().sum() for p, p0 in zip(model.parameters(), base, strict=True)), torch.zeros(()))
        loss = imitation + cfg.unlikelihood * unlikely + cfg.anchor * anchor
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        record = {"imitation": imitation.item(), "unlikelihood": unlikely.item(), "anchor": anchor.item(),
                  "loss": loss.item()}  # fmt: skip
        history.append(record)
        if progress:
            progress(1, record)
    path = _save(Path(out_dir), model, checkpoint, cfg, base_checkpoint, history, torch)
    return FinetuneResult(path, history, len(negatives))


def _save(
    out_dir: Path, model: Any, base: dict, cfg: FinetuneConfig, base_path: str | Path, history: list, torch: Any
) -> Path:
    """The same checkpoint layout as inference/train.py (config travels with the weights), plus the base."""
    out_dir.mkdir(parents=True, exist_ok=True)
    record = {"finetune": asdict(cfg), "base": str(base_path), "last": history[-1] if history else {}}
    return save_checkpoint(out_dir / f"finetuned{SUFFIX}", model.state_dict(), base["config"], base["train"], record)
