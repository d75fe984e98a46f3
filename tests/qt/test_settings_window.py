"""The settings window: edit, validate, save to the real file, and apply to a copilot core without a restart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.copilot import Copilot, CopilotParts
from app.ghost import GhostView
from app.settings import Settings, load_settings
from inference import load_predictor
from ui.settings_window import SettingsWindow


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "config" / "settings.json"


def test_edited_fields_are_saved_to_the_file(qtbot, path: Path) -> None:
    saved: list[Settings] = []
    window = SettingsWindow(Settings(), path=path, on_saved=saved.append)
    qtbot.addWidget(window)
    window.key_fields["accept"].setText("ctrl+alt+Return")
    window.key_fields["next_alternative"].setText("alt+]")
    window.threshold.setValue(0.8)
    window.fps.setValue(5.0)
    window.retention.setValue(7)
    window.max_db.setValue(512)
    window.device.setCurrentText("cpu")
    window.deny.clear()
    window.add_deny_entry("Secret Vault")
    window.model.setText(str(path.parent / "mine.onnx"))
    window.data_dir.setText(str(path.parent / "data"))
    assert window.save() is not None
    data = json.loads(path.read_text())
    assert data["keys"]["accept"] == "ctrl+alt+return" and data["keys"]["next_alternative"] == "alt+bracketright"
    assert data["min_confidence"] == 0.8 and data["capture_fps"] == 5.0 and data["device"] == "cpu"
    assert data["deny_list"] == ["Secret Vault"] and data["retention_days"] == 7 and data["max_database_mb"] == 512
    assert data["model"].endswith("mine.onnx") and data["data_dir"].endswith("data")
    assert load_settings(path) == saved[0]
    assert window.key_fields["next_alternative"].text() == "alt+bracketright"  # shown canonical after saving
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("field", "chord", "message"),
    [("accept", "ctrl+nosuchkey", "keys.accept"), ("dismiss", "tab", "already bound"), ("pause", "", "keys.pause")],
)
def test_an_unusable_chord_is_refused_with_a_message_and_nothing_written(
    qtbot, path: Path, field: str, chord: str, message: str
) -> None:
    saved: list[Settings] = []
    window = SettingsWindow(Settings(), path=path, on_saved=saved.append)
    qtbot.addWidget(window)
    window.key_fields[field].setText(chord)
    assert window.save() is None
    assert message in window.error.text() and not path.exists() and not saved


def test_an_empty_deny_entry_is_dropped_and_remove_works(qtbot, path: Path) -> None:
    window = SettingsWindow(Settings(deny_list=("A", "B")), path=path)
    qtbot.addWidget(window)
    window.add_deny_entry("  ")
    window.deny.setCurrentRow(0)
    window._remove_deny_entry()
    settings = window.save()
    assert settings is not None and settings.deny_list == ("B",)


@pytest.fixture(scope="module")
def predictor() -> Any:
    return load_predictor(device="cpu")


def test_saved_values_apply_to_a_running_copilot_core(qtbot, path: Path, predictor: Any) -> None:
    views: list[GhostView] = []
    copilot = Copilot(CopilotParts(session=predictor.new_session(1920, 1080), on_view=views.append), 0.5)
    window = SettingsWindow(Settings(), path=path, on_saved=copilot.apply_settings)
    qtbot.addWidget(window)
    window.threshold.setValue(0.9)
    window.fps.setValue(4.0)
    assert window.save() is not None
    copilot.step([copilot.inbox.get_nowait()], 1.0)  # what the loop thread does with the queued command
    assert copilot.min_confidence == copilot.tracker.min_confidence == 0.9
    assert copilot.frame_interval == pytest.approx(0.75 / 4.0)
