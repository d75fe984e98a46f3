"""torch and onnxruntime agree on the exported model, and the ONNX file says what it was made for."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from inference import load_predictor  # noqa: E402
from inference.actions import ACTION_SPACE_VERSION  # noqa: E402
from inference.export import OUTPUT_NAMES  # noqa: E402
from inference.train import load_checkpoint  # noqa: E402
from inference.windows import INPUT_NAMES  # noqa: E402
from tests.unit.test_model import _random_inputs  # noqa: E402


def test_onnxruntime_matches_torch(tiny_checkpoint: Path, tiny_onnx: Path) -> None:
    model, _ = load_checkpoint(tiny_checkpoint)
    predictor = load_predictor(tiny_onnx, device="cpu")
    for seed in range(3):
        inputs = _random_inputs(model.config, seed)
        with torch.no_grad():
            expected = model(*inputs)
        got = predictor.run({name: x.numpy() for name, x in zip(INPUT_NAMES, inputs, strict=True)})
        for name in OUTPUT_NAMES:
            np.testing.assert_allclose(got[name], expected[name][:, -1].numpy(), rtol=1e-4, atol=1e-4, err_msg=name)


def test_metadata_carries_config_and_versions(tiny_onnx: Path) -> None:
    predictor = load_predictor(tiny_onnx, device="cpu")
    assert predictor.metadata["ghostpilot.action_space_version"] == str(ACTION_SPACE_VERSION)
    assert predictor.config["d_model"] == 32
    assert predictor.provider == "CPUExecutionProvider"
