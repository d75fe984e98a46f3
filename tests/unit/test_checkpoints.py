"""Training checkpoints are safetensors: never unpickled unless the user says so, with the config in metadata."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("safetensors")

from inference.checkpoints import SUFFIX, load_checkpoint, read_checkpoint
from inference.errors import GhostpilotError


class _RunsCode:
    """Unpickling this would touch `marker`: a stand-in for a malicious checkpoint."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (Path.write_text, (self.marker, "pwned"))


def test_train_writes_safetensors_with_its_config_in_the_metadata(tiny_checkpoint: Path) -> None:
    from safetensors import safe_open

    assert tiny_checkpoint.suffix == SUFFIX and tiny_checkpoint.read_bytes()[8:9] == b"{"  # a JSON header
    with safe_open(str(tiny_checkpoint), framework="pt") as handle:
        metadata = handle.metadata()
    assert json.loads(metadata["ghostpilot.config"])["d_model"] == 32
    assert json.loads(metadata["ghostpilot.record"])["step"] == 3
    model, checkpoint = load_checkpoint(tiny_checkpoint)
    assert not model.training and set(checkpoint) == {"config", "model", "train", "record"}


def test_a_pickled_checkpoint_is_refused_without_being_read(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    for name, data in (("evil.pt", pickle.dumps(_RunsCode(marker))), ("evil.safetensors", b"PK\x03\x04" + b"0" * 64)):
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(GhostpilotError, match="pickled torch checkpoint is refused") as caught:
            load_checkpoint(path)
        assert "\n" not in str(caught.value) and "--trust-pickle" in caught.value.hint
    assert not marker.exists()


def test_junk_and_missing_files_are_one_line_errors(tmp_path: Path) -> None:
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
    with pytest.raises(GhostpilotError, match="not a Ghostpilot checkpoint"):
        read_checkpoint(junk)
    with pytest.raises(GhostpilotError, match="no such checkpoint"):
        read_checkpoint(tmp_path / "missing.safetensors")


def test_a_trusted_legacy_checkpoint_converts_and_exports(tiny_checkpoint: Path, tmp_path: Path) -> None:
    import torch

    from app.cli import main

    checkpoint = read_checkpoint(tiny_checkpoint)
    legacy = tmp_path / "old.pt"
    torch.save(checkpoint, legacy)  # the layout `ghostpilot train` wrote before safetensors
    assert main(["export-model", str(legacy), "--out", str(tmp_path / "old.onnx")]) == 2  # refused
    assert not (tmp_path / "old.onnx").exists()
    assert main(["export-model", str(legacy), "--out", str(tmp_path / "old.onnx"), "--trust-pickle"]) == 0
    converted = read_checkpoint(tmp_path / "old.safetensors")
    assert converted["config"] == checkpoint["config"] and converted["record"] == checkpoint["record"]
    for name, tensor in checkpoint["model"].items():
        assert torch.equal(converted["model"][name], tensor)
    assert (tmp_path / "old.onnx").is_file()
