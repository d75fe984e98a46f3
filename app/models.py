"""The model registry: which ONNX models this user has, which one runs, and that each file is unchanged.

A model is trusted by its SHA-256, recorded when it is registered (and, for the shipped default, in
assets/models/default-model.json). Every load re-hashes the file and refuses a mismatch, so a tampered or
half-written model never runs. Models load only from ONNX: no pickled checkpoints on the live path.

Layout under data_dir()/models: the registered copies (`NAME.onnx`, 0600) and `index.json` (0600, replaced
atomically): {"version": 1, "current": NAME, "history": [previous currents], "models": {NAME: entry}}.
The learning loop adds candidates with `register` and swaps with `use`; `rollback` undoes the last swap.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from app.paths import data_dir, data_path, private_dir, private_umask
from inference.errors import ModelError

DEFAULT_NAME = "default"
INDEX_VERSION = 1
MAX_HISTORY = 20
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
REGENERATE = "python -m app.models --write-default-digest"


@dataclass(frozen=True)
class ModelEntry:
    """One registered model: its name, the SHA-256 of its file, where the file is, when it was added (unix)."""

    name: str
    sha256: str
    path: str
    added_at: float


def models_dir() -> Path:
    return private_dir(data_dir() / "models")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def default_digest_file() -> Path:
    from assets import DEFAULT_MODEL

    return DEFAULT_MODEL.parent / "default-model.json"


def default_entry() -> ModelEntry:
    """The shipped model, always registered as "default", with the digest recorded beside it."""
    from assets import DEFAULT_MODEL

    try:
        recorded = json.loads(default_digest_file().read_text())["sha256"]
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"{default_digest_file()}: no recorded digest for the shipped model ({exc})") from None
    return ModelEntry(DEFAULT_NAME, str(recorded), str(DEFAULT_MODEL), 0.0)


def write_default_digest() -> Path:
    """Record the shipped model's SHA-256 (run after retraining it: `python -m app.models --write-default-digest`)."""
    from assets import DEFAULT_MODEL

    path = default_digest_file()
    path.write_text(json.dumps({"file": DEFAULT_MODEL.name, "sha256": sha256_file(DEFAULT_MODEL)}, indent=2) + "\n")
    return path


def _index_path(create: bool = False) -> Path:
    """Reading the index never creates or re-permissions folders (the doctor reads it); writing does."""
    return (models_dir() if create else data_path() / "models") / "index.json"


def registry_stamp() -> tuple[int, int, int] | None:
    """(mtime_ns, inode, size) of the index, None without one: a cheap "did `use`/`rollback` happen" check for
    the running copilot (app/model_switch.py). Every write renames a new file in, so the inode changes too."""
    try:
        st = _index_path().stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_ino, st.st_size


def _read_index() -> dict[str, Any]:
    path = _index_path()
    if not path.exists():
        return {"version": INDEX_VERSION, "current": DEFAULT_NAME, "history": [], "models": {}}
    try:
        index = json.loads(path.read_text())
        if not isinstance(index.get("models"), dict) or not isinstance(index.get("history"), list):
            raise ValueError("missing fields")
    except (OSError, ValueError, AttributeError) as exc:
        raise ModelError(f"{path}: unreadable model index ({exc})", "fix or delete the file") from None
    return index


