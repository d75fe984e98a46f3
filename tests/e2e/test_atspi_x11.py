"""Password fields found through AT-SPI, end to end: a private session bus and accessibility bus on Xvfb, a real
Qt sign-in window (tests/e2e/login_app.py: a text field and a password field, a title that names no password).

First the detector inside a real PrivacyGuard: focusing the password field (a click, or Tab) makes the guard
private with the AT-SPI reason, the text field does not. Then the real copilot (`ghostpilot run`, as in
test_deny_list_x11.py): a canary typed into the password field is in no file the run wrote (database, WAL,
export, temp files), while a word typed into the text field is in the database, so the search can fail.
Skipped only when dbus-daemon or at-spi-bus-launcher is not installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from tests.e2e.test_deny_list_x11 import KEY_DOWN, Run, export_jsonl, lines, logged_text, running_copilot, xdotool
from tests.e2e.waiting import poll, wait_for

ROOT = Path(__file__).resolve().parents[2]
LOGIN_APP = Path(__file__).with_name("login_app.py")
LAUNCHERS = (
    "/usr/libexec/at-spi-bus-launcher",
    "/usr/lib/at-spi2-core/at-spi-bus-launcher",
    "/usr/lib/at-spi-bus-launcher",
)
CANARY = "zq8wfm3ktx5v"  # no letter twice in a row (see test_deny_list_x11.spelled)
CONTROL = "hjd4nrpc"  # typed into the ordinary field: must be logged (no letter shared with the canary)
TYPING_GAP_S = 2.0  # consecutive keys of one typed word are at most this far apart in a log


def typed_in(data: bytes, text: str) -> bool:
    """Whether the key.down events in these bytes spell `text` in time order, other keys allowed in between
    (ghosts' predicted keys and corrections interleave with logged keys when all are sorted by time)."""
    presses = sorted({(float(t), key.decode("utf-8", "replace")) for t, key in KEY_DOWN.findall(data)})
    ends: dict[int, float] = {}  # matched prefix length -> time of its last key (the latest such match)
    for t, key in presses:
        for length in range(len(text) - 1, -1, -1):
            if key == text[length] and (length == 0 or (length in ends and t - ends[length] <= TYPING_GAP_S)):
                ends[length + 1] = t
    return len(text) in ends


def leaks(root: Path, text: str) -> list[str]:
    """Files under `root` holding `text`: as text (UTF-8, UTF-16) or typed out as logged key events."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if text.encode() in data or text.encode("utf-16-le") in data or typed_in(data, text):
            found.append(str(path.relative_to(root)))
    return found


@dataclass(frozen=True)
class Buses:
    session: str  # DBUS_SESSION_BUS_ADDRESS of the private session bus
    runtime_dir: Path  # XDG_RUNTIME_DIR: the accessibility bus's socket lives here


def accessibility_address(session: str) -> str | None:
    """org.a11y.Bus.GetAddress on that session bus, None until the launcher has registered."""
    from jeepney import DBusAddress, MessageType, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    launcher = DBusAddress("/org/a11y/bus", "org.a11y.Bus", "org.a11y.Bus")
    with open_dbus_connection(session) as conn:
        reply = conn.send_and_get_reply(new_method_call(launcher, "GetAddress"), timeout=2)
    return None if reply.header.message_type == MessageType.error else str(reply.body[0])


def registered_pids() -> set[int]:
    """Processes of the applications the AT-SPI registry knows (Qt registers its bridge some time after the
    window shows; focus signals come only after that)."""
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    from app.atspi import bus_address

    root = DBusAddress("/org/a11y/atspi/accessible/root", "org.a11y.atspi.Registry", "org.a11y.atspi.Accessible")
    bus = DBusAddress("/org/freedesktop/DBus", "org.freedesktop.DBus", "org.freedesktop.DBus")
    with open_dbus_connection(bus_address()) as conn:
        children = conn.send_and_get_reply(new_method_call(root, "GetChildren"), timeout=2).body[0]
        pids = set()
        for name, _path in children:
            reply = conn.send_and_get_reply(new_method_call(bus, "GetConnectionUnixProcessID", "s", (name,)), timeout=2)
            pids.update(int(pid) for pid in reply.body[:1])
    return pids


@pytest.fixture(scope="module")
def buses(x_display: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Buses]:
    """A session bus and the AT-SPI bus launcher on it (which runs the accessibility bus; that bus starts the
    registry on first use). Stopped by their own handles: the launcher takes its bus and registry with it."""
    launcher = next((path for path in LAUNCHERS if os.access(path, os.X_OK)), None)
    if shutil.which("dbus-daemon") is None or launcher is None:
        pytest.skip("dbus-daemon and at-spi-bus-launcher are needed (apt-get install dbus at-spi2-core)")
    home = tmp_path_factory.mktemp("a11y-home")
    runtime = home / "runtime"
    runtime.mkdir(mode=0o700)
    env = {**os.environ, "DISPLAY": x_display, "XDG_RUNTIME_DIR": str(runtime)}
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        env[name] = str(home / name.lower())
    env["GSETTINGS_BACKEND"] = "memory"  # the launcher stores IsEnabled in GSettings: never in the user's dconf
    env.pop("AT_SPI_BUS_ADDRESS", None)
    command = ["dbus-daemon", "--session", "--nofork", "--print-address=1"]
    session = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert session.stdout is not None
    address = session.stdout.readline().decode().strip()
    env["DBUS_SESSION_BUS_ADDRESS"] = address
    bus_launcher = subprocess.Popen([launcher, "--launch-immediately"], env=env, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: accessibility_address(address), "the accessibility bus", 15)
        yield Buses(address, runtime)
    finally:
        from app.xvfb import stop_process

        stop_process(bus_launcher)  # type: ignore[arg-type]
        stop_process(session)


@pytest.fixture
def a11y_env(buses: Buses, display_env: str, monkeypatch: pytest.MonkeyPatch) -> Buses:
    """This test and what it starts use the private buses."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", buses.session)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(buses.runtime_dir))
    monkeypatch.delenv("AT_SPI_BUS_ADDRESS", raising=False)
    return buses


