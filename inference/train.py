"""`ghostpilot train`: train the forward-dynamics model from episode folders (torch, the `train` extra).

Runs unchanged on one CPU, one GPU, or many under `torchrun` (DistributedDataParallel: each rank draws its
own batches from its own seed; rank 0 evaluates and writes checkpoints). Checkpoints carry their config.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from inference.dataset import EpisodeData, active_ticks, load_many
from inference.episodes import find_episodes
from inference.errors import GhostpilotError, MissingExtraError


def require_torch() -> Any:
    try:
        import torch
    except ImportError:
        raise MissingExtraError(
            "training needs torch", "install the train extra: bash scripts/setup.sh --train"
        ) from None
    return torch


@dataclass
class TrainConfig:
    steps: int = 2000
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.05
    warmup: int = 100
    seed: int = 0
    eval_every: int = 250
    eval_batches: int = 8
    out_dir: str = "runs/default"
    model: dict[str, Any] = field(default_factory=dict)  # ModelConfig overrides
    threads: int = 0  # torch intra-op threads on CPU (0: torch's default)


class WindowSampler:
    """Draws (episode, segment, end tick) triples: each root weighs the same, then episodes by activity."""

    def __init__(self, groups: Sequence[Sequence[EpisodeData]], seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.groups = []
        for group in groups:
            entries = [(d, s, active_ticks(s)) for d in group for s in d.segments]
            entries = [e for e in entries if len(e[2])]
            if entries:
                weights = np.array([len(e[2]) for e in entries], dtype=np.float64)
                self.groups.append((entries, weights / weights.sum()))
        if not self.groups:
            raise GhostpilotError("no training data: the episodes hold no pointer or key activity")

    def draw(self) -> tuple[EpisodeData, Any, int]:
        entries, weights = self.groups[self.rng.integers(len(self.groups))]
        data, seg, active = entries[self.rng.choice(len(entries), p=weights)]
        if self.rng.random() < 0.85:
            end = int(active[self.rng.integers(len(active))])
        else:
            end = int(self.rng.integers(len(seg.ids)))
        return data, seg, end


def make_batch(sampler: WindowSampler, size: int, model_config: Any, torch: Any) -> tuple[dict, dict]:
    from inference.windows import window_inputs, window_targets

    inputs, targets = [], []
    for _ in range(size):
        data, seg, end = sampler.draw()
        inputs.append(window_inputs(data, seg, end, model_config.context_ticks))
        targets.append(
            window_targets(
                data, seg, end, model_config.context_ticks, model_config.click_horizon, model_config.key_horizon
            )
        )

    def stack(items: list[dict]) -> dict:
        return {k: torch.from_numpy(np.stack([i[k] for i in items])) for k in items[0]}

    return stack(inputs), stack(targets)


def _seed_everything(seed: int, torch: Any) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _lr_at(step: int, cfg: TrainConfig) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(cfg.steps - cfg.warmup, 1)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))))


def _load_groups(roots: Sequence[str], use_frames: bool, log: Callable[[str], None]) -> list[list[EpisodeData]]:
    groups = []
    for root in roots:
        paths = find_episodes([root])
        if not paths:
            raise GhostpilotError(f"{root}: no episodes found (folders with meta.json)")
        started = time.perf_counter()
        groups.append(load_many(paths, use_frames))
        log(f"loaded {len(paths)} episodes from {root} in {time.perf_counter() - started:.1f}s")
    return groups


def train(
    train_roots: Sequence[str],
    val_roots: Sequence[str],
    cfg: TrainConfig,
    log: Callable[[str], None] = print,
) -> Path:
    """Train; returns the path of the best checkpoint (lowest validation loss, or the last one)."""
    torch = require_torch()
    from inference.model import ForwardDynamicsModel, ModelConfig, loss_terms, total_loss

    rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    if world > 1:
        torch.distributed.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if torch.cuda.is_available() else "cpu")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    _seed_everything(cfg.seed, torch)  # same initial weights on every rank
    model_config = ModelConfig(**cfg.model)
    model = ForwardDynamicsModel(model_config).to(device)
    ddp = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    sampler = WindowSampler(_load_groups(train_roots, model_config.use_frames, log), cfg.seed + 1000 * rank)
    val = _validation_batches(val_roots, model_config, cfg, torch, log) if rank == 0 and val_roots else []
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    out_dir = Path(cfg.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    best, history = math.inf, []
    progress = _progress(cfg.steps, rank)
    for step in range(cfg.steps):
        for group in optimizer.param_groups:
            group["lr"] = _lr_at(step, cfg)
        inputs, targets = make_batch(sampler, cfg.batch_size, model_config, torch)
        out = ddp(*[inputs[k].to(device) for k in _input_order()])
        terms = loss_terms(out, {k: v.to(device) for k, v in targets.items()})
        loss = total_loss(terms)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        progress.update(1)
        progress.set_postfix(loss=f"{loss.item():.3f}", click_px=f"{terms['click'].item() * 1920:.0f}")
        last = step == cfg.steps - 1
        if rank == 0 and (last or (step + 1) % cfg.eval_every == 0):
            record = {"step": step + 1, "train_loss": loss.item(), **_evaluate(model, val, device, torch)}
            history.append(record)
            log(json.dumps(record))
            score = record.get("val_loss", record["train_loss"])
            _save(out_dir / "last.pt", model, model_config, cfg, record, torch)
            if score < best:
                best = score
                _save(out_dir / "best.pt", model, model_config, cfg, record, torch)
    progress.close()
    if rank == 0:
        (out_dir / "history.json").write_text(json.dumps(history, indent=1))
    if world > 1:
        torch.distributed.destroy_process_group()
    return out_dir / "best.pt"


def _input_order() -> tuple[str, ...]:
    from inference.windows import INPUT_NAMES

    return INPUT_NAMES


def _progress(total: int, rank: int) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc="train", disable=rank != 0, dynamic_ncols=True, mininterval=2.0)


def _validation_batches(roots: Sequence[str], model_config: Any, cfg: TrainConfig, torch: Any, log: Any) -> list:
    sampler = WindowSampler(_load_groups(roots, model_config.use_frames, log), seed=12345)
    return [make_batch(sampler, cfg.batch_size, model_config, torch) for _ in range(cfg.eval_batches)]


def _evaluate(model: Any, batches: list, device: Any, torch: Any) -> dict[str, float]:
    from inference.model import loss_terms, total_loss

    if not batches:
        return {}
    model.eval()
    sums: dict[str, float] = {}
    with torch.no_grad():
        for inputs, targets in batches:
            out = model(*[inputs[k].to(device) for k in _input_order()])
            terms = loss_terms(out, {k: v.to(device) for k, v in targets.items()})
            for name, value in {**terms, "loss": total_loss(terms)}.items():
                sums[f"val_{name}"] = sums.get(f"val_{name}", 0.0) + value.item() / len(batches)
    model.train()
    return sums


def _save(path: Path, model: Any, model_config: Any, cfg: TrainConfig, record: dict, torch: Any) -> None:
    tmp = path.with_suffix(".tmp")
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    torch.save({"config": model_config.to_dict(), "model": state, "train": asdict(cfg), "record": record}, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str | Path) -> tuple[Any, dict]:
    """A model (eval mode, CPU) and the checkpoint's metadata."""
    torch = require_torch()
    from inference.model import ForwardDynamicsModel, ModelConfig

    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        model = ForwardDynamicsModel(ModelConfig(**checkpoint["config"]))
        model.load_state_dict(checkpoint["model"])
    except FileNotFoundError:
        raise GhostpilotError(f"{path}: no such checkpoint") from None
    except Exception as exc:
        raise GhostpilotError(f"{path}: not a Ghostpilot checkpoint ({type(exc).__name__})") from None
    model.eval()
    return model, checkpoint
