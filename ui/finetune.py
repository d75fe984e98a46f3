"""Fine-tune from the tray, in the background, with progress (issue 4).

`FinetuneRunner` runs `app.swap.finetune_and_swap` on a worker thread, like Anki's background ops: the worker
never touches a widget, it only emits signals, which Qt queues to the GUI thread because the runner lives
there. `FinetuneWindow` is the small progress window those signals drive.

A swapped-in model is written to the registry at once (`ghostpilot model list` shows it in use) and the running
copilot switches to it without a restart (app/model_switch.py: loaded in the background, swapped in between two
loop steps, so the ghosts never pause), unless the user pinned a model in settings or with `--model`.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from app.swap import FinetuneJob, FinetuneOutcome, default_out_dir, finetune_and_swap
from inference.errors import GhostpilotError

STAGES = {"export": "exporting the log", "finetune": "fine-tuning", "eval": "checking on held-back sessions"}
NEEDS_TORCH = "needs the train extra (torch): bash scripts/setup.sh --train"


def missing_requirement() -> str:
    """Why fine-tuning cannot run here ("" when it can); checked without importing torch (the live path)."""
    present = all(importlib.util.find_spec(name) is not None for name in ("torch", "safetensors", "onnx"))
    return "" if present else NEEDS_TORCH


def outcome_message(outcome: FinetuneOutcome, pinned: str | None = None) -> str:
    """One line for the user: what changed, and why; `pinned` is the model the user fixed for this run."""
    name, reason = outcome.candidate.stem, outcome.verdict.reason
    if outcome.swapped and pinned is not None:
        return f"New model {name} is current in the registry; this run keeps the pinned model {pinned}: {reason}"
    if outcome.swapped:
        return f"New model {name} is in use now: {reason}"
    return f"Kept the current model: {reason}"


class FinetuneRunner(QObject):
    """One background fine-tune at a time; `progress(stage, done, total)`, then `finished` or `failed`."""

    progress = Signal(str, int, int)  # stage, steps done so far in it, its total (0: unknown)
    finished = Signal(object)  # FinetuneOutcome
    failed = Signal(str)  # one line

    def __init__(self, make_job: Callable[[], FinetuneJob], flush: Callable[[], Any] | None = None) -> None:
        super().__init__()
        self.make_job = make_job
        self.flush = flush  # the running store's flush: the job reads what is committed
        self.out_dir: Callable[[], Path] = default_out_dir
        self.thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def start(self) -> bool:
        """Start the job; False when one is already running."""
        if self.running:
            return False
        self.thread = threading.Thread(target=self._work, name="ghostpilot-finetune", daemon=True)
        self.thread.start()
        return True

    def _work(self) -> None:
        """Worker thread: no widgets here, only signals."""
        done: dict[str, int] = {}

        def report(stage: str, n: int, total: int | None) -> None:
            done[stage] = done.get(stage, 0) + n
            self.progress.emit(stage, done[stage], total or 0)

        try:
            if self.flush is not None:
                self.flush()
            outcome = finetune_and_swap(self.make_job(), self.out_dir(), report)
        except GhostpilotError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # shown to the user, never swallowed silently
            self.failed.emit(f"fine-tune failed: {type(exc).__name__}: {exc}")
        else:
            self.finished.emit(outcome)


class FinetuneWindow(QWidget):
    """The stage, a progress bar and, at the end, the outcome in one line."""

    def __init__(self, runner: FinetuneRunner, pinned: Callable[[], str | None] = lambda: None) -> None:
        super().__init__(None, Qt.WindowType.Window)
        self.setWindowTitle("Ghostpilot: fine-tune")
        self.runner = runner
        self.pinned = pinned  # the model the user pinned (it stays in use), asked when the job ends
        self.stage = QLabel("starting…")
        self.bar = QProgressBar()
        self.outcome = QLabel("")
        self.outcome.setWordWrap(True)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.close)
        layout = QVBoxLayout(self)
        for widget in (self.stage, self.bar, self.outcome, self.close_button):
            layout.addWidget(widget)
        runner.progress.connect(self.on_progress)
        runner.finished.connect(self.on_finished)  # bound slots: delivered on this (the GUI) thread
        runner.failed.connect(self.on_done)

    def start(self) -> None:
        """Show the window and start a job unless one is running (then only show its progress)."""
        if self.runner.start():
            self.stage.setText("starting…")
            self.bar.setRange(0, 0)  # busy until the first report
            self.outcome.setText("")
        self.show()
        self.raise_()

    def on_progress(self, stage: str, done: int, total: int) -> None:
        self.stage.setText(f"{STAGES.get(stage, stage)}: {done}" + (f" of {total}" if total else ""))
        self.bar.setRange(0, total)
        self.bar.setValue(min(done, total) if total else 0)

    def on_finished(self, outcome: FinetuneOutcome) -> None:
        self.on_done(outcome_message(outcome, self.pinned()))

    def on_done(self, message: str) -> None:
        self.stage.setText("done")
        self.bar.setRange(0, 1)
        self.bar.setValue(1)
        self.outcome.setText(message)
