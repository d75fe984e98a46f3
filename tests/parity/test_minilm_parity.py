"""torch MiniLM (from the wheel's safetensors) vs its ONNX export, and the shipped int8 model vs torch."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.train
torch = pytest.importorskip("torch")

from inference.goals.minilm_export import export_onnx, load_minilm  # noqa: E402
from inference.goals.text_encoder import DEFAULT_ONNX, SANITY_TEXTS, TextEncoder  # noqa: E402

TEXTS = ["Click the Save button.", "Type 'jane.doe@example.com' into the Email field.", "Zoom out", "x"]


def _torch_embed(model: torch.nn.Module, encoder: TextEncoder, texts: list[str]) -> np.ndarray:
    rows = []
    for text in texts:
        ids = encoder.tokenizer.encode(text).ids
        with torch.no_grad():
            rows.append(model(torch.tensor([ids]), torch.ones(1, len(ids), dtype=torch.long))[0].numpy())
    return np.stack(rows)


def test_fp32_onnx_matches_torch_and_int8_stays_close(tmp_path: Path) -> None:
    model = load_minilm()
    fp32 = TextEncoder(export_onnx(model, tmp_path / "minilm.onnx"))
    reference = _torch_embed(model, fp32, TEXTS + list(SANITY_TEXTS))
    assert np.abs(fp32.embed(TEXTS + list(SANITY_TEXTS)) - reference).max() < 1e-4
    shipped = TextEncoder()
    cosine = np.sum(shipped.embed(TEXTS + list(SANITY_TEXTS)) * reference, axis=1)
    assert cosine.min() >= 0.99


def test_shipped_model_json_matches_its_file() -> None:
    info = json.loads(DEFAULT_ONNX.with_suffix(".json").read_text())
    assert hashlib.sha256(DEFAULT_ONNX.read_bytes()).hexdigest() == info["sha256"]
    assert info["bytes"] == DEFAULT_ONNX.stat().st_size <= 25_000_000
