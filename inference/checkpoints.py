"""Training checkpoints as safetensors: the weights as tensors, the model config and the training record as
JSON strings in the file's metadata. Loading never unpickles, so a checkpoint from anywhere cannot run code.

A checkpoint is read back as the dict `{"config", "model", "train", "record"}` (the layout the old pickled
`.pt` files had), so callers see one shape. A legacy pickled `.pt` is refused unless the caller explicitly
trusts it (`ghostpilot export-model OLD.pt --trust-pickle` converts it once to `OLD.safetensors`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from inference.errors import GhostpilotError, MissingExtraError

SUFFIX = ".safetensors"
FORMAT = "ghostpilot.checkpoint.v1"
_JSON_FIELDS = ("config", "train", "record")  # stored as metadata "ghostpilot.<field>"


def _safetensors_torch() -> Any:
    try:
        import safetensors.torch
    except ImportError:
        raise MissingExtraError(
            "training checkpoints need safetensors", "install the train extra: bash scripts/setup.sh --train"
        ) from None
    return safetensors.torch


def save_checkpoint(path: str | Path, state: dict[str, Any], config: dict, train: dict, record: dict) -> Path:
    """Write `state` (name -> tensor) with its config and record, atomically (a reader never sees half)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tensors = {name: tensor.detach().cpu().contiguous() for name, tensor in state.items()}
    fields = dict(zip(_JSON_FIELDS, (config, train, record), strict=True))
    metadata = {"format": FORMAT} | {f"ghostpilot.{name}": json.dumps(value) for name, value in fields.items()}
    _safetensors_torch().save_file(tensors, str(tmp), metadata=metadata)
    os.replace(tmp, path)
    return path


def is_pickle(path: Path) -> bool:
    """A torch.save file (a zip archive, or a raw pickle stream), not a safetensors file (an 8-byte header
    length, then the JSON header; its first length byte may be 0x80 too, so that is checked first)."""
    with path.open("rb") as handle:
        head = handle.read(9)
    if len(head) == 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") < path.stat().st_size:
        return False
    return head.startswith(b"PK\x03\x04") or head[:1] == b"\x80"


def read_checkpoint(path: str | Path, trust_pickle: bool = False) -> dict[str, Any]:
    """The checkpoint dict, from safetensors; a pickled `.pt` only when `trust_pickle` (the caller's say-so)."""
    path = Path(path)
    if not path.is_file():
        raise GhostpilotError(f"{path}: no such checkpoint", f"pass a {SUFFIX} file written by `ghostpilot train`")
    if is_pickle(path):
        if not trust_pickle:
            raise GhostpilotError(
                f"{path}: a pickled torch checkpoint is refused (loading a pickle can run code)",
                f"if you trust it, convert it once: ghostpilot export-model {path} --trust-pickle",
            )
        return _read_pickle(path)
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            state = {name: handle.get_tensor(name) for name in handle.keys()}  # noqa: SIM118 (not a dict)
        if metadata.get("format") != FORMAT:
            raise ValueError("no Ghostpilot metadata")
        fields = {name: json.loads(metadata[f"ghostpilot.{name}"]) for name in _JSON_FIELDS}
    except Exception as exc:
        raise GhostpilotError(f"{path}: not a Ghostpilot checkpoint ({type(exc).__name__})") from None
    return {"model": state, **fields}


def _read_pickle(path: Path) -> dict[str, Any]:
    from inference.train import require_torch

    torch = require_torch()

    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)  # restricted unpickler, still
        return {"config": checkpoint["config"], "model": checkpoint["model"], "train": checkpoint.get("train", {}),
                "record": checkpoint.get("record", {})}  # fmt: skip
    except Exception as exc:
        raise GhostpilotError(f"{path}: not a Ghostpilot checkpoint ({type(exc).__name__})") from None


def convert_pickle(path: str | Path) -> Path:
    """A trusted legacy `.pt` -> the `.safetensors` beside it (same weights and metadata); returns the new path."""
    checkpoint = read_checkpoint(path, trust_pickle=True)
    out = Path(path).with_suffix(SUFFIX)
    return save_checkpoint(out, checkpoint["model"], checkpoint["config"], checkpoint["train"], checkpoint["record"])


def load_checkpoint(path: str | Path, trust_pickle: bool = False) -> tuple[Any, dict]:
    """A model (eval mode, CPU) and the checkpoint dict it was built from."""
    from inference.train import require_torch

    require_torch()
    from inference.model import ForwardDynamicsModel, ModelConfig

    checkpoint = read_checkpoint(path, trust_pickle)
    try:
        model = ForwardDynamicsModel(ModelConfig(**checkpoint["config"]))
        model.load_state_dict(checkpoint["model"])
    except Exception as exc:
        raise GhostpilotError(f"{path}: not a Ghostpilot checkpoint ({type(exc).__name__})") from None
    model.eval()
    return model, checkpoint
