"""Takes the README's screenshots from the real app on a private Xvfb display: `python scripts/screenshots.py`.

- overlay.png: `ghostpilot demo` (the real copilot, shipped model, practice window) over an xterm, with
  xcompmgr so ghosts are translucent; xdotool moves the pointer like a user until the trace says a ghost with
  a click shows, then the screen is grabbed with mss and cropped around the window and the ghost.
- tray-menu.png: a bare Xvfb has no system tray, so the real `TrayController` menu is popped up over the
  xterm (state "suggesting", Snooze submenu open) and that part of the screen is grabbed (QScreen.grabWindow).
- settings.png: the real settings window with default settings, grabbed from the screen.
- review.png: after the overlay shot the script accepts that ghost (Tab) and dismisses the next (Esc), then
  opens `ghostpilot review` on the log the session wrote.
- goal-prompt.png, goal-corner.png: `ghostpilot demo` again; Ctrl+Space (xdotool) opens the real goal prompt
  near the pointer over the practice window and xdotool types a goal: grabbed half typed; then the rest and
  Enter, and the overlay's top-right corner shows the goal: grabbed with the practice window beside it.

Settings, consent and the log go to a temporary XDG home, never the user's. Needs Xvfb, xcompmgr, xterm,
xdotool. Output: docs/screenshots/*.png (PNG, palette-quantised to stay small).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
SCREEN = (1280, 800)
SWEEPS = 12
DEMO_AT = (300, 150)  # the practice window, with the terminal showing around it
TOOLS = ("Xvfb", "xcompmgr", "xterm", "xdotool")


def wait(check: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise SystemExit(f"screenshots: timed out waiting for {what}")


@contextlib.contextmanager
def desktop(home: Path) -> Iterator[dict[str, str]]:
    """Xvfb + xcompmgr + an xterm as the desktop background; yields the environment for the app."""
    read_fd, write_fd = os.pipe()
    size = f"{SCREEN[0]}x{SCREEN[1]}x24"
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", size, "-nolisten", "tcp"],
        pass_fds=(write_fd,), stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        display = f":{pipe.readline().strip()}"
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", "PYTHONUNBUFFERED": "1"}
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        env[name] = str(home / name.lower())
    helpers = [subprocess.Popen(["xcompmgr"], env=env, stderr=subprocess.DEVNULL)]
    banner = "echo '$ ghostpilot doctor'; ghostpilot doctor; exec sleep 3600"
    env_term = {**env, "PATH": f"{ROOT / '.venv' / 'bin'}:{env.get('PATH', '')}"}
    terminal = ["xterm", "-title", "terminal", "-geometry", "150x50+0+0", "-fa", "DejaVu Sans Mono", "-fs", "10",
                "-bg", "#1f2430", "-fg", "#c8ccd4", "-e", "bash", "-c", banner]  # fmt: skip
    helpers.append(subprocess.Popen(terminal, env=env_term, stderr=subprocess.DEVNULL))
    try:
        wait(lambda: window_ids(env, "terminal"), "the xterm")
        time.sleep(2.0)  # doctor's output fills the terminal
        yield env
    finally:
        for process in [*helpers, server]:
            process.terminate()
            process.wait(timeout=10)


def window_ids(env: dict[str, str], name: str) -> list[str]:
    found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", name], env=env, capture_output=True)
    return found.stdout.decode().split()


def geometry(env: dict[str, str], window: str) -> tuple[int, int, int, int]:
    out = subprocess.run(["xdotool", "getwindowgeometry", "--shell", window], env=env, capture_output=True)
    values = dict(line.split("=", 1) for line in out.stdout.decode().split())
    return int(values["X"]), int(values["Y"]), int(values["WIDTH"]), int(values["HEIGHT"])


def grab(env: dict[str, str], box: tuple[int, int, int, int], path: Path) -> None:
    """Grab the screen with mss (what the user sees, compositor included), crop to `box`, save small."""
    import mss
    from PIL import Image

    os.environ["DISPLAY"] = env["DISPLAY"]
    with mss.MSS() as screen:
        shot = screen.grab(screen.monitors[1])
    image = Image.frombytes("RGB", shot.size, shot.rgb)
    left, top, right, bottom = box
    image = image.crop((max(0, left), max(0, top), min(SCREEN[0], right), min(SCREEN[1], bottom)))
    save_small(image, path)


def save_small(image: Any, path: Path) -> None:
    """256 colours are plenty for UI pixels and keep each PNG to tens of KB."""
    from PIL import Image

    image.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        path, optimize=True
    )
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KB)")


def trace_tail(trace: Path) -> dict[str, Any] | None:
    lines = trace.read_text().splitlines() if trace.exists() else []
    return json.loads(lines[-1]) if lines else None


def shot_overlay(env: dict[str, str], home: Path, out: Path) -> None:
    """The real copilot over its practice window: move like a user until a ghost with a click shows."""
    trace = home / "trace.jsonl"
    options = ["--min-confidence", "0", "--trace", str(trace), "--database", str(home / "log.db")]
    with demo_window(env, options, home / "copilot.log") as (x, y, width, height):
        ghost = drive_until_ghost(env, trace, (x, y, width, height))
        raise_overlay(env)
        print(f"screenshots: ghost {ghost}")
        click = ghost.get("click") or ghost["pointer"]
        left, top = min(x, int(click[0]) - 60), min(y, int(click[1]) - 60)
        right, bottom = max(x + width, int(click[0]) + 60), max(y + height, int(click[1]) + 60)
        grab(env, (left - 30, top - 30, right + 30, bottom + 30), out / "overlay.png")
        decide_a_few(env, trace, (x, y, width, height))


GOAL_TYPED, GOAL_REST = "fill in the form with my details and press Sa", "ve"


def shot_goal(env: dict[str, str], home: Path, out: Path) -> None:
    """The goal prompt over the practice window while a goal is typed, then the goal in the overlay's corner."""
    options = ["--trace", str(home / "goal-trace.jsonl"), "--database", str(home / "goal.db")]
    with demo_window(env, options, home / "goal.log") as (x, y, width, height):
        xdotool(env, "mousemove", str(x + width // 3), str(y + height // 3))
        xdotool(env, "key", "ctrl+space")
        prompt = wait(lambda: window_ids(env, "Ghostpilot goal"), "the goal prompt")[0]
        xdotool(env, "type", "--delay", "20", GOAL_TYPED)
        time.sleep(0.8)  # the caret and text paint
        px, py, pw, ph = geometry(env, prompt)
        grab(
            env,
            (x - 30, y - 30, max(x + width, px + pw) + 30, max(y + height, py + ph) + 30),
            out / "goal-prompt.png",
        )
        xdotool(env, "type", GOAL_REST)
        xdotool(env, "key", "Return")
        wait(lambda: not window_ids(env, "Ghostpilot goal"), "the prompt to close")
        raise_overlay(env)
        time.sleep(1.0)
        grab(env, (x - 30, 0, SCREEN[0], y + height + 30), out / "goal-corner.png")


@contextlib.contextmanager
def demo_window(env: dict[str, str], options: list[str], log: Path) -> Iterator[tuple[int, int, int, int]]:
    """`ghostpilot demo` running, its practice window moved to DEMO_AT; yields the window's geometry."""
    command = [sys.executable, "-m", "ui.cli", "demo", "--device", "cpu", *options]
    with open(log, "w") as sink:
        app = subprocess.Popen(command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
        try:
            wait(lambda: "watching" in log.read_text(), "the copilot to start")
            window = wait(lambda: window_ids(env, "Ghostpilot practice"), "the practice window")[0]
            subprocess.run(["xdotool", "windowmove", window, *map(str, DEMO_AT)], env=env, check=True)
            yield wait(lambda: moved(env, window), "the practice window to move")
        finally:
            app.terminate()  # SIGTERM: the app quits cleanly and the log is flushed
            app.wait(timeout=30)


def xdotool(env: dict[str, str], *args: str) -> None:
    subprocess.run(["xdotool", *args], env=env, check=True)


def decide_a_few(env: dict[str, str], trace: Path, window: tuple[int, int, int, int]) -> None:
    """Give the review window something to show: accept this ghost (Tab), dismiss the next one (Esc)."""
    subprocess.run(["xdotool", "key", "Tab"], env=env, check=True)
    wait(lambda: not (trace_tail(trace) or {}).get("shown"), "the accepted ghost to go", 20)
    with contextlib.suppress(SystemExit):  # a second ghost is a bonus for the review shot
        drive_until_ghost(env, trace, window)
        subprocess.run(["xdotool", "key", "Escape"], env=env, check=True)
    time.sleep(4.0)  # decisions are logged once their 3 s correction window closes


def shot_review(env: dict[str, str], home: Path, out: Path) -> None:
    """`ghostpilot review` over the log the overlay shot just wrote: real ghosts over real frames."""
    command = [sys.executable, "-m", "ui.cli", "review", "--database", str(home / "log.db")]
    app = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    try:
        window = wait(lambda: window_ids(env, "review suggestions"), "the review window")[0]
        subprocess.run(["xdotool", "windowmove", window, "40", "0"], env=env, check=True)
        time.sleep(1.5)  # thumbnails and plots paint
        x, y, width, height = geometry(env, window)
        grab(env, (x, y, x + width, y + height), out / "review.png")
    finally:
        app.terminate()
        app.wait(timeout=20)


def raise_overlay(env: dict[str, str]) -> None:
    """A bare X server has no window manager to keep the overlay (WindowStaysOnTopHint) above the practice
    window, which was mapped after it: raise it by hand, as a desktop's window manager would."""
    for window in window_ids(env, "Ghostpilot overlay"):
        subprocess.run(["xdotool", "windowraise", window], env=env, check=True)
    time.sleep(0.5)  # the compositor repaints


def moved(env: dict[str, str], window: str) -> tuple[int, int, int, int] | None:
    box = geometry(env, window)
    return box if box[:2] == DEMO_AT else None


def drive_until_ghost(env: dict[str, str], trace: Path, window: tuple[int, int, int, int]) -> dict[str, Any]:
    """Sweep across the form, as a user heading for a control would, until the trace shows a settled ghost.
    A ghost with a click is preferred; after SWEEPS tries a key ghost (typed keys near the pointer) will do."""
    x, y, width, height = window
    for attempt in range(2 * SWEEPS):
        if attempt % 3 == 0:  # a click on the list now and then: users click, and the model has seen one
            subprocess.run(["xdotool", "mousemove", str(x + width - 120), str(y + height - 120), "click", "1"],
                           env=env, check=True)  # fmt: skip
            time.sleep(0.3)
        start = (x + 20 + (41 * attempt) % (width // 3), y + 30 + (23 * attempt) % (height // 3))
        for i in range(25):
            point = (start[0] + 18 * i, start[1] + 9 * i)
            subprocess.run(["xdotool", "mousemove", str(point[0]), str(point[1])], env=env, check=True)
            time.sleep(0.02)
        time.sleep(0.5)
        ghost = trace_tail(trace)
        if ghost and ghost.get("shown") and (ghost.get("click") or attempt >= SWEEPS):
            time.sleep(3.0)  # the model runs only while input is recent: after this the ghost stays put
            settled = trace_tail(trace)
            if settled and settled.get("shown") and (settled.get("click") or attempt >= SWEEPS):
                return {**settled, "pointer": point}
    raise SystemExit(f"screenshots: no ghost after {2 * SWEEPS} sweeps (trace ends {trace_tail(trace)})")


def shot_qt(env: dict[str, str], what: str, out: Path) -> None:
    """Run this script's Qt part (`--qt WHAT`) on the display: it shows the real widget, then grabs it."""
    subprocess.run([sys.executable, __file__, "--qt", what, "--out", str(out)], cwd=ROOT, env=env, check=True)


def qt_main(what: str, out: Path) -> None:
    """Inside the display: show the real tray menu or settings window, grab it from the screen, exit."""
    sys.path.insert(0, str(ROOT))
    from PySide6.QtCore import QPoint, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    shown: list[Any] = []
    if what == "tray-menu":
        from app.ghost import GhostView
        from ui.tray import TrayCommands, TrayController

        commands = TrayCommands(lambda: None, lambda _s: None, lambda: None, lambda: Path.home(), app.quit)
        tray = TrayController(commands, use_tray=False)
        tray.set_view(GhostView(status="suggesting"))
        tray.menu.popup(QPoint(420, 80))
        snooze = next(a for a in tray.menu.actions() if a.menu() is not None)
        QTimer.singleShot(300, lambda: tray.menu.setActiveAction(snooze))
        shown += [tray, tray.menu]
        widgets = lambda: [tray.menu, snooze.menu()]  # noqa: E731
    else:
        from app.settings import Settings
        from ui.settings_window import SettingsWindow

        window = SettingsWindow(Settings())  # never saved; XDG points at a temporary home
        window.move(360, 20)
        window.show()
        shown.append(window)
        widgets = lambda: [window]  # noqa: E731

    def capture() -> None:
        from PIL import Image

        visible = [w for w in widgets() if w is not None and w.isVisible()]
        rects = [w.frameGeometry() for w in visible]
        left, top = min(r.left() for r in rects) - 24, min(r.top() for r in rects) - 24
        right, bottom = max(r.right() for r in rects) + 24, max(r.bottom() for r in rects) + 24
        pixmap = app.primaryScreen().grabWindow(0, left, top, right - left, bottom - top)
        path = out / f"{what}.png"
        pixmap.save(str(path.with_suffix(".raw.png")))
        save_small(Image.open(path.with_suffix(".raw.png")), path)
        path.with_suffix(".raw.png").unlink()
        app.quit()

    QTimer.singleShot(1500, capture)
    app.exec()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--only", choices=("overlay", "review", "goal", "tray-menu", "settings"), default=None)
    parser.add_argument("--qt", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.qt:
        qt_main(args.qt, args.out)
        return 0
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        print(f"screenshots: needs {', '.join(missing)} (apt-get install xvfb xcompmgr xterm xdotool)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ghostpilot-shots-") as tmp, desktop(Path(tmp)) as env:
        if args.only in (None, "overlay", "review"):
            shot_overlay(env, Path(tmp), args.out)
            shot_review(env, Path(tmp), args.out)
        if args.only in (None, "goal"):
            shot_goal(env, Path(tmp), args.out)
        for what in ("tray-menu", "settings"):
            if args.only in (None, what):
                shot_qt(env, what, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