def _write_index(index: dict[str, Any]) -> None:
    """Write to a private temporary file in the same folder, fsync, then rename over the index (atomic)."""
    path = _index_path(create=True)
    with private_umask():
        fd, tmp = tempfile.mkstemp(prefix=".index-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(index, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _entry(name: str, index: dict[str, Any]) -> ModelEntry:
    if name == DEFAULT_NAME:
        return default_entry()
    data = index["models"].get(name)
    if data is None:
        known = ", ".join([DEFAULT_NAME, *sorted(index["models"])])
        raise ModelError(f"no model named {name!r}", f"registered: {known}")
    return ModelEntry(name, data["sha256"], data["path"], float(data["added_at"]))


def _require_onnx(path: Path) -> None:
    if not path.is_file():
        raise ModelError(f"{path}: model file not found")
    if path.suffix.lower() != ".onnx":
        raise ModelError(f"{path}: only ONNX models load", "export a checkpoint with `ghostpilot export-model`")


def register(path: str | Path, name: str | None = None) -> ModelEntry:
    """Copy an ONNX model into the registry under `name` (default: the file's stem) and record its SHA-256."""
    source = Path(path)
    _require_onnx(source)
    name = name or source.stem
    if name == DEFAULT_NAME or not NAME_PATTERN.match(name):
        raise ModelError(f"{name!r} is not a usable model name", "letters, digits, . _ -; not 'default'")
    index = _read_index()
    digest = sha256_file(source)
    if name in index["models"]:
        existing = _entry(name, index)
        if existing.sha256 == digest:
            return existing
        raise ModelError(f"a different model is already registered as {name!r}", "choose another name")
    target = models_dir() / f"{name}.onnx"
    with private_umask():
        shutil.copyfile(source, target)
    if sha256_file(target) != digest:
        target.unlink(missing_ok=True)
        raise ModelError(f"{source}: changed while it was copied", "register it again")
    entry = ModelEntry(name, digest, str(target), time.time())
    index["models"][name] = {k: v for k, v in asdict(entry).items() if k != "name"}
    _write_index(index)
    return entry


def list_models() -> list[ModelEntry]:
    """The default model first, then the registered ones by the time they were added."""
    index = _read_index()
    added = sorted((_entry(n, index) for n in index["models"]), key=lambda e: e.added_at)
    return [default_entry(), *added]


def current() -> ModelEntry:
    """The model `ghostpilot run` loads when no --model is given."""
    index = _read_index()
    return _entry(str(index.get("current", DEFAULT_NAME)), index)


def use(name: str) -> ModelEntry:
    """Make `name` the current model (checked first); the previous one is remembered for `rollback`."""
    index = _read_index()
    entry = _entry(name, index)
    verified_path(entry)
    previous = str(index.get("current", DEFAULT_NAME))
    if previous != name:
        index["history"] = [*index["history"], previous][-MAX_HISTORY:]
        index["current"] = name
        _write_index(index)
    return entry


def rollback() -> ModelEntry:
    """Go back to the model that was current before the last `use`."""
    index = _read_index()
    history = [n for n in index["history"] if n == DEFAULT_NAME or n in index["models"]]
    if not history:
        raise ModelError("nothing to roll back to", "no earlier model was in use")
    previous = history.pop()
    entry = _entry(previous, index)
    index["history"], index["current"] = history, previous
    _write_index(index)
    return entry


def verified_path(entry: ModelEntry) -> Path:
    """The entry's file, after checking its SHA-256; a mismatch is refused (tampered or corrupt)."""
    path = Path(entry.path)
    if not path.is_file():
        raise ModelError(
            f"model {entry.name!r}: file missing ({path})", "register it again or `ghostpilot model use default`"
        )
    if sha256_file(path) != entry.sha256:
        hint = f"regenerate with `{REGENERATE}`" if entry.name == DEFAULT_NAME else "register a good copy again"
        raise ModelError(f"model {entry.name!r}: SHA-256 mismatch, the file is tampered or corrupt ({path})", hint)
    return path


def resolve_model(spec: str | None) -> Path:
    """A registered name (checked), a path to an .onnx file, or None for the current model."""
    if spec is None:
        return verified_path(current())
    index = _read_index()
    if spec == DEFAULT_NAME or spec in index["models"]:
        return verified_path(_entry(spec, index))
    path = Path(spec)
    _require_onnx(path)
    return path


def load_model(spec: str | None, device: str = "auto") -> Any:
    """Resolve and load a model (ONNX only; registered ones checked by SHA-256)."""
    from inference import load_predictor

    return load_predictor(resolve_model(spec), device=device)


class NoModelSession:
    """A session that watches nothing and never suggests: the copilot runs on, without ghosts."""

    def __init__(self, goal: str | None = None) -> None:
        self.goal = goal

    def set_goal(self, goal: str | None) -> None:
        self.goal = goal

    def observe_text(self, snapshot: Any) -> None:
        pass  # this session does not read the screen

    def observe_event(self, event: Any) -> None:
        pass

    def observe_frame(self, t: float, frame: Any) -> None:
        pass

    def suggest(self, t: float, min_confidence: float = 0.5) -> list[Any]:
        return []


class NoModel:
    """Stands in for a model that could not load, so a bad file costs the suggestions, not the copilot."""

    name = "no-model"
    provider = "none"
    path = None

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def new_session(self, screen_width: int, screen_height: int, goal: str | None = None) -> NoModelSession:
        return NoModelSession(goal)


def device_notice(predictor: Any, device: str) -> str | None:
    """A notice when `--device auto` asked for CUDA and onnxruntime fell back to CPU (CUDA missing or broken)."""
    requested = getattr(predictor, "requested_providers", [])
    if device == "auto" and "CUDAExecutionProvider" in requested and predictor.provider != "CUDAExecutionProvider":
        return "CUDA is installed but did not run (no GPU or a broken CUDA install); running the model on CPU"
    return None


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--write-default-digest"]:
        print(f"wrote {write_default_digest()}")
    else:
        print(f"usage: python -m app.models --write-default-digest ({REGENERATE})", file=sys.stderr)
        sys.exit(2)
