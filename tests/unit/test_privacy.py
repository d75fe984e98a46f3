"""Deny-list matching, the password-prompt heuristic, the guard's private intervals, and the copilot loop
dropping what happened in a private window (the real shipped model; focus readings scripted)."""

from __future__ import annotations

from typing import Any

import pytest

from app.bench import scripted_stream
from app.copilot import Copilot, CopilotParts
from app.ghost import GhostView
from app.privacy import (
    AFTER_S,
    LOOKBACK_S,
    DenyList,
    PrivacyGuard,
    PrivacyState,
    TitleClassPasswordHeuristic,
    judge,
)
from app.settings import DEFAULT_DENY_LIST
from app.x11 import WindowInfo
from inference import load_predictor


def window(title: str = "Document - Editor", wm_class: str = "Gedit", id: int = 7) -> WindowInfo:
    return WindowInfo(id, title, wm_class, None)


@pytest.mark.parametrize(
    ("title", "wm_class"),
    [
        ("Vault - KeePassXC", "KeePassXC"),
        ("anything", "keepassxc"),  # app name, any case
        ("Bitwarden", "Electron"),  # title only
        ("New Private Browsing tab - Mozilla Firefox", "firefox"),
        ("New Tab - Google Chrome (Incognito)", "Google-chrome"),
        ("1Password", "1password"),
    ],
)
def test_default_deny_list_matches_password_managers_and_private_windows(title: str, wm_class: str) -> None:
    assert DenyList(DEFAULT_DENY_LIST).match(window(title, wm_class)) is not None


@pytest.mark.parametrize(("title", "wm_class"), [("notes.txt - Editor", "Gedit"), ("Inbox - Mail", "Thunderbird")])
def test_ordinary_windows_are_watched(title: str, wm_class: str) -> None:
    assert judge(window(title, wm_class), DenyList(DEFAULT_DENY_LIST), (TitleClassPasswordHeuristic(),)).denied is False


def test_user_patterns_and_blank_entries() -> None:
    deny = DenyList(["  Banking ", ""])
    assert deny.patterns == ("Banking",)
    assert deny.match(window("My BANKING portal")) == "deny-list: Banking"


@pytest.mark.parametrize(
    ("title", "wm_class"),
    [("Enter passphrase", "Gcr"), ("pinentry", "Pinentry-gtk-2"), ("OpenSSH", "ssh-askpass"),
     ("Authenticate", "Polkit-gnome-authentication-agent-1"), ("[sudo] password for ann", "XTerm")],
)  # fmt: skip
def test_password_prompts_are_private(title: str, wm_class: str) -> None:
    state = judge(window(title, wm_class), DenyList([]), (TitleClassPasswordHeuristic(),))
    assert state.denied and state.reason is not None and state.reason.startswith("password prompt")


def test_nothing_focused_is_not_private() -> None:
    assert judge(None, DenyList(DEFAULT_DENY_LIST)) == PrivacyState()


class Focus:
    """The focused window as the guard's query sees it (the real X query runs in tests/e2e)."""

    def __init__(self) -> None:
        self.window: WindowInfo | None = window()

    def query(self, _display: Any) -> WindowInfo | None:
        return self.window


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def guard_for(focus: Focus, clock: Clock, changes: list[PrivacyState] | None = None) -> PrivacyGuard:
    sink = changes.append if changes is not None else (lambda _s: None)
    return PrivacyGuard(DenyList(DEFAULT_DENY_LIST), clock, sink, query=focus.query, connect=object)


def test_private_interval_covers_the_time_before_it_was_noticed_and_until_it_ended() -> None:
    focus, clock, changes = Focus(), Clock(), []
    guard = guard_for(focus, clock, changes)
    clock.now = 10.0
    assert guard.check_now().denied is False
    focus.window = window("Vault - KeePassXC", "KeePassXC")
    clock.now = 11.0
    assert guard.check_now().denied and guard.current().denied
    focus.window = window()
    clock.now = 12.0
    assert guard.check_now().denied is False
    assert [c.denied for c in changes] == [True, False]
    assert guard.denied_at(11.0 - LOOKBACK_S + 0.01)  # typed just before the watcher noticed
    assert guard.denied_at(11.5) and guard.denied_at(12.0 + AFTER_S - 0.01)
    assert not guard.denied_at(10.0) and not guard.denied_at(12.5)


