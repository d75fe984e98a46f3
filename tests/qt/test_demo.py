"""The practice window: its controls exist, and what the user does shows in the status line."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QLineEdit, QListWidget, QPushButton
from pytestqt.qtbot import QtBot

from ui.demo import FOLDERS, SIZES, START_STATUS, WINDOW_SIZE, DemoWindow


def demo(qtbot: QtBot) -> DemoWindow:
    window = DemoWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_it_has_the_practice_controls(qtbot: QtBot) -> None:
    window = demo(qtbot)
    for kind, name in (
        (QLineEdit, "name"), (QLineEdit, "email"), (QLineEdit, "city"), (QPushButton, "save"),
        (QPushButton, "clear"), (QListWidget, "folders"), (QComboBox, "size"), (QCheckBox, "subscribe"),
        (QLabel, "status"),
    ):  # fmt: skip
        assert window.findChild(kind, name) is not None, name
    assert window.folders.count() == len(FOLDERS) and window.size_choice.count() == len(SIZES)
    assert window.status.text() == START_STATUS
    assert (window.width(), window.height()) == WINDOW_SIZE


def test_the_layout_is_the_same_every_time(qtbot: QtBot) -> None:
    first, second = demo(qtbot), demo(qtbot)
    offset = second.mapToGlobal(second.rect().topLeft()) - first.mapToGlobal(first.rect().topLeft())
    assert {k: r.translated(-offset) for k, r in second.targets().items()} == first.targets()
    rects = list(first.targets().values())
    assert all(not a.intersects(b) for i, a in enumerate(rects) for b in rects[i + 1 :])  # nothing overlaps
    frame = first.rect().translated(first.mapToGlobal(first.rect().topLeft()))
    assert all(frame.contains(r) for r in rects)


def test_clicking_a_button_updates_the_status(qtbot: QtBot) -> None:
    window = demo(qtbot)
    qtbot.keyClicks(window.fields["name"], "Ada")
    assert window.status.text() == "Typed in Name: 'Ada'"
    qtbot.mouseClick(window.save, Qt.MouseButton.LeftButton)
    assert window.status.text().startswith("Clicked Save (Name='Ada'")
    qtbot.mouseClick(window.clear, Qt.MouseButton.LeftButton)
    assert window.status.text() == "Clicked Clear: the form is empty" and window.fields["name"].text() == ""


def test_list_combo_and_checkbox_report_what_was_chosen(qtbot: QtBot) -> None:
    window = demo(qtbot)
    sent = window.folders.visualItemRect(window.folders.item(2)).center()
    qtbot.mouseClick(window.folders.viewport(), Qt.MouseButton.LeftButton, pos=sent)
    assert window.status.text() == "Selected 'Sent' in the list"
    window.size_choice.setFocus()
    qtbot.keyClick(window.size_choice, Qt.Key.Key_Down)
    assert window.status.text() == "Chose size 'Medium'"
    qtbot.mouseClick(window.subscribe, Qt.MouseButton.LeftButton)
    assert window.status.text() == "Subscribe: on"


def test_it_is_an_ordinary_focusable_window(qtbot: QtBot) -> None:
    window = demo(qtbot)
    flags = window.windowFlags()
    assert not flags & Qt.WindowType.WindowTransparentForInput and not flags & Qt.WindowType.WindowDoesNotAcceptFocus
    window.activateWindow()
    window.fields["email"].setFocus()
    qtbot.waitUntil(lambda: window.fields["email"].hasFocus())
