"""Model switches in the running copilot (app/model_switch.py): real ONNX models, a real SQLite log, the real loop
step; only the loop thread is replaced by the test calling `step` (so every switch lands at a known moment)."""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app import models
from app.bench import scripted_stream
from app.copilot import Copilot, CopilotParts
from app.copilot_parts import drain
from app.ghost import GhostView
from app.logbook import StoreLogbook
from app.model_switch import ModelChoice, ModelSource, ModelSwitcher
from app.settings import Settings
from app.store import Store
from assets import DEFAULT_MODEL
from inference import load_predictor

SCREEN = (1920, 1080)


class Rig:
    """A copilot on the shipped model, logging to a real store, with a switcher; the test runs the loop."""

    def __init__(self, tmp_path: Path, source: ModelSource, predictor: Any = None, **parts: Any) -> None:
        self.notices: list[str] = []
        self.views: list[GhostView] = []
        self.predictor = predictor or load_predictor(device="cpu")
        self.store = Store.open(tmp_path / "log.db")
        self.book = StoreLogbook.begin(self.store, self.predictor, SCREEN)
        session = self.predictor.new_session(*SCREEN)
        self.copilot = Copilot(
            CopilotParts(session, self.views.append, logbook=self.book, on_notice=self.notices.append, **parts)
        )
        self.stoppers: list[Callable[[], None]] = []
        self.switcher = ModelSwitcher(self.copilot, self.predictor, SCREEN, source, self.stoppers)
        self.events = iter(scripted_stream(120, seed=3, width=SCREEN[0], height=SCREEN[1]))
        self.now = 0.0

    def pump_until(self, done: Callable[[], bool], seconds: float = 30.0) -> None:
        """Run loop steps (inbox items, no input) until `done()`; fails after `seconds`."""
        deadline = time.monotonic() + seconds
        while not done():
            assert time.monotonic() < deadline, f"timed out; notices: {self.notices}"
            self.copilot.step(drain(self.copilot.inbox, 0.0), self.now)
            time.sleep(0.01)

    def until_ghost(self) -> None:
        for event in self.events:
            self.now = float(event["t"])
            self.copilot.step([event], self.now)
            if self.copilot.tracker.shown is not None:
                return
        pytest.fail("no ghost on the scripted input")

    def close(self) -> None:
        self.switcher.stop()
        self.copilot.stop()
        self.book.end()
        assert self.store.close()
        for stop in self.stoppers:
            stop()


@pytest.fixture
def second_model(tmp_path: Path) -> Path:
    """A second real model: the shipped weights under another name (another model_version in the log)."""
    path = tmp_path / "ghostpilot-v2.onnx"
    shutil.copyfile(DEFAULT_MODEL, path)
    return path


def _pinned(path: Path) -> ModelSource:
    return ModelSource(settings=ModelChoice(str(path), "cpu"))


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_a_settings_switch_swaps_the_model_on_the_loop_and_the_log_follows(tmp_path: Path, second_model: Path) -> None:
    rig = Rig(tmp_path, _pinned(DEFAULT_MODEL))
    old_session = rig.copilot.parts.session
    rig.until_ghost()
    shown = rig.copilot.tracker.shown
    assert shown is not None
    assert rig.switcher.apply_settings(Settings(model=str(second_model), device="cpu"))
    rig.pump_until(lambda: rig.switcher.predictor.name == "ghostpilot-v2")
    assert rig.notices[-1] == "now using model ghostpilot-v2 (on CPUExecutionProvider)"
    assert rig.copilot.parts.session is not old_session
    assert rig.copilot.tracker.shown is None and rig.views[-1].current is None  # the ghost just went
    assert rig.copilot.gate.rejections == 0  # ... and the back-off did not count it as refused
    assert rig.book.model_version.startswith("ghostpilot-v2@")
    switched_at = rig.now
    rig.until_ghost()
    rig.close()
    db = rig.store.path
    assert _rows(db, f"SELECT decision FROM decisions WHERE suggestion_id = '{shown.id}'") == [("ignored",)]
    versions = _rows(db, "SELECT t, model_version FROM suggestions ORDER BY t")
    assert {v.split("@")[0] for _, v in versions} == {"ghostpilot-default", "ghostpilot-v2"}
    assert all(v.startswith("ghostpilot-v2@") == (t > switched_at) for t, v in versions)
    assert _rows(db, "SELECT model_name FROM sessions") == [("ghostpilot-v2",)]  # the model in use last


def test_ghosts_keep_flowing_while_the_new_model_loads(tmp_path: Path, second_model: Path) -> None:
    rig = Rig(tmp_path, _pinned(DEFAULT_MODEL))
    original = rig.copilot.parts.session
    with rig.switcher._load_lock:  # a load that takes as long as the test needs
        rig.switcher.apply_settings(Settings(model=str(second_model), device="cpu"))
        rig.until_ghost()  # the loop goes on with the old model meanwhile
        assert rig.copilot.parts.session is original and not rig.notices
    rig.pump_until(lambda: rig.copilot.parts.session is not original)
    assert rig.notices == ["now using model ghostpilot-v2 (on CPUExecutionProvider)"]
    rig.close()


