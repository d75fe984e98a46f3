"""`ghostpilot export` on a real SQLite log: JSONL, LeRobot-like Parquet, episode folders, redaction, WAL."""

from __future__ import annotations

import base64
import io
import json
import time
from pathlib import Path

import numpy as np
import pytest

from app.export import (
    ExportOptions,
    export_episodes,
    export_jsonl,
    export_log,
    export_parquet,
    export_total,
    iter_corrections,
    parse_since,
    redaction_hook,
    select_sessions,
)
from app.store import DecisionRecord, SessionRecord, Store, SuggestionRecord, count_rows, read_events
from inference.episodes import read_episode
from inference.errors import GhostpilotError
from tests.unit._learning_log import HEIGHT, WIDTH, make_log


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    path = tmp_path_factory.mktemp("log") / "ghostpilot.db"
    return path, make_log(path, sessions=3, seconds=12.0, start=1_700_000_000.0)


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_jsonl_has_one_record_per_suggestion_with_its_context(log: tuple[Path, list[str]], tmp_path: Path) -> None:
    db, _ = log
    steps: list[int] = []
    summary = export_jsonl(tmp_path / "log.jsonl", ExportOptions(database=db), steps.append)
    records = _lines(tmp_path / "log.jsonl")
    assert len(records) == summary.suggestions == count_rows(db)["suggestions"] == sum(steps)
    assert export_total("jsonl", ExportOptions(database=db)) == len(records)
    assert {r["decision"] for r in records} == {"accepted", "dismissed"}
    for record in records:
        before = record["preceding_events"]
        assert before and all(record["t"] - 5.0 <= e["t"] <= record["t"] for e in before)
        assert record["correction"] and all(e["t"] > record["t"] for e in record["correction"])
        assert record["click"] is not None and record["suggested_events"]
        from PIL import Image

        with Image.open(io.BytesIO(base64.b64decode(record["frame_png_base64"]))) as thumb:
            assert thumb.width == 320 and thumb.height == round(320 * HEIGHT / WIDTH)


def test_since_keeps_only_later_sessions(log: tuple[Path, list[str]], tmp_path: Path) -> None:
    db, ids = log
    since = 1_700_000_000.0 + 3600 * 1.5  # after the first two sessions started
    summary = export_jsonl(tmp_path / "late.jsonl", ExportOptions(database=db, since=since))
    assert summary.sessions == 1
    assert {r["session_id"] for r in _lines(tmp_path / "late.jsonl")} == {ids[2]}
    assert parse_since("2023-11-14T22:13:20+00:00") == 1_700_000_000.0
    with pytest.raises(GhostpilotError, match="not a date"):
        parse_since("last tuesday")


