"""Run the exported IDM with onnxruntime (no torch): per-tick pointer position and change classification.

`TickAnalyzer.push(gray)` takes one gray frame per tick and returns the analysis of the tick before it (the
change network looks one frame ahead), so labelling streams in constant memory.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from inference.errors import ModelError
from inference.idm import preprocess as pp
from inference.idm.classes import N_CLASSES, NONE

DEFAULT_IDM_DIR = Path(__file__).resolve().parents[2] / "assets" / "models" / "idm"
MIN_POINTER_CONFIDENCE = 0.3  # below this the pointer is taken as not visible and the last position holds


class IdmModel:
    """The three ONNX sessions, checked against idm.json's SHA-256 digests."""

    def __init__(self, folder: Path | None = None, threads: int = 2) -> None:
        import onnxruntime as ort

        folder = Path(folder or DEFAULT_IDM_DIR)
        manifest_path = folder / "idm.json"
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"{manifest_path}: cannot read the IDM manifest ({exc})") from None
        if manifest.get("format") != "ghostpilot-idm-1" or len(manifest.get("classes", [])) != N_CLASSES:
            raise ModelError(f"{manifest_path}: not a compatible Ghostpilot IDM")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        self.sessions: dict[str, Any] = {}
        for file, digest in manifest["files"].items():
            data = _read(folder / file)
            if hashlib.sha256(data).hexdigest() != digest:
                raise ModelError(f"{folder / file}: SHA-256 does not match idm.json (corrupt or replaced file)")
            name = file.removeprefix("idm-").removesuffix(".onnx")
            self.sessions[name] = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        self.manifest = manifest

    def run(self, name: str, **inputs: np.ndarray) -> np.ndarray:
        return np.asarray(self.sessions[name].run(["logits"], inputs)[0])


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ModelError(f"{path}: cannot read ({exc.strerror})") from None


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return np.asarray(z / z.sum(axis=-1, keepdims=True))


@dataclass(frozen=True)
class TickResult:
    """What the IDM saw in one tick: the pointer (NaN if never seen) and the change class probabilities."""

    tick: int
    x: float
    y: float
    pointer_confidence: float
    probs: np.ndarray  # (N_CLASSES,); all mass on NONE when the screen did not change


_NO_CHANGE = np.eye(N_CLASSES, dtype=np.float32)[NONE]


class TickAnalyzer:
    """Streams gray frames (one per tick) through the networks, keeping only three frames."""

    def __init__(self, model: IdmModel) -> None:
        self.model = model
        self.frames: list[tuple[int, np.ndarray, np.ndarray, tuple[float, float, float]]] = []
        self.last_xy: tuple[float, float] = (float("nan"), float("nan"))

    def pointer(self, gray: np.ndarray, view: np.ndarray, prev_view: np.ndarray) -> tuple[float, float, float]:
        height, width = gray.shape
        probs = _softmax(self.model.run("cursor", view=pp.cursor_input(view, prev_view)[None])[0])
        cell = int(probs.argmax())
        if cell == pp.HEAT_W * pp.HEAT_H or probs[cell] < 1e-3:
            return (*self.last_xy, float(1 - probs[-1]))
        sx, sy = pp.view_scale(width, height)
        cx, cy = ((cell % pp.HEAT_W) + 0.5) * pp.STRIDE * sx, ((cell // pp.HEAT_W) + 0.5) * pp.STRIDE * sy
        crop = pp.crop(gray, cx, cy, pp.REFINE).astype(np.float32)[None, None] / 255.0
        fine = _softmax(self.model.run("refine", crop=crop)[0])
        index = int(fine.argmax())
        ox, oy = pp.refine_origin(cx, cy)
        confidence = float(1 - probs[-1])
        if confidence >= MIN_POINTER_CONFIDENCE:
            self.last_xy = (float(ox + index % pp.REFINE), float(oy + index // pp.REFINE))
        return (*self.last_xy, confidence)

    def push(self, tick: int, gray: np.ndarray) -> TickResult | None:
        """Add tick `tick`'s frame; returns the result for the previous tick once its next frame is known."""
        view = pp.global_view(gray)
        prev_view = self.frames[-1][2] if self.frames else view
        self.frames.append((tick, gray, view, self.pointer(gray, view, prev_view)))
        self.frames = self.frames[-3:]
        if len(self.frames) < 2:
            return None
        return self._result(len(self.frames) - 2, self.frames[-1][1])

    def finish(self) -> TickResult | None:
        """The last tick's result (its "next" frame is itself)."""
        return self._result(len(self.frames) - 1, self.frames[-1][1]) if self.frames else None

    def _result(self, i: int, nxt: np.ndarray) -> TickResult:
        tick, gray, view, (x, y, conf) = self.frames[i]
        probs = _NO_CHANGE
        if i > 0:
            _, prev, prev_view, (px, py, _) = self.frames[i - 1]
            moved = [(px, py), (x, y)] if np.isfinite([px, py, x, y]).all() and (px, py) != (x, y) else []
            change = pp.find_change(prev, gray, prev_view, view, moved)
            if change is not None:
                image, numbers = pp.change_input(prev, gray, nxt, change, (x, y) if np.isfinite(x) else change.centre)
                probs = _softmax(self.model.run("change", image=image[None], numbers=numbers[None])[0])
        return TickResult(tick, x, y, conf, probs)
