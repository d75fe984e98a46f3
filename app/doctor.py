"""`ghostpilot doctor`: check the machine the copilot runs on and say, per problem, what to fix in one line.

Every check catches its own errors: the doctor reports, it never ends in a traceback. Checks run against the
real parts (an X connection, one mss grab, a pynput listener, a key grab, the model, the log database).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sqlite3
import stat
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.doctor_base import FIX_DISPLAY_FIRST, STATUSES, Check, DoctorContext
from app.doctor_runtime import check_model, check_provider, check_screen_text
from app.settings import Settings


def _wayland_session() -> bool:
    return bool(os.environ.get("WAYLAND_DISPLAY")) or os.environ.get("XDG_SESSION_TYPE", "").lower() == "wayland"


def check_display(ctx: DoctorContext) -> Check:
    if sys.platform == "win32":
        return Check("display", "ok", "Windows desktop")
    if sys.platform == "darwin":
        from app.macos_permissions import interpret, read_permissions

        status, detail, fix = interpret(read_permissions())
        return Check("display", status, f"{detail} (the macOS copilot itself is not built yet)", fix)
    wayland = _wayland_session()
    if ctx.display is None:
        if wayland and not os.environ.get("DISPLAY"):
            return Check(
                "display",
                "fail",
                "Wayland session without XWayland (DISPLAY is not set)",
                "enable XWayland, or log in to an X11 session (e.g. 'GNOME on Xorg')",
            )
        return Check(
            "display",
            "fail",
            ctx.display_error.message if ctx.display_error else "no display",
            "run inside an X11 desktop session, or set DISPLAY to a running X server (e.g. DISPLAY=:0)",
        )
    screen = ctx.display.screen()
    found = f"X11 on {os.environ.get('DISPLAY')}, {screen.width_in_pixels}x{screen.height_in_pixels}"
    if wayland:
        return Check(
            "display",
            "warn",
            f"{found} through XWayland: only X11 windows can be seen and typed into",
            "for full coverage log in to an X11 session (e.g. 'GNOME on Xorg')",
        )
    return Check("display", "ok", found)


def check_capture(ctx: DoctorContext) -> Check:
    if ctx.is_x11 and ctx.display is None:
        return Check("capture", "fail", "needs a display", FIX_DISPLAY_FIRST)
    import mss

    from app.capture import bgra_to_rgb

    with mss.MSS() as grabber:
        monitor = grabber.monitors[0]
        start = time.perf_counter()
        shot = grabber.grab(monitor)
        grab_ms = (time.perf_counter() - start) * 1e3
        bgra_to_rgb(shot.raw, shot.width, shot.height)
        total_ms = (time.perf_counter() - start) * 1e3
    screens = len(grabber.monitors) - 1
    return Check(
        "capture",
        "ok",
        f"{shot.width}x{shot.height} over {screens} monitor(s): grab {grab_ms:.1f} ms, "
        f"with RGB conversion {total_ms:.1f} ms",
    )


def _disable_record_context(listener: Any) -> None:
    """pynput (X11) marks itself ready just before enabling its RECORD context; a stop() in between is lost and
    the enable then blocks forever. Disabling the context again, from a connection of our own, ends it."""
    context = getattr(listener, "_context", None)
    if context is None or not sys.platform.startswith("linux"):
        return
    from app.x11 import open_display

    display = open_display()
    try:
        display.record_disable_context(context)
        display.sync()
    finally:
        display.close()


def _listener_starts() -> str | None:
    """None when a pynput keyboard listener becomes ready, else why not."""
    from pynput import keyboard

    listener = keyboard.Listener(on_press=lambda key: None)
    listener.start()
    waiter = threading.Thread(target=listener.wait, daemon=True)
    waiter.start()
    waiter.join(10)
    ready = not waiter.is_alive()
    listener.stop()
    listener.join(0.5)
    deadline = time.monotonic() + 5
    while ready and listener.is_alive() and time.monotonic() < deadline:
        _disable_record_context(listener)
        listener.join(0.2)
    return None if ready else "the pynput listener did not become ready within 10 s"


def check_input(ctx: DoctorContext) -> Check:
    if ctx.is_x11:
        if ctx.display is None:
            return Check("input", "fail", "needs a display", FIX_DISPLAY_FIRST)
        missing = [ext for ext in ("RECORD", "XTEST") if ctx.display.query_extension(ext) is None]
        if missing:
            return Check(
                "input",
                "fail",
                f"the X server lacks the {' and '.join(missing)} extension(s): RECORD lets "
                "Ghostpilot see input, XTEST lets it type an accepted ghost",
                'enable them in the X server (Xorg: Section "Module" Load "record" / "xtst")',
            )
    problem = _listener_starts()
    if problem:
        return Check("input", "fail", problem, "check that this user may read input (on macOS: Accessibility)")
    return Check("input", "ok", "pynput listener starts" + ("; RECORD and XTEST present" if ctx.is_x11 else ""))


def check_compositor(ctx: DoctorContext) -> Check:
    if not ctx.is_x11:
        return Check("compositor", "ok", "the system composites windows")
    if ctx.display is None:
        return Check("compositor", "fail", "needs a display", FIX_DISPLAY_FIRST)
    from app.x11 import has_compositor

    if has_compositor(ctx.display):
        return Check("compositor", "ok", "a compositing manager runs: ghosts are translucent")
    return Check(
        "compositor",
        "warn",
        "no compositing manager: ghosts are drawn as opaque outlines",
        "start one for translucent ghosts (picom, or xcompmgr), or enable your desktop's compositing",
    )


def check_global_keys(ctx: DoctorContext) -> Check:
    if not ctx.is_x11:
        return Check("global keys", "warn", f"not checked on {sys.platform}", "")
    if ctx.display is None:
        return Check("global keys", "fail", "needs a display", FIX_DISPLAY_FIRST)
    from app.hotkeys import HotkeyGrabber, parse_chord

    bindings = dataclasses.asdict(ctx.settings.keys)
    grabber = HotkeyGrabber(on_action=lambda action: None, bindings=bindings)
    grabber.start()
    try:
        grabber.show()  # takes the keys held only while a ghost shows, like accept
        grabber.hide()
        grabber.goal_keys(True)  # and the one held only while a goal is set (clear_goal)
        grabber.goal_keys(False)
    finally:
        grabber.stop()
    if grabber.notices:
        said = " ".join(grabber.notices).split()
        busy = [f"{action} ({chord})" for action, chord in bindings.items() if str(parse_chord(chord)) in said]
        return Check(
            "global keys",
            "warn",
            f"taken by another application: {', '.join(busy) or grabber.notices[0]}",
            "free the key in that application, or bind another one in settings (keys.<action>)",
        )
    return Check("global keys", "ok", f"{len(bindings)} bindings can be grabbed (accept: {ctx.settings.keys.accept})")


def _data_dir(settings: Settings) -> Path:
    import platformdirs

    if settings.data_dir:
        return Path(settings.data_dir).expanduser()
    return platformdirs.user_data_path("ghostpilot", appauthor=False)


def _log_name() -> str:
    try:
        from app.store import LOG_NAME
    except ImportError:
        return "ghostpilot.db"
    return str(LOG_NAME)


def check_database(ctx: DoctorContext) -> Check:
    folder = _data_dir(ctx.settings)
    try:
        if not folder.exists():
            folder.mkdir(mode=0o700, parents=True)
            os.chmod(folder, 0o700)
    except OSError as exc:
        return Check(
            "database",
            "fail",
            f"cannot create {folder} ({exc.strerror})",
            "set settings 'data_dir' to a writable folder",
        )
    if stat.S_IMODE(folder.stat().st_mode) & 0o077:
        return Check(
            "database", "warn", f"{folder} can be read by other users (it holds what you type)", f"chmod 700 {folder}"
        )
    path = folder / _log_name()
    if not path.exists():
        return Check("database", "ok", f"{folder} is ready; the log is created on first run")
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
            result = db.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.Error as exc:
        result = str(exc)
    if result != "ok":
        return Check(
            "database",
            "fail",
            f"{path} is damaged ({result})",
            f"move {path.name} out of {folder}; Ghostpilot starts a new log",
        )
    return Check("database", "ok", f"{path} passes quick_check ({path.stat().st_size / 2**20:.1f} MB)")


def check_settings(ctx: DoctorContext) -> Check:
    if ctx.settings_error is not None:
        return Check(
            "settings",
            "fail",
            ctx.settings_error.message,
            ctx.settings_error.hint or f"fix or delete {ctx.settings_path}",
        )
    if not ctx.settings_path.exists():
        return Check("settings", "ok", f"defaults ({ctx.settings_path} does not exist yet)")
    return Check("settings", "ok", f"{ctx.settings_path} is valid")


def check_password_fields(ctx: DoctorContext) -> Check:
    from app.atspi import diagnose

    return Check("password fields", *diagnose())


CHECKS: tuple[tuple[str, Callable[[DoctorContext], Check]], ...] = (
    ("settings", check_settings),
    ("display", check_display),
    ("capture", check_capture),
    ("input", check_input),
    ("compositor", check_compositor),
    ("global keys", check_global_keys),
    ("password fields", check_password_fields),
    ("model", check_model),
    ("execution provider", check_provider),
    ("screen text", check_screen_text),
    ("database", check_database),
)


def run_checks(settings_path: Path | None = None) -> list[Check]:
    """Every check, in order; an unexpected error inside one becomes that check's "fail", never a traceback."""
    results: list[Check] = []
    try:
        ctx = DoctorContext(settings_path)
    except Exception as exc:  # the settings module itself failed: report and go on with nothing else
        return [Check("settings", "fail", f"{type(exc).__name__}: {exc}", "report this as a bug")]
    try:
        for name, check in CHECKS:
            try:
                results.append(check(ctx))
            except Exception as exc:  # a check's own bug or an unforeseen library error
                first = (str(exc).strip().splitlines() or [""])[0][:200]
                results.append(Check(name, "fail", f"{type(exc).__name__}: {first}", "report this as a bug"))
    finally:
        with contextlib.suppress(Exception):  # the X connection may already be gone
            ctx.close()
    return results


def format_checks(checks: list[Check]) -> str:
    """One line per check, an indented fix line under each that is not ok, and a summary line."""
    width = max((len(c.name) for c in checks), default=0)
    lines = []
    for check in checks:
        lines.append(f"{check.status:<4}  {check.name:<{width}}  {check.detail}")
        if check.status != "ok" and check.fix:
            lines.append(f"{'':<4}  {'':<{width}}  fix: {check.fix}")
    counts = {s: sum(c.status == s for c in checks) for s in STATUSES}
    lines.append(f"{counts['ok']} ok, {counts['warn']} warning(s), {counts['fail']} failure(s)")
    return "\n".join(lines)
