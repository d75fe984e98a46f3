"""Typed, versioned user settings: one JSON file under the platform's config dir, with migrations.

A file the user broke is never overwritten: loading it raises a one-line GhostpilotError that names the file
and the field, and the file stays as it is. Saves are atomic (temp file + os.replace), so a crash mid-write
leaves the old file. `SettingsWatcher` notices edits so they apply without a restart. No Qt here.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inference.errors import GhostpilotError

APP_NAME = "ghostpilot"
SETTINGS_FILE = "settings.json"
SETTINGS_VERSION = 2
MAX_CAPTURE_FPS = 30.0
DEVICES = ("auto", "cpu", "cuda")
# Password managers and private browser windows: nothing is captured or suggested while one has focus.
DEFAULT_DENY_LIST = ("1Password", "Bitwarden", "KeePassXC", "LastPass", "Dashlane", "Private Browsing", "Incognito")


@dataclass(frozen=True)
class KeyBindings:
    """Chords as X keysym names joined by '+', modifiers first (e.g. "ctrl+alt+g"); stored canonical."""

    accept: str = "tab"  # take the whole ghost
    accept_step: str = "ctrl+right"  # take the ghost's next step only
    next_alternative: str = "alt+bracketright"  # cycle to the next-best ghost
    previous_alternative: str = "alt+bracketleft"
    dismiss: str = "escape"  # hide the ghost until the next prediction
    pause: str = "ctrl+alt+g"  # stop watching (capture and suggestions) until pressed again
    goal: str = "ctrl+space"  # open the goal prompt (docs/goals.md)
    clear_goal: str = "ctrl+shift+space"  # clear the goal; grabbed only while one is set


@dataclass(frozen=True)
class Settings:
    """Everything the user can change; defaults are what a fresh install runs with."""

    version: int = SETTINGS_VERSION
    keys: KeyBindings = field(default_factory=KeyBindings)
    min_confidence: float = 0.5  # ghosts below this confidence are not shown, 0..1
    capture_fps: float = 10.0  # screen frames per second given to the model, (0, 30]
    model: str | None = None  # path to an ONNX model; None = the shipped default
    device: str = "auto"  # "auto" (CUDA when it really runs), "cpu" or "cuda"
    deny_list: tuple[str, ...] = DEFAULT_DENY_LIST  # app names / window-title substrings never watched
    retention_days: int = 30  # recorded sessions older than this are deleted, 1..3650
    max_database_mb: int = 2048  # oldest sessions are deleted past this size, >= 16
    data_dir: str | None = None  # where recordings live; None = the platform's data dir


def default_settings_path() -> Path:
    """The settings file under the platform config dir (honours XDG_CONFIG_HOME on Linux)."""
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME, appauthor=False)) / SETTINGS_FILE


# ---- migrations: MIGRATIONS[n] turns a version-n dict into a version-(n+1) dict, in order ----


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1 stored the two bindings it had as flat fields; v2 groups every binding under "keys"."""
    out = {k: v for k, v in data.items() if k not in ("accept_key", "dismiss_key")}
    keys = dict(out.get("keys", {}))
    if "accept_key" in data:
        keys["accept"] = data["accept_key"]
    if "dismiss_key" in data:
        keys["dismiss"] = data["dismiss_key"]
    out["keys"] = keys
    out["version"] = 2
    return out


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2}


def migrate(data: dict[str, Any], source: str = "settings") -> dict[str, Any]:
    """A settings dict of any known version -> the current version (a missing version means current)."""
    version = data.get("version", SETTINGS_VERSION)
    if type(version) is not int or version < 1:
        raise _field_error(source, "version", f"must be a positive integer, got {version!r}")
    if version > SETTINGS_VERSION:
        raise GhostpilotError(
            f"{source}: settings version {version} is newer than this Ghostpilot understands ({SETTINGS_VERSION})",
            "upgrade Ghostpilot or delete the file to start from defaults",
        )
    while version < SETTINGS_VERSION:
        data = MIGRATIONS[version](data)
        version = data["version"]
    return data


# ---- validation: dict <-> Settings ----


def _field_error(source: str, name: str, problem: str) -> GhostpilotError:
    return GhostpilotError(
        f"{source}: settings field '{name}' {problem}", "fix or delete that field; docs/settings.md lists them"
    )


