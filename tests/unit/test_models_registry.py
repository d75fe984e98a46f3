"""The model registry: register/use/rollback, SHA-256 refusal of tampered files, ONNX only, the default's digest."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest

from app import models
from app.cli import main as cli_main
from assets import DEFAULT_MODEL
from inference.errors import ModelError


@pytest.fixture
def candidate(tmp_path: Path) -> Path:
    path = tmp_path / "candidate.onnx"
    shutil.copyfile(DEFAULT_MODEL, path)
    return path


def test_shipped_default_digest_is_in_sync() -> None:
    recorded = models.default_entry().sha256
    assert recorded == models.sha256_file(DEFAULT_MODEL), (
        "assets/models/ghostpilot-default.onnx changed but its recorded SHA-256 did not: "
        f"run `{models.REGENERATE}` and commit assets/models/default-model.json"
    )


def test_default_is_current_and_listed_first() -> None:
    assert models.current().name == "default"
    assert [e.name for e in models.list_models()] == ["default"]
    assert models.resolve_model(None) == DEFAULT_MODEL


def test_register_use_rollback(candidate: Path) -> None:
    entry = models.register(candidate, name="v2")
    assert entry.sha256 == models.sha256_file(DEFAULT_MODEL)
    assert Path(entry.path).parent == models.models_dir()
    assert [e.name for e in models.list_models()] == ["default", "v2"]
    models.use("v2")
    assert models.current() == entry
    assert models.resolve_model(None) == Path(entry.path)
    assert models.rollback().name == "default"
    assert models.current().name == "default"
    with pytest.raises(ModelError, match="nothing to roll back"):
        models.rollback()


def test_index_and_copies_are_private(candidate: Path) -> None:
    entry = models.register(candidate, name="v2")
    models.use("v2")
    for path in (models.models_dir() / "index.json", Path(entry.path)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not list(models.models_dir().glob(".index-*"))  # no temporary file left behind
    index = json.loads((models.models_dir() / "index.json").read_text())
    assert index["current"] == "v2" and index["history"] == ["default"]


def test_registering_the_same_file_twice_is_idempotent_but_a_name_clash_is_refused(candidate: Path) -> None:
    first = models.register(candidate, name="v2")
    assert models.register(candidate, name="v2") == first
    candidate.write_bytes(candidate.read_bytes() + b"\0")
    with pytest.raises(ModelError, match="already registered"):
        models.register(candidate, name="v2")


def test_tampered_model_is_refused_on_load_and_on_use(candidate: Path) -> None:
    entry = models.register(candidate, name="v2")
    data = bytearray(Path(entry.path).read_bytes())
    data[len(data) // 2] ^= 0xFF
    Path(entry.path).write_bytes(bytes(data))
    with pytest.raises(ModelError, match="SHA-256 mismatch, the file is tampered or corrupt") as caught:
        models.load_model("v2", device="cpu")
    assert "\n" not in str(caught.value)
    with pytest.raises(ModelError, match="SHA-256 mismatch"):
        models.use("v2")
    assert models.current().name == "default"


def test_only_onnx_models_load(tmp_path: Path) -> None:
    checkpoint = tmp_path / "best.pt"
    checkpoint.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="only ONNX models load"):
        models.register(checkpoint)
    with pytest.raises(ModelError, match="only ONNX models load"):
        models.load_model(str(checkpoint))


def test_bad_names_are_refused(candidate: Path) -> None:
    for name in ("default", "../escape", "", "a b"):
        with pytest.raises(ModelError):
            models.register(candidate, name=name or "/")
    with pytest.raises(ModelError, match="no model named 'nope'"):
        models.use("nope")


def test_corrupt_index_is_one_line_error() -> None:
    (models.models_dir() / "index.json").write_text("{not json")
    with pytest.raises(ModelError, match="unreadable model index"):
        models.current()


def test_cli_model_commands(candidate: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["model", "register", str(candidate), "--as", "v2"]) == 0
    assert cli_main(["model", "use", "v2"]) == 0
    assert cli_main(["model", "list"]) == 0
    out = capsys.readouterr().out
    assert "* v2" in out and "  default" in out
    assert cli_main(["model", "rollback"]) == 0
    assert "rolled back to default" in capsys.readouterr().out
    assert cli_main(["model", "use", "missing"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_loaded_registered_model_runs(candidate: Path) -> None:
    models.use(models.register(candidate, name="v2").name)
    predictor = models.load_model(None, device="cpu")
    assert predictor.path == models.models_dir() / "v2.onnx"
    assert predictor.new_session(1920, 1080).suggest(0.0) == []


def test_device_notice_when_cuda_was_requested_but_did_not_run() -> None:
    """This machine's onnxruntime-gpu lists CUDA but has no GPU: auto falls back to CPU and says so."""
    import onnxruntime as ort

    predictor = models.load_model(None, device="auto")
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        pytest.skip("this onnxruntime has no CUDA provider to fall back from")
    if predictor.provider == "CUDAExecutionProvider":
        assert models.device_notice(predictor, "auto") is None
    else:
        assert "running the model on CPU" in (models.device_notice(predictor, "auto") or "")
    assert models.device_notice(predictor, "cpu") is None


def test_cuda_without_a_working_cuda_is_a_one_line_error() -> None:
    import onnxruntime as ort

    from inference.runtime import DeviceError

    if "CUDAExecutionProvider" in ort.get_available_providers():
        try:
            if models.load_model(None, device="auto").provider == "CUDAExecutionProvider":
                pytest.skip("CUDA really runs here")
        except DeviceError:
            pass
    with pytest.raises(DeviceError) as caught:
        models.load_model(None, device="cuda")
    assert "\n" not in str(caught.value)
