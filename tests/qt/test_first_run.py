"""First run: the words, the remembered answer (a real 0600 file), the permission notes and the doctor lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.consent import CONSENT_VERSION, consent_path, platform_notes, read_consent, record_consent
from app.doctor import Check
from ui.first_run import FirstRunDialog


def fake_checks() -> list[Check]:
    return [Check("display", "ok", "X11 :99 1920x1080"), Check("compositor", "warn", "none", "start xcompmgr")]


def test_the_dialog_says_what_is_recorded_and_where_it_stays(qtbot, tmp_path: Path) -> None:
    dialog = FirstRunDialog(tmp_path / "data", consent_path=tmp_path / "consent.json", checks=fake_checks)
    qtbot.addWidget(dialog)
    text = dialog.recorded.text()
    assert str(tmp_path / "data") in text and "Nothing is sent anywhere" in text and "what you type" in text


@pytest.mark.parametrize(("choice", "logging"), [("record", True), ("no_log", False)])
def test_the_answer_is_remembered_in_a_private_file(qtbot, tmp_path: Path, choice: str, logging: bool) -> None:
    path = tmp_path / "config" / "consent.json"
    dialog = FirstRunDialog(tmp_path, consent_path=path, checks=fake_checks)
    qtbot.addWidget(dialog)
    assert read_consent(path) is None
    (dialog.record_button if logging else dialog.no_log_button).click()
    assert dialog.choice == choice and dialog.result() == dialog.DialogCode.Accepted
    consent = read_consent(path)
    assert consent is not None and consent.logging is logging
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700


def test_quit_remembers_nothing(qtbot, tmp_path: Path) -> None:
    path = tmp_path / "consent.json"
    dialog = FirstRunDialog(tmp_path, consent_path=path, checks=fake_checks)
    qtbot.addWidget(dialog)
    dialog.quit_button.click()
    assert dialog.choice == "quit" and not path.exists()


def test_the_doctor_lines_appear_when_the_checks_finish(qtbot, tmp_path: Path) -> None:
    dialog = FirstRunDialog(tmp_path, consent_path=tmp_path / "c.json", checks=fake_checks)
    qtbot.addWidget(dialog)
    dialog.start_checks()
    qtbot.waitUntil(lambda: "compositor" in dialog.checks_view.toPlainText(), timeout=30_000)
    assert "fix: start xcompmgr" in dialog.checks_text and "1 ok, 1 warning(s)" in dialog.checks_text


def test_the_real_doctor_runs_from_the_dialog(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)  # no display here: the checks say so instead of hanging
    dialog = FirstRunDialog(tmp_path, consent_path=tmp_path / "c.json")
    qtbot.addWidget(dialog)
    dialog.start_checks()
    qtbot.waitUntil(lambda: bool(dialog.checks_text), timeout=60_000)
    assert "display" in dialog.checks_text and "failure(s)" in dialog.checks_text


def test_consent_defaults_to_the_config_dir_and_bad_or_old_files_mean_not_asked(tmp_path: Path) -> None:
    path = consent_path()
    assert read_consent() is None
    record_consent(False)
    assert path.exists() and read_consent() is not None and read_consent().logging is False  # type: ignore[union-attr]
    path.write_text("{not json")
    assert read_consent() is None
    path.write_text(json.dumps({"version": CONSENT_VERSION + 1, "logging": True, "answered_at": 1.0}))
    assert read_consent() is None
    path.write_text(json.dumps({"version": CONSENT_VERSION, "logging": "yes", "answered_at": 1.0}))
    assert read_consent() is None


def test_platform_notes_name_what_each_desktop_needs() -> None:
    mac = " ".join(platform_notes("darwin", {}))
    assert all(word in mac for word in ("Accessibility", "Screen Recording", "Input Monitoring"))
    wayland = " ".join(platform_notes("linux", {"XDG_SESSION_TYPE": "wayland"}))
    assert "XWayland" in wayland
    assert "XWayland" in " ".join(platform_notes("linux", {"WAYLAND_DISPLAY": "wayland-0"}))
    assert "no extra permission" in " ".join(platform_notes("linux", {"XDG_SESSION_TYPE": "x11"}))
