"""The model served by onnxruntime: CUDA when it really runs, CPU otherwise. Never imports torch.

onnxruntime-gpu lists CUDA as available even where CUDA cannot load and then falls back to CPU with only a
log line; `OnnxPredictor.provider` reports what the session actually runs on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from inference.actions import ACTION_SPACE_VERSION
from inference.errors import ModelError

CUDA, CPU = "CUDAExecutionProvider", "CPUExecutionProvider"


class DeviceError(ModelError):
    """The requested device cannot run the model (a fault of the machine, not of the model file)."""


def default_model_path() -> Path:
    from assets import DEFAULT_MODEL

    return DEFAULT_MODEL


def _providers(device: str, available: list[str]) -> list[str]:
    if device == "cpu":
        return [CPU]
    if device == "cuda" and CUDA not in available:
        raise DeviceError("CUDA was requested but this onnxruntime has no CUDA provider", "use --device cpu")
    return [CUDA, CPU] if CUDA in available else [CPU]


class OnnxPredictor:
    """A loaded forward-dynamics model (Predictor API v1)."""

    def __init__(self, session: Any, path: Path, metadata: dict[str, str], threads: int) -> None:
        self.ort_session = session
        self.path = path
        self.metadata = metadata
        self.config: dict[str, Any] = json.loads(metadata["ghostpilot.model_config"])
        self.name = path.stem
        self.threads = threads
        self.input_names = [i.name for i in session.get_inputs()]
        self.output_names = [o.name for o in session.get_outputs()]
        self.requested_providers: list[str] = [str(p) for p in session.get_providers()]

    @classmethod
    def load(cls, path: str | Path | None = None, device: str = "auto", threads: int = 1) -> OnnxPredictor:
        """Load an ONNX model; raises ModelError with a one-line reason for a missing or corrupt file."""
        import onnxruntime as ort

        model_path = Path(path) if path is not None else default_model_path()
        if not model_path.is_file():
            raise ModelError(f"{model_path}: model file not found", "train one or reinstall the default model")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # the CUDA fallback is reported through .provider, not the log
        providers = _providers(device, ort.get_available_providers())
        ort.set_default_logger_severity(4)  # a CUDA provider that cannot load is reported by .provider
        try:
            session = ort.InferenceSession(str(model_path), options, providers=providers)
        except Exception as exc:  # onnxruntime raises several unrelated types for bad files
            first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
            raise ModelError(f"{model_path}: not a loadable ONNX model ({first})") from None
        metadata = dict(session.get_modelmeta().custom_metadata_map)
        _check_metadata(model_path, metadata)
        predictor = cls(session, model_path, metadata, threads)
        predictor.requested_providers = providers
        if device == "cuda" and predictor.provider != CUDA:
            raise DeviceError(
                "CUDA was requested but did not run (no GPU or a broken CUDA install)", "use --device auto or cpu"
            )
        return predictor

    @property
    def provider(self) -> str:
        """The execution provider that really runs the model."""
        return str(self.ort_session.get_providers()[0])

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        feed = {name: inputs[name] for name in self.input_names}
        return dict(zip(self.output_names, self.ort_session.run(self.output_names, feed), strict=True))

    def new_session(self, screen_width: int, screen_height: int, goal: str | None = None) -> Any:
        from inference.session import ModelSession

        return ModelSession(self, screen_width, screen_height, goal)


def _check_metadata(path: Path, metadata: dict[str, str]) -> None:
    if "ghostpilot.model_config" not in metadata:
        raise ModelError(f"{path}: not a Ghostpilot model (no ghostpilot metadata)")
    version = metadata.get("ghostpilot.action_space_version")
    if version != str(ACTION_SPACE_VERSION):
        raise ModelError(
            f"{path}: trained for action space v{version}, this Ghostpilot speaks v{ACTION_SPACE_VERSION}",
            "retrain or export the model with this version",
        )
