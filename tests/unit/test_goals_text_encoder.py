"""The shipped int8 MiniLM on onnxruntime: shape, normalisation, paraphrase sanity, integrity checks."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from inference.goals.text_encoder import DEFAULT_ONNX, DIM, EncoderError, TextEncoder

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    return TextEncoder()


def test_embeddings_are_unit_vectors_in_input_order(encoder: TextEncoder) -> None:
    texts = ["Open the File menu and choose Export.", "Save", "a much longer status line that says nothing"]
    vectors = encoder.embed(texts)
    assert vectors.shape == (3, DIM) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    one_by_one = np.stack([encoder.embed([t])[0] for t in texts])
    assert np.allclose(vectors, one_by_one, atol=1e-4)  # padding inside a batch changes nothing
    assert encoder.embed([]).shape == (0, DIM)


def test_paraphrases_score_higher_than_unrelated_text(encoder: TextEncoder) -> None:
    goal, save, delete, file_menu, help_menu = encoder.embed(["save the file", "Save", "Delete", "File", "Help"])
    assert goal @ save > goal @ delete
    assert goal @ file_menu > goal @ help_menu


def test_bad_input_and_corrupt_model_give_one_line_errors(encoder: TextEncoder, tmp_path: Path) -> None:
    with pytest.raises(EncoderError, match="list of strings"):
        encoder.embed("Save")  # type: ignore[arg-type]
    with pytest.raises(EncoderError, match="missing"):
        TextEncoder(tmp_path / "nope.onnx")
    copy = tmp_path / DEFAULT_ONNX.name
    shutil.copy(DEFAULT_ONNX, copy)
    info = json.loads(DEFAULT_ONNX.with_suffix(".json").read_text())
    copy.with_suffix(".json").write_text(json.dumps(info | {"sha256": "0" * 64}))
    with pytest.raises(EncoderError, match="SHA-256"):
        TextEncoder(copy)


def test_goal_modules_run_without_torch() -> None:
    code = """
import sys
import numpy as np
import app.screen_text
from inference.goals.text_encoder import TextEncoder
from inference.goals.ocr import OcrModel
from inference.goals.grounding import parse_goal, rank_boxes
TextEncoder().embed(["Save"])
OcrModel().read(np.full((64, 64, 3), 255, np.uint8))
print("loaded:", sorted(m for m in ("torch", "PySide6", "cv2") if m in sys.modules))
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "loaded: []" in done.stdout
