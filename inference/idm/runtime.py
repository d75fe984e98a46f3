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


REACQUIRE_P = 0.5
TRACK_CELLS = 6
JITTER_PX = 1
REACQUIRE_TICKS = 3
_NO_CHANGE = np.eye(N_CLASSES, dtype=np.float32)[NONE]


class TickAnalyzer:
    """Streams gray frames (one per tick) through the networks, keeping only three frames."""

    def __init__(self, model: IdmModel) -> None:
        self.model = model
        self.frames: list[tuple[int, np.ndarray, np.ndarray, tuple[float, float, float]]] = []  # tick, gray, half
        self.last_xy: tuple[float, float] = (float("nan"), float("nan"))
        self.last_confidence = 0.0
        self.prev_view: np.ndarray | None = None
        self.reacquire = (-99, 0)  # (cell, consecutive ticks) of a confident detection away from the track

    def pointer(self, gray: np.ndarray, view: np.ndarray, prev_view: np.ndarray) -> tuple[float, float, float]:
        """Track the pointer (see docs/idm.md): the cursor network's best cell among the cells that changed
        and the pointer's last cell; it stays put when nothing changed under it, unless the network follows
        it moving elsewhere for REACQUIRE_TICKS ticks (the tracker was lost)."""
        height, width = gray.shape
        sx, sy = pp.view_scale(width, height)
        x, y = self.last_xy
        probs = _softmax(self.model.run("cursor", view=pp.cursor_input(view, prev_view)[None])[0])
        heat = probs[:-1].reshape(pp.HEAT_H, pp.HEAT_W)
        best = int(heat.argmax())
        if not np.isfinite(x):
            if heat.flat[best] < probs[-1]:
                return x, y, float(heat.flat[best])
            return self._refine(gray, best, sx, sy, float(heat.flat[best]))
        last_cell = min(int(y / sy / pp.STRIDE), pp.HEAT_H - 1) * pp.HEAT_W + min(
            int(x / sx / pp.STRIDE), pp.HEAT_W - 1
        )
        allowed = pp.changed_cells(view, prev_view).ravel()
        allowed[last_cell] = True
        local = int(np.where(allowed, heat.ravel(), 0.0).argmax())
        if self._lost(local, last_cell, heat.ravel()):
            return self._refine(gray, local, sx, sy, float(heat.flat[local]))
        if pp.pointer_still(view, prev_view, x, y, sx, sy) or (local == last_cell and heat.flat[local] < 1e-4):
            return x, y, self.last_confidence  # nothing changed under the pointer: it has not moved
        return self._refine(gray, local, sx, sy, float(heat.flat[local]))

    def _lost(self, local: int, last_cell: int, heat: np.ndarray) -> bool:
        """True once the network has seen the pointer confidently in changed cells away from the track for
        REACQUIRE_TICKS ticks in a row, each within TRACK_CELLS cells of the one before: a pointer moving there
        while the tracker sits on something static (a typed glyph changes for one tick only; a static look-
        alike never changes)."""
        far = local != last_cell and heat[local] > REACQUIRE_P
        near_before = (
            abs(local // pp.HEAT_W - self.reacquire[0] // pp.HEAT_W) <= TRACK_CELLS
            and abs(local % pp.HEAT_W - self.reacquire[0] % pp.HEAT_W) <= TRACK_CELLS
        )
        self.reacquire = (local, self.reacquire[1] + 1 if far and near_before else int(far))
        return self.reacquire[1] >= REACQUIRE_TICKS

    def _refine(
        self, gray: np.ndarray, cell: int, sx: float, sy: float, confidence: float
    ) -> tuple[float, float, float]:
        cx, cy = ((cell % pp.HEAT_W) + 0.5) * pp.STRIDE * sx, ((cell // pp.HEAT_W) + 0.5) * pp.STRIDE * sy
        crop = pp.crop(gray, cx, cy, pp.REFINE).astype(np.float32)[None, None] / 255.0
        index = int(self.model.run("refine", crop=crop)[0].argmax())
        ox, oy = pp.refine_origin(cx, cy)
        found = (float(ox + index % pp.REFINE), float(oy + index // pp.REFINE))
        if not (abs(found[0] - self.last_xy[0]) <= JITTER_PX and abs(found[1] - self.last_xy[1]) <= JITTER_PX):
            self.last_xy = found  # within JITTER_PX of the last position it has not moved: a re-run's wobble
        self.last_confidence = round(confidence, 3)
        self.reacquire = (-99, 0)
        return (*self.last_xy, self.last_confidence)

    def push(self, tick: int, gray: np.ndarray) -> TickResult | None:
        """Add tick `tick`'s frame; returns the result for the previous tick once its next frame is known."""
        view = pp.global_view(gray)
        prev_view = self.prev_view if self.prev_view is not None else view
        self.frames.append((tick, gray, pp.half(gray), self.pointer(gray, view, prev_view)))
        self.prev_view = view
        self.frames = self.frames[-3:]
        if len(self.frames) < 2:
            return None
        return self._result(len(self.frames) - 2, self.frames[-1][1])

    def finish(self) -> TickResult | None:
        """The last tick's result (its "next" frame is itself)."""
        return self._result(len(self.frames) - 1, self.frames[-1][1]) if self.frames else None

    def _result(self, i: int, nxt: np.ndarray) -> TickResult:
        tick, gray, half_gray, (x, y, conf) = self.frames[i]
        probs = _NO_CHANGE
        if i > 0:
            _, prev, half_prev, (px, py, _) = self.frames[i - 1]
            moved = [(px, py), (x, y)] if np.isfinite([px, py, x, y]).all() and (px, py) != (x, y) else []
            change = pp.find_change(prev, gray, moved, (half_prev, half_gray))
            if change is not None:
                image, numbers = pp.change_input(prev, gray, nxt, change, (x, y) if np.isfinite(x) else change.centre)
                probs = _softmax(self.model.run("change", image=image[None], numbers=numbers[None])[0])
        return TickResult(tick, x, y, conf, probs)
