"""Ghostpilot's prediction layer: action space, episode format, model runtime, training (torch extra).

Nothing heavy happens at import: `load_predictor` imports onnxruntime only when called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from inference.predictor import PREDICTOR_API_VERSION, Predictor, PredictorSession, Suggestion

if TYPE_CHECKING:
    from pathlib import Path

    from inference.runtime import OnnxPredictor

__all__ = ["PREDICTOR_API_VERSION", "Predictor", "PredictorSession", "Suggestion", "load_predictor"]
__version__ = "0.1.0"


def load_predictor(path: str | Path | None = None, device: str = "auto") -> OnnxPredictor:
    """The shipped default model, or the ONNX model at `path`, on CUDA when available else CPU."""
    from inference.runtime import OnnxPredictor

    return OnnxPredictor.load(path, device=device)
