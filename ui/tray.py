"""The tray icon: the copilot's state at a glance and a menu of what the user can do.

`TrayController` holds all the logic (menu, wiring, state -> icon and tooltip) and works without a system
tray, so offscreen tests drive it; `QSystemTrayIcon` is only created where the desktop has a tray. It
subscribes to the same GhostView stream as the overlay (CoreBridge.view).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, QUrl
from PySide6.QtGui import QAction, QColor, QDesktopServices, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from app.ghost import GhostView
from app.snooze import SNOOZE_CHOICES

COMING_SOON = "coming soon"
STATES: dict[str, tuple[str, str]] = {  # status -> (colour, what the tooltip says)
    "watching": ("#3b82f6", "watching"),
    "suggesting": ("#22c55e", "suggesting"),
    "performing": ("#f59e0b", "performing a suggestion"),
    "paused": ("#9ca3af", "paused: nothing is watched or stored"),
    "snoozed": ("#8b5cf6", "snoozed: no suggestions"),
    "private": ("#ef4444", "private window: nothing is watched or stored"),
    "prompting": ("#06b6d4", "setting a goal: suggestions wait"),
}


@dataclass
class TrayCommands:
    """What the menu asks of the app; each runs on the GUI thread and should only enqueue or open."""

    pause: Callable[[], None]
    snooze: Callable[[float | None], None]  # seconds, None = until restart, 0 = resume suggestions
    open_settings: Callable[[], None]
    data_folder: Callable[[], Path]
    quit: Callable[[], None]
    open_review: Callable[[], None] | None = None  # the review window (ui/review.ReviewOpener); None: coming soon
    set_goal: Callable[[], None] | None = None  # open the goal prompt (ui/prompt.py); None: coming soon
    clear_goal: Callable[[], None] | None = None  # shown only while a goal is set


def state_icon(state: str, size: int = 64) -> QIcon:
    """A ghost-like disc in the state's colour, with a glyph for paused (bars) and snoozed (a moon)."""
    colour = QColor(STATES.get(state, STATES["watching"])[0])
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(colour.darker(140), size / 16))
    painter.setBrush(colour)
    margin = size / 10
    painter.drawEllipse(QRectF(margin, margin, size - 2 * margin, size - 2 * margin))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("white"))
    unit = size / 8
    if state == "paused":
        painter.drawRect(QRectF(2.6 * unit, 2.4 * unit, unit, 3.2 * unit))
        painter.drawRect(QRectF(4.4 * unit, 2.4 * unit, unit, 3.2 * unit))
    elif state == "snoozed":
        painter.drawEllipse(QRectF(2.5 * unit, 2.5 * unit, 3 * unit, 3 * unit))
        painter.setBrush(colour)
        painter.drawEllipse(QRectF(3.4 * unit, 2.1 * unit, 3 * unit, 3 * unit))
    else:  # two eyes: it is looking
        for x in (3.0, 5.0):
            painter.drawEllipse(QPointF(x * unit, 3.6 * unit), 0.7 * unit, 0.9 * unit)
    painter.end()
    return QIcon(pixmap)


class TrayController(QObject):
    """Menu, actions and state mapping; `tray` is None where the desktop has no system tray."""

    def __init__(self, commands: TrayCommands, parent: QObject | None = None, use_tray: bool | None = None) -> None:
        super().__init__(parent)
        self.commands = commands
        self.state = ""  # set from the first view below
        self.detail = ""
        self.goal: str | None = None
        self.menu = QMenu()
        self.actions: dict[str, QAction] = {}
        self._icons: dict[str, QIcon] = {}
        self.windows: list[QObject] = []  # windows the menu opens, kept alive as long as the tray
        self._build_menu()
        available = QSystemTrayIcon.isSystemTrayAvailable() if use_tray is None else use_tray
        self.tray: QSystemTrayIcon | None = QSystemTrayIcon(self) if available else None
        if self.tray is not None:
            self.tray.setContextMenu(self.menu)
        self.set_view(GhostView())

    def _add(self, name: str, text: str, slot: Callable[[], None] | None, menu: QMenu | None = None) -> QAction:
        action = (menu or self.menu).addAction(text)
        if slot is None:
            action.setEnabled(False)
            action.setToolTip(COMING_SOON)
            action.setText(f"{text} ({COMING_SOON})")
        else:
            action.triggered.connect(slot)
        self.actions[name] = action
        return action

    def _build_menu(self) -> None:
        self.menu.setToolTipsVisible(True)
        self._add("pause", "Pause", self.commands.pause)
        snooze = self.menu.addMenu("Snooze suggestions")
        for label, seconds in SNOOZE_CHOICES.items():
            self._add(f"snooze {label}", label, lambda *_, s=seconds: self.commands.snooze(s), snooze)
        self._add("resume suggestions", "Resume suggestions", lambda: self.commands.snooze(0), snooze)
        self.menu.addSeparator()
        self._add("goal", "Set goal…", self.commands.set_goal)  # the same prompt as the goal chord
        self._add("clear goal", "Clear goal", self.commands.clear_goal).setVisible(False)
        self._add("review", "Review suggestions…", self.commands.open_review)  # ui/review.py
        self._add("fine-tune", "Fine-tune…", None)
        self.menu.addSeparator()
        self._add("settings", "Settings…", self.commands.open_settings)
        self._add("data folder", "Open data folder", self.open_data_folder)
        self.menu.addSeparator()
        self._add("quit", "Quit Ghostpilot", self.commands.quit)

    def enable(self, name: str, slot: Callable[[], None]) -> None:
        """Turn on a "coming soon" entry once its feature exists (goal, review, fine-tune)."""
        action = self.actions[name]
        action.setText(action.text().replace(f" ({COMING_SOON})", ""))
        action.setToolTip("")
        action.setEnabled(True)
        action.triggered.connect(slot)

    def unavailable(self, name: str, why: str) -> None:
        """A "coming soon" entry whose feature exists but cannot run here: say why, in one line."""
        action = self.actions[name]
        action.setText(action.text().replace(COMING_SOON, why))
        action.setToolTip(why)

    def open_data_folder(self) -> bool:
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.commands.data_folder())))

    def icon(self, state: str) -> QIcon:
        if state not in self._icons:
            self._icons[state] = state_icon(state)
        return self._icons[state]

    def tooltip(self) -> str:
        words = STATES.get(self.state, (None, self.state))[1]
        return f"Ghostpilot: {words}" + (f"\n{self.detail}" if self.detail else "")

    def set_view(self, view: GhostView) -> None:
        """Follow the copilot: icon, tooltip and the pause/snooze entries match its state."""
        if (view.status, view.extra.get("quiet", ""), view.goal) == (self.state, self.detail, self.goal):
            return  # most views only move the ghost: nothing to redo at pointer rate
        self.state, self.detail, self.goal = view.status, view.extra.get("quiet", ""), view.goal
        self.actions["clear goal"].setVisible(view.goal is not None and self.commands.clear_goal is not None)
        paused = self.state == "paused"
        self.actions["pause"].setText("Resume watching" if paused else "Pause")
        self.actions["resume suggestions"].setVisible(self.state == "snoozed")
        if self.tray is not None:
            self.tray.setIcon(self.icon(self.state))
            self.tray.setToolTip(self.tooltip())

    def show(self) -> None:
        if self.tray is not None:
            self.tray.show()
