"""A goal with quoted text on a real application: `type 'hello' into the Company field`.

The real copilot (`ghostpilot run`, the shipped model, real OCR and text encoder) over a real Qt form whose
fields are named only by their labels. The first ghost must click inside the Company field; Tab performs it;
the next ghost is the quoted text as keys; Tab types it, and the form itself reports the field's new text.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_copilot_x11 import lines, sweep, xdotool
from tests.e2e.waiting import interrupt, poll, wait_for

ROOT = Path(__file__).resolve().parents[2]
FORM = Path(__file__).with_name("labelled_form_app.py")
GOAL = "type 'hello' into the Company field"


@pytest.fixture
def form(display_env: str, tmp_path: Path) -> Iterator[tuple[Path, dict[str, list[int]]]]:
    log = tmp_path / "form.jsonl"
    app = subprocess.Popen([sys.executable, str(FORM), str(log)], env={**os.environ, "QT_QPA_PLATFORM": "xcb"})
    try:
        ready = wait_for(lambda: [r for r in lines(log) if r["event"] == "ready"], "the form window")
        yield log, ready[0]["fields"]
    finally:
        app.terminate()
        app.wait(timeout=10)


@pytest.fixture
def copilot(display_env: str, tmp_path: Path, form: tuple[Path, dict]) -> Iterator[Path]:
    trace, out_path = tmp_path / "trace.jsonl", tmp_path / "copilot.log"
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "PYTHONUNBUFFERED": "1"}
    command = [
        sys.executable,
        "-m",
        "ui.cli",
        "run",
        "--device",
        "cpu",
        "--no-log",
        "--goal",
        GOAL,
        "--trace",
        str(trace),
    ]  # fmt: skip  (the default confidence threshold, as a user runs it)
    out = open(out_path, "w")  # noqa: SIM115
    app = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: "watching" in out_path.read_text(), "the copilot to start", 60)
        yield trace
    finally:
        interrupt(app, 30)
        out.close()


def _inside(point: list[float], box: list[int]) -> bool:
    return box[0] <= point[0] < box[2] and box[1] <= point[1] < box[3]


def test_quoted_text_is_typed_into_the_field_the_goal_names(copilot: Path, form: tuple[Path, dict]) -> None:
    trace, (log, fields) = copilot, form
    box = fields["Company"]

    def click_ghost() -> dict | None:
        shown = [r for r in lines(trace) if r["shown"] and r.get("click")]
        return shown[-1] if shown and _inside(shown[-1]["click"], box) else None

    for attempt in range(6):  # move like a user until the screen text is read and the goal's ghost shows
        sweep((1100 + 40 * attempt, 700), (-12, -6), 20)
        if poll(click_ghost, 4.0):
            break
    ghost = wait_for(click_ghost, f"a ghost clicking in the Company field {box} (trace ends {lines(trace)[-3:]})", 5)
    xdotool("key", "Tab")
    typed = wait_for(
        lambda: [r for r in lines(trace) if r["shown"] and r.get("keys") == "hello"], "the quoted text as a ghost", 20
    )
    assert typed and ghost
    xdotool("key", "Tab")
    wait_for(lambda: [r for r in lines(log) if r == {"event": "text", "field": "Company", "text": "hello"}],
             "'hello' in the Company field", 20)  # fmt: skip
    assert not [r for r in lines(log) if r["event"] == "text" and r["field"] != "Company"]
