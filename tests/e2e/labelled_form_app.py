"""A real Qt form with labelled fields (QFormLayout), for goals that name a field by its label.

Run as `python tests/e2e/labelled_form_app.py LOG_FILE` with QT_QPA_PLATFORM=xcb. Once shown it writes
{"event": "ready", "fields": {label: [x0, y0, x1, y1]}} (global screen pixels), then
{"event": "text", "field": label, "text": ...} whenever a field's text changes, flushing each line.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QFormLayout, QLineEdit, QPushButton, QVBoxLayout, QWidget

LABELS = ("Company", "Website", "Postcode")  # words of real applications, not of the synthetic generator
WINDOW = (200, 150, 700, 320)  # x, y, w, h on the screen


def main() -> None:
    app = QApplication([])
    out = open(sys.argv[1], "a", buffering=1)  # noqa: SIM115 - lives as long as the app

    def write(**record: Any) -> None:
        out.write(json.dumps(record) + "\n")

    window = QWidget()
    window.setWindowTitle("Ghostpilot labelled form")
    column = QVBoxLayout(window)
    form = QFormLayout()
    fields: dict[str, QLineEdit] = {}
    for label in LABELS:
        field = QLineEdit()
        field.textChanged.connect(lambda text, name=label: write(event="text", field=name, text=text))
        form.addRow(f"{label}:", field)
        fields[label] = field
    column.addLayout(form)
    column.addWidget(QPushButton("Save"))
    window.setGeometry(*WINDOW)
    window.show()
    window.activateWindow()

    def ready() -> None:
        rects = {}
        for name, field in fields.items():
            top_left = field.mapToGlobal(field.rect().topLeft())
            rects[name] = [top_left.x(), top_left.y(), top_left.x() + field.width(), top_left.y() + field.height()]
        write(event="ready", fields=rects)

    QTimer.singleShot(400, ready)  # once the window is mapped and placed
    sys.exit(app.exec())


if __name__ == "__main__":
    main()
