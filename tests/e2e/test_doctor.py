"""`ghostpilot doctor` checks against a real X server (Xvfb), real files and the real model runtime."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import app.doctor as doctor
from app.doctor import Check, format_checks, run_checks
from app.settings import default_settings_path


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def write_settings(**fields: object) -> Path:
    path = default_settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(fields))
    return path


def assert_actionable(checks: list[Check]) -> None:
    for check in checks:
        assert check.status in ("ok", "warn", "fail"), check
        assert "\n" not in check.detail and "\n" not in check.fix, check
        if check.status == "fail":
            assert check.fix, check


@pytest.fixture
def no_wayland(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("XDG_SESSION_TYPE", "x11")


def wait_until(condition: Callable[[], bool], timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_on_xvfb_everything_works_but_translucency(display_env: str, no_wayland: None) -> None:
    checks = run_checks()
    found = by_name(checks)
    assert_actionable(checks)
    assert [c.name for c in checks] == [name for name, _ in doctor.CHECKS]
    assert found["display"].status == "ok" and display_env in found["display"].detail
    assert found["capture"].status == "ok" and "1920x1080" in found["capture"].detail
    assert found["input"].status == "ok" and "RECORD and XTEST" in found["input"].detail
    assert found["compositor"].status == "warn" and "outline" in found["compositor"].detail
    assert found["global keys"].status == "ok"
    assert found["model"].status == "ok" and found["settings"].status == "ok"
    assert found["execution provider"].status in ("ok", "warn") and "runs on" in found["execution provider"].detail
    assert found["database"].status == "ok"
    text = format_checks(checks)
    assert "warn  compositor" in text and "fix: start one" in text and text.endswith("0 failure(s)")


def test_with_a_compositor_ghosts_are_translucent(compositor: subprocess.Popen[bytes], no_wayland: None) -> None:
    from app.x11 import has_compositor

    assert wait_until(has_compositor)
    assert by_name(run_checks())["compositor"].status == "ok"


def test_a_corrupt_model_is_a_failed_check_not_an_exception(display_env: str, tmp_path: Path) -> None:
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"\x08\x07 not an onnx model" * 50)
    write_settings(model=str(bad))
    found = by_name(run_checks())
    assert found["model"].status == "fail" and str(bad) in found["model"].detail
    assert "model" in found["model"].fix
    assert found["execution provider"].status == "warn"
    assert found["settings"].status == "ok"


def test_broken_settings_fail_their_check_and_the_rest_runs_on_defaults(display_env: str) -> None:
    path = write_settings(capture_fps=99)
    checks = run_checks()
    found = by_name(checks)
    assert found["settings"].status == "fail" and "capture_fps" in found["settings"].detail
    assert str(path) in found["settings"].detail and found["settings"].fix
    assert found["model"].status == "ok" and len(checks) == len(doctor.CHECKS)
    assert json.loads(path.read_text()) == {"capture_fps": 99}  # the doctor does not repair the file


@pytest.fixture
def tab_held_elsewhere(display_env: str) -> Iterator[None]:
    """Another X client grabs Tab on the root window, as a window manager or game might."""
    from Xlib import XK, X
    from Xlib import display as xdisplay

    other = xdisplay.Display()
    root = other.screen().root
    keycode = other.keysym_to_keycode(XK.XK_Tab)
    for mask in (0, X.LockMask, X.Mod2Mask, X.LockMask | X.Mod2Mask):
        root.grab_key(keycode, mask, False, X.GrabModeAsync, X.GrabModeAsync)
    other.sync()
    yield
    other.close()


def test_a_key_held_by_another_client_is_a_warning_naming_it(tab_held_elsewhere: None) -> None:
    found = by_name(run_checks())["global keys"]
    assert found.status == "warn" and "accept (tab)" in found.detail, found
    assert "dismiss" not in found.detail and "keys." in found.fix


def test_a_damaged_database_fails_with_a_fix(display_env: str) -> None:
    data = Path(os.environ["XDG_DATA_HOME"]) / "ghostpilot"
    data.mkdir(parents=True, mode=0o700)
    os.chmod(data, 0o700)
    (data / "ghostpilot.db").write_bytes(b"this is not sqlite" * 1000)
    found = by_name(run_checks())["database"]
    assert found.status == "fail" and "damaged" in found.detail and "move ghostpilot.db" in found.fix


def test_a_healthy_database_passes_quick_check_and_a_shared_folder_warns(display_env: str) -> None:
    import sqlite3

    data = Path(os.environ["XDG_DATA_HOME"]) / "ghostpilot"
    data.mkdir(parents=True)
    os.chmod(data, 0o700)
    with sqlite3.connect(data / "ghostpilot.db") as db:
        db.execute("CREATE TABLE events (t REAL)")
        db.executemany("INSERT INTO events VALUES (?)", [(i / 10,) for i in range(1000)])
    db.close()
    found = by_name(run_checks())["database"]
    assert found.status == "ok" and "quick_check" in found.detail
    os.chmod(data, 0o755)
    found = by_name(run_checks())["database"]
    assert found.status == "warn" and found.fix == f"chmod 700 {data}"


def test_no_display_is_a_failed_display_check_with_a_fix(monkeypatch: pytest.MonkeyPatch, no_wayland: None) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    checks = run_checks()
    found = by_name(checks)
    assert_actionable(checks)
    assert found["display"].status == "fail" and "DISPLAY is not set" in found["display"].detail
    assert "DISPLAY" in found["display"].fix
    assert found["capture"].fix == doctor.FIX_DISPLAY_FIRST
    assert found["model"].status == "ok"  # checks that need no display still run


def test_wayland_sessions_explain_xwayland(display_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    found = by_name(run_checks())["display"]
    assert found.status == "warn" and "XWayland" in found.detail and "X11 session" in found.fix
    monkeypatch.delenv("DISPLAY")
    found = by_name(run_checks())["display"]
    assert found.status == "fail" and "without XWayland" in found.detail and "XWayland" in found.fix


def test_a_check_that_breaks_is_reported_not_raised(display_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(ctx: object) -> Check:
        raise RuntimeError("unforeseen\nsecond line")

    monkeypatch.setattr(doctor, "CHECKS", (("broken", broken), *doctor.CHECKS[:1]))
    checks = run_checks()
    assert checks[0] == Check("broken", "fail", "RuntimeError: unforeseen", "report this as a bug")
    assert checks[1].name == "settings"
