"""The practice window: a small form where a new user sees ghosts within seconds of starting.

An ordinary, focusable window with a fixed size and fixed contents, so its layout is the same on every run and
a tutorial (or a test) can name its controls. The status line says what was clicked, typed or chosen, so the
user sees their own actions (and later the copilot's) land.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

WINDOW_SIZE = (640, 480)
FIELDS = (("name", "Name"), ("email", "Email"), ("city", "City"))
FOLDERS = ("Inbox", "Drafts", "Sent", "Archive")
SIZES = ("Small", "Medium", "Large")
START_STATUS = "Click a button or type in a field: your next move shows as a ghost."


class DemoWindow(QWidget):
    """Labelled text fields, Save/Clear buttons, a list, a combo box and a checkbox, with a status line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("demo")
        self.setWindowTitle("Ghostpilot practice")
        self.setFixedSize(*WINDOW_SIZE)
        self.fields: dict[str, QLineEdit] = {}
        form = QFormLayout()
        for key, label in FIELDS:
            field = QLineEdit()
            field.setObjectName(key)
            field.setPlaceholderText(label)
            field.textEdited.connect(lambda text, label=label: self.say(f"Typed in {label}: {text!r}"))
            self.fields[key] = field
            form.addRow(f"{label}:", field)
        self.save = self._button("save", "Save", self._saved)
        self.clear = self._button("clear", "Clear", self._cleared)
        self.folders = QListWidget()
        self.folders.setObjectName("folders")
        self.folders.addItems(list(FOLDERS))
        self.folders.currentTextChanged.connect(lambda text: self.say(f"Selected {text!r} in the list"))
        self.size_choice = QComboBox()
        self.size_choice.setObjectName("size")
        self.size_choice.addItems(list(SIZES))
        self.size_choice.currentTextChanged.connect(lambda text: self.say(f"Chose size {text!r}"))
        form.addRow("Size:", self.size_choice)
        self.subscribe = QCheckBox("Subscribe to updates")
        self.subscribe.setObjectName("subscribe")
        # as wide as its text: a click anywhere on the control toggles it
        self.subscribe.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.subscribe.toggled.connect(lambda on: self.say(f"Subscribe: {'on' if on else 'off'}"))
        self.status = QLabel(START_STATUS)
        self.status.setObjectName("status")
        self.status.setWordWrap(True)
        self._arrange(form)

    def _button(self, name: str, text: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.clicked.connect(slot)
        return button

    def _arrange(self, form: QFormLayout) -> None:
        buttons = QHBoxLayout()
        buttons.addWidget(self.save)
        buttons.addWidget(self.clear)
        buttons.addStretch(1)
        left = QVBoxLayout()
        left.addLayout(form)
        left.addWidget(self.subscribe)
        left.addLayout(buttons)
        left.addStretch(1)
        columns = QHBoxLayout()
        columns.addLayout(left, 3)
        columns.addWidget(self.folders, 2)
        outer = QVBoxLayout(self)
        outer.addLayout(columns, 1)
        outer.addWidget(self.status)

    def say(self, text: str) -> None:
        self.status.setText(text)

    def _saved(self) -> None:
        values = ", ".join(f"{label}={self.fields[key].text()!r}" for key, label in FIELDS)
        self.say(f"Clicked Save ({values})")

    def _cleared(self) -> None:
        for field in self.fields.values():
            field.clear()
        self.say("Clicked Clear: the form is empty")

    def targets(self) -> dict[str, QRect]:
        """Each named control's rectangle in global logical px (for a tutorial or a test to aim at)."""
        controls: list[QWidget] = [*self.fields.values(), self.save, self.clear, self.folders, self.size_choice]
        controls.append(self.subscribe)
        return {w.objectName(): QRect(w.mapToGlobal(w.rect().topLeft()), w.size()) for w in controls}


def main() -> int:
    """`python -m ui.demo`: the practice window on its own."""
    app = QApplication(sys.argv)
    window = DemoWindow()
    window.show()
    window.raise_()
    window.activateWindow()
    window.fields["name"].setFocus(Qt.FocusReason.OtherFocusReason)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
