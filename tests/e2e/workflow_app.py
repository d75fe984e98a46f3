"""A real form application for the repeated-workflow test: fields and buttons at fixed places, logging all.

Run as `python tests/e2e/workflow_app.py LOG_FILE` with QT_QPA_PLATFORM=xcb. Once shown it writes
{"event": "ready", "targets": {name: [x, y]}} with each widget's centre in global screen pixels, then
{"event": "press", "x", "y", "widget"} for presses, {"event": "clicked", "button", "fields"} when a button
is clicked (with every field's text, so a test sees what the form really received), flushing each line.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QLineEdit, QPushButton, QWidget

FIELDS = {"name": (40, 40), "amount": (40, 140), "note": (40, 240)}  # top-left inside the window
BUTTONS = {"add": (520, 40), "urgent": (520, 140), "save": (520, 240), "clear": (300, 400)}
WINDOW = (100, 100, 860, 520)  # x, y, w, h on the screen


class Form(QObject):
    def __init__(self, path: str) -> None:
        super().__init__()
        self.out = open(path, "a", buffering=1)  # noqa: SIM115 - lives as long as the app
        self.window = QWidget()
        self.window.setWindowTitle("Ghostpilot workflow form")
        self.fields: dict[str, QLineEdit] = {}
        self.buttons: dict[str, QPushButton] = {}
        for name, (x, y) in FIELDS.items():
            field = QLineEdit(self.window)
            field.setObjectName(name)
            field.setGeometry(x, y, 300, 40)
            self.fields[name] = field
        for name, (x, y) in BUTTONS.items():
            button = QPushButton(name.capitalize(), self.window)
            button.setObjectName(name)
            button.setGeometry(x, y, 200, 50)
            button.clicked.connect(lambda _checked=False, n=name: self.clicked(n))
            self.buttons[name] = button

    def write(self, **record: Any) -> None:
        self.out.write(json.dumps(record) + "\n")

    def clicked(self, name: str) -> None:
        self.write(event="clicked", button=name, fields={n: f.text() for n, f in self.fields.items()})
        if name == "clear":
            for field in self.fields.values():
                field.clear()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.MouseButtonPress and isinstance(obj, QWidget):
            pos = event.globalPosition()  # type: ignore[attr-defined]
            self.write(event="press", x=round(pos.x()), y=round(pos.y()), widget=obj.objectName())
        return False

    def targets(self) -> dict[str, list[int]]:
        widgets: dict[str, QWidget] = {**self.fields, **self.buttons}
        centres = {name: w.mapToGlobal(w.rect().center()) for name, w in widgets.items()}
        return {name: [p.x(), p.y()] for name, p in centres.items()}


def main() -> None:
    app = QApplication([])
    form = Form(sys.argv[1])
    app.installEventFilter(form)
    form.window.setGeometry(*WINDOW)
    form.window.show()
    form.window.activateWindow()
    form.fields["name"].setFocus()
    # report the centres once the window is mapped and placed (mapToGlobal is stale before that)
    QTimer.singleShot(300, lambda: form.write(event="ready", targets=form.targets()))
    sys.exit(app.exec())


if __name__ == "__main__":
    main()
