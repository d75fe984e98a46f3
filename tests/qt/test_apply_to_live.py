"""Settings window -> ui/app.apply_to_live -> a running copilot (its loop thread, a real model, a real log): a new
model, device and data location apply without a restart."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

from app.copilot import Copilot, CopilotParts
from app.live import LiveCopilot
from app.live_log import LiveLog
from app.model_switch import ModelChoice, ModelSource, ModelSwitcher
from app.settings import Settings
from app.store import LOG_NAME
from assets import DEFAULT_MODEL
from inference import load_predictor
from ui.app import apply_to_live
from ui.settings_window import SettingsWindow

SCREEN = (1920, 1080)
WAIT_MS = 30_000


def _live(settings: Settings, notices: list[str]) -> LiveCopilot:
    """The copilot's core parts as app/live.py assembles them, without the X11 parts (no display here)."""
    predictor = load_predictor(device=settings.device)
    parts = CopilotParts(predictor.new_session(*SCREEN), lambda _view: None, on_notice=notices.append)
    copilot = Copilot(parts, settings.min_confidence)
    log = LiveLog.open(copilot, predictor, SCREEN, settings)
    parts.logbook = log.book
    live = LiveCopilot(copilot, None, predictor, False, SCREEN, [log.stop], log=log)
    source = ModelSource(settings=ModelChoice(settings.model, settings.device))
    live.switcher = ModelSwitcher(copilot, predictor, SCREEN, source, live.stoppers)
    live.switcher.listeners.append(lambda p: setattr(live, "predictor", p))
    live.stoppers.append(live.switcher.start().stop)
    copilot.start()
    return live


def test_a_saved_model_and_data_location_apply_to_the_running_copilot(qtbot: Any, tmp_path: Path) -> None:
    first = Settings(device="cpu", data_dir=str(tmp_path / "data-a"))
    notices: list[str] = []
    live = _live(first, notices)
    current = [first]

    def saved(new: Settings) -> None:  # as ui/app.py's tray wires the window
        apply_to_live(live, current[0], new, notices.append)
        current[0] = new

    window = SettingsWindow(first, path=tmp_path / "config" / "settings.json", on_saved=saved)
    qtbot.addWidget(window)
    mine = tmp_path / "mine.onnx"
    shutil.copyfile(DEFAULT_MODEL, mine)
    try:
        window.model.setText(str(mine))
        window.data_dir.setText(str(tmp_path / "data-b"))
        window.threshold.setValue(0.8)
        assert window.save() is not None
        qtbot.waitUntil(lambda: "now using model mine (on CPUExecutionProvider)" in notices, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: f"now logging to {tmp_path / 'data-b' / LOG_NAME}" in notices, timeout=WAIT_MS)
        assert live.predictor.name == "mine" and live.copilot.min_confidence == 0.8
        assert not any("starts again" in n for n in notices)
    finally:
        live.stop()
    with sqlite3.connect(tmp_path / "data-b" / LOG_NAME) as conn:
        assert conn.execute("SELECT model_name, ended_at IS NOT NULL FROM sessions").fetchall() == [("mine", 1)]
    with sqlite3.connect(tmp_path / "data-a" / LOG_NAME) as conn:
        assert conn.execute("SELECT ended_at IS NOT NULL FROM sessions").fetchall() == [(1,)]


def test_an_edit_to_the_settings_file_reaches_the_app_and_a_broken_one_is_refused(qtbot: Any) -> None:
    """The tray wires the same `saved` to file edits (ui/app._watch_settings_file) as to the settings window."""
    from PySide6.QtWidgets import QApplication

    from app.settings import default_settings_path, save_settings
    from ui.app import CoreBridge, _watch_settings_file

    app = QApplication.instance()
    bridge = CoreBridge()
    save_settings(Settings(min_confidence=0.5))
    _watch_settings_file(app, bridge)
    try:
        with qtbot.waitSignal(bridge.settings, timeout=WAIT_MS) as changed:
            save_settings(Settings(min_confidence=0.8))
        assert changed.args[0].min_confidence == 0.8
        with qtbot.waitSignal(bridge.notice, timeout=WAIT_MS) as refused:
            default_settings_path().write_text("{ not json")
        assert refused.args[0].startswith("settings file not applied:")
    finally:
        app.aboutToQuit.emit()  # stops the watcher, as quitting the app does
