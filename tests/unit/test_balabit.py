"""The Balabit importer: exact event mapping on a hand-written CSV, errors, and one real session file."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from inference.balabit import balabit_user, import_balabit
from inference.episodes import read_episode
from inference.errors import EpisodeError

DEV = Path("/work/shared/data/balabit-dev")
HEADER = "record timestamp,client timestamp,button,state,x,y\n"


def write_session(root: Path, rows: list[str], user: str = "user07", session: str = "session_0001") -> Path:
    folder = root / "src" / user
    folder.mkdir(parents=True)
    (folder / session).write_text(HEADER + "".join(row + "\n" for row in rows), encoding="utf-8")
    return root / "src"


def test_mapping_of_every_row_kind(tmp_path: Path) -> None:
    src = write_session(
        tmp_path,
        [
            "0.0,0.0,Scroll,Down,0,0",  # no pointer position yet: skipped
            "0.0,0.10,NoButton,Move,10,20",
            "0.0,0.12,NoButton,Move,65535,65535",  # pointer left the screen: a gap, no motion
            "0.0,0.15,NoButton,Move,12,22",
            "0.0,0.20,Left,Pressed,12,22",
            "0.0,0.25,NoButton,Drag,30,40",
            "0.0,0.30,Left,Released,30,40",
            "0.0,0.35,Scroll,Up,0,0",
            "0.0,0.36,Scroll,Down,0,0",
            "0.0,0.40,XButton,Pressed,30,40",
            "0.0,0.41,XButton,Released,30,40",
            "0.0,0.38,Right,Pressed,31,41",  # client clock went back: clamped to 0.41
            "0.0,0.50,Right,Released,31,41",
        ],
    )
    progress: list[int] = []
    [path] = import_balabit(src, tmp_path / "out", progress.append)
    assert path == tmp_path / "out" / "user07" / "session_0001"
    assert sum(progress) == 13
    episode = read_episode(path)
    assert episode.meta.screen_width == 1920 and episode.meta.screen_height == 1080
    assert episode.meta.app == "balabit" and episode.meta.source == "balabit"
    assert episode.meta.extra == {"user": "7", "session": "0001"}
    assert balabit_user(episode) == "7" and balabit_user(path) == "7"
    assert episode.frame_times_ms == []
    assert episode.events == [
        {"t": 0.1, "type": "mouse.move", "x": 10, "y": 20},
        {"t": 0.15, "type": "mouse.move", "x": 12, "y": 22},
        {"t": 0.2, "type": "mouse.down", "x": 12, "y": 22, "button": "left"},
        {"t": 0.25, "type": "mouse.move", "x": 30, "y": 40},
        {"t": 0.3, "type": "mouse.up", "x": 30, "y": 40, "button": "left"},
        {"t": 0.35, "type": "mouse.scroll", "x": 30, "y": 40, "dx": 0, "dy": 1},
        {"t": 0.36, "type": "mouse.scroll", "x": 30, "y": 40, "dx": 0, "dy": -1},
        {"t": 0.41, "type": "mouse.down", "x": 31, "y": 41, "button": "right"},
        {"t": 0.5, "type": "mouse.up", "x": 31, "y": 41, "button": "right"},
    ]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("0.0,0.2,NoButton,Move,12", "fields"),
        ("0.0,abc,NoButton,Move,12,22", "number"),
        ("0.0,0.2,Left,Wiggle,12,22", "unknown button/state"),
        ("0.0,-1,NoButton,Move,12,22", "non-negative"),
        ("0.0,0.2,NoButton,Move,-3,22", "negative"),
    ],
)
def test_malformed_row_names_file_and_line(tmp_path: Path, row: str, reason: str) -> None:
    src = write_session(tmp_path, ["0.0,0.1,NoButton,Move,10,20", row])
    with pytest.raises(EpisodeError) as error:
        import_balabit(src, tmp_path / "out")
    message = str(error.value)
    assert "session_0001:3:" in message and reason in message and "\n" not in message
    assert list((tmp_path / "out").iterdir()) == []  # no half-written episode left behind


def test_bad_header_and_empty_source(tmp_path: Path) -> None:
    with pytest.raises(EpisodeError, match="no userNN"):
        import_balabit(tmp_path, tmp_path / "out")
    folder = tmp_path / "user9"
    folder.mkdir()
    (folder / "session_1").write_text("a,b,c\n", encoding="utf-8")
    with pytest.raises(EpisodeError, match=r"session_1:1: header"):
        import_balabit(tmp_path, tmp_path / "out")


def test_reimport_replaces_the_episode(tmp_path: Path) -> None:
    src = write_session(tmp_path, ["0.0,0.1,NoButton,Move,10,20"])
    import_balabit(src, tmp_path / "out")
    [path] = import_balabit(src, tmp_path / "out")
    assert len(read_episode(path).events) == 1
    assert sorted(p.name for p in (tmp_path / "out" / "user07").iterdir()) == ["session_0001"]


@pytest.mark.skipif(not DEV.is_dir(), reason="Balabit dev split not present")
def test_real_session_file(tmp_path: Path) -> None:
    source = min(DEV.glob("user15/session_*"), key=lambda p: p.stat().st_size)
    (tmp_path / "src" / "user15").mkdir(parents=True)
    shutil.copy(source, tmp_path / "src" / "user15" / source.name)
    with open(source, newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    [path] = import_balabit(tmp_path / "src", tmp_path / "out")
    episode = read_episode(path)
    assert balabit_user(episode) == "15"
    dropped = sum(r[2] == "XButton" or r[4] == "65535" for r in rows)
    assert len(episode.events) == len(rows) - dropped  # every other row becomes exactly one event
    assert sum(e["type"] == "mouse.down" for e in episode.events) == sum(r[3] == "Pressed" for r in rows)
    assert all(0 <= e["x"] < 1920 and 0 <= e["y"] < 1080 for e in episode.events)
    times = [e["t"] for e in episode.events]
    assert times == sorted(times) and abs(times[-1] - float(rows[-1][1])) < 1e-3
