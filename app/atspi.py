"""Password fields as Linux's accessibility layer (AT-SPI) reports them, for the privacy guard (docs/privacy.md).

Why: the window-title heuristic misses a password field inside an ordinary window (a browser's login form, an
app's sign-in page). Applications that speak AT-SPI announce every focus change on the accessibility bus, and
their password inputs have the role ROLE_PASSWORD_TEXT, whatever the window is called.

`AtspiPasswordDetector` listens on its own thread with its own D-Bus connection (jeepney, blocking I/O) and
keeps one small record: the focused accessible, its role and its process. The guard's `secret_input(window)`
only reads that record, so a slow or hung application can never stall the guard; each change calls the guard
back so it re-judges at once instead of at its next poll. Without a session bus, an accessibility bus or
jeepney it stays quiet (None) and says so in `status`. No Qt here.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from app.x11 import WindowInfo

ROLE_PASSWORD_TEXT = 40  # AtspiRole; the "protected" notion of other toolkits is exactly this role here
STATE_FOCUSED = 12  # AtspiStateType bit; note STATE_SENSITIVE (24) means "enabled", not "secret"
REASON = "password field (AT-SPI)"
CALL_TIMEOUT_S = 0.5  # one D-Bus round trip to an application; a hung one only leaves the record unknown
RECEIVE_S = 0.25  # how often the listener looks at its stop flag
RETRY_S = 10.0  # a missing or lost accessibility bus is looked for again this often

STATUS_STARTING = "AT-SPI: starting"
STATUS_ON = "AT-SPI: watching the focused widget on the accessibility bus"
STATUS_OFF = "AT-SPI: not running; password fields are recognised by window title only"
STATUS_NO_JEEPNEY = "AT-SPI: jeepney is not installed; password fields are recognised by window title only"

ACCESSIBLE = "org.a11y.atspi.Accessible"
EVENT_OBJECT, EVENT_FOCUS, EVENT_WINDOW = (f"org.a11y.atspi.Event.{n}" for n in ("Object", "Focus", "Window"))
REGISTRY = ("/org/a11y/atspi/registry", "org.a11y.atspi.Registry", "org.a11y.atspi.Registry")
BUS_LAUNCHER = ("/org/a11y/bus", "org.a11y.Bus", "org.a11y.Bus")
# What applications should send us: GTK's bridge emits only events some listener registered for.
EVENTS = (
    "object:state-changed:focused", "focus:", "object:property-change:accessible-role",
    "window:activate", "window:deactivate",
)  # fmt: skip
# (interface, member, arg0) of the signals the bus should route to us; arg0 None: any
SIGNALS = (
    (EVENT_OBJECT, "StateChanged", "focused"),
    (EVENT_FOCUS, "Focus", None),
    (EVENT_OBJECT, "PropertyChange", "accessible-role"),
    (EVENT_WINDOW, "Activate", None),
    (EVENT_WINDOW, "Deactivate", None),
)


# ---- pure logic ----


def decode_states(words: Sequence[int]) -> frozenset[int]:
    """An AT-SPI state set (`GetState`: uint32 words, state n is bit n % 32 of word n // 32) as state numbers."""
    return frozenset(i * 32 + bit for i, word in enumerate(words) for bit in range(32) if int(word) >> bit & 1)


def classify(interface: str, member: str, body: Sequence[Any]) -> str | None:
    """What a signal means for the focus record: "focus", "blur", "role", "activate", "deactivate", or None.

    Toolkits differ: Qt sends both `StateChanged("focused", 1)` and the older `Focus`; GTK the first."""
    kind = body[0] if body and isinstance(body[0], str) else ""
    detail1 = body[1] if len(body) > 1 and isinstance(body[1], int) else 0
    if interface == EVENT_FOCUS and member == "Focus":
        return "focus"
    if interface == EVENT_OBJECT and member == "StateChanged" and kind == "focused":
        return "focus" if detail1 else "blur"
    if interface == EVENT_OBJECT and member == "PropertyChange" and kind == "accessible-role":
        return "role"  # e.g. a "show password" toggle turned the field into plain text
    if interface == EVENT_WINDOW and member in ("Activate", "Deactivate"):
        return member.lower()
    return None


def same_process(window_pid: int | None, app_pid: int | None) -> bool:
    """Whether the focused X window and the focused accessible belong to one process; unknown counts as yes
    (privacy first: a window without _NET_WM_PID, an application behind a D-Bus proxy)."""
    return window_pid is None or app_pid is None or window_pid == app_pid


def usable_pid(pid: int | None, command: str | None) -> int | None:
    """The bus peer's pid, or None when it is a proxy rather than the application (Flatpak's xdg-dbus-proxy:
    the sandboxed app's own pid lives in another namespace and cannot be compared)."""
    return None if pid is None or command == "xdg-dbus-proxy" else pid


def find_bus_address(
    env: Mapping[str, str], session: Callable[[], str | None], x_root: Callable[[], str | None]
) -> str | None:
    """Where the accessibility bus listens: `AT_SPI_BUS_ADDRESS` (an explicit override), then the session bus's
    `org.a11y.Bus.GetAddress`, then the `AT_SPI_BUS` root-window property the launcher sets (no session bus)."""
    if env.get("AT_SPI_BUS_ADDRESS"):
        return env["AT_SPI_BUS_ADDRESS"]
    for lookup in (session, x_root):
        try:
            address = lookup()
        except Exception:  # no session bus, no launcher, no X: try the next source
            continue
        if address:
            return address
    return None


@dataclass(frozen=True)
class Focus:
    """The focused accessible as last announced: who (bus name), which object, what it is."""

    sender: str  # the application's unique name on the accessibility bus
    path: str
    role: int | None = None  # None until the application answers GetRole
    pid: int | None = None
    window: str | None = None  # the application's active window (object path) when focus arrived
    active: bool = True  # False once that window is deactivated (Qt keeps FOCUSED on the widget then)

    @property
    def secret(self) -> bool:
        return self.active and self.role == ROLE_PASSWORD_TEXT


def follow(focus: Focus | None, kind: str, sender: str, path: str, windows: dict[str, str]) -> Focus | None:
    """The record after a window or blur signal (focus and role signals need a GetRole first)."""
    if kind == "activate":
        windows[sender] = path
    if focus is None or focus.sender != sender:
        return focus
    if kind == "blur":
        return None if focus.path == path else focus
    if kind in ("activate", "deactivate") and focus.window in (None, path):
        return replace(focus, active=kind == "activate")
    return focus


# ---- D-Bus (jeepney, only on the listener thread and in `diagnose`) ----


def _call(
    conn: Any, target: tuple[str, str, str], method: str, args: tuple[str, tuple] = ("", ()), timeout: float = 0.0
) -> Any:
    """One method call's reply body, or None on an error reply or a timeout."""
    from jeepney import DBusAddress, MessageType, new_method_call

    signature, body = args
    message = new_method_call(DBusAddress(*target), method, signature or None, body)
    try:
        reply = conn.send_and_get_reply(message, timeout=timeout or CALL_TIMEOUT_S)
    except TimeoutError:
        return None
    return None if reply.header.message_type == MessageType.error else reply.body


def _ask_launcher(interface: str, method: str, args: tuple[str, tuple] = ("", ())) -> Any:
    """A call to the accessibility bus launcher on the session bus, None without one. NO_AUTO_START: Ghostpilot
    uses the accessibility bus the desktop runs; it does not start one."""
    from jeepney import DBusAddress, MessageFlag, MessageType, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return None
    with open_dbus_connection("SESSION", auth_timeout=CALL_TIMEOUT_S) as conn:
        message = new_method_call(DBusAddress(BUS_LAUNCHER[0], BUS_LAUNCHER[1], interface), method, *args)
        message.header.flags |= MessageFlag.no_auto_start
        reply = conn.send_and_get_reply(message, timeout=CALL_TIMEOUT_S * 4)
        return None if reply.header.message_type == MessageType.error else reply.body


def _session_address() -> str | None:
    body = _ask_launcher(BUS_LAUNCHER[2], "GetAddress")
    return str(body[0]) if body else None


def _x_root_address() -> str | None:
    from app.x11 import root_property

    return root_property("AT_SPI_BUS") if os.environ.get("DISPLAY") else None


def bus_address() -> str | None:
    return find_bus_address(os.environ, _session_address, _x_root_address)


def _process_name(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/comm") as comm:
            return comm.read().strip()
    except OSError:
        return None


def open_listener(address: str) -> tuple[Any, deque[Any], Any]:
    """A connection to the accessibility bus that receives focus signals into the returned queue."""
    from jeepney import MatchRule, message_bus
    from jeepney.io.blocking import Proxy, open_dbus_connection

    conn = open_dbus_connection(address, auth_timeout=CALL_TIMEOUT_S * 4)
    try:
        queue: deque[Any] = deque(maxlen=1000)
        handle = conn.filter(MatchRule(type="signal"), queue=queue)  # before AddMatch: nothing slips past
        bus = Proxy(message_bus, conn, timeout=CALL_TIMEOUT_S * 4)
        for interface, member, arg0 in SIGNALS:
            rule = MatchRule(type="signal", interface=interface, member=member)
            if arg0 is not None:
                rule.add_arg_condition(0, arg0)
            bus.AddMatch(rule)
        bus.AddMatch(MatchRule(type="signal", sender="org.freedesktop.DBus", member="NameOwnerChanged"))
        for event in EVENTS:  # the bus starts the registry if needed; without one Qt still sends, GTK does not
            _call(conn, REGISTRY, "RegisterEvent", ("sass", (event, [], "")), timeout=CALL_TIMEOUT_S * 4)
    except BaseException:
        conn.close()
        raise
    return conn, queue, handle


def _session_flag(name: str) -> bool | None:
    """An org.a11y.Status property (IsEnabled, ScreenReaderEnabled), None when unreadable."""
    body = _ask_launcher("org.freedesktop.DBus.Properties", "Get", ("ss", ("org.a11y.Status", name)))
    return bool(body[0][1]) if body else None


FIX_OFF = "install at-spi2-core and use a desktop session that starts its bus (at-spi-dbus-bus.service)"
FIX_DISABLED = "turn on desktop accessibility: gsettings set org.gnome.desktop.interface toolkit-accessibility true"


def diagnose() -> tuple[str, str, str]:
    """`ghostpilot doctor`'s (status, detail, fix): is there an accessibility bus whose registry answers, and
    is accessibility on (Qt applications and browsers build their accessible tree only then)."""
    if not sys.platform.startswith("linux"):
        return "warn", f"recognised by window title only on {sys.platform}", ""
    try:
        from jeepney.io.blocking import open_dbus_connection
    except ImportError:
        return "warn", STATUS_NO_JEEPNEY, "pip install 'jeepney>=0.8'"
    address = bus_address()
    if address is None:
        return "warn", STATUS_OFF, FIX_OFF
    try:
        with open_dbus_connection(address, auth_timeout=CALL_TIMEOUT_S * 4) as conn:
            answered = _call(conn, REGISTRY, "GetRegisteredEvents", timeout=CALL_TIMEOUT_S * 4) is not None
    except Exception:  # a stale address (the AT_SPI_BUS property of a bus that is gone)
        answered = False
    if not answered:
        return "warn", STATUS_OFF, FIX_OFF
    try:
        enabled = _session_flag("IsEnabled") or _session_flag("ScreenReaderEnabled")
    except Exception:
        enabled = None
    if enabled is False:
        detail = "AT-SPI runs but accessibility is off: GTK applications report password fields, Qt ones and "
        return "warn", detail + "browsers only when it is on", FIX_DISABLED
    return "ok", "AT-SPI runs: password fields are recognised in applications that support accessibility", ""


class AtspiPasswordDetector:
    """A `PasswordDetector` fed by AT-SPI focus signals. `start(on_change)` and `stop()` run its listener
    thread (the guard does both); `secret_input` reads the latest record and never waits."""

    def __init__(self, on_change: Callable[[], None] | None = None, address: str | None = None) -> None:
        self.on_change: Callable[[], None] = on_change or (lambda: None)
        self.status = STATUS_STARTING
        self._address = address  # None: find it (bus_address) on every connection attempt
        self._focus: Focus | None = None
        self._windows: dict[str, str] = {}  # application -> its active window's path
        self._pids: dict[str, int | None] = {}  # application -> process id (unique names are never reused)
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._settled = threading.Event()  # the first connection attempt is over, either way
        self._thread: threading.Thread | None = None

    # ----- the guard's side: reads only -----
    def secret_input(self, window: WindowInfo) -> str | None:
        focus = self._focus
        if focus is None or not focus.secret or not same_process(window.pid, focus.pid):
            return None
        return REASON

    @property
    def focus(self) -> Focus | None:
        return self._focus

    def wait_settled(self, timeout: float) -> bool:
        """Wait for the first connection attempt; True when it is listening."""
        self._settled.wait(timeout)
        return self._listening.is_set()

    def start(self, on_change: Callable[[], None] | None = None) -> None:
        if on_change is not None:
            self.on_change = on_change
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="ghostpilot-atspi", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(CALL_TIMEOUT_S * 8)

    # ----- the listener thread -----
    def _run(self) -> None:
        try:
            import jeepney  # noqa: F401
        except ImportError:
            self.status = STATUS_NO_JEEPNEY
            self._settled.set()
            return
        while not self._stop.is_set():
            try:
                address = self._address or bus_address()
                conn, queue, _handle = open_listener(address) if address else (None, None, None)
            except Exception:  # no bus there (a stale address), or it refused us
                conn = None
            if conn is None or queue is None:
                self.status = STATUS_OFF
                self._settled.set()
                self._stop.wait(RETRY_S)
                continue
            self._serve(conn, queue)

    def _serve(self, conn: Any, queue: deque[Any]) -> None:
        """Handle signals until stopped or the bus goes away; then forget everything it said."""
        self.status = STATUS_ON
        self._listening.set()
        self._settled.set()
        try:
            while not self._stop.is_set():
                try:
                    message = conn.recv_until_filtered(queue, timeout=RECEIVE_S)
                except TimeoutError:
                    continue
                self._handle(conn, message)
        except Exception:  # the bus went away (or sent what we cannot parse): look for it again later
            self.status = STATUS_OFF
            self._stop.wait(RETRY_S)
        finally:
            self._listening.clear()
            conn.close()
            self._windows.clear()
            self._pids.clear()
            self._set(None)

    def _handle(self, conn: Any, message: Any) -> None:
        from jeepney import HeaderFields

        fields = message.header.fields
        sender, path = str(fields.get(HeaderFields.sender, "")), str(fields.get(HeaderFields.path, ""))
        member = str(fields.get(HeaderFields.member, ""))
        if member == "NameOwnerChanged":
            name, _old, new = message.body
            if not new:  # an application left the bus
                self._forget(name)
            return
        kind = classify(str(fields.get(HeaderFields.interface, "")), member, message.body)
        focus = self._focus
        here = focus is not None and (focus.sender, focus.path) == (sender, path)
        if kind == "focus" and here and focus is not None and focus.role is not None:
            self._set(replace(focus, active=True))  # Qt announces one focus twice (StateChanged and Focus)
        elif kind == "focus" or (kind == "role" and here):
            self._set(self._describe(conn, sender, path))
        elif kind in ("blur", "activate", "deactivate"):
            self._set(follow(focus, kind, sender, path, self._windows))

    def _describe(self, conn: Any, sender: str, path: str) -> Focus:
        """Ask the application what the newly focused object is (the old record stands meanwhile)."""
        reply = _call(conn, (path, sender, ACCESSIBLE), "GetRole")
        role = int(reply[0]) if reply else None
        return Focus(sender, path, role, self._pid(conn, sender), self._windows.get(sender))

    def _pid(self, conn: Any, sender: str) -> int | None:
        if sender not in self._pids:
            bus = ("/org/freedesktop/DBus", "org.freedesktop.DBus", "org.freedesktop.DBus")
            reply = _call(conn, bus, "GetConnectionUnixProcessID", ("s", (sender,)))
            pid = int(reply[0]) if reply else None
            self._pids[sender] = usable_pid(pid, _process_name(pid) if pid else None)
        return self._pids[sender]

    def _forget(self, name: str) -> None:
        self._pids.pop(name, None)
        self._windows.pop(name, None)
        if self._focus is not None and self._focus.sender == name:
            self._set(None)

    def _set(self, focus: Focus | None) -> None:
        """Replace the record; tell the guard when what it would conclude changes."""
        before, self._focus = self._focus, focus
        if _verdict(before) != _verdict(focus):
            with contextlib.suppress(Exception):  # the guard's own trouble must not end the listener
                self.on_change()


def _verdict(focus: Focus | None) -> tuple[bool, int | None]:
    return (True, focus.pid) if focus is not None and focus.secret else (False, None)
