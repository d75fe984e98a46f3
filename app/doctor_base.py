"""What every `ghostpilot doctor` check shares: the result record and the context computed once."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from app.settings import Settings, default_settings_path, load_settings
from inference.errors import GhostpilotError

STATUSES = ("ok", "warn", "fail")
FIX_DISPLAY_FIRST = "fix the display check first"


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # "ok", "warn" or "fail"
    detail: str  # what was found, one line
    fix: str = ""  # what to do about it, one line; empty for "ok"


class DoctorContext:
    """What several checks share, computed once: the settings and one X connection."""

    def __init__(self, settings_path: Path | None) -> None:
        self.settings_path = settings_path or default_settings_path()
        self.settings_error: GhostpilotError | None = None
        try:
            self.settings = load_settings(self.settings_path)
        except GhostpilotError as exc:
            self.settings, self.settings_error = Settings(), exc
        self.display_error: GhostpilotError | None = None

    @property
    def is_x11(self) -> bool:
        return sys.platform.startswith("linux")

    @cached_property
    def display(self) -> Any | None:
        """An open X connection, or None (display_error says why)."""
        if not self.is_x11:
            return None
        from app.x11 import open_display

        try:
            return open_display()
        except GhostpilotError as exc:
            self.display_error = exc
            return None

    def cpu_predictor(self) -> Any:
        """The configured model loaded on the CPU, once for every check that needs it (raises GhostpilotError)."""
        if "_cpu_predictor" not in self.__dict__:
            from app.models import resolve_model
            from inference import load_predictor

            try:
                self._cpu_predictor: Any = load_predictor(resolve_model(self.settings.model), device="cpu")
            except GhostpilotError as exc:
                self._cpu_predictor = exc
        if isinstance(self._cpu_predictor, GhostpilotError):
            raise self._cpu_predictor
        return self._cpu_predictor

    def close(self) -> None:
        display = self.__dict__.get("display")  # only if a check opened it
        if display is not None:
            display.close()