def _check_chord(source: str, name: str, value: Any) -> str:
    """A chord in its canonical form ("Tab" -> "tab", "alt+]" -> "alt+bracketright"), or a field error."""
    parts = value.split("+") if isinstance(value, str) else []
    if not parts or not value.strip():
        raise _field_error(source, name, f"must be a chord like 'tab' or 'ctrl+alt+g', got {json.dumps(value)}")
    try:
        from app.hotkeys import parse_chord

        return str(parse_chord(value))
    except GhostpilotError as exc:
        raise _field_error(source, name, f"is not a usable chord: {exc.message}") from None
    except ImportError:  # no python-xlib (not Linux): keep the text, the platform's key layer checks it
        return value.strip().lower()


def _keys_from(source: str, raw: Any) -> KeyBindings:
    if not isinstance(raw, dict):
        raise _field_error(source, "keys", f"must be an object of bindings, got {type(raw).__name__}")
    known = {f.name for f in dataclasses.fields(KeyBindings)}
    for name in raw:
        if name not in known:
            raise _field_error(source, f"keys.{name}", f"is unknown (known: {', '.join(sorted(known))})")
    chords = {name: _check_chord(source, f"keys.{name}", value) for name, value in raw.items()}
    bindings = KeyBindings(**chords)
    seen: dict[str, str] = {}
    for name, chord in dataclasses.asdict(bindings).items():
        if chord in seen:
            raise _field_error(source, f"keys.{name}", f"uses {chord!r}, already bound to keys.{seen[chord]}")
        seen[chord] = name
    return bindings


def _number(source: str, name: str, value: Any, low: float, high: float, integer: bool = False) -> Any:
    allowed = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, allowed):
        kind = "an integer" if integer else "a number"
        raise _field_error(source, name, f"must be {kind}, got {json.dumps(value)}")
    if not low <= value <= high:
        raise _field_error(source, name, f"must be between {low:g} and {high:g}, got {value}")
    return value if integer else float(value)


