"""A sign-in window for the AT-SPI tests: an ordinary text field and a password field (QLineEdit, echo mode
Password) in a window whose title names no password, so only the accessibility layer can tell them apart.

Run as `python tests/e2e/login_app.py LOG_FILE` with QT_QPA_PLATFORM=xcb and Qt's accessibility on
(QT_LINUX_ACCESSIBILITY_ALWAYS_ON=1). It writes {"event": "ready", "user": [x, y], "password": [x, y]} (each
field's centre in screen pixels) once shown, then {"event": "key", "field": name, "text": ...} per key press.
"""

from __future__ import annotations

import json
import sys

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QLineEdit, QVBoxLayout, QWidget

TITLE = "Account - Example"


class Logger(QObject):
    def __init__(self, path: str) -> None:
        super().__init__()
        self.out = open(path, "a", buffering=1)  # noqa: SIM115 - lives as long as the app

    def write(self, **record: object) -> None:
        self.out.write(json.dumps(record) + "\n")

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and obj is QApplication.focusWidget():
            self.write(event="key", field=obj.objectName(), text=event.text())  # type: ignore[attr-defined]
        return False


def centre(widget: QWidget) -> list[int]:
    point = widget.mapToGlobal(widget.rect().center())
    return [point.x(), point.y()]


def main() -> None:
    app = QApplication([])
    logger = Logger(sys.argv[1])
    window = QWidget()
    window.setWindowTitle(TITLE)
    layout = QVBoxLayout(window)
    user, password = QLineEdit(), QLineEdit()
    user.setObjectName("user")
    password.setObjectName("password")
    password.setEchoMode(QLineEdit.EchoMode.Password)
    layout.addWidget(user)
    layout.addWidget(password)
    app.installEventFilter(logger)
    window.setGeometry(200, 200, 420, 160)
    window.show()
    window.activateWindow()
    user.setFocus()
    for _ in range(5):  # let the window map so the fields have their screen positions
        app.processEvents()
    logger.write(event="ready", user=centre(user), password=centre(password))
    sys.exit(app.exec())


if __name__ == "__main__":
    main()