@dataclass
class Login:
    log: Path
    app: subprocess.Popen[bytes]
    user: tuple[int, int]  # the fields' centres on screen
    password: tuple[int, int]

    def typed(self, field: str) -> str:
        return "".join(r["text"] for r in lines(self.log) if r["event"] == "key" and r["field"] == field)


def click(point: tuple[int, int]) -> None:
    xdotool("mousemove", str(point[0]), str(point[1]), "click", "1")


@pytest.fixture
def login(a11y_env: Buses, tmp_path: Path) -> Iterator[Login]:
    """The sign-in window, focused, with Qt's AT-SPI bridge on; its log lives outside any searched folder."""
    log = tmp_path / "login.jsonl"
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "QT_ACCESSIBILITY": "1", "QT_LINUX_ACCESSIBILITY_ALWAYS_ON": "1"}
    app = subprocess.Popen([sys.executable, str(LOGIN_APP), str(log)], env=env)
    try:
        ready = wait_for(lambda: next((r for r in lines(log) if r["event"] == "ready"), None), "the sign-in window")
        wait_for(lambda: app.pid in registered_pids(), "the sign-in window on the accessibility bus", 15)
        found = subprocess.run(["xdotool", "search", "--sync", "--name", "^Account - Example$"], capture_output=True)
        xdotool("windowfocus", "--sync", found.stdout.split()[0].decode())
        yield Login(log, app, tuple(ready["user"]), tuple(ready["password"]))  # type: ignore[arg-type]
    finally:
        app.terminate()
        app.wait(timeout=10)


def test_the_password_field_is_private_and_the_text_field_is_not(login: Login) -> None:
    from app import x11
    from app.atspi import REASON, STATUS_ON, AtspiPasswordDetector
    from app.privacy import DenyList, PrivacyGuard, TitleClassPasswordHeuristic

    detector = AtspiPasswordDetector()
    changes: list[tuple[bool, str, float]] = []  # (denied, thread, when)

    def changed(state: object) -> None:
        changes.append((bool(getattr(state, "denied", False)), threading.current_thread().name, time.monotonic()))

    guard = PrivacyGuard(DenyList([]), time.monotonic, changed, detectors=(detector, TitleClassPasswordHeuristic()))
    guard.start()
    try:
        assert detector.wait_settled(10) and detector.status == STATUS_ON
        latencies = []
        moves = [(click, login.password), (click, login.user), (xdotool, "key", "Tab"), (xdotool, "key", "Tab")]
        for (move, *args), private in zip(moves, (True, False, True, False), strict=True):
            started = time.monotonic()
            move(*args)
            wait_for(lambda p=private: guard.current().denied is p, f"the guard to say private={private}", 10)  # type: ignore[misc]
            latencies.append(changes[-1][2] - started)
            if private:
                window = x11.focused_window()
                assert window is not None and window.title == "Account - Example"
                assert guard.current().reason == REASON and detector.focus is not None
                assert window.pid == login.app.pid == detector.focus.pid
                assert detector.secret_input(replace(window, pid=os.getpid())) is None  # another program's window
        assert [denied for denied, _, _ in changes] == [True, False, True, False]
        assert "ghostpilot-atspi" in {thread for _, thread, _ in changes}  # re-judged on the signal, not the poll
        print(f"focus change -> guard: {', '.join(f'{s * 1000:.0f} ms' for s in latencies)} (xdotool included)")
    finally:
        guard.stop()
    assert not any(t.name == "ghostpilot-atspi" and t.is_alive() for t in threading.enumerate())


