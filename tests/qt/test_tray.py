"""The tray's logic without a system tray: menu, wiring, state -> icon and tooltip."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices

from app.ghost import GhostView
from ui.tray import COMING_SOON, STATES, TrayCommands, TrayController, state_icon


@pytest.fixture
def calls() -> list[tuple]:
    return []


@pytest.fixture
def tray(qtbot, calls: list[tuple], tmp_path: Path) -> TrayController:
    commands = TrayCommands(
        pause=lambda: calls.append(("pause",)),
        snooze=lambda seconds: calls.append(("snooze", seconds)),
        open_settings=lambda: calls.append(("settings",)),
        data_folder=lambda: tmp_path,
        quit=lambda: calls.append(("quit",)),
    )
    return TrayController(commands, use_tray=True)  # a QSystemTrayIcon object works offscreen, unshown


def test_menu_actions_reach_the_app(tray: TrayController, calls: list[tuple]) -> None:
    for name in ("pause", "snooze 15 min", "snooze 1 h", "snooze until restart", "settings", "quit"):
        tray.actions[name].trigger()
    assert calls == [("pause",), ("snooze", 900.0), ("snooze", 3600.0), ("snooze", None), ("settings",), ("quit",)]


def test_features_to_come_are_disabled_with_a_tooltip_until_enabled(tray: TrayController) -> None:
    for name in ("goal", "review", "fine-tune"):  # goal: without a copilot to open the prompt
        action = tray.actions[name]
        assert not action.isEnabled() and action.toolTip() == COMING_SOON
    opened: list[bool] = []
    tray.enable("review", lambda: opened.append(True))
    tray.actions["review"].trigger()
    assert opened == [True] and COMING_SOON not in tray.actions["review"].text()


def test_each_state_has_its_own_icon_and_tooltip(tray: TrayController) -> None:
    images = {}
    for state in STATES:
        tray.set_view(GhostView(status=state))
        assert tray.state == state and tray.tray is not None
        assert tray.tray.toolTip().startswith(f"Ghostpilot: {STATES[state][1]}")
        images[state] = state_icon(state).pixmap(32, 32).toImage()
    assert len({img.pixelColor(16, 4).name() for img in images.values()}) == len(STATES)  # one colour per state
    assert images["paused"] != images["watching"]


def test_pause_entry_follows_the_state_and_resume_shows_only_when_snoozed(tray: TrayController) -> None:
    tray.set_view(GhostView(status="paused"))
    assert tray.actions["pause"].text() == "Resume watching"
    assert not tray.actions["resume suggestions"].isVisible()
    tray.set_view(GhostView(status="snoozed"))
    assert tray.actions["pause"].text() == "Pause" and tray.actions["resume suggestions"].isVisible()


def test_back_off_is_explained_in_the_tooltip(tray: TrayController) -> None:
    tray.set_view(GhostView(status="watching", extra={"quiet": "quieter after 3 refused ghosts: back in 2 min"}))
    assert tray.tray is not None and "quieter after 3 refused ghosts" in tray.tray.toolTip()


def test_open_data_folder_asks_the_desktop_for_the_data_dir(tray: TrayController, tmp_path: Path) -> None:
    opened: list[str] = []

    class Receiver(QObject):  # QDesktopServices routes file:// URLs to a registered handler, not a file manager
        @Slot(QUrl)
        def open(self, url: QUrl) -> None:
            opened.append(url.toLocalFile())

    receiver = Receiver()
    QDesktopServices.setUrlHandler("file", receiver, "open")
    try:
        assert tray.open_data_folder()
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert opened == [str(tmp_path)]


def test_without_a_system_tray_the_controller_still_works(qtbot, calls: list[tuple], tmp_path: Path) -> None:
    commands = TrayCommands(lambda: None, lambda s: None, lambda: None, lambda: tmp_path, lambda: None)
    controller = TrayController(commands, use_tray=False)
    controller.set_view(GhostView(status="performing"))
    controller.show()
    assert controller.tray is None and controller.tooltip() == "Ghostpilot: performing a suggestion"


def test_set_goal_opens_the_prompt_and_clear_goal_shows_only_while_a_goal_is_set(qtbot, tmp_path: Path) -> None:
    calls: list[str] = []
    commands = TrayCommands(
        pause=lambda: None, snooze=lambda _s: None, open_settings=lambda: None, data_folder=lambda: tmp_path,
        quit=lambda: None, set_goal=lambda: calls.append("prompt"), clear_goal=lambda: calls.append("clear"),
    )  # fmt: skip
    tray = TrayController(commands, use_tray=False)
    assert tray.actions["goal"].isEnabled() and COMING_SOON not in tray.actions["goal"].text()
    assert not tray.actions["clear goal"].isVisible()
    tray.actions["goal"].trigger()
    tray.set_view(GhostView(status="watching", goal="file the March expenses"))
    assert tray.actions["clear goal"].isVisible()
    tray.actions["clear goal"].trigger()
    tray.set_view(GhostView(status="watching"))
    assert not tray.actions["clear goal"].isVisible()
    assert calls == ["prompt", "clear"]
