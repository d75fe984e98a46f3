"""A scripted user repeats a 10-action form workflow 4 times under the real copilot: how much is offered ahead?

    .venv/bin/python benchmarks/recall_workflow.py [--display :N] [--repetitions 4] [--think 1.5]

Without --display it starts its own Xvfb (1920x1080x24). It runs tests/e2e/workflow_app.py (a real Qt form)
and `python -m ui.cli run` (the real copilot, overlay and all) three times: with recall at the default
threshold 0.5, and the model alone (GHOSTPILOT_RECALL=0) at 0.5 and at 0. Before each action the user pauses
for up to --think seconds; the action counts as offered when the ghost in the copilot's trace matches it
then: a click within 30 px of where the user is about to press, or keys whose text starts with the whole text
the user is about to type. It prints the share per repetition. tests/e2e/test_recall_x11.py asserts on it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.xvfb import start_xvfb, stop_process

ROOT = Path(__file__).resolve().parents[1]
FORM_APP = ROOT / "tests" / "e2e" / "workflow_app.py"
TASK: list[tuple[str, str]] = [
    ("click", "name"), ("type", "alice"), ("click", "amount"), ("type", "42"), ("click", "note"),
    ("type", "paid"), ("click", "add"), ("click", "urgent"), ("click", "save"), ("click", "clear"),
]  # fmt: skip
OFFER_PX = 30.0
JITTER_PX = 6  # people never press the same pixel twice


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def poll(check: Callable[[], Any], timeout: float, interval: float = 0.03) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


@contextmanager
def xvfb(display: str | None) -> Iterator[str]:
    if display:
        yield display
        return
    server, display = start_xvfb()
    number = display[1:]
    env = {**os.environ, "DISPLAY": f":{number}"}
    geometry = lambda: subprocess.run(["xdotool", "getdisplaygeometry"], env=env, capture_output=True).stdout  # noqa: E731
    try:
        if server.poll() is not None or poll(geometry, 30.0, 0.2).split() != [b"1920", b"1080"]:
            raise RuntimeError(f"Xvfb :{number} is not ours (another server took the number); run again")
        yield display
    finally:
        stop_process(server)


@contextmanager
def running(command: list[str], env: dict[str, str], log: Path, ready: Callable[[], Any], what: str) -> Iterator[Any]:
    """A subprocess that is stopped with SIGINT (then killed) however the block ends."""
    out = open(log, "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        value = poll(lambda: ready() or process.poll() is not None, 90.0, 0.1)
        if process.poll() is not None or not value:
            raise RuntimeError(f"{what} did not start: {log.read_text()[-2000:]}")
        yield ready()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        out.close()


class ScriptedUser:
    """Moves like a person (small steps along a straight path), presses, and types with xdotool."""

    def __init__(self, env: dict[str, str], seed: int = 0) -> None:
        self.env = env
        self.pointer = (960, 900)
        self.random = random.Random(seed)
        self.xdotool("mousemove", *map(str, self.pointer))

    def xdotool(self, *args: str) -> None:
        subprocess.run(["xdotool", *args], env=self.env, check=True)

    def aim(self, target: tuple[int, int]) -> tuple[int, int]:
        return (
            target[0] + self.random.randint(-JITTER_PX, JITTER_PX),
            target[1] + self.random.randint(-JITTER_PX, JITTER_PX),
        )

    def click(self, point: tuple[int, int], steps: int = 16) -> None:
        chain: list[str] = []
        for i in range(1, steps + 1):
            x = round(self.pointer[0] + (point[0] - self.pointer[0]) * i / steps)
            y = round(self.pointer[1] + (point[1] - self.pointer[1]) * i / steps)
            chain += ["mousemove", str(x), str(y), "sleep", "0.015"]
        self.xdotool(*chain, "click", "1")
        self.pointer = point

    def type(self, text: str) -> None:
        self.xdotool("type", "--delay", "40", text)


def offered(trace: Path, kind: str, value: Any) -> bool:
    """Does the ghost shown now (the trace's last record) match the action about to be done?"""
    records = lines(trace)
    ghost = records[-1] if records else None
    if ghost is None or not ghost.get("shown"):
        return False
    if kind == "click":
        return ghost.get("click") is not None and math.dist(ghost["click"], value) <= OFFER_PX
    return bool(ghost.get("keys")) and str(ghost["keys"]).startswith(value)


def drive(
    user: ScriptedUser, targets: dict[str, list[int]], trace: Path, repetitions: int, think: float
) -> list[list[bool]]:
    """The task, `repetitions` times; for each action, whether its ghost was up before the user did it."""
    hits: list[list[bool]] = []
    for _ in range(repetitions):
        hits.append([])
        for kind, name in TASK:
            if kind == "click":
                point = user.aim((targets[name][0], targets[name][1]))
                hits[-1].append(bool(poll(lambda p=point: offered(trace, "click", p), think)))  # type: ignore[misc]
                user.click(point)
            else:
                hits[-1].append(bool(poll(lambda n=name: offered(trace, "type", n), think)))  # type: ignore[misc]
                user.type(name)
        time.sleep(0.3)
    return hits


def measure(
    display: str, workdir: Path, recall: bool = True, min_confidence: float = 0.5, repetitions: int = 4,
    think: float = 1.5,
) -> dict[str, Any]:  # fmt: skip
    """Run the workflow `repetitions` times; per repetition, the share of actions offered before they were done."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", "PYTHONUNBUFFERED": "1"}
    env["GHOSTPILOT_RECALL"] = "1" if recall else "0"
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        env[name] = str(workdir / name.lower())  # default settings, nothing of the real user's touched
    form_log, trace = workdir / "form.jsonl", workdir / "trace.jsonl"
    form = [sys.executable, str(FORM_APP), str(form_log)]
    copilot = [
        sys.executable, "-m", "ui.cli", "run", "--device", "cpu", "--min-confidence", str(min_confidence),
        "--trace", str(trace), "--database", str(workdir / "log.db"),
    ]  # fmt: skip
    ready = lambda: next((r["targets"] for r in lines(form_log) if r["event"] == "ready"), None)  # noqa: E731
    started = lambda: "watching" in (workdir / "copilot.log").read_text()  # noqa: E731
    with (
        running(form, env, workdir / "form.out", ready, "the form") as targets,
        running(copilot, env, workdir / "copilot.log", started, "the copilot"),
    ):
        hits = drive(ScriptedUser(env), targets, trace, repetitions, think)
        poll(lambda: sum(r.get("button") == "clear" for r in lines(form_log)) >= repetitions, 15.0)
    submitted = [r["fields"] for r in lines(form_log) if r.get("button") == "add"]
    return {
        "recall": recall, "min_confidence": min_confidence, "think_s": think,
        "shares": [sum(rep) / len(rep) for rep in hits], "hits": hits, "submitted": submitted,
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--display", default=None)
    parser.add_argument("--repetitions", type=int, default=4)
    parser.add_argument("--think", type=float, default=1.5, help="seconds the user pauses before each action")
    parser.add_argument("--out", default="/tmp/ghostpilot-recall-bench")
    args = parser.parse_args()
    configs = [
        ("recall + model, threshold 0.5", True, 0.5),
        ("model alone, 0.5", False, 0.5),
        ("model alone, 0", False, 0.0),
    ]
    with xvfb(args.display) as display:
        for index, (label, recall, threshold) in enumerate(configs):
            result = measure(display, Path(args.out) / str(index), recall, threshold, args.repetitions, args.think)
            shares = "  ".join(f"rep {i + 1}: {share:4.0%}" for i, share in enumerate(result["shares"]))
            print(f"{label:32s} {shares}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
