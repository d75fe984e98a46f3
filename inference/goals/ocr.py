"""Local OCR of screen frames: PP-OCRv4 text detection + recognition on onnxruntime, numpy and Pillow only.

The ONNX weights come from the `rapidocr_onnxruntime` wheel (installed with --no-deps: its own pipeline
needs OpenCV and the CPU onnxruntime package, which would clobber onnxruntime-gpu). Only its model files are
used; the recogniser's character set is read from the ONNX metadata. See docs/goals-grounding.md.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import importlib.util
import math
import sys
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from inference.errors import GhostpilotError
from inference.goals.ocr_decode import (
    Box,
    DetectorPost,
    boxes_from_probability,
    ctc_greedy_decode,
    ink_extent,
    split_at_gaps,
)

DET_FILE = "ch_PP-OCRv4_det_infer.onnx"
REC_FILE = "ch_PP-OCRv4_rec_infer.onnx"
REC_HEIGHT = 48
REC_MIN_WIDTH = 48  # PaddleOCR pads batches to 320 px; short GUI labels read as well unpadded (measured), 2x faster
DET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)  # PaddleOCR's detector normalisation (on BGR input)
DET_STD = np.array([0.229, 0.224, 0.225], np.float32)


class OcrError(GhostpilotError):
    """The OCR models are missing or a frame cannot be read."""


@dataclass(frozen=True)
class TextBox:
    """One line of text on screen: what it says, where (frame pixels, x1/y1 exclusive), how sure the model is."""

    text: str
    box: Box
    confidence: float


@dataclass(frozen=True)
class OcrConfig:
    """Speed/accuracy knobs; the defaults are the ones measured in docs/goals-grounding.md."""

    det_max_side: int = 1920  # the detector input's longer side is at most this (a multiple of 32 is used)
    det_min_side: int = 736  # and its shorter side at least this (PaddleOCR's limit_type "min"), capped by max
    rec_batch: int = 8  # crops per recogniser run (sorted by width, so padding is small)
    min_confidence: float = 0.5  # recognised lines below this are dropped (RapidOCR's text_score)
    cache_size: int = 4096  # recognised crops remembered by pixel hash: unchanged text is not re-read
    threads: int = 1  # intra-op threads per session: OCR runs beside the live loop, never instead of it
    post: DetectorPost = field(default_factory=DetectorPost)


BUNDLED_DIR = Path(__file__).resolve().parents[2] / "assets" / "models" / "ocr"
"""Where the PyInstaller bundle carries the two ONNX files (packaging/ghostpilot.spec); absent in a checkout."""


def model_dir() -> Path:
    """The folder holding the PP-OCRv4 ONNX files: the bundle's copy, else the installed rapidocr wheel's."""
    if all((BUNDLED_DIR / name).is_file() for name in (DET_FILE, REC_FILE)):
        return BUNDLED_DIR
    spec = importlib.util.find_spec("rapidocr_onnxruntime")  # locate only: importing it would need OpenCV
    if spec is None or not spec.submodule_search_locations:
        raise OcrError(
            "OCR models not installed",
            "run scripts/setup.sh, or pip install --no-deps rapidocr_onnxruntime==1.4.4",
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    for name in (DET_FILE, REC_FILE):
        if not (folder / name).is_file():
            raise OcrError(f"OCR model file missing: {folder / name}", "reinstall rapidocr_onnxruntime==1.4.4")
    return folder


def _session(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # a 1080p detection needs ~300 MB of activations for a moment; an arena would keep them for good
    options.enable_cpu_mem_arena = False
    options.enable_mem_pattern = False
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@functools.cache
def _malloc_trim() -> Any:
    """glibc's malloc_trim, or None elsewhere: freed detector buffers stay in the heap until trimmed."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def release_memory() -> None:
    """Return the heap's free pages to the system (after a read: the copilot's resident memory stays flat)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def detector_size(width: int, height: int, config: OcrConfig) -> tuple[int, int]:
    """Detector input (W, H): shorter side raised to det_min_side, longer capped at det_max_side, both /32."""
    scale = max(1.0, config.det_min_side / min(width, height))
    scale = min(scale, config.det_max_side / max(width, height))
    return max(32, round(width * scale / 32) * 32), max(32, round(height * scale / 32) * 32)


class OcrModel:
    """Loaded once (about 0.3 s); `read(frame)` returns the text lines of an RGB frame."""

    def __init__(self, config: OcrConfig | None = None) -> None:
        self.config = config or OcrConfig()
        folder = model_dir()
        self._det = _session(folder / DET_FILE, self.config.threads)
        self._rec = _session(folder / REC_FILE, self.config.threads)
        meta = self._rec.get_modelmeta().custom_metadata_map
        if "character" not in meta:
            raise OcrError(f"{folder / REC_FILE} has no character list in its metadata", "reinstall the wheel")
        self.charset = ["<blank>", *meta["character"].splitlines(), " "]  # PaddleOCR: blank first, space last
        self._cache: OrderedDict[bytes, tuple[str, float]] = OrderedDict()
        self.crops_recognised = 0  # crops that went through the recogniser (cache misses), for benchmarks

    def read(self, frame: np.ndarray, previous: Sequence[TextBox] = (), changed: Box | None = None) -> list[TextBox]:
        """Every text line found in `frame` (H, W, 3 uint8 RGB), in reading order.

        With `changed` (the only region that differs from the frame `previous` was read from), only that
        region, grown to whole lines it touches, is detected again; lines elsewhere are kept as they were.
        """
        frame = _check_frame(frame)
        kept: list[TextBox] = []
        region = None if changed is None else _grow_region(changed, previous, frame.shape)
        if region is not None and _area(region) <= 0.5 * frame.shape[0] * frame.shape[1]:
            kept = [t for t in previous if not _overlaps(t.box, region)]
            boxes = self.detect(frame, region)
        else:
            boxes = self.detect(frame)
        texts = self.recognise(frame, boxes)
        release_memory()
        found = [
            TextBox(text.strip(), _tighten(frame, box), round(conf, 4))
            for box, (text, conf) in zip(boxes, texts, strict=True)
            if text.strip() and conf >= self.config.min_confidence
        ]
        return sorted(kept + found, key=lambda t: (t.box[1], t.box[0]))

    def detect(self, frame: np.ndarray, region: Box | None = None) -> list[Box]:
        """Axis-aligned text line boxes in frame pixels, in the whole frame or in `region` only (at the scale
        the whole frame would be read at, so a line looks the same to the detector either way)."""
        height, width = frame.shape[:2]
        in_w, in_h = detector_size(width, height, self.config)
        x0, y0, x1, y1 = region or (0, 0, width, height)
        crop = frame[y0:y1, x0:x1]
        size = (_up32((x1 - x0) * in_w / width), _up32((y1 - y0) * in_h / height)) if region else (in_w, in_h)
        image = Image.fromarray(crop).resize(size, Image.Resampling.BILINEAR)
        x = np.asarray(image, np.float32)[:, :, ::-1] / 255.0  # PaddleOCR models read BGR
        x = ((x - DET_MEAN) / DET_STD).transpose(2, 0, 1)[None]
        prob = self._det.run(None, {"x": np.ascontiguousarray(x)})[0][0, 0]  # (H, W)
        scale = ((x1 - x0) / prob.shape[1], (y1 - y0) / prob.shape[0])
        found = boxes_from_probability(prob, scale, (x1 - x0, y1 - y0), self.config.post)
        boxes = [(bx0 + x0, by0 + y0, bx1 + x0, by1 + y0) for (bx0, by0, bx1, by1), _ in found]
        return [part for box in boxes for part in _split(frame, box)]

    def recognise(self, frame: np.ndarray, boxes: list[Box]) -> list[tuple[str, float]]:
        """(text, confidence) for each box; crops seen before (same pixels) come from the cache."""
        crops = [np.ascontiguousarray(frame[y0:y1, x0:x1]) for x0, y0, x1, y1 in boxes]
        keys = [_crop_key(c) for c in crops]
        results: list[tuple[str, float] | None] = [self._cached(k) for k in keys]
        todo = [i for i, r in enumerate(results) if r is None]
        todo.sort(key=lambda i: crops[i].shape[1] / crops[i].shape[0])
        for start in range(0, len(todo), self.config.rec_batch):
            batch = todo[start : start + self.config.rec_batch]
            for i, result in zip(batch, self._recognise_batch([crops[i] for i in batch]), strict=True):
                results[i] = result
                self._remember(keys[i], result)
        self.crops_recognised += len(todo)
        return [r if r is not None else ("", 0.0) for r in results]

    def _recognise_batch(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        widths = [max(1, math.ceil(REC_HEIGHT * c.shape[1] / c.shape[0])) for c in crops]
        batch_width = max(REC_MIN_WIDTH, *widths)
        x = np.zeros((len(crops), 3, REC_HEIGHT, batch_width), np.float32)
        for i, (crop, w) in enumerate(zip(crops, widths, strict=True)):
            resized = np.asarray(Image.fromarray(crop).resize((w, REC_HEIGHT), Image.Resampling.BILINEAR))
            x[i, :, :, :w] = (resized[:, :, ::-1].astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)
        probs = self._rec.run(None, {"x": x})[0]  # (N, T, C): T = batch_width / 8
        lengths = np.array([math.ceil(w * probs.shape[1] / batch_width) for w in widths])
        return ctc_greedy_decode(probs, self.charset, lengths)

    def clear_cache(self) -> None:
        """Forget recognised crops (benchmarks measure a never-seen screen this way)."""
        self._cache.clear()

    def _cached(self, key: bytes) -> tuple[str, float] | None:
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
        return hit

    def _remember(self, key: bytes, value: tuple[str, float]) -> None:
        self._cache[key] = value
        while len(self._cache) > self.config.cache_size:
            self._cache.popitem(last=False)


def _up32(value: float) -> int:
    return max(32, math.ceil(value / 32) * 32)


def _area(box: Box) -> int:
    return (box[2] - box[0]) * (box[3] - box[1])


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _grow_region(changed: Box, previous: Sequence[TextBox], shape: tuple[int, ...], margin: int = 12) -> Box:
    """The changed box plus a margin, grown until no earlier line is cut by its edge, clipped to the frame."""
    x0, y0, x1, y1 = changed[0] - margin, changed[1] - margin, changed[2] + margin, changed[3] + margin
    for _ in range(4):
        grown = (x0, y0, x1, y1)
        for t in previous:
            if _overlaps(t.box, grown):
                x0, y0 = min(x0, t.box[0] - margin), min(y0, t.box[1] - margin)
                x1, y1 = max(x1, t.box[2] + margin), max(y1, t.box[3] + margin)
        if (x0, y0, x1, y1) == grown:
            break
    return max(0, x0), max(0, y0), min(shape[1], x1), min(shape[0], y1)


def _split(frame: np.ndarray, box: Box) -> list[Box]:
    """One detected line cut at wide blank gaps (DB joins menu titles that sit close together)."""
    x0, y0, x1, y1 = box
    segments = split_at_gaps(frame[y0:y1, x0:x1])
    if len(segments) == 1:
        return [box]
    pad = max(2, (y1 - y0) // 4)
    return [(max(x0, x0 + a - pad), y0, min(x1, x0 + b + pad), y1) for a, b in segments]


def _tighten(frame: np.ndarray, box: Box) -> Box:
    """The detector's box shrunk to the ink of its text (the recogniser still reads the padded crop)."""
    x0, y0, x1, y1 = box
    inner = ink_extent(frame[y0:y1, x0:x1])
    return box if inner is None else (x0 + inner[0], y0 + inner[1], x0 + inner[2], y0 + inner[3])


def _crop_key(crop: np.ndarray) -> bytes:
    digest = hashlib.blake2b(np.asarray(crop.shape, np.int64).tobytes(), digest_size=16)
    digest.update(crop.tobytes())
    return digest.digest()


def _check_frame(frame: Any) -> np.ndarray:
    if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        shape = getattr(frame, "shape", None)
        raise OcrError(f"OCR needs an (H, W, 3) uint8 RGB frame, got {type(frame).__name__} {shape}")
    if min(frame.shape[:2]) < 8:
        raise OcrError(f"frame too small for OCR: {frame.shape[1]}x{frame.shape[0]}")
    return frame


_default: OcrModel | None = None


def read_screen_text(frame: np.ndarray) -> list[TextBox]:
    """OCR with a process-wide model loaded on first use (default OcrConfig). One thread at a time: its crop
    cache is not locked; give each thread its own OcrModel (the screen-text worker owns one)."""
    global _default
    if _default is None:
        _default = OcrModel()
    return _default.read(frame)


__all__ = ["OcrConfig", "OcrError", "OcrModel", "TextBox", "detector_size", "model_dir", "read_screen_text"]
