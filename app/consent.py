"""The user's answer to "may Ghostpilot record?", and the plain words the first-run dialog shows (no Qt).

The answer lives in a small 0600 JSON file in the config dir, apart from the settings, so editing or
resetting settings never grants consent by accident. A missing, broken or outdated answer means "not asked":
the first run asks again rather than guessing. `CONSENT_VERSION` goes up when what is recorded changes.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from app.paths import config_dir, private_dir

CONSENT_FILE = "consent.json"
CONSENT_VERSION = 1


@dataclass(frozen=True)
class Consent:
    """What the user answered: `logging` True = record to the local database; False = run without it."""

    logging: bool
    answered_at: float  # Unix time of the answer
    version: int = CONSENT_VERSION


def consent_path() -> Path:
    return config_dir() / CONSENT_FILE


def read_consent(path: Path | None = None) -> Consent | None:
    """The remembered answer, or None when the user has not (validly) answered this version yet."""
    path = path or consent_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != CONSENT_VERSION:
        return None
    logging, answered_at = data.get("logging"), data.get("answered_at")
    if not isinstance(logging, bool) or not isinstance(answered_at, (int, float)):
        return None
    return Consent(logging, float(answered_at))


def record_consent(logging: bool, path: Path | None = None) -> Consent:
    """Remember the answer atomically in a 0600 file (its dir 0700)."""
    path = path or consent_path()
    consent = Consent(logging, time.time())
    private_dir(path.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"version": consent.version, "logging": logging, "answered_at": consent.answered_at}, out)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return consent


def what_is_recorded(data_dir: Path) -> list[str]:
    """The first-run text: what is recorded, where it stays, and how to stop it."""
    return [
        "While it watches, Ghostpilot records your mouse movements, clicks, scrolls and key presses "
        "(including what you type), small screenshots of your screen, and which suggestions you took or refused.",
        f"Everything stays on this computer, in {data_dir} (readable by your user only). "
        "Nothing is sent anywhere: Ghostpilot makes no network connections.",
        "The recordings let Ghostpilot learn from your corrections. Windows on the deny-list (password managers, "
        "private browsing) are never recorded, and recordings older than the retention period are deleted.",
        "Without your consent Ghostpilot still suggests, but stores nothing. "
        "Pause (Ctrl+Alt+G or the tray) stops all watching at any time; Settings change your answer's details.",
    ]


def platform_notes(platform: str | None = None, environ: Mapping[str, str] | None = None) -> list[str]:
    """Permissions the desktop must grant, as text: what the user has to do outside Ghostpilot."""
    platform = platform or sys.platform
    environ = os.environ if environ is None else environ
    if platform == "darwin":
        return [
            "macOS asks for three permissions in System Settings > Privacy & Security:",
            "Accessibility, so Ghostpilot can perform a suggestion you accept;",
            "Screen Recording, so it can see the screen it suggests for;",
            "Input Monitoring, so it can see your mouse and keys and hear its own shortcuts.",
        ]
    if platform.startswith("linux") and (
        environ.get("XDG_SESSION_TYPE") == "wayland" or environ.get("WAYLAND_DISPLAY")
    ):
        return [
            "This is a Wayland session. Ghostpilot captures the screen and owns its shortcut keys through "
            "XWayland, so it sees and acts on X11 (XWayland) windows only; native Wayland windows stay invisible "
            "to it. Log in to an X11 session for full coverage.",
        ]
    if platform.startswith("linux"):
        return ["X11 session: screen capture and global keys need no extra permission."]
    return [f"{platform}: permissions are not checked on this platform yet."]
