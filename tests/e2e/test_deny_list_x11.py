"""The deny-list canary: text typed into a deny-listed window appears nowhere Ghostpilot writes.

The real copilot (`ghostpilot run`, the shipped model, the default data dir) runs on Xvfb over two real Qt
windows: one titled like a KeePassXC vault (on the default deny-list), one ordinary. A canary is typed into the
vault and the pointer moves over it; then the ordinary window gets focus and a few keys, and the test waits
until those reach the database (so the copilot has processed everything typed before them). After the copilot
stops, every file under the run's data, config, cache and temp dirs, the trace, the database with its -wal and
-shm, and a JSON-lines export are searched for the canary: as plain text and spelled out as logged key
events. The control types the same canary into the ordinary window and finds it, so the search can fail.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.waiting import interrupt, poll, wait_for

ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(__file__).with_name("target_app.py")

CANARY = "kq7vxc2jw9zp"  # no letter twice in a row: key events spell it one key.down at a time
DENIED_TITLE = "Passwords.kdbx - KeePassXC"
KEY_DOWN = re.compile(rb'"t":\s*([-+.eE0-9]+),\s*"type":\s*"key\.down",\s*"key":\s*"(.)"')


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def xdotool(*args: str) -> None:
    subprocess.run(["xdotool", *args], check=True)


def sweep(start: tuple[int, int], step: tuple[int, int], count: int = 25) -> None:
    for i in range(count):
        xdotool("mousemove", str(start[0] + step[0] * i), str(start[1] + step[1] * i))


def spelled(data: bytes) -> str:
    """The text the logged key.down events in these bytes type, in time order (SQLite pages store rows in no
    particular byte order, and the WAL may hold a row twice)."""
    presses = {(float(t), key) for t, key in KEY_DOWN.findall(data)}
    return b"".join(key for _, key in sorted(presses)).decode("utf-8", "replace")


def leaks(root: Path, text: str) -> list[str]:
    """Files under `root` holding `text`, whole or as typed key events."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if text.encode() in data or text.encode("utf-16-le") in data or text in spelled(data):
            found.append(str(path.relative_to(root)))
    return found


def start_window(log: Path, title: str, geometry: tuple[int, ...]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb"}
    args = [sys.executable, str(TARGET), str(log), *map(str, geometry), "--title", title]
    app = subprocess.Popen(args, env=env)
    wait_for(lambda: any(r["event"] == "ready" for r in lines(log)), what=f"the window {title!r}")
    return app


def focus(title: str) -> None:
    found = subprocess.run(["xdotool", "search", "--sync", "--name", re.escape(title)], capture_output=True, text=True)
    window_id = found.stdout.split()[0]
    xdotool("windowfocus", "--sync", window_id)


def typed_into(log: Path) -> str:
    return "".join(r.get("text", "") for r in lines(log) if r["event"] == "key")


@pytest.fixture
def desktop(display_env: str, tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """The vault (full screen) and an ordinary window above it; their own logs live outside the searched dir."""
    logs = tmp_path / "windows"
    logs.mkdir()
    vault = start_window(logs / "vault.jsonl", DENIED_TITLE, (0, 0, 1920, 1080))
    editor = start_window(logs / "editor.jsonl", "Notes - Editor", (1400, 700, 400, 200))
    try:
        yield logs / "vault.jsonl", logs / "editor.jsonl"
    finally:
        for app in (vault, editor):
            app.terminate()
            app.wait(timeout=10)


class Run:
    """One `ghostpilot run`, with where it writes."""

    def __init__(self, root: Path, console: Path) -> None:
        self.root, self.console = root, console
        self.trace = root / "trace.jsonl"
        self.database = root / "data" / "ghostpilot.db"  # given explicitly: no first-run consent window
        self.app: subprocess.Popen[bytes] | None = None

    def stop(self) -> None:
        """SIGINT, as Ctrl+C: the copilot writes what it queued and exits 0."""
        if self.app is None or self.app.poll() is not None:
            return
        assert interrupt(self.app) == 0, self.console.read_text()


def running_copilot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Run]:
    """`ghostpilot run` with its data, config and cache dirs (XDG, as tests/conftest.py does) and TMPDIR inside
    the folder a canary is searched in; stopped with Ctrl+C at the end (also used by test_atspi_x11.py)."""
    root = tmp_path / "run"
    (root / "tmp").mkdir(parents=True)
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(root / "xdg" / name.lower()))
    state = Run(root, tmp_path / "copilot.log")  # notices name the deny rule, never what was typed
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "PYTHONUNBUFFERED": "1", "TMPDIR": str(root / "tmp")}
    command = [
        sys.executable, "-m", "ui.cli", "run", "--device", "cpu", "--min-confidence", "0",
        "--trace", str(state.trace), "--database", str(state.database),
    ]  # fmt: skip
    with open(state.console, "w") as out:
        state.app = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: "watching" in state.console.read_text(), "the copilot to start", 60)
            yield state
        finally:
            state.stop()


@pytest.fixture
def run(desktop: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Run]:
    yield from running_copilot(tmp_path, monkeypatch)


def logged_text(database: Path) -> str:
    from app.store import iter_events, read_sessions

    if not database.exists():
        return ""
    keys = [
        e["key"] for s in read_sessions(database) for e in iter_events(database, s["id"]) if e["type"] == "key.down"
    ]
    return "".join(keys)


def type_then_sync(window_log: Path, text: str, run: Run, editor_log: Path) -> None:
    """Type `text` into the focused window, then `ok` into the editor and wait until the log has `ok`."""
    xdotool("type", "--delay", "40", text)
    wait_for(lambda: text in typed_into(window_log), what="the canary in the window")
    sweep((300, 300), (20, 10))
    focus("Notes - Editor")
    wait_for(lambda: lines(run.trace) and lines(run.trace)[-1]["status"] != "private", what="watching again")
    for _ in range(40):
        xdotool("type", "--delay", "40", "ok")
        if poll(lambda: "ok" in logged_text(run.database), 3.0):
            break
    assert "ok" in logged_text(run.database), "keys typed after the canary never reached the log"
    assert "ok" in typed_into(editor_log)


def export_jsonl(run: Run) -> None:
    """The correction log exported as JSON lines (unredacted: the worst case), into the searched dir."""
    try:
        from app.export import ExportOptions, export_log
    except ImportError:  # the export command is not in this tree yet
        return
    export_log("jsonl", run.root / "export.jsonl", ExportOptions(database=run.database, redact=False))


def search(run: Run) -> list[str]:
    """Stop the copilot, export the log, and list every file under the run's dir holding the canary."""
    run.stop()
    export_jsonl(run)
    return leaks(run.root, CANARY)


def test_a_canary_typed_into_a_denied_window_is_nowhere(desktop: tuple[Path, Path], run: Run) -> None:
    vault_log, editor_log = desktop
    focus(DENIED_TITLE)
    wait_for(lambda: any(r["status"] == "private" for r in lines(run.trace)), "the copilot to go private")
    type_then_sync(vault_log, CANARY, run, editor_log)
    assert CANARY not in logged_text(run.database)
    assert run.database.exists() and search(run) == []


def test_control_the_same_canary_in_an_ordinary_window_is_recorded(desktop: tuple[Path, Path], run: Run) -> None:
    _vault_log, editor_log = desktop
    focus("Notes - Editor")
    type_then_sync(editor_log, CANARY, run, editor_log)
    assert CANARY in logged_text(run.database)
    assert "data/ghostpilot.db" in search(run)  # the search finds it where it is