def test_an_older_reading_never_overrides_a_newer_one() -> None:
    focus, clock = Focus(), Clock()
    guard = guard_for(focus, clock)
    clock.now = 5.0
    focus.window = window("Bitwarden", "Bitwarden")
    guard.check_now()
    clock.now = 4.0  # a reading that started earlier and finished late
    focus.window = window()
    assert guard.check_now().denied


def test_the_deny_list_can_change_while_running() -> None:
    focus, clock = Focus(), Clock()
    guard = guard_for(focus, clock)
    focus.window = window("Online Banking")
    assert guard.check_now().denied is False
    guard.deny_list = DenyList(["banking"])
    clock.now = 1.0
    assert guard.check_now().denied


# ----- the copilot loop -----


@pytest.fixture(scope="module")
def predictor() -> Any:
    return load_predictor(device="cpu")


class Book:
    def __init__(self) -> None:
        self.logged: list[dict] = []
        self.suggestions: list[Any] = []

    def events(self, events: list[dict]) -> None:
        self.logged += events

    def suggestion(self, ghost: Any, latency_ms: float, frame: Any, window: Any) -> None:
        self.suggestions.append(ghost)

    def decision(self, decision: Any) -> None:
        pass


def keys(text: str, t0: float) -> list[dict]:
    out = []
    for i, char in enumerate(text):
        out += [
            {"t": t0 + 0.1 * i, "type": "key.down", "key": char},
            {"t": t0 + 0.1 * i + 0.05, "type": "key.up", "key": char},
        ]
    return out


def test_nothing_from_a_private_window_is_observed_logged_or_suggested(predictor: Any) -> None:
    focus, clock = Focus(), Clock()
    guard = guard_for(focus, clock)
    views: list[GhostView] = []
    book = Book()
    session = predictor.new_session(1920, 1080)
    observed: list[dict] = []
    real_observe = session.observe_event
    session.observe_event = lambda event: (observed.append(event), real_observe(event))[1]  # type: ignore[method-assign]
    copilot = Copilot(CopilotParts(session=session, on_view=views.append, logbook=book, privacy=guard), 0.0)
    before = scripted_stream(8, seed=1, width=1920, height=1080)
    for event in before:
        clock.now = event["t"]
        copilot.step([event], event["t"])
    assert book.logged and any(v.current is not None for v in views)  # watching: ghosts show at threshold 0

    focus.window = window("Vault - KeePassXC", "KeePassXC")
    t0 = before[-1]["t"] + 1.0
    secret = keys("canary-S3cret", t0)
    moves = [{"t": t0 + 0.01 * i, "type": "mouse.move", "x": 500.0 + i, "y": 400.0} for i in range(50)]
    logged_before, observed_before, suggested_before = len(book.logged), len(observed), len(book.suggestions)
    for event in sorted(secret + moves, key=lambda e: e["t"]):
        clock.now = event["t"]
        copilot.step([event], event["t"])
    copilot.step(["privacy"], t0 + 2.0)
    assert len(book.logged) == logged_before and len(observed) == observed_before
    assert len(book.suggestions) == suggested_before
    assert views[-1].status == "private" and views[-1].current is None

    # late: keys typed in the private window reach the loop only after the focus went back
    late = keys("late", t0 + 2.5)
    focus.window = window()
    clock.now = t0 + 3.3
    guard.check_now()
    copilot.step(late, t0 + 3.5)
    assert len(book.logged) == logged_before  # judged by when they happened, not when they arrived
    assert views[-1].status != "private"

    after = [{"t": t0 + 5.0, "type": "key.down", "key": "x"}]
    clock.now = t0 + 5.0
    copilot.step(after, t0 + 5.0)
    assert book.logged[-1] is after[0]  # watched again: the control that the loop does log keys
