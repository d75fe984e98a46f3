"""The desktop app: the Qt main thread hosts the overlay (and the practice window); the copilot runs beside it.

The core (app/live.py) knows nothing of Qt: it hands each GhostView to `on_view` from its loop thread, and a
queued signal carries it to the overlay on the GUI thread, the way napari's views subscribe to their models.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from app.live import LiveCopilot, RunOptions, start_live
from app.settings import Settings
from inference.errors import GhostpilotError


class CoreBridge(QObject):
    """Thread-safe hand-off from the copilot's loop thread to Qt (queued connections)."""

    view = Signal(object)
    notice = Signal(str)
    prompt = Signal(object)  # open the goal prompt, given the current goal (str | None)
    settings = Signal(object)  # the settings file changed on disk (app.settings.SettingsWatcher's thread)


def run_app(options: RunOptions, demo: bool = False) -> int:
    """Run the copilot with its overlay until Ctrl+C in the terminal or the app quits."""
    from ui.overlay import GhostOverlay
    from ui.prompt import GoalPrompt

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Ghostpilot")
    app.setQuitOnLastWindowClosed(False)
    if not _ask_consent(options):
        return 0
    bridge = CoreBridge()
    bridge.notice.connect(lambda text: print(f"ghostpilot: {text}", file=sys.stderr, flush=True))
    live = start_live(options, on_view=bridge.view.emit, on_notice=bridge.notice.emit, on_prompt=bridge.prompt.emit)
    watch = _watch_display(live)
    try:
        overlay = GhostOverlay(style="translucent" if live.compositor else "outline")
        bridge.view.connect(overlay.set_view)
        overlay.show()
        prompt = GoalPrompt(on_done=live.copilot.prompt_closed)
        bridge.prompt.connect(prompt.open_at)
        windows: list[Any] = [overlay, prompt, _open_tray(app, bridge, live, options.settings)]
        if demo:
            windows.append(_open_demo(app))
        width, height = live.screen
        style = "translucent" if live.compositor else "outline (no compositor)"
        print(
            f"ghostpilot: watching {width}x{height} with {live.predictor.name} on {live.predictor.provider}, "
            f"{style} ghosts; Tab accepts, Esc dismisses; Ctrl+C stops",
            flush=True,
        )
        _quit_on_sigint(app)
        return int(app.exec())
    finally:
        watch.stop()
        live.stop()


def _watch_display(live: LiveCopilot) -> Any:
    """A lost X server ends the app with one line (app/display_watch.py), also when Qt's xcb plugin sees it
    first: its "connection broke" warning comes right before it calls exit(1), so we exit cleanly there."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    from app.display_watch import DisplayWatch

    watch = DisplayWatch(live.stop)
    watch.start()

    def on_qt_message(mode: QtMsgType, context: Any, message: str) -> None:
        if "X11 connection broke" in message:
            watch.lost()
        else:
            print(message, file=sys.stderr, flush=True)

    qInstallMessageHandler(on_qt_message)
    return watch


def _data_folder(settings: Settings) -> Path:
    from app.paths import data_dir

    return Path(settings.data_dir).expanduser() if settings.data_dir else data_dir()


def _ask_consent(options: RunOptions) -> bool:
    """First run: ask before anything is stored (False: the user quit). An explicit --database is a choice."""
    from app.consent import read_consent

    consent = read_consent()
    if consent is None and options.store and options.database is None:
        from ui.first_run import run_first_run

        if run_first_run(_data_folder(options.settings)) == "quit":
            return False
        consent = read_consent()
    if consent is not None and not consent.logging and options.database is None:
        options.store = False  # as --no-log: suggestions without a record
    return True


def _open_tray(app: QApplication, bridge: CoreBridge, live: LiveCopilot, settings: Settings) -> Any:
    """The tray and its settings window; saved settings apply to the running copilot."""
    from ui.settings_window import SettingsWindow
    from ui.tray import TrayCommands, TrayController

    current = [settings]
    windows: list[SettingsWindow] = []

    def saved(new: Settings) -> None:
        if new != current[0]:
            apply_to_live(live, current[0], new, bridge.notice.emit)
            current[0] = new

    bridge.settings.connect(saved)
    _watch_settings_file(app, bridge)

    def open_settings() -> None:
        if not windows:
            windows.append(SettingsWindow(current[0], on_saved=saved))
        windows[0].load(current[0])
        windows[0].show()
        windows[0].raise_()

    commands = TrayCommands(
        pause=lambda: live.copilot.command("pause"),
        snooze=live.copilot.snooze,
        open_settings=open_settings,
        data_folder=lambda: _data_folder(current[0]),
        quit=app.quit,
        open_review=_review_opener(live, current[0]),
        set_goal=live.copilot.open_prompt,
        clear_goal=lambda: live.copilot.set_goal(None),
    )
    tray = TrayController(commands, parent=app)
    _wire_finetune(tray, live, current[0])
    bridge.view.connect(tray.set_view)
    if tray.tray is None:
        bridge.notice.emit("no system tray on this desktop: pause with Ctrl+Alt+G, quit with Ctrl+C")
    tray.show()
    return tray


def _watch_settings_file(app: QApplication, bridge: CoreBridge) -> None:
    """Edits to the settings file by hand apply like the settings window's (docs/settings.md); a broken edit
    keeps the running settings and says why in one line."""
    from app.settings import SettingsWatcher

    def rejected(exc: GhostpilotError) -> None:
        bridge.notice.emit(f"settings file not applied: {exc.message}")

    try:
        watcher = SettingsWatcher(on_change=bridge.settings.emit, on_error=rejected)
    except GhostpilotError as exc:  # the file was broken at start: run_app already said so
        bridge.notice.emit(f"settings file not watched: {exc.message}")
        return
    watcher.start()
    app.aboutToQuit.connect(watcher.stop)


def _wire_finetune(tray: Any, live: LiveCopilot, settings: Settings) -> None:
    """Tray > Fine-tune: a background job on this run's log (ui/finetune.py); without torch, the item says so."""
    from app.store import LOG_NAME
    from app.swap import FinetuneJob
    from ui.finetune import FinetuneRunner, FinetuneWindow, missing_requirement

    why = missing_requirement()
    if why:
        tray.unavailable("fine-tune", why)
        return

    def job() -> FinetuneJob:  # the log this run writes now (a data-location change moves it)
        store = _live_store(live)
        return FinetuneJob(database=store.path if store is not None else _data_folder(settings) / LOG_NAME)

    def flush() -> Any:
        store = _live_store(live)
        return store.flush() if store is not None else None

    switcher = getattr(live, "switcher", None)
    window = FinetuneWindow(FinetuneRunner(job, flush), pinned=lambda: _pinned_model(switcher))
    if switcher is not None:  # a swapped-in model is taken at once, not at the next registry poll
        window.runner.finished.connect(lambda _outcome: switcher.check_registry())
    tray.windows.append(window)  # lives as long as the tray
    tray.enable("fine-tune", window.start)


