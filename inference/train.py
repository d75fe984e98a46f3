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

from inference.checkpoints import SUFFIX, save_checkpoint
from inference.checkpoints import load_checkpoint as load_checkpoint  # re-exported: callers import it from here
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
    endpoint_press_only: bool = True  # endpoint losses on movements that end in a press (what the metric scores)
    per_movement: bool = True  # each movement's endpoint counts once, however many ticks it lasts
    workers: int = -1  # batch-making processes; -1: none on CPU, up to 12 beside a GPU (the GPU waits on them)
    minutes: float = 0.0  # > 0: after warmup, cut `steps` to what fits this many minutes of training
    init_from: str = ""  # a checkpoint to start from; parameters it lacks (e.g. the goal tokens) start fresh


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


FRAME_INPUTS = ("frame_global", "frame_crop")


def make_batch(
    sampler: WindowSampler, size: int, model_config: Any, torch: Any, cfg: TrainConfig | None = None
) -> tuple[dict, dict]:
    """A batch of windows and targets; frames travel as uint8 (see `to_device`)."""
    from inference.windows import window_inputs, window_targets

    cfg = cfg or TrainConfig()
    inputs, targets = [], []
    for _ in range(size):
        data, seg, end = sampler.draw()
        inputs.append(window_inputs(data, seg, end, model_config.context_ticks))
        targets.append(
            window_targets(
                data, seg, end, model_config.context_ticks, model_config.click_horizon, model_config.key_horizon,
                cfg.endpoint_press_only, cfg.per_movement,
            )
        )  # fmt: skip
        if model_config.use_goals:
            from inference.goal_windows import goal_window

            goal_in, goal_tgt = goal_window(data, seg, end, model_config.context_ticks, sampler.rng)
            inputs[-1].update(goal_in)
            targets[-1].update(goal_tgt)

    def stack(items: list[dict]) -> dict:
        out = {k: np.stack([i[k] for i in items]) for k in items[0]}
        for k in FRAME_INPUTS & out.keys():
            out[k] = np.rint(out[k] * 255).astype(np.uint8)  # exact: frames are uint8 / 255; 4x less to move
        return {k: torch.from_numpy(v) for k, v in out.items()}

    return stack(inputs), stack(targets)


def to_device(batch: dict, device: Any) -> dict:
    """Batch tensors on the device, frames back to floats in [0, 1]."""
    moved = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
    for k in FRAME_INPUTS & moved.keys():
        moved[k] = moved[k].float() / 255.0
    return moved


def _batches(sampler: WindowSampler, model_config: Any, cfg: TrainConfig, torch: Any, seed: int) -> Any:
    """Endless training batches: made here, or by `workers` processes (each its own seed) beside a GPU."""
    workers = cfg.workers if cfg.workers >= 0 else (min((os.cpu_count() or 1) - 1, 12) if _cuda(torch) else 0)
    if workers == 0:
        while True:
            yield make_batch(sampler, cfg.batch_size, model_config, torch, cfg)

    class Stream(torch.utils.data.IterableDataset):
        def __iter__(self) -> Any:
            info = torch.utils.data.get_worker_info()
            torch.set_num_threads(1)
            sampler.rng = np.random.default_rng(seed + 7919 * (info.id + 1))
            while True:
                yield make_batch(sampler, cfg.batch_size, model_config, torch, cfg)

    context = "fork"  # the workers share the loaded episodes instead of pickling them
    yield from torch.utils.data.DataLoader(
        Stream(), batch_size=None, num_workers=workers, pin_memory=_cuda(torch), prefetch_factor=4,
        multiprocessing_context=context, persistent_workers=True,
    )  # fmt: skip


def _cuda(torch: Any) -> bool:
    return bool(torch.cuda.is_available())


def _seed_everything(seed: int, torch: Any) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _lr_at(step: int, cfg: TrainConfig) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(cfg.steps - cfg.warmup, 1)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))))


