"""`ghostpilot export-model`: checkpoint -> one ONNX file whose metadata carries the model config and the
versions of the action space, episode format and Predictor API it was trained for."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

from inference.actions import ACTION_SPACE_VERSION, TICK_HZ
from inference.checkpoints import convert_pickle, is_pickle, load_checkpoint
from inference.episodes import FORMAT_VERSION
from inference.predictor import PREDICTOR_API_VERSION
from inference.train import require_torch
from inference.windows import input_names

OUTPUT_NAMES = (
    "dx_logits", "dy_logits", "event_logits", "click_offset", "hyp_offsets", "hyp_logits",
    "click_soon_logit", "click_log_ticks", "button_logits", "correct_logit", "key_logits",
)  # fmt: skip
GOAL_OUTPUT_NAMES = ("text_logits", "text_offsets")  # goal-conditioned models only
OPSET = 17


def output_names(use_goals: bool) -> tuple[str, ...]:
    return OUTPUT_NAMES + GOAL_OUTPUT_NAMES if use_goals else OUTPUT_NAMES


def example_inputs(config: Any, torch: Any, batch: int = 1) -> tuple:
    """Zero inputs of the right shapes (the model's inputs are documented in inference/model.py)."""
    from inference import features, goal_features

    t, s = config.context_ticks, config.frame_slots
    tick_ids = torch.zeros(batch, t, 2 + config.event_slots, dtype=torch.int64)
    tick_ids[..., :2] = config.mouse_bins // 2
    tick_cont = torch.zeros(batch, t, features.TICK_CONT)
    tick_cont[..., 5] = 1.0
    k, text_features = goal_features.TEXT_SLOTS, goal_features.TEXT_FEATURES
    goal_shapes = ((batch, goal_features.GOAL_FEATURES), (batch, k, text_features)) if config.use_goals else ()
    goal = tuple(torch.zeros(shape) for shape in goal_shapes)
    return (
        tick_ids,
        tick_cont,
        torch.zeros(batch, config.memory_slots, dtype=torch.int64),
        torch.zeros(batch, config.memory_slots, features.MEM_CONT),
        torch.zeros(batch, s, 3, features.GLOBAL_H, features.GLOBAL_W),
        torch.zeros(batch, s, 3, features.CROP, features.CROP),
        torch.full((batch, s, 2), -1.0) * torch.tensor([1.0, 0.0]),
        torch.full((batch, 2), 0.5),
        *goal,
    )


def export_onnx(checkpoint: str | Path, out_path: str | Path, trust_pickle: bool = False) -> Path:
    """Write the model's last-tick outputs as ONNX, atomically; returns the path. `trust_pickle`: a legacy
    pickled `.pt` is first converted to the `.safetensors` beside it (inference/checkpoints.py)."""
    torch = require_torch()
    import onnx

    if trust_pickle and is_pickle(Path(checkpoint)):
        checkpoint = convert_pickle(checkpoint)
    model, meta = load_checkpoint(checkpoint)
    inputs, outputs = input_names(model.config.use_goals), output_names(model.config.use_goals)

    class LastTick(torch.nn.Module):  # type: ignore[name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: Any) -> tuple:
            out = self.model(*inputs)
            return tuple(out[name][:, -1] for name in outputs)

    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_suffix(".tmp.onnx")
    dynamic = {name: {0: "batch"} for name in (*inputs, *outputs)}
    # The TorchScript exporter: the dynamo one cannot trace the frame-slot indexing yet; this one is exact
    # (tests/parity) and only warns that it is the older path.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            LastTick().eval(), example_inputs(model.config, torch), str(tmp), dynamo=False, opset_version=OPSET,
            input_names=list(inputs), output_names=list(outputs), dynamic_axes=dynamic,
        )  # fmt: skip
    proto = onnx.load(str(tmp))
    metadata = {
        "ghostpilot.model_config": json.dumps(model.config.to_dict()),
        "ghostpilot.action_space_version": str(ACTION_SPACE_VERSION),
        "ghostpilot.tick_hz": str(TICK_HZ),
        "ghostpilot.episode_format_version": str(FORMAT_VERSION),
        "ghostpilot.predictor_api_version": str(PREDICTOR_API_VERSION),
        "ghostpilot.training": json.dumps({"record": meta.get("record"), "train": meta.get("train")}),
    }
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(tmp))
    os.replace(tmp, out_path)
    return out_path