def test_parquet_is_laid_out_like_a_lerobot_v3_dataset(log: tuple[Path, list[str]], tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    db, ids = log
    root = tmp_path / "dataset"
    summary = export_parquet(root, ExportOptions(database=db))
    info = json.loads((root / "meta" / "info.json").read_text())
    assert info["codebase_version"] == "v3.0"
    assert info["total_episodes"] == 3 and info["total_frames"] == summary.suggestions
    assert info["data_path"].format(chunk_index=0, file_index=0) == "data/chunk-000/file-000.parquet"
    table = pq.read_table(root / "data" / "chunk-000" / "file-000.parquet")
    assert table.num_rows == summary.suggestions
    assert set(info["features"]) == set(table.column_names)
    assert table.column("index").to_pylist() == list(range(table.num_rows))
    episodes = pq.read_table(root / "meta" / "episodes" / "chunk-000" / "file-000.parquet").to_pylist()
    assert [e["session_id"] for e in episodes] == ids
    assert sum(e["length"] for e in episodes) == table.num_rows
    assert episodes[1]["dataset_from_index"] == episodes[0]["dataset_to_index"]
    rows = table.slice(0, 1).to_pylist()[0]
    assert rows["observation.image"]["bytes"][:8] == b"\x89PNG\r\n\x1a\n"
    dismissed = [r for r in table.to_pylist() if r["decision"] == "dismissed"]
    assert dismissed and all(not np.isnan(r["action.user_click"][0]) for r in dismissed)
    assert pq.read_table(root / "meta" / "tasks.parquet").to_pylist() == [{"task_index": 0, "task": "practice"}]


def test_episodes_keep_sources_and_carry_frames_and_decisions(log: tuple[Path, list[str]], tmp_path: Path) -> None:
    db, ids = log
    summary = export_log("episodes", tmp_path / "eps", ExportOptions(database=db))
    folders = sorted((tmp_path / "eps").iterdir())
    assert len(folders) == summary.sessions == 3
    for folder, session_id in zip(folders, ids, strict=True):  # oldest first by name
        episode = read_episode(folder)
        logged = read_events(db, session_id)
        assert len(episode.events) == len(logged)
        sources = [e.get("source", "user") for e in episode.events]
        assert sources.count("ghostpilot") == sum(e.get("source") == "ghostpilot" for e in logged) > 0
        sidecar = _lines(folder / "suggestions.jsonl")
        assert 2 * len(sidecar) == len(episode.frame_times_ms) > 0  # a frame before each ghost and one after
        assert episode.load_frame(episode.frame_times_ms[0]).shape == (HEIGHT, WIDTH, 3)  # rebuilt at screen size
        assert all(line["goal"] == "practice" for line in sidecar)


def test_training_data_never_targets_ghostpilot_clicks(log: tuple[Path, list[str]], tmp_path: Path) -> None:
    from inference.dataset import load_episode_data

    db, _ = log
    export_episodes(tmp_path / "eps", ExportOptions(database=db, frames=False))
    folder = sorted((tmp_path / "eps").iterdir())[0]
    presses = [e for e in read_episode(folder).events if e["type"] == "mouse.down"]
    data = load_episode_data(folder, use_frames=False)
    user = [e["t"] for e in presses if e.get("source") != "ghostpilot"]
    assert len(data.click_t) == len(user) < len(presses)  # targets: the user's own presses only
    assert len(data.mem_click_t) == len(presses)  # every press is still context


def _typed_log(path: Path) -> None:
    text = "mail bob@example.com now"
    with Store.open(path) as store:
        sid = store.begin_session(SessionRecord(time.time(), WIDTH, HEIGHT))
        events = [{"t": 0.1, "type": "mouse.down", "x": 5, "y": 5, "button": "left"}]
        for i, ch in enumerate(text):
            events += [{"t": 0.2 + i * 0.05, "type": "key.down", "key": ch},
                       {"t": 0.22 + i * 0.05, "type": "key.up", "key": ch}]  # fmt: skip
        store.log_events(sid, events)
        suggestion = store.log_suggestion(SuggestionRecord(sid, 2.0, "keys", [], 0.6))
        store.log_decision(DecisionRecord(suggestion, 2.5, "ignored"))
        assert store.flush(30.0)


def test_key_events_are_redacted_by_default(tmp_path: Path) -> None:
    if redaction_hook(True) is None:
        pytest.skip("app/redact.py is not installed")
    db = tmp_path / "typed.db"
    _typed_log(db)
    export_jsonl(tmp_path / "red.jsonl", ExportOptions(database=db))
    export_jsonl(tmp_path / "raw.jsonl", ExportOptions(database=db, redact=False))

    def typed(path: Path) -> str:
        events = _lines(path)[0]["preceding_events"]
        return "".join(e["key"] for e in events if e["type"] == "key.down")

    assert "bob@example.com" in typed(tmp_path / "raw.jsonl")
    assert "bob@example.com" not in typed(tmp_path / "red.jsonl") and "mail" in typed(tmp_path / "red.jsonl")
    export_episodes(tmp_path / "eps", ExportOptions(database=db))
    (folder,) = (tmp_path / "eps").iterdir()
    assert "@" not in "".join(e.get("key", "") for e in read_episode(folder).events)


def test_an_export_in_progress_never_blocks_the_writer(log: tuple[Path, list[str]], tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    make_log(db, sessions=1, seconds=6.0)
    options = ExportOptions(database=db)
    records = iter_corrections(options, select_sessions(options), None)
    next(records)  # a read transaction is open on the log
    with Store.open(db) as store:
        sid = store.begin_session(SessionRecord(time.time(), WIDTH, HEIGHT))
        store.log_events(sid, [{"t": 0.0, "type": "mouse.move", "x": 1, "y": 2}])
        assert store.flush(30.0)  # committed while the exporter still reads
        assert store.status().paused is None
    assert sum(1 for _ in records) >= 1
    records.close()
    assert count_rows(db)["sessions"] == 2


def test_an_unknown_format_is_one_clear_error(log: tuple[Path, list[str]], tmp_path: Path) -> None:
    with pytest.raises(GhostpilotError, match="unknown export format"):
        export_log("csv", tmp_path / "x", ExportOptions(database=log[0]))


def test_the_cli_exports_private_files(
    log: tuple[Path, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from app.cli import main

    out = tmp_path / "cli.jsonl"
    assert main(["export", "--database", str(log[0]), "--out", str(out), "--since", "2023-01-01"]) == 0
    assert "from 3 sessions" in capsys.readouterr().out
    assert len(_lines(out)) == count_rows(log[0])["suggestions"] and out.stat().st_mode & 0o077 == 0
    assert main(["export", "--database", str(log[0]), "--since", "someday"]) == 2


def test_each_suggestion_keeps_its_own_goal(tmp_path: Path) -> None:
    """The session row keeps the latest goal; a ghost shown before any goal was set must not inherit it."""
    db = tmp_path / "log.db"
    with Store.open(db) as store:
        sid = store.begin_session(SessionRecord(time.time(), WIDTH, HEIGHT, goal="send the report"))
        store.log_suggestion(SuggestionRecord(sid, 1.0, "keys", [], 0.6))
        store.log_suggestion(SuggestionRecord(sid, 2.0, "keys", [], 0.6, goal="send the report"))
        assert store.flush()
    export_jsonl(tmp_path / "out.jsonl", ExportOptions(database=db))
    assert [r["goal"] for r in _lines(tmp_path / "out.jsonl")] == [None, "send the report"]
