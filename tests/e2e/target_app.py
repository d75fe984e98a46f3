"""A real application window for end-to-end tests: logs what reaches it as JSON lines.

Run as `python tests/e2e/target_app.py LOG_FILE [X Y W H]` with QT_QPA_PLATFORM=xcb. It writes
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
    log_path = sys.argv[1]
    x, y, w, h = (int(v) for v in sys.argv[2:6]) if len(sys.argv) >= 6 else (100, 100, 600, 400)
    app = QApplication([])
    logger = Logger(log_path)
    window = QWidget()
    window.setWindowTitle("Ghostpilot test target")
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
