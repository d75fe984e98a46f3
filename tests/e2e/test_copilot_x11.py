"""The whole copilot on a real X server: a real window underneath, xdotool as the user, the shipped model.

Pointer moves produce a ghost; Tab performs its click on the window underneath (through the overlay); a Tab
with no ghost reaches the application untouched; Esc dismisses; the database records suggestions and
decisions.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.waiting import interrupt, poll, wait_for

ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(__file__).with_name("target_app.py")
QT_TAB = 0x01000001
QT_ESCAPE = 0x01000000
SCREEN = (1920, 1080)  # the Xvfb screen (tests/e2e/conftest.py)


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


@pytest.fixture
def target(display_env: str, tmp_path: Path) -> Iterator[Path]:
    """A real Qt window covering the screen, so every ghost click lands on it."""
    log = tmp_path / "target.jsonl"
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb"}
    app = subprocess.Popen([sys.executable, str(TARGET), str(log), "0", "0", "1920", "1080"], env=env)
    try:
        wait_for(lambda: any(r["event"] == "ready" for r in lines(log)), "the target window")
        yield log
    finally:
        app.terminate()
        app.wait(timeout=10)


@pytest.fixture
def copilot(display_env: str, tmp_path: Path, target: Path) -> Iterator[tuple[Path, Path]]:
    trace, database = tmp_path / "trace.jsonl", tmp_path / "log.db"
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "PYTHONUNBUFFERED": "1"}
    command = [
        sys.executable, "-m", "ui.cli", "run", "--device", "cpu", "--min-confidence", "0",
        "--trace", str(trace), "--database", str(database),
    ]  # fmt: skip
    out = open(tmp_path / "copilot.log", "w")  # noqa: SIM115
    app = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: "watching" in (tmp_path / "copilot.log").read_text(), "the copilot to start", 60)
        yield trace, database
    finally:
        returncode = interrupt(app)
        out.close()
    assert returncode == 0, (tmp_path / "copilot.log").read_text()


def xdotool(*args: str) -> None:
    subprocess.run(["xdotool", *args], check=True)


def sweep(start: tuple[int, int], step: tuple[int, int], count: int = 25) -> None:
    for i in range(count):
        xdotool("mousemove", str(start[0] + step[0] * i), str(start[1] + step[1] * i))
        time.sleep(0.02)


def shown_ghost(trace: Path) -> dict | None:
    records = lines(trace)
    return records[-1] if records and records[-1]["shown"] and records[-1].get("click") else None


def settled_ghost(trace: Path) -> dict:
    """Move like a user, then wait until the model has gone quiet and the ghost is stable. The ghost left on
    screen may be a keys ghost (the model's last guess before going quiet): then move again."""
    for attempt in range(6):
        sweep((300 + 150 * attempt, 300), (18, 9))
        if not poll(lambda: shown_ghost(trace), 3.0):
            continue
        time.sleep(3.0)  # the model runs only while input is recent: after this the ghost stays put
        if settled := poll(lambda: shown_ghost(trace), 2.0):
            return settled
    return wait_for(lambda: shown_ghost(trace), f"a settled ghost (trace ends {lines(trace)[-3:]})", 5)


def test_tab_without_a_ghost_reaches_the_application(copilot: tuple[Path, Path], target: Path) -> None:
    xdotool("key", "Tab")
    wait_for(lambda: any(r.get("key") == QT_TAB for r in lines(target)), what="Tab in the application")


def test_tab_performs_the_ghost_click_through_the_overlay(copilot: tuple[Path, Path], target: Path) -> None:
    trace, database = copilot
    ghost = settled_ghost(trace)
    presses_before = sum(r["event"] == "press" for r in lines(target))
    xdotool("key", "Tab")
    press = wait_for(
        lambda: [r for r in lines(target) if r["event"] == "press"][presses_before:], what="the performed click"
    )[0]
    assert abs(press["x"] - ghost["click"][0]) <= 2 and abs(press["y"] - ghost["click"][1]) <= 2, (press, ghost)
    assert not any(r.get("key") == QT_TAB for r in lines(target))  # the accept key itself was not passed on
    wait_for(lambda: not lines(trace)[-1]["shown"] or lines(trace)[-1]["click"] != ghost["click"], what="ghost gone")
    from app.store import read_suggestions

    (accepted, *_) = wait_for(
        lambda: [s for s in read_suggestions(database, limit=50) if s.get("decision") == "accepted"],
        "the accepted suggestion in the database", 15,
    )  # fmt: skip
    from app.store import iter_context_frames

    frames = [f for f in iter_context_frames(database, accepted["session_id"]) if f["suggestion_id"] == accepted["id"]]
    assert any(f["offset_s"] <= 0 for f in frames) and any(f["offset_s"] > 0 for f in frames), frames
    assert {(f["screen_width"], f["screen_height"]) for f in frames} == {SCREEN}  # real captures of this display


def test_escape_dismisses_and_the_log_has_both_decisions(copilot: tuple[Path, Path], target: Path) -> None:
    trace, database = copilot
    settled_ghost(trace)
    xdotool("key", "Escape")
    wait_for(lambda: not lines(trace)[-1]["shown"], what="the ghost to go")
    assert not any(r.get("key") == QT_ESCAPE for r in lines(target))
    from app.store import read_suggestions

    decided = wait_for(
        lambda: [s for s in read_suggestions(database, limit=50) if s.get("decision") == "dismissed"],
        "the dismissal in the database (decisions are written once their correction window closes)", 15,
    )  # fmt: skip
    assert decided
