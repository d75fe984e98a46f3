"""A real Qt application for the goal-grounding measurement: a menu bar, a labelled form, buttons and a list.

Run as `python benchmarks/goal_app.py OUT_JSON SEED` with QT_QPA_PLATFORM=xcb. The seed picks the labels and
their order from vocabularies unlike the synthetic generator's (real applications' words), so the measure
is not on the training vocabulary. Once shown it writes OUT_JSON: every element's kind, label and global
rectangle [x0, y0, x1, y1] in screen pixels.
"""

from __future__ import annotations

import json
import random
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QApplication,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QMainWindow,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

MENUS = ["Project", "Tools", "Layer", "Image", "Run", "Debug", "Account", "Share", "Go", "Bookmarks"]
BUTTONS = ["Export PDF", "Sync now", "Preview", "Publish", "Duplicate", "Rename", "Upload", "Refresh", "Archive",
           "Connect", "Compile", "Merge", "Invite", "Schedule", "Verify"]  # fmt: skip
FIELDS = ["First name", "Last name", "Company", "Website", "Postcode", "Country", "Password hint", "Nickname",
          "Department", "Tax ID"]  # fmt: skip
ITEMS = ["Budget 2027", "Team offsite", "Vendor list", "Roadmap", "Hiring plan", "Release notes", "Backlog",
         "Style guide", "Onboarding"]  # fmt: skip


def build(seed: int) -> tuple[QMainWindow, list[tuple[str, str, QWidget]]]:
    rng = random.Random(seed)
    window = QMainWindow()
    window.setWindowTitle("Ghostpilot goal app")
    elements: list[tuple[str, str, QWidget]] = []
    menus = rng.sample(MENUS, 4)
    for name in menus:
        window.menuBar().addMenu(name).addAction("Item")
    central = QWidget()
    row = QHBoxLayout(central)
    form_box = QWidget()
    form = QFormLayout(form_box)
    for label in rng.sample(FIELDS, 4):
        field = QLineEdit()
        form.addRow(f"{label}:", field)
        elements.append(("field", label, field))
    row.addWidget(form_box)
    column = QVBoxLayout()
    for label in rng.sample(BUTTONS, 5):
        button = QPushButton(label)
        column.addWidget(button)
        elements.append(("button", label, button))
    row.addLayout(column)
    items = QListWidget()
    for label in rng.sample(ITEMS, 5):
        items.addItem(label)
    row.addWidget(items)
    window.setCentralWidget(central)
    window.setGeometry(60 + rng.randrange(0, 200), 60 + rng.randrange(0, 120), 900, 420)
    window._items, window._menus = items, menus  # type: ignore[attr-defined]
    return window, elements


def _rect(widget: QWidget, x: int = 0, y: int = 0, w: int | None = None, h: int | None = None) -> list[int]:
    top_left = widget.mapToGlobal(widget.rect().topLeft())
    width, height = w if w is not None else widget.width(), h if h is not None else widget.height()
    return [top_left.x() + x, top_left.y() + y, top_left.x() + x + width, top_left.y() + y + height]


def describe(window: QMainWindow, elements: list[tuple[str, str, QWidget]]) -> list[dict]:
    out = [{"kind": kind, "label": label, "box": _rect(widget)} for kind, label, widget in elements]
    bar = window.menuBar()
    for action in bar.actions():
        geometry = bar.actionGeometry(action)
        rect = _rect(bar, geometry.x(), geometry.y(), geometry.width(), geometry.height())
        out.append({"kind": "menu", "label": action.text(), "box": rect})
    items = window._items  # type: ignore[attr-defined]
    for index in range(items.count()):
        geometry = items.visualItemRect(items.item(index))
        rect = _rect(items.viewport(), geometry.x(), geometry.y(), geometry.width(), geometry.height())
        out.append({"kind": "list_item", "label": items.item(index).text(), "box": rect})
    return out


def main() -> int:
    out_path, seed = sys.argv[1], int(sys.argv[2])
    app = QApplication(sys.argv[:1])
    window, elements = build(seed)
    window.show()

    def ready() -> None:
        with open(out_path, "w") as f:
            json.dump({"elements": describe(window, elements)}, f)

    QTimer.singleShot(800, ready)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
