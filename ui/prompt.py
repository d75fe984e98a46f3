"""The goal prompt: a small, focused, frameless input box near the pointer (docs/goals.md).

Unlike the click-through overlay this is a real input window: a Qt popup, so it takes the keyboard while it is
open (an X keyboard grab, whatever the window manager thinks of focus) and closes when the user clicks
elsewhere. Enter sets the goal, an empty Enter clears it, Esc (or a click outside) closes without a change.
`on_done` hears exactly one answer per opening; the view holds no logic beyond that, the copilot core decides.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QCursor, QGuiApplication, QHideEvent, QKeyEvent
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QVBoxLayout, QWidget

from app.goal import MAX_GOAL_CHARS

WIDTH = 420
POINTER_GAP = 16  # the box opens below-right of the pointer, clear of the cursor
HINT = "Enter sets  ·  empty Enter clears  ·  Esc closes"
STYLE = """
#goalPrompt { background: #1f2937; border: 1px solid #60a5fa; border-radius: 6px; }
QLabel { color: #cbd5e1; font-size: 11px; }
QLineEdit { background: #0f172a; color: #f8fafc; border: 1px solid #334155; border-radius: 4px;
            padding: 5px; font-size: 14px; selection-background-color: #2563eb; }
"""


class GoalPrompt(QFrame):
    """`open_at(goal)` shows it; `on_done(text)` gets the typed text on Enter ("" clears) or None."""

    def __init__(self, on_done: Callable[[str | None], None], parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup | Qt.WindowType.FramelessWindowHint)
        self.setObjectName("goalPrompt")
        self.setWindowTitle("Ghostpilot goal")
        self.setStyleSheet(STYLE)
        self.setFixedWidth(WIDTH)
        self.on_done = on_done
        self.answered = True  # nothing to answer until opened
        self.title = QLabel("What are you trying to do?")
        self.field = QLineEdit()
        self.field.setMaxLength(MAX_GOAL_CHARS)
        self.field.setPlaceholderText('e.g. type "hello world" in the search box')
        self.field.returnPressed.connect(self._submit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addWidget(self.title)
        layout.addWidget(self.field)
        layout.addWidget(QLabel(HINT))

    def open_at(self, goal: str | None, pointer: QPoint | None = None) -> None:
        """Show near `pointer` (default: the mouse), holding the current goal selected so typing replaces it."""
        if self.isVisible():
            self.field.setFocus()
            return
        self.answered = False
        self.field.setText(goal or "")
        self.field.selectAll()
        self.adjustSize()
        self.move(place_near(pointer if pointer is not None else QCursor.pos(), self.size().width(), self.height()))
        self.show()
        self.raise_()
        self.activateWindow()
        self.field.setFocus(Qt.FocusReason.PopupFocusReason)

    def _submit(self) -> None:
        self._answer(self.field.text())
        self.close()

    def _answer(self, text: str | None) -> None:
        if not self.answered:
            self.answered = True
            self.field.clear()  # the goal is private: the box keeps no copy once it is handed on
            self.on_done(text)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self._answer(None)
            self.close()
            return
        super().keyPressEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        """Closed any other way (a click outside, the app quitting): that is Esc, never a silent change."""
        self._answer(None)
        super().hideEvent(event)


def place_near(pointer: QPoint, width: int, height: int) -> QPoint:
    """Below-right of the pointer, kept inside the screen that shows it (flipped above/left at the edges)."""
    screen = QGuiApplication.screenAt(pointer) or QGuiApplication.primaryScreen()
    area = screen.availableGeometry() if screen is not None else QRect(0, 0, 1920, 1080)
    x, y = pointer.x() + POINTER_GAP, pointer.y() + POINTER_GAP
    if x + width > area.right():
        x = max(area.left(), pointer.x() - POINTER_GAP - width)
    if y + height > area.bottom():
        y = max(area.top(), pointer.y() - POINTER_GAP - height)
    return QPoint(x, y)
