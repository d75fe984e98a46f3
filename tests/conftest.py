"""Shared fixtures: paths to the real data, and isolation from the user's own directories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Qt views are tested offscreen in this process; only e2e subprocesses use the real X server (xcb).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
BALABIT = Path(os.environ.get("GHOSTPILOT_BALABIT", ROOT.parent / "shared" / "data" / "balabit-dev"))


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never touch the real user's data, config or cache directories."""
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(tmp_path / "xdg" / name.lower()))


@pytest.fixture(scope="session")
def balabit_dir() -> Path:
    if not BALABIT.is_dir():
        pytest.skip(f"real Balabit data not found at {BALABIT}")
    return BALABIT


TINY_MODEL = {"d_model": 32, "n_layer": 1, "n_head": 2, "context_ticks": 16}


def scripted_episode(folder: Path, seconds: float = 20.0, seed: int = 0, frames: bool = True) -> Path:
    """A real episode on disk: scripted pointing, clicks and typing, with a few frames."""
    import numpy as np

    from app.bench import scripted_stream
    from inference.episodes import EpisodeMeta, write_episode

    events = scripted_stream(seconds, seed=seed, width=640, height=360)
    rng = np.random.default_rng(seed)
    shots = [(t_ms, rng.integers(0, 255, (360, 640, 3), dtype=np.uint8)) for t_ms in (0, 2500, 7000)] if frames else []
    return write_episode(folder, EpisodeMeta(640, 360, fps=30, goal="practice"), events, frames=shots)


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch")
    from inference.train import TrainConfig, train

    root = tmp_path_factory.mktemp("tiny")
    episode = scripted_episode(root / "episodes" / "ep0")
    cfg = TrainConfig(steps=3, batch_size=4, eval_every=3, out_dir=str(root / "run"), model=TINY_MODEL)
    return train([str(episode)], [], cfg, log=lambda _: None)


@pytest.fixture(scope="session")
def tiny_onnx(tiny_checkpoint: Path) -> Path:
    from inference.export import export_onnx

    return export_onnx(tiny_checkpoint, tiny_checkpoint.parent / "tiny.onnx")
