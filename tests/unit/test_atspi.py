"""AT-SPI password-field detection, the parts that need no bus: decoding roles, states and signals, matching the
focused accessible's process to the focused window, finding the bus, and staying quiet without one. The real
accessibility bus with a real Qt application runs in tests/e2e/test_atspi_x11.py."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from app.atspi import (
    EVENT_FOCUS,
    EVENT_OBJECT,
    EVENT_WINDOW,
    REASON,
    ROLE_PASSWORD_TEXT,
    STATE_FOCUSED,
    STATUS_OFF,
    AtspiPasswordDetector,
    Focus,
    classify,
    decode_states,
    diagnose,
    find_bus_address,
    follow,
    same_process,
    usable_pid,
)
from app.privacy import DenyList, WatchingDetector, judge
from app.x11 import WindowInfo

QT_TEXT = 61  # what Qt reports for an ordinary QLineEdit (ROLE_TEXT)
REFERENCE = ("(so)", (":1.2", "/org/a11y/atspi/accessible/2147483651"))  # Qt's any_data: the object itself


def window(pid: int | None = 100) -> WindowInfo:
    return WindowInfo(7, "Account - Example", "login_app.py", pid)


def test_state_words_decode_to_state_numbers() -> None:
    # a focused QLineEdit as Qt reports it over D-Bus: two 32-bit words
    states = decode_states([1124080000, 0])
    assert STATE_FOCUSED in states and 24 in states  # SENSITIVE (24) means "enabled", not "secret"
    assert STATE_FOCUSED not in decode_states([1124080000 - (1 << STATE_FOCUSED), 0])
    assert decode_states([0, 1 << 8]) == {40} and decode_states([]) == frozenset()


@pytest.mark.parametrize(
    ("interface", "member", "body", "kind"),
    [
        (EVENT_OBJECT, "StateChanged", ("focused", 1, 0, REFERENCE, {}), "focus"),  # Qt and GTK
        (EVENT_OBJECT, "StateChanged", ("focused", 0, 0, REFERENCE, {}), "blur"),
        (EVENT_FOCUS, "Focus", ("", 0, 0, REFERENCE, {}), "focus"),  # the older signal Qt also sends
        (EVENT_OBJECT, "PropertyChange", ("accessible-role", 0, 0, ("u", 61), {}), "role"),
        (EVENT_OBJECT, "PropertyChange", ("accessible-name", 0, 0, ("s", "x"), {}), None),
        (EVENT_OBJECT, "StateChanged", ("active", 1, 0, REFERENCE, {}), None),
        (EVENT_WINDOW, "Activate", ("", 0, 0, ("s", "Account"), {}), "activate"),
        (EVENT_WINDOW, "Deactivate", ("", 0, 0, ("s", "Account"), {}), "deactivate"),
        (EVENT_WINDOW, "Minimize", ("", 0, 0, ("s", "Account"), {}), None),
        (EVENT_OBJECT, "StateChanged", (), None),  # a malformed signal is ignored, never raised on
    ],
)
def test_signals_are_classified(interface: str, member: str, body: tuple, kind: str | None) -> None:
    assert classify(interface, member, body) == kind


def test_process_matching_is_exact_when_known_and_private_when_unknown() -> None:
    assert same_process(100, 100) and not same_process(100, 200)
    assert same_process(None, 200) and same_process(100, None)  # no _NET_WM_PID, or no pid from the bus
    assert usable_pid(4242, "xdg-dbus-proxy") is None  # a Flatpak app's bus proxy is not the app
    assert usable_pid(4242, "firefox-esr") == 4242 and usable_pid(None, None) is None


def test_the_bus_address_comes_from_the_override_then_the_session_then_the_root_window() -> None:
    def session() -> str:
        return "unix:path=/run/a11y-session"

    def x_root() -> str:
        return "unix:path=/run/a11y-x"

    def broken() -> str:
        raise ConnectionRefusedError("no session bus")

    env = {"AT_SPI_BUS_ADDRESS": "unix:path=/run/a11y-env"}
    assert find_bus_address(env, session, x_root) == "unix:path=/run/a11y-env"
    assert find_bus_address({}, session, x_root) == "unix:path=/run/a11y-session"
    assert find_bus_address({"AT_SPI_BUS_ADDRESS": ""}, broken, x_root) == "unix:path=/run/a11y-x"
    assert find_bus_address({}, lambda: None, lambda: None) is None


def test_a_password_field_is_secret_only_while_its_window_is_active() -> None:
    windows: dict[str, str] = {}
    assert follow(None, "activate", ":1.2", "/win", windows) is None and windows == {":1.2": "/win"}
    field = Focus(":1.2", "/field", ROLE_PASSWORD_TEXT, 100, window="/win")
    assert field.secret and not Focus(":1.2", "/field", QT_TEXT).secret
    assert not Focus(":1.2", "/field").secret  # the role is not known yet
    away = follow(field, "deactivate", ":1.2", "/win", windows)  # Qt keeps FOCUSED on the widget then
    assert away is not None and not away.secret
    back = follow(away, "activate", ":1.2", "/win", windows)
    assert back is not None and back.secret
    assert follow(field, "deactivate", ":1.2", "/other-window", windows) == field
    assert follow(field, "deactivate", ":1.9", "/win", windows) == field  # another application
    assert follow(field, "blur", ":1.2", "/field", windows) is None
    assert follow(field, "blur", ":1.2", "/elsewhere", windows) == field


def test_the_detector_answers_from_its_record_and_calls_back_only_on_a_change_of_verdict() -> None:
    calls: list[int] = []
    detector = AtspiPasswordDetector(on_change=lambda: calls.append(1))
    assert detector.secret_input(window()) is None
    detector._set(Focus(":1.2", "/user", QT_TEXT, 100))
    assert calls == [] and detector.secret_input(window()) is None
    detector._set(Focus(":1.2", "/password", ROLE_PASSWORD_TEXT, 100))
    assert calls == [1]
    assert detector.secret_input(window(100)) == REASON
    assert detector.secret_input(window(None)) == REASON  # a window without _NET_WM_PID: privacy first
    assert detector.secret_input(window(555)) is None  # the focused window is another program's
    detector._set(Focus(":1.2", "/password", ROLE_PASSWORD_TEXT, 100))
    assert calls == [1]
    detector._set(None)
    assert calls == [1, 1]
    verdict = judge(window(100), DenyList([]), (detector,))
    assert not verdict.denied


def test_the_guard_judges_with_it_like_any_other_detector() -> None:
    detector = AtspiPasswordDetector()
    detector._set(Focus(":1.2", "/password", ROLE_PASSWORD_TEXT, 100))
    state = judge(window(100), DenyList(["KeePassXC"]), (detector,))
    assert state.denied and state.reason == REASON
    assert isinstance(detector, WatchingDetector)  # so the guard starts and stops it


def test_without_any_bus_it_stays_quiet_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DBUS_SESSION_BUS_ADDRESS", "AT_SPI_BUS_ADDRESS", "DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    detector = AtspiPasswordDetector()
    detector.start(lambda: None)
    try:
        assert detector.wait_settled(5.0) is False
        assert detector.status == STATUS_OFF and detector.secret_input(window()) is None
    finally:
        started = time.monotonic()
        detector.stop()
    assert time.monotonic() - started < 1.0  # stopping never waits out the retry period


def test_a_stale_bus_address_is_not_running(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AT_SPI_BUS_ADDRESS", f"unix:path={tmp_path}/gone")
    detector = AtspiPasswordDetector()
    detector.start(lambda: None)
    try:
        assert detector.wait_settled(5.0) is False and detector.status == STATUS_OFF
    finally:
        detector.stop()
    status, detail, fix = diagnose()  # what `ghostpilot doctor` says then
    assert status == "warn" and detail == STATUS_OFF and "at-spi2-core" in fix
