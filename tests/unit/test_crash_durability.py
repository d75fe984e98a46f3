"""kill -9 during logging, 100+ times: the log stays intact and no acknowledged row is lost.

Writers are real subprocesses logging through app/store.py; a row is acknowledged once `Store.flush()`
returned for it (the writer then prints the running total). The test kills each writer with SIGKILL at a
random moment, then checks `PRAGMA integrity_check` and that every acknowledged row of that run is in the
file. Several databases ("lanes") are hammered in parallel, each reopened by the next writer, so recovery of
a killed file is exercised 25+ times per lane. This is process death; power loss is out of scope (WAL with
synchronous=NORMAL can lose the last transactions on an OS crash, see docs/reliability.md).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
KILLS = 104
LANES = 8

# One helper process imports the store once, then forks a writer per request (a fresh interpreter per kill
# would spend most of the test importing). A writer reports on its own file with unbuffered os.write: what
# was written before the kill is in the kernel's page cache and survives it.
ZYGOTE = """
import os, signal, sys, time
from pathlib import Path
from app.store import SessionRecord, Store
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # killed writers are reaped at once

def write_until_killed(db, report):
    out = os.open(report, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    store = Store.open(Path(db))
    session = store.begin_session(SessionRecord(time.time(), 1920, 1080, "crash-test"))
    os.write(out, f"ready {session}\\n".encode())
    total, t = 0, 0.0
    while True:
        batch = []
        for _ in range(10):
            t += 0.01
            batch.append({"t": t, "type": "mouse.move", "x": total % 1920, "y": 7, "source": "user"})
        store.log_events(session, batch)
        if store.flush(10.0):
            total += len(batch)
            os.write(out, f"ack {total}\\n".encode())

for line in sys.stdin:
    db, report = line.rstrip("\\n").split("\\t")
    pid = os.fork()
    if pid == 0:
        try:
            write_until_killed(db, report)
        finally:
            os._exit(1)
    print(pid, flush=True)
"""


def _start_zygote() -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", ZYGOTE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )


def _fork_writer(zygote: subprocess.Popen[str], db: Path, report: Path) -> int:
    assert zygote.stdin is not None and zygote.stdout is not None
    zygote.stdin.write(f"{db}\t{report}\n")
    zygote.stdin.flush()
    return int(zygote.stdout.readline())


def _poll(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _report(path: Path) -> tuple[str, int]:
    """(session id, last acknowledged total); a line cut by the kill has no newline and does not count."""
    lines = path.read_text().split("\n")[:-1] if path.exists() else []
    session = next((line.split()[1] for line in lines if line.startswith("ready ")), "")
    acked = max((int(line.split()[1]) for line in lines if line.startswith("ack ")), default=0)
    return session, acked


def _check(path: Path, session: str, acked: int) -> None:
    if not path.exists():
        return  # killed before the file was created
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "events" not in tables:  # killed while the schema was being created: nothing was acknowledged yet
            assert acked == 0, f"{path}: {acked} rows acknowledged but no events table"
            return
        stored = conn.execute("SELECT count(*) FROM events WHERE session_id = ?", (session,)).fetchone()[0]
    finally:
        conn.close()
    assert stored >= acked, f"{path}: {acked} rows acknowledged, {stored} stored"


def test_kill_9_during_logging_loses_no_acknowledged_row(tmp_path: Path) -> None:
    rng = random.Random(20261124)
    zygote = _start_zygote()
    acked_total = 0
    try:
        for kill in range(KILLS):
            db, report = tmp_path / f"lane{kill % LANES}.db", tmp_path / f"report{kill}.txt"
            pid = _fork_writer(zygote, db, report)
            if kill % 8 != 7:  # every 8th writer dies while it opens (creates, migrates) the file
                _poll(lambda: bool(_report(report)[0]), "the writer to open the store")  # noqa: B023
            time.sleep(rng.uniform(0.0, 0.05))  # random moments: before the first flush, mid-commit, between
            os.kill(pid, signal.SIGKILL)
            _poll(lambda: not _alive(pid), "the killed writer to go")  # noqa: B023
            session, acked = _report(report)
            _check(db, session, acked)
            acked_total += acked
    finally:
        zygote.kill()
        zygote.wait(timeout=30)
    assert acked_total > 0  # the kills did land while rows were being acknowledged
    print(f"{KILLS} kills, {acked_total} acknowledged rows, all present")