def _optional_text(source: str, name: str, value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise _field_error(source, name, f"must be a non-empty string or null, got {json.dumps(value)}")
    return value


def settings_from_dict(data: Any, source: str = "settings") -> Settings:
    """Validate a (migrated) dict; the first problem raises a one-line error naming `source` and the field."""
    if not isinstance(data, dict):
        raise GhostpilotError(f"{source}: settings must be a JSON object", "fix or delete the file")
    data = migrate(data, source)
    known = {f.name for f in dataclasses.fields(Settings)}
    for name in data:
        if name not in known:
            raise _field_error(source, name, f"is unknown (known: {', '.join(sorted(known))})")
    fps = _number(source, "capture_fps", data.get("capture_fps", Settings.capture_fps), 0.0, MAX_CAPTURE_FPS)
    if fps <= 0:
        raise _field_error(source, "capture_fps", f"must be above 0, got {fps:g}")
    device = data.get("device", Settings.device)
    if device not in DEVICES:
        raise _field_error(source, "device", f"must be one of {', '.join(DEVICES)}, got {json.dumps(device)}")
    deny = data.get("deny_list", list(DEFAULT_DENY_LIST))
    if not isinstance(deny, (list, tuple)) or not all(isinstance(d, str) and d.strip() for d in deny):
        raise _field_error(source, "deny_list", "must be a list of non-empty strings")
    return Settings(
        version=SETTINGS_VERSION,
        keys=_keys_from(source, data.get("keys", {})),
        min_confidence=_number(source, "min_confidence", data.get("min_confidence", 0.5), 0.0, 1.0),
        capture_fps=fps,
        model=_optional_text(source, "model", data.get("model")),
        device=device,
        deny_list=tuple(deny),
        retention_days=_number(source, "retention_days", data.get("retention_days", 30), 1, 3650, integer=True),
        max_database_mb=_number(source, "max_database_mb", data.get("max_database_mb", 2048), 16, 10**7, True),
        data_dir=_optional_text(source, "data_dir", data.get("data_dir")),
    )


def settings_to_dict(settings: Settings) -> dict[str, Any]:
    """The JSON form: plain dicts and lists, version first."""
    data = dataclasses.asdict(settings)
    data["deny_list"] = list(settings.deny_list)
    return data


# ---- files ----


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GhostpilotError(f"{path}: cannot read settings ({exc.strerror})", "check its permissions") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise GhostpilotError(
            f"{path}: settings are not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
            "fix the file or delete it to start from defaults",
        ) from None


def load_settings(path: Path | None = None) -> Settings:
    """The settings in `path` (default: the user's file); defaults when the file does not exist.

    An older file is migrated and rewritten in the current version, the original kept as
    `settings.json.v<N>.bak`. A broken file raises and is left untouched.
    """
    path = path or default_settings_path()
    if not path.exists():
        return Settings()
    data = _read(path)
    settings = settings_from_dict(data, str(path))
    old_version = data.get("version", SETTINGS_VERSION)
    if old_version != SETTINGS_VERSION:
        try:
            backup = path.with_name(f"{path.name}.v{old_version}.bak")
            if not backup.exists():
                _atomic_write(backup, path.read_bytes())
            save_settings(settings, path)
        except (OSError, GhostpilotError):
            pass  # a read-only config dir: the migrated settings still apply, the file keeps its old version
    return settings


def _atomic_write(path: Path, payload: bytes) -> None:
    """Write via a 0600 temp file in the same dir and os.replace, so readers see old or new, never half."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp_name, 0o600)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Validate and write atomically (dir 0700, file 0600); invalid settings raise and write nothing."""
    path = path or default_settings_path()
    data = settings_to_dict(settings)
    settings_from_dict(data, str(path))
    config_dir_existed = path.parent.exists()
    payload = (json.dumps(data, indent=2) + "\n").encode("utf-8")
    try:
        _atomic_write(path, payload)
    except OSError as exc:
        raise GhostpilotError(f"{path}: cannot save settings ({exc.strerror})", "check its folder") from None
    if not config_dir_existed:
        os.chmod(path.parent, 0o700)  # mkdir's mode is filtered by the umask
    return path


def update_settings(path: Path | None = None, /, **changes: Any) -> Settings:
    """Load, change some fields (`keys` may be a KeyBindings or a dict of some bindings), validate, save."""
    current = load_settings(path)
    data = settings_to_dict(current)
    for name, value in changes.items():
        if name == "keys" and isinstance(value, dict):
            data["keys"] = {**data["keys"], **value}
        elif isinstance(value, KeyBindings):
            data[name] = dataclasses.asdict(value)
        else:
            data[name] = list(value) if isinstance(value, tuple) else value
    updated = settings_from_dict(data, "update_settings")
    save_settings(updated, path)
    return updated


class SettingsWatcher:
    """Reloads the settings file when it changes, so edits apply without a restart.

    Call `reload_if_changed()` from your own loop or timer, or `start()` a polling thread. Callbacks run on the
    thread that noticed the change (a Qt UI should re-post them to its own thread). A broken edit keeps the
    previous settings and is reported through `on_error` and `last_error`.
    """

    def __init__(
        self,
        path: Path | None = None,
        on_change: Callable[[Settings], None] | None = None,
        on_error: Callable[[GhostpilotError], None] | None = None,
        interval_s: float = 1.0,
    ) -> None:
        self.path = path or default_settings_path()
        self.on_change = on_change
        self.on_error = on_error
        self.interval_s = interval_s
        self.last_error: GhostpilotError | None = None
        self._signature = self._stat()
        self.current = load_settings(self.path)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _stat(self) -> tuple[int, int, int] | None:
        """(mtime_ns, inode, size): os.replace changes the inode even within one mtime tick."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return st.st_mtime_ns, st.st_ino, st.st_size

    def reload_if_changed(self) -> Settings | None:
        """The new settings if the file changed and is valid, else None."""
        signature = self._stat()
        if signature == self._signature:
            return None
        self._signature = signature
        try:
            loaded = load_settings(self.path)
        except GhostpilotError as exc:
            self.last_error = exc
            if self.on_error:
                self.on_error(exc)
            return None
        self._signature = self._stat()  # a migration on load rewrites the file
        self.last_error = None
        if loaded == self.current:
            return None
        self.current = loaded
        if self.on_change:
            self.on_change(loaded)
        return loaded

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="ghostpilot-settings-watcher", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.reload_if_changed()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
