"""The settings window: every field of app/settings.Settings, validated before anything is written.

The window edits a copy; Save validates it the way the file is validated (chords through
app/hotkeys.parse_chord, ranges, duplicates), writes it atomically and hands the new Settings to `on_saved`,
which applies them to the running copilot. A refused value leaves the file alone and says why in the window.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.settings import DEVICES, MAX_CAPTURE_FPS, KeyBindings, Settings, save_settings, settings_from_dict
from inference.errors import GhostpilotError

KEY_LABELS = {
    "accept": "Accept the whole ghost",
    "accept_step": "Accept the next step",
    "next_alternative": "Next alternative",
    "previous_alternative": "Previous alternative",
    "dismiss": "Dismiss",
    "pause": "Pause / resume watching",
    "goal": "Goal prompt",
    "clear_goal": "Clear the goal",
}


class SettingsWindow(QDialog):
    """Edit, validate, save, apply. `path` None = the user's settings file."""

    def __init__(
        self,
        settings: Settings,
        path: Path | None = None,
        on_saved: Callable[[Settings], None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Ghostpilot settings")
        self.path = path
        self.on_saved = on_saved
        self.settings = settings
        self.key_fields: dict[str, QLineEdit] = {}
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b91c1c")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        layout.addLayout(form)
        self._key_rows(form)
        self._value_rows(form)
        self._deny_rows(form)
        self._path_rows(form)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Save).clicked.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.load(settings)

    # ----- building -----
    def _key_rows(self, form: QFormLayout) -> None:
        for name in (f.name for f in dataclasses.fields(KeyBindings)):
            field = QLineEdit()
            field.setPlaceholderText("e.g. tab, ctrl+right, alt+]")
            self.key_fields[name] = field
            form.addRow(KEY_LABELS.get(name, name), field)

    def _value_rows(self, form: QFormLayout) -> None:
        self.threshold = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=1.0, singleStep=0.05)
        self.fps = QDoubleSpinBox(decimals=1, minimum=0.5, maximum=MAX_CAPTURE_FPS, singleStep=1.0)
        self.retention = QSpinBox(minimum=1, maximum=3650, suffix=" days")
        self.max_db = QSpinBox(minimum=16, maximum=10**7, suffix=" MB", singleStep=256)
        self.device = QComboBox()
        self.device.addItems(list(DEVICES))
        form.addRow("Show ghosts from confidence", self.threshold)
        form.addRow("Screen frames per second", self.fps)
        form.addRow("Keep recordings for", self.retention)
        form.addRow("Largest database size", self.max_db)
        form.addRow("Device", self.device)

    def _deny_rows(self, form: QFormLayout) -> None:
        self.deny = QListWidget()
        self.deny.setMaximumHeight(120)
        add, remove = QPushButton("Add"), QPushButton("Remove")
        add.clicked.connect(lambda: self.add_deny_entry("New window name"))
        remove.clicked.connect(self._remove_deny_entry)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        box = QVBoxLayout()
        box.addWidget(self.deny)
        box.addLayout(buttons)
        holder = QWidget()
        holder.setLayout(box)
        form.addRow("Never watch (window names)", holder)

    def _path_rows(self, form: QFormLayout) -> None:
        self.model = QLineEdit()
        self.model.setPlaceholderText("the shipped default model")
        self.data_dir = QLineEdit()
        self.data_dir.setPlaceholderText("the platform's data folder")
        form.addRow("Model (ONNX file)", self._with_browse(self.model, folder=False))
        form.addRow("Data location", self._with_browse(self.data_dir, folder=True))

    def _with_browse(self, field: QLineEdit, folder: bool) -> QWidget:
        button = QPushButton("Browse…")

        def browse() -> None:
            if folder:
                chosen = QFileDialog.getExistingDirectory(self, "Data location", field.text())
            else:
                chosen = QFileDialog.getOpenFileName(self, "Model", field.text(), "ONNX models (*.onnx)")[0]
            if chosen:
                field.setText(chosen)

        button.clicked.connect(browse)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(field)
        row.addWidget(button)
        holder = QWidget()
        holder.setLayout(row)
        return holder

    def add_deny_entry(self, text: str) -> QListWidgetItem:
        item = QListWidgetItem(text)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
        self.deny.addItem(item)
        return item

    def _remove_deny_entry(self) -> None:
        for item in self.deny.selectedItems():
            self.deny.takeItem(self.deny.row(item))

    # ----- values -----
    def load(self, settings: Settings) -> None:
        for name, field in self.key_fields.items():
            field.setText(getattr(settings.keys, name))
        self.threshold.setValue(settings.min_confidence)
        self.fps.setValue(settings.capture_fps)
        self.retention.setValue(settings.retention_days)
        self.max_db.setValue(settings.max_database_mb)
        self.device.setCurrentText(settings.device)
        self.deny.clear()
        for entry in settings.deny_list:
            self.add_deny_entry(entry)
        self.model.setText(settings.model or "")
        self.data_dir.setText(settings.data_dir or "")

    def values(self) -> dict[str, object]:
        """The window's fields as a settings dict (not yet validated)."""
        deny = [self.deny.item(i).text().strip() for i in range(self.deny.count())]
        return {
            "version": self.settings.version,
            "keys": {name: field.text().strip() for name, field in self.key_fields.items()},
            "min_confidence": round(self.threshold.value(), 4),
            "capture_fps": self.fps.value(),
            "model": self.model.text().strip() or None,
            "device": self.device.currentText(),
            "deny_list": [entry for entry in deny if entry],
            "retention_days": self.retention.value(),
            "max_database_mb": self.max_db.value(),
            "data_dir": self.data_dir.text().strip() or None,
        }

    def save(self) -> Settings | None:
        """Validate and write; on a refused value show why and write nothing. Returns the saved Settings."""
        try:
            settings = settings_from_dict(self.values(), "settings window")
            save_settings(settings, self.path)
        except GhostpilotError as exc:
            self.error.setText(exc.message.removeprefix("settings window: "))
            return None
        self.error.setText("")
        self.settings = settings
        self.load(settings)  # show the canonical form ("alt+]" -> "alt+bracketright")
        if self.on_saved is not None:
            self.on_saved(settings)
        return settings