def test_a_corrupt_model_keeps_the_current_one_with_a_notice(tmp_path: Path) -> None:
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"not an onnx model at all")
    rig = Rig(tmp_path, _pinned(DEFAULT_MODEL))
    session = rig.copilot.parts.session
    rig.switcher.apply_settings(Settings(model=str(bad), device="cpu"))
    rig.pump_until(lambda: bool(rig.notices))
    rig.pump_until(lambda: not any(t.is_alive() for t in rig.switcher._threads))
    (notice,) = rig.notices
    assert notice.startswith("model not switched, still using ghostpilot-default: ")
    assert "broken.onnx: not a loadable ONNX model" in notice and "\n" not in notice
    assert rig.copilot.parts.session is session and rig.switcher.predictor is rig.predictor
    rig.until_ghost()  # the old model still suggests
    rig.close()


def test_model_use_in_the_registry_is_picked_up_unless_a_model_is_pinned(tmp_path: Path, second_model: Path) -> None:
    from app.cli import main as cli_main

    rig = Rig(tmp_path, ModelSource(command_line=ModelChoice(None, "cpu")))
    assert not rig.switcher.check_registry()  # nothing changed yet
    models.register(second_model, "v2")
    assert not rig.switcher.check_registry()  # registered, not in use
    assert cli_main(["model", "use", "v2"]) == 0  # as from another terminal
    assert rig.switcher.check_registry()
    rig.pump_until(lambda: rig.switcher.predictor.name == "v2")
    assert rig.notices[-1] == "now using model v2 (on CPUExecutionProvider)"
    assert rig.book.model_version.startswith("v2@")

    rig.switcher.poll_s = 0.05  # now through the watcher thread, as in the app
    rig.switcher.start()
    assert cli_main(["model", "rollback"]) == 0
    rig.pump_until(lambda: rig.switcher.predictor.name == "ghostpilot-default")
    assert rig.notices[-1] == "now using model ghostpilot-default (on CPUExecutionProvider)"

    rig.switcher.apply_settings(Settings(model=str(DEFAULT_MODEL), device="cpu"))  # pinned from now on
    rig.pump_until(lambda: len(rig.notices) == 3)
    models.use("v2")
    time.sleep(0.3)  # several polls
    rig.pump_until(lambda: True)
    assert rig.switcher.predictor.name == "ghostpilot-default" and len(rig.notices) == 3
    rig.close()


def test_a_tampered_registry_model_is_refused_and_the_current_one_stays(tmp_path: Path, second_model: Path) -> None:
    rig = Rig(tmp_path, ModelSource(command_line=ModelChoice(None, "cpu")))
    entry = models.register(second_model, "v2")
    models.use("v2")
    Path(entry.path).write_bytes(Path(entry.path).read_bytes()[:-10] + b"tampered!!")
    assert rig.switcher.check_registry()
    rig.pump_until(lambda: bool(rig.notices))
    assert rig.notices == [
        "model not switched, still using ghostpilot-default: model 'v2': SHA-256 mismatch, the file is tampered "
        f"or corrupt ({entry.path})"
    ]
    rig.close()


class StillCapture:
    """Stands in for the X11 screen capture (tested on a real X server in tests/e2e): no frame yet."""

    def latest(self) -> None:
        return None

    def set_mask(self, rects: list[tuple[int, int, int, int]]) -> None:
        pass


def test_the_screen_text_worker_starts_and_stops_with_a_goal_model(tmp_path: Path, tiny_onnx: Path) -> None:
    tiny = load_predictor(tiny_onnx, device="cpu")
    assert not tiny.config.get("use_goals")
    rig = Rig(tmp_path, _pinned(tiny_onnx), predictor=tiny, capture=StillCapture())
    rig.copilot.goals.change("file the expenses")
    assert rig.copilot.parts.screen_text is None
    rig.switcher.apply_settings(Settings(model=str(DEFAULT_MODEL), device="cpu"))
    rig.pump_until(lambda: rig.copilot.parts.screen_text is not None, seconds=60)
    worker: Any = rig.copilot.parts.screen_text
    assert worker.stop in rig.stoppers and worker._goal is not None  # the goal reached the new worker
    assert rig.copilot.parts.session.goal == "file the expenses"  # ... and the new session
    rig.switcher.apply_settings(Settings(model=str(tiny_onnx), device="cpu"))
    rig.pump_until(lambda: rig.switcher.predictor.name == "tiny")
    assert rig.copilot.parts.screen_text is None
    rig.close()
    assert not worker._thread.is_alive()
