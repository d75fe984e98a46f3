"""A real application window for end-to-end tests: logs what reaches it as JSON lines.

Run as `python tests/e2e/target_app.py LOG_FILE [X Y W H] [--title TITLE]` with QT_QPA_PLATFORM=xcb. It writes
{"event": "ready"} once shown, then {"event": "press", "x":..,"y":..,"button":..} (global screen px) for
mouse presses and {"event": "key", "key": name, "text": ..} for key presses, flushing each line.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QPushButton, QVBoxLayout, QWidget

BUTTON_NAMES = {
    Qt.MouseButton.LeftButton: "left",
    Qt.MouseButton.RightButton: "right",
    Qt.MouseButton.MiddleButton: "middle",
}


class Logger(QObject):
    def __init__(self, path: str) -> None:
        super().__init__()
        self.out = open(path, "a", buffering=1)  # noqa: SIM115 - lives as long as the app

    def write(self, **record: Any) -> None:
        self.out.write(json.dumps(record) + "\n")

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.MouseButtonPress and isinstance(obj, QWidget):
            pos = event.globalPosition()  # type: ignore[attr-defined]
            self.write(event="press", x=round(pos.x()), y=round(pos.y()), button=BUTTON_NAMES.get(event.button(), "?"))  # type: ignore[attr-defined]
        elif event.type() == QEvent.Type.KeyPress and obj is QApplication.focusWidget():
            self.write(event="key", key=int(event.key()), text=event.text())  # type: ignore[attr-defined]
        return False


def main() -> None:
    args = sys.argv[1:]
    title = "Ghostpilot test target"
    if "--title" in args:  # a deny-listed title, for the privacy tests
        at = args.index("--title")
        title = args[at + 1]
        del args[at : at + 2]
    log_path = args[0]
    x, y, w, h = (int(v) for v in args[1:5]) if len(args) >= 5 else (100, 100, 600, 400)
    app = QApplication([])
    logger = Logger(log_path)
    window = QWidget()
    window.setWindowTitle(title)
    layout = QVBoxLayout(window)
    field = QLineEdit()
    field.setObjectName("field")
    button = QPushButton("Press me")
    layout.addWidget(field)
    layout.addWidget(button)
    # presses anywhere in the window land on its child widgets or the window itself: log both
    app.installEventFilter(logger)
    window.setGeometry(x, y, w, h)
    window.show()
    window.activateWindow()
    field.setFocus()
    app.processEvents()
    logger.write(event="ready", x=window.geometry().x(), y=window.geometry().y())
    sys.exit(app.exec())


if __name__ == "__main__":
    main()