def _load_groups(
    roots: Sequence[str], use_frames: bool, log: Callable[[str], None], processes: int = 1
) -> list[list[EpisodeData]]:
    groups = []
    for root in roots:
        paths = find_episodes([root])
        if not paths:
            raise GhostpilotError(f"{root}: no episodes found (folders with meta.json)")
        started = time.perf_counter()
        groups.append(load_many(paths, use_frames, processes=processes))
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
    if world > 1 and cfg.minutes > 0:
        raise GhostpilotError("--minutes plans the steps on one process only", "give --steps under torchrun")
    if world > 1:
        torch.distributed.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if _cuda(torch) else "cpu")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.backends.cuda.matmul.allow_tf32 = True
    _seed_everything(cfg.seed, torch)  # same initial weights on every rank
    model_config = ModelConfig(**cfg.model)
    model = ForwardDynamicsModel(model_config).to(device)
    if cfg.init_from:
        _init_from(model, cfg.init_from, log)
    ddp = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    processes = max(cfg.workers, 1) if cfg.workers >= 0 else (min(os.cpu_count() or 1, 12) if _cuda(torch) else 1)
    seed = cfg.seed + 1000 * rank
    groups = _load_groups(train_roots, model_config.use_frames, log, processes)
    if model_config.use_goals:
        _embed_goal_texts([d for group in groups for d in group], log)
    sampler = WindowSampler(groups, seed)
    val = _validation_batches(val_roots, model_config, cfg, torch, log, processes) if rank == 0 and val_roots else []
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    out_dir = Path(cfg.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    best, history = math.inf, []
    progress = _progress(cfg.steps, rank)
    batches = _batches(sampler, model_config, cfg, torch, seed)
    started, timed_from = time.perf_counter(), 0.0  # the speed is timed over the second half of warmup
    step = 0
    while step < cfg.steps:
        if step == cfg.warmup // 2:
            timed_from = time.perf_counter()
        if cfg.minutes > 0 and step == cfg.warmup:
            now = time.perf_counter()
            _fit_steps(cfg, step, now - started, (step - cfg.warmup // 2) / max(now - timed_from, 1e-9), progress, log)
        for group in optimizer.param_groups:
            group["lr"] = _lr_at(step, cfg)
        inputs, targets = (to_device(b, device) for b in next(batches))
        out = ddp(*[inputs[k] for k in _input_order(model_config)])
        terms = loss_terms(out, targets)
        loss = total_loss(terms)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        progress.update(1)
        progress.set_postfix(loss=f"{loss.item():.3f}", click_px=f"{terms['click'].item() * 1920:.0f}")
        last = step == cfg.steps
        if rank == 0 and (last or step % cfg.eval_every == 0):
            record = {"step": step, "train_loss": loss.item(), **_evaluate(model, val, device, torch)}
            history.append(record)
            log(json.dumps(record))
            score = record.get("val_loss", record["train_loss"])
            _save(out_dir / f"last{SUFFIX}", model, model_config, cfg, record, torch)
            if score < best:
                best = score
                _save(out_dir / f"best{SUFFIX}", model, model_config, cfg, record, torch)
    progress.close()
    if rank == 0:
        (out_dir / "history.json").write_text(json.dumps(history, indent=1))
    if world > 1:
        torch.distributed.destroy_process_group()
    return out_dir / f"best{SUFFIX}"


def _init_from(model: Any, checkpoint: str, log: Callable[[str], None]) -> None:
    """Start from a trained checkpoint; only parameters that are new in this model (named in the log) start
    fresh, so a goal-conditioned model keeps everything the pointer model learned."""
    base, _ = load_checkpoint(checkpoint)
    missing, unexpected = model.load_state_dict(base.state_dict(), strict=False)
    if unexpected:
        raise GhostpilotError(f"{checkpoint}: does not fit this model (unexpected {', '.join(unexpected[:3])})")
    fresh = sorted({name.split(".")[0] for name in missing})
    log(f"initialised from {checkpoint}; new: {', '.join(fresh) or 'nothing'}")


def _embed_goal_texts(datas: list[EpisodeData], log: Callable[[str], None]) -> None:
    from inference.goal_windows import embed_episode_texts
    from inference.goals.text_encoder import TextEncoder

    started = time.perf_counter()
    embed_episode_texts(datas, TextEncoder(threads=0).embed)
    log(f"embedded goals and screen texts in {time.perf_counter() - started:.1f}s")


def _fit_steps(
    cfg: TrainConfig, done: int, seconds: float, speed: float, progress: Any, log: Callable[[str], None]
) -> None:
    """Cut cfg.steps to what fits cfg.minutes at `speed` steps/s (a multiple of eval_every), 5 % kept spare
    for validation.

    Called once, when warmup ends and before the cosine schedule starts, so the schedule is exactly the one
    `--steps <the planned number>` gives; the checkpoint records it."""
    planned = done + int(0.95 * (cfg.minutes * 60 - seconds) * speed)
    planned = max(done + cfg.eval_every, planned // cfg.eval_every * cfg.eval_every)
    cfg.steps = min(cfg.steps, planned)
    progress.total = cfg.steps
    log(f"{speed:.1f} steps/s: training {cfg.steps} steps to fit {cfg.minutes:g} minutes")


def _input_order(model_config: Any) -> tuple[str, ...]:
    from inference.windows import input_names

    return input_names(model_config.use_goals)


def _progress(total: int, rank: int) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc="train", disable=rank != 0, dynamic_ncols=True, mininterval=2.0)


def _validation_batches(
    roots: Sequence[str], model_config: Any, cfg: TrainConfig, torch: Any, log: Any, processes: int = 1
) -> list:
    groups = _load_groups(roots, model_config.use_frames, log, processes)
    if model_config.use_goals:
        _embed_goal_texts([d for group in groups for d in group], log)
    sampler = WindowSampler(groups, seed=12345)
    return [make_batch(sampler, cfg.batch_size, model_config, torch, cfg) for _ in range(cfg.eval_batches)]


def _evaluate(model: Any, batches: list, device: Any, torch: Any) -> dict[str, float]:
    from inference.model import loss_terms, total_loss

    if not batches:
        return {}
    model.eval()
    sums: dict[str, float] = {}
    with torch.no_grad():
        for batch in batches:
            inputs, targets = (to_device(b, device) for b in batch)
            out = model(*[inputs[k] for k in _input_order(model.config)])
            terms = loss_terms(out, targets)
            for name, value in {**terms, "loss": total_loss(terms)}.items():
                sums[f"val_{name}"] = sums.get(f"val_{name}", 0.0) + value.item() / len(batches)
    model.train()
    return sums


def _save(path: Path, model: Any, model_config: Any, cfg: TrainConfig, record: dict, torch: Any) -> None:
    save_checkpoint(path, model.state_dict(), model_config.to_dict(), asdict(cfg), record)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m inference.train`: `ghostpilot train` with every training option (scripts/train-default.sh)."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("episodes", nargs="+", help="episode folders or folders of them; each path weighs the same")
    parser.add_argument("--val", nargs="*", default=[])
    parser.add_argument("--out", default="runs/default")
    parser.add_argument("--model-config", default="{}", help="JSON overrides of ModelConfig")
    defaults = TrainConfig()
    for name in ("steps", "batch_size", "lr", "weight_decay", "warmup", "seed", "eval_every", "threads", "workers"):
        value = getattr(defaults, name)
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    parser.add_argument("--minutes", type=float, default=0.0, help="cut --steps to fit this training time")
    parser.add_argument("--endpoint-all-moves", action="store_true", help="endpoints of rest-ending moves too")
    parser.add_argument("--tick-weighting", action="store_true", help="weigh endpoints per tick, not movement")
    parser.add_argument("--init-from", default="", help="start from this checkpoint (new parameters start fresh)")
    args = parser.parse_args(argv)
    cfg = TrainConfig(
        steps=args.steps, batch_size=args.batch_size, lr=args.lr, weight_decay=args.weight_decay,
        warmup=args.warmup, seed=args.seed, eval_every=args.eval_every, out_dir=args.out,
        model=json.loads(args.model_config), threads=args.threads, workers=args.workers, minutes=args.minutes,
        endpoint_press_only=not args.endpoint_all_moves, per_movement=not args.tick_weighting,
        init_from=args.init_from,
    )  # fmt: skip
    print(f"best checkpoint: {train(args.episodes, args.val, cfg)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