@pytest.fixture
def copilot(login: Login, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Run]:
    """`ghostpilot run` with its data, config, cache and temp dirs inside the searched folder."""
    yield from running_copilot(tmp_path, monkeypatch)


def status(run: Run) -> str | None:
    records = lines(run.trace)
    return records[-1]["status"] if records else None


def focus_password_field(login: Login, run: Run) -> None:
    """Click the password field until the copilot is private (its listener connects on its own thread and can
    miss a click made in its first moments; a click on the text field in between makes the next a change)."""
    for _ in range(3):
        click(login.password)
        if poll(lambda: status(run) == "private", 5.0):
            return
        click(login.user)
    pytest.fail(f"the copilot never went private; it said: {run.console.read_text()[-2000:]}")


def type_control(login: Login, run: Run) -> None:
    """Back in the text field, type a word and wait until it is in the database: by then the copilot has
    processed (and judged) everything typed before it."""
    click(login.user)
    wait_for(lambda: status(run) not in (None, "private"), "the copilot to watch again")
    xdotool("type", "--delay", "40", CONTROL)
    wait_for(lambda: CONTROL in login.typed("user"), "the control word in the text field")
    wait_for(lambda: CONTROL in logged_text(run.database), "the control word in the database", 15)


def assert_nowhere(run: Run, canary: str) -> None:
    assert canary not in logged_text(run.database)
    run.stop()
    export_jsonl(run)
    assert leaks(run.root, canary) == []
    assert "data/ghostpilot.db" in leaks(run.root, CONTROL)  # the search finds what was logged


def test_a_canary_typed_into_a_password_field_is_nowhere(login: Login, copilot: Run) -> None:
    focus_password_field(login, copilot)
    xdotool("type", "--delay", "40", CANARY)
    wait_for(lambda: CANARY in login.typed("password"), "the canary in the password field")
    type_control(login, copilot)
    notices = copilot.console.read_text()
    assert "password field (AT-SPI)" in notices and CANARY not in notices
    assert_nowhere(copilot, CANARY)


def test_typing_at_once_after_the_click_is_still_private(login: Login, copilot: Run) -> None:
    """The focus signal may come after the first keys: typing starts 0.15 s after the click, without waiting
    for the copilot to say private (the guard's lookback and the detector's callback cover it)."""
    focus_password_field(login, copilot)  # once, so the listener is surely connected
    click(login.user)
    wait_for(lambda: status(copilot) not in (None, "private"), "the copilot to watch again")
    x, y = login.password
    xdotool("mousemove", str(x), str(y), "click", "1", "sleep", "0.15", "type", "--delay", "40", CANARY)
    wait_for(lambda: CANARY in login.typed("password"), "the canary in the password field")
    type_control(login, copilot)
    assert_nowhere(copilot, CANARY)


def set_accessibility(on: bool) -> None:
    """org.a11y.Status.IsEnabled, what GNOME's toolkit-accessibility setting (or a screen reader) turns on."""
    from jeepney import DBusAddress, MessageType, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    status = DBusAddress("/org/a11y/bus", "org.a11y.Bus", "org.freedesktop.DBus.Properties")
    with open_dbus_connection("SESSION") as conn:
        message = new_method_call(status, "Set", "ssv", ("org.a11y.Status", "IsEnabled", ("b", on)))
        assert conn.send_and_get_reply(message, timeout=2).header.message_type == MessageType.method_return


def test_doctor_says_whether_accessibility_is_on(a11y_env: Buses) -> None:
    from app.doctor import check_password_fields

    found = check_password_fields(None)  # type: ignore[arg-type]  # the check needs no shared context
    assert found.status == "warn" and "accessibility is off" in found.detail and "gsettings" in found.fix
    set_accessibility(True)
    try:
        found = check_password_fields(None)  # type: ignore[arg-type]
        assert found.status == "ok" and "AT-SPI runs" in found.detail, found
    finally:
        set_accessibility(False)
