"""Train the IDM's three networks on synthetic episodes and export them to ONNX (torch, the `train` extra).

`python -m inference.idm.train OUT_DIR --seeds 0:110` (scripts/train-idm.sh). Samples are rendered in memory
(inference/idm/data.py) and cached as OUT_DIR/samples.npz so a second run skips the slow part.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from inference.idm import preprocess as pp
from inference.idm.classes import CLASS_NAMES
from inference.idm.data import Samples, build_samples

MANIFEST = "idm.json"
FILES = {"cursor": "idm-cursor.onnx", "refine": "idm-refine.onnx", "change": "idm-change.onnx"}
IDM_FORMAT = "ghostpilot-idm-1"


@dataclass
class IdmTrainConfig:
    seeds: tuple[int, int] = (0, 100)  # synthetic episode seeds [lo, hi) to train on
    cursor_steps: int = 4000
    refine_steps: int = 1000
    change_steps: int = 3000
    batch_size: int = 32
    cursor_batch_size: int = 16  # full global views are the costly input
    lr: float = 2e-3
    seed: int = 0
    threads: int = 1
    keystrokes: int = 15000  # extra single-field keystroke samples for key identity (inference/idm/glyphs.py)


def samples_to_arrays(s: Samples) -> dict[str, np.ndarray]:
    return {
        "views": np.stack(s.views),
        "heat_target": np.array(s.heat_target, np.int64),
        "refine_crop": np.stack(s.refine_crop),
        "refine_target": np.array(s.refine_target, np.int64),
        "change_image": np.stack(s.change_image),
        "change_numbers": np.stack(s.change_numbers),
        "change_target": np.array(s.change_target, np.int64),
    }


def _cursor_batch(arrays: dict[str, np.ndarray], idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    views = arrays["views"][idx].astype(np.float32) / 255.0  # (B, 2, H, W): previous, current
    x = np.stack([views[:, 1], views[:, 1] - views[:, 0]], axis=1)
    return x, arrays["heat_target"][idx]


def _refine_batch(arrays: dict[str, np.ndarray], idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return arrays["refine_crop"][idx][:, None].astype(np.float32) / 255.0, arrays["refine_target"][idx]


def _change_batch(arrays: dict[str, np.ndarray], idx: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    crops = arrays["change_image"][idx].astype(np.float32) / 255.0  # (B, 3, C, C): prev, cur, next
    image = np.concatenate([crops, crops[:, 1:2] - crops[:, 0:1]], axis=1)
    return (image, arrays["change_numbers"][idx]), arrays["change_target"][idx]


def _fit(
    net: Any, batch_fn: Any, n: int, steps: int, cfg: IdmTrainConfig, torch: Any, name: str, batch: int = 0
) -> dict[str, float]:
    """AdamW with a one-cycle schedule; returns the mean loss of the last 100 steps (reported, not tuned on)."""
    rng = np.random.default_rng(cfg.seed)
    optimizer = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, cfg.lr, total_steps=max(steps, 1), pct_start=0.1)
    losses: list[float] = []
    started = time.time()
    net.train()
    for step in range(steps):
        inputs, target = batch_fn(rng.integers(0, n, batch or cfg.batch_size))
        inputs = inputs if isinstance(inputs, tuple) else (inputs,)
        logits = net(*(torch.from_numpy(a) for a in inputs))
        loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(target))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(float(loss.detach()))
        if step % 250 == 0 or step == steps - 1:
            print(f"{name} step {step}/{steps} loss {np.mean(losses[-100:]):.4f} ({time.time() - started:.0f} s)")
    net.eval()
    return {"final_loss": float(np.mean(losses[-100:])) if losses else 0.0, "seconds": time.time() - started}


def train_idm(arrays: dict[str, np.ndarray], cfg: IdmTrainConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """The three trained networks and a record of how they were trained."""
    import torch

    from inference.idm.model import ChangeNet, CursorNet, RefineNet

    torch.manual_seed(cfg.seed)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    nets = {"cursor": CursorNet(), "refine": RefineNet(), "change": ChangeNet()}
    record = {
        "cursor": _fit(nets["cursor"], lambda i: _cursor_batch(arrays, i), len(arrays["views"]), cfg.cursor_steps,
                       cfg, torch, "cursor", cfg.cursor_batch_size),
        "refine": _fit(nets["refine"], lambda i: _refine_batch(arrays, i), len(arrays["refine_crop"]),
                       cfg.refine_steps, cfg, torch, "refine"),
        "change": _fit(nets["change"], lambda i: _change_batch(arrays, i), len(arrays["change_image"]),
                       cfg.change_steps, cfg, torch, "change"),
    }  # fmt: skip
    record["samples"] = {k: int(len(v)) for k, v in arrays.items() if k.endswith("target")}
    return nets, record


def export_idm(nets: dict[str, Any], out_dir: Path, record: dict[str, Any], cfg: IdmTrainConfig) -> Path:
    """Write the three ONNX files and idm.json (their SHA-256, the preprocessing constants, the classes)."""
    import torch

    out_dir.mkdir(parents=True, exist_ok=True)
    dummies = {
        "cursor": ((torch.zeros(1, 2, pp.GLOBAL_H, pp.GLOBAL_W),), ["view"]),
        "refine": ((torch.zeros(1, 1, pp.REFINE, pp.REFINE),), ["crop"]),
        "change": (
            (torch.zeros(1, 4, pp.CHANGE, pp.CHANGE), torch.zeros(1, pp.N_CHANGE_FEATURES)),
            ["image", "numbers"],
        ),
    }
    digests = {}
    for name, file in FILES.items():
        args, names = dummies[name]
        path = out_dir / file
        axes = {n: {0: "batch"} for n in [*names, "logits"]}
        with torch.no_grad(), warnings.catch_warnings():  # the TorchScript exporter: exact for plain convnets
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(nets[name], args, str(path), input_names=names, output_names=["logits"],
                              dynamic_axes=axes, dynamo=False, opset_version=17)  # fmt: skip
        digests[file] = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest = {
        "format": IDM_FORMAT,
        "files": digests,
        "classes": list(CLASS_NAMES),
        "preprocess": {"global": [pp.GLOBAL_W, pp.GLOBAL_H], "stride": pp.STRIDE, "refine": pp.REFINE,
                       "change": pp.CHANGE},
        "train": asdict(cfg),
        "record": record,
    }  # fmt: skip
    path = out_dir / MANIFEST
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return path


def _build_chunk(seeds: range) -> Samples:
    return build_samples(seeds)


def _build_cursor_chunk(seeds: range) -> Samples:
    from inference.idm.data import build_cursor_samples

    return build_cursor_samples(seeds)


def _parallel(fn: Any, seeds: tuple[int, int], processes: int) -> Samples:
    """fn over seed chunks in `processes` processes (each seed's samples depend on it alone)."""
    import multiprocessing

    bounds = np.linspace(seeds[0], seeds[1], processes + 1).astype(int)
    chunks = [range(int(a), int(b)) for a, b in itertools.pairwise(bounds)]
    merged = Samples()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        for part in pool.map(fn, chunks):
            merged.extend(part)
    return merged


def add_cursor_samples(arrays: dict[str, np.ndarray], cfg: IdmTrainConfig, cache: Path, processes: int) -> dict:
    """The pointer networks' samples with `build_cursor_samples` appended (cached beside the samples)."""
    names = ("views", "heat_target", "refine_crop", "refine_target")
    if cache.exists():
        with np.load(cache) as data:
            extra = {k: data[k] for k in names}
    else:
        built = _parallel(_build_cursor_chunk, cfg.seeds, processes)
        extra = {k: np.stack(getattr(built, k)) if "target" not in k else np.array(getattr(built, k)) for k in names}
        np.savez(cache, **extra)
    return arrays | {k: np.concatenate([arrays[k], extra[k]]) for k in names}


def load_or_build(cache: Path, seeds: tuple[int, int], processes: int = 1) -> dict[str, np.ndarray]:
    """Samples for the seeds (each seed's samples depend on it alone, so chunks in parallel give the same)."""
    if cache.exists():
        with np.load(cache) as data:
            return {k: data[k] for k in data.files}
    merged = _parallel(_build_chunk, seeds, processes)
    arrays = samples_to_arrays(merged)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as its own flags
    return arrays


def add_keystrokes(arrays: dict[str, np.ndarray], cfg: IdmTrainConfig, cache: Path) -> dict[str, np.ndarray]:
    """The change network's samples with the single-field keystrokes appended (cached beside the samples)."""
    from inference.idm.glyphs import keystroke_samples

    if cache.exists():
        with np.load(cache) as data:
            images, numbers, classes = data["images"], data["numbers"], data["classes"]
    else:
        images, numbers, classes = keystroke_samples(cfg.keystrokes, cfg.seed + 12345)
        np.savez(cache, images=images, numbers=numbers, classes=classes)
    out = dict(arrays)
    out["change_image"] = np.concatenate([arrays["change_image"], images])
    out["change_numbers"] = np.concatenate([arrays["change_numbers"], numbers])
    out["change_target"] = np.concatenate([arrays["change_target"], classes])
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train the inverse-dynamics model on synthetic episodes.")
    parser.add_argument("out", type=Path, help="where the ONNX files and idm.json go")
    parser.add_argument("--samples", type=Path, default=None, help="sample cache (default OUT/../samples.npz)")
    parser.add_argument("--seeds", default="0:100", help="synthetic episode seeds lo:hi")
    parser.add_argument("--processes", type=int, default=1, help="render episodes in this many processes")
    for name in ("cursor_steps", "refine_steps", "change_steps", "batch_size", "seed", "threads", "keystrokes"):
        parser.add_argument("--" + name.replace("_", "-"), type=int, default=getattr(IdmTrainConfig, name))
    args = parser.parse_args(argv)
    lo, hi = (int(v) for v in args.seeds.split(":"))
    cfg = IdmTrainConfig((lo, hi), args.cursor_steps, args.refine_steps, args.change_steps, args.batch_size,
                         seed=args.seed, threads=args.threads, keystrokes=args.keystrokes)  # fmt: skip
    cache = args.samples or args.out.parent / "samples.npz"
    arrays = add_keystrokes(load_or_build(cache, cfg.seeds, args.processes), cfg, cache.with_name("keystrokes.npz"))
    arrays = add_cursor_samples(arrays, cfg, cache.with_name("cursor.npz"), args.processes)
    nets, record = train_idm(arrays, cfg)
    print("wrote", export_idm(nets, args.out, record, cfg))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
