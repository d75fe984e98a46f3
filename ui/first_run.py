"""The first-run dialog: what is recorded and where it stays, consent, permissions, and the doctor's checks.

Nothing is stored before the user answers: "Record" remembers consent (app/consent.py) and the copilot logs;
"Run without recording" remembers that and the copilot runs with logging off (as `--no-log`); "Quit" remembers
nothing, so the question comes back next time. The doctor's checks run on a worker thread (they open display
connections and start listeners) and their lines appear when ready.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from app.consent import platform_notes, record_consent, what_is_recorded
from app.doctor import Check, format_checks, run_checks

CHOICES = ("record", "no_log", "quit")


class _ChecksDone(QObject):
    """Carries the worker thread's results to the GUI thread (a queued signal)."""

    done = Signal(str)


class FirstRunDialog(QDialog):
    """`choice` is "record", "no_log" or "quit" once the user answered; the consent file is written here."""

    def __init__(
        self,
        data_dir: Path,
        consent_path: Path | None = None,
        checks: Callable[[], list[Check]] = run_checks,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Welcome to Ghostpilot")
        self.consent_path = consent_path
        self.choice = "quit"
        self._checks = checks
        self._relay = _ChecksDone(self)
        self._relay.done.connect(self._show_checks)
        self.checks_text = ""
        layout = QVBoxLayout(self)
        self.recorded = self._paragraphs(what_is_recorded(data_dir))
        layout.addWidget(self.recorded)
        layout.addWidget(QLabel("<b>Permissions</b>"))
        self.permissions = self._paragraphs(platform_notes())
        layout.addWidget(self.permissions)
        layout.addWidget(QLabel("<b>Checks</b>"))
        self.checks_view = QPlainTextEdit("running the checks…")
        self.checks_view.setReadOnly(True)
        self.checks_view.setFont(QFont("monospace"))
        self.checks_view.setMinimumHeight(140)
        layout.addWidget(self.checks_view)
        layout.addLayout(self._buttons())
        self.resize(640, 560)

    @staticmethod
    def _paragraphs(lines: list[str]) -> QLabel:
        label = QLabel("\n\n".join(lines))
        label.setWordWrap(True)
        return label

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.record_button = QPushButton("Record and suggest")
        self.no_log_button = QPushButton("Suggest without recording")
        self.quit_button = QPushButton("Quit")
        self.record_button.clicked.connect(lambda: self.answer("record"))
        self.no_log_button.clicked.connect(lambda: self.answer("no_log"))
        self.quit_button.clicked.connect(lambda: self.answer("quit"))
        for button in (self.quit_button, self.no_log_button, self.record_button):
            row.addWidget(button)
        self.record_button.setDefault(True)
        return row

    def start_checks(self) -> None:
        """Run the doctor's checks on a worker thread; the text appears in the dialog when they finish."""

        def work() -> None:
            try:
                text = format_checks(self._checks())
            except Exception as exc:  # the checks catch their own errors; this is the last resort
                text = f"the checks could not run: {type(exc).__name__}: {exc}"
            with contextlib.suppress(RuntimeError):  # the dialog was deleted before the checks finished
                self._relay.done.emit(text)

        threading.Thread(target=work, name="ghostpilot-first-run-checks", daemon=True).start()

    def _show_checks(self, text: str) -> None:
        self.checks_text = text
        self.checks_view.setPlainText(text)

    def answer(self, choice: str) -> None:
        """Remember consent (not for "quit") and close the dialog."""
        if choice not in CHOICES:
            raise ValueError(f"unknown first-run choice {choice!r}")
        self.choice = choice
        if choice != "quit":
            record_consent(logging=choice == "record", path=self.consent_path)
            self.accept()
        else:
            self.reject()


def run_first_run(data_dir: Path) -> str:
    """Show the dialog modally (the copilot has not started yet); returns the user's choice."""
    dialog = FirstRunDialog(data_dir)
    dialog.start_checks()
    dialog.exec()
    return dialog.choice
