"""The goal prompt box offscreen: Enter sets, an empty Enter clears, Esc and a close change nothing; one answer."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from app.goal import MAX_GOAL_CHARS
from ui.prompt import POINTER_GAP, GoalPrompt, place_near


@pytest.fixture
def answers() -> list[str | None]:
    return []


@pytest.fixture
def prompt(qtbot: QtBot, answers: list[str | None]) -> GoalPrompt:
    box = GoalPrompt(on_done=answers.append)
    qtbot.addWidget(box)
    return box


def test_enter_sets_the_typed_goal_and_closes(qtbot: QtBot, prompt: GoalPrompt, answers: list) -> None:
    prompt.open_at(None, QPoint(100, 100))
    assert prompt.isVisible() and prompt.focusWidget() is prompt.field
    qtbot.keyClicks(prompt.field, "file the March expenses")
    qtbot.keyClick(prompt.field, Qt.Key.Key_Return)
    assert answers == ["file the March expenses"]
    assert not prompt.isVisible()
    assert prompt.field.text() == ""  # the box keeps no copy of the private text


def test_escape_closes_without_a_change(qtbot: QtBot, prompt: GoalPrompt, answers: list) -> None:
    prompt.open_at("old goal", QPoint(100, 100))
    qtbot.keyClicks(prompt.field, "something else")
    qtbot.keyClick(prompt.field, Qt.Key.Key_Escape)
    assert answers == [None] and not prompt.isVisible()


def test_empty_enter_clears_and_the_current_goal_is_offered_selected(
    qtbot: QtBot, prompt: GoalPrompt, answers: list
) -> None:
    prompt.open_at("old goal", QPoint(100, 100))
    assert prompt.field.text() == "old goal" and prompt.field.selectedText() == "old goal"
    qtbot.keyClick(prompt.field, Qt.Key.Key_Backspace)  # the selection goes in one key
    qtbot.keyClick(prompt.field, Qt.Key.Key_Enter)
    assert answers == [""]


def test_enter_on_the_offered_goal_keeps_it(qtbot: QtBot, prompt: GoalPrompt, answers: list) -> None:
    prompt.open_at("old goal", QPoint(100, 100))
    qtbot.keyClick(prompt.field, Qt.Key.Key_Return)
    assert answers == ["old goal"]


def test_closing_any_other_way_answers_none_once(qtbot: QtBot, prompt: GoalPrompt, answers: list) -> None:
    prompt.open_at(None, QPoint(100, 100))
    qtbot.keyClicks(prompt.field, "half typed")
    prompt.close()  # a click outside closes a Qt popup this way
    prompt.close()
    assert answers == [None]
    prompt.open_at(None, QPoint(100, 100))  # and it opens again, answering afresh
    qtbot.keyClicks(prompt.field, "second")
    qtbot.keyClick(prompt.field, Qt.Key.Key_Return)
    assert answers == [None, "second"]


def test_the_field_refuses_more_than_a_goal(qtbot: QtBot, prompt: GoalPrompt, answers: list) -> None:
    prompt.open_at(None, QPoint(100, 100))
    prompt.field.setText("x" * (MAX_GOAL_CHARS + 50))
    qtbot.keyClick(prompt.field, Qt.Key.Key_Return)
    assert answers == ["x" * MAX_GOAL_CHARS]


def test_it_opens_below_right_of_the_pointer_and_stays_on_screen(qtbot: QtBot, prompt: GoalPrompt) -> None:
    screen = QGuiApplication.primaryScreen().availableGeometry()
    assert place_near(QPoint(100, 100), 400, 90) == QPoint(100 + POINTER_GAP, 100 + POINTER_GAP)
    corner = place_near(QPoint(screen.right() - 5, screen.bottom() - 5), 400, 90)
    assert corner.x() + 400 <= screen.right() and corner.y() + 90 <= screen.bottom()
    prompt.open_at(None, QPoint(100, 100))
    assert prompt.pos() == QPoint(100 + POINTER_GAP, 100 + POINTER_GAP)
    assert prompt.windowFlags() & Qt.WindowType.Popup  # a real input window, unlike the overlay
    assert not prompt.windowFlags() & Qt.WindowType.WindowTransparentForInput