def _live_store(live: LiveCopilot) -> Any:
    """The store the running copilot logs to now, or None without logging."""
    return getattr(live.copilot.parts.logbook, "store", None)


def _pinned_model(switcher: Any) -> str | None:
    """The model the user pinned (settings or --model), which a registry swap does not replace; None: none."""
    return None if switcher is None else switcher.source.choice.spec


def _review_opener(live: LiveCopilot, settings: Settings) -> Any:
    """The review window reads this run's log (deleting through its writer), else the data folder's log; after
    the log moved (a new data location) the next click opens a window on the new one."""
    from app.store import LOG_NAME
    from ui.review import ReviewOpener

    def where() -> tuple[Path, Any]:
        store = _live_store(live)
        return (store.path if store is not None else _data_folder(settings) / LOG_NAME), store

    opener = ReviewOpener(*where())

    def open_review() -> None:
        path, store = where()
        if (path, store) != (opener.path, opener.store):
            if opener.window is not None:
                opener.window.close()
            opener.path, opener.store, opener.window = path, store, None
        opener()

    return open_review


def apply_to_live(live: LiveCopilot, old: Settings, new: Settings, on_notice: Any) -> None:
    """Without a restart: the core takes threshold, fps and deny-list; new keys restart the key grabber, a
    new fps restarts the screen capture; a new model or device is loaded in the background and swapped in by
    the copilot's loop (app/model_switch.py); new retention limits apply now and a new data location moves the
    log (app/live_log.py). Each reports its outcome through `on_notice`."""
    live.copilot.apply_settings(new)
    try:
        _restart_changed_parts(live, old, new, on_notice)
    except GhostpilotError as exc:
        on_notice(f"settings saved, but {exc.message}")
    if live.switcher is not None:
        live.switcher.apply_settings(new)
    if live.log is not None:
        live.log.apply_settings(new)


def _restart_changed_parts(live: LiveCopilot, old: Settings, new: Settings, on_notice: Any) -> None:
    from app.live import KEY_ACTIONS, command_keys

    parts = live.copilot.parts
    if new.keys != old.keys and parts.hotkeys is not None:
        from app.hotkeys import HotkeyGrabber

        bindings = {action: getattr(new.keys, key) for key, action in KEY_ACTIONS.items()}
        grabber = HotkeyGrabber(live.copilot.command, bindings, on_notice=on_notice)
        parts.hotkeys.stop()  # type: ignore[attr-defined]
        grabber.start()
        if live.copilot.goal is not None:
            grabber.goal_keys(True)  # the clear-goal key is held while a goal is set
        parts.command_keys = command_keys(new)
        parts.hotkeys = grabber
        live.stoppers.append(grabber.stop)
    if new.capture_fps != old.capture_fps and parts.capture is not None:
        from app.capture import ScreenCapture

        capture = ScreenCapture(new.capture_fps, clock=parts.clock)
        capture.start()
        previous, parts.capture = parts.capture, capture
        previous.stop()  # type: ignore[attr-defined]
        live.stoppers.append(capture.stop)


def _open_demo(app: QApplication) -> Any:
    from ui.demo import DemoWindow

    window = DemoWindow()
    window.show()
    window.raise_()
    window.activateWindow()
    return window


def _quit_on_sigint(app: QApplication) -> None:
    """Ctrl+C in the terminal quits cleanly: Python handles signals only when Qt lets it run."""
    signal.signal(signal.SIGINT, lambda *_: app.quit())
    signal.signal(signal.SIGTERM, lambda *_: app.quit())
    timer = QTimer(app)
    timer.timeout.connect(lambda: None)
    timer.start(200)


__all__ = ["GhostpilotError", "run_app"]
