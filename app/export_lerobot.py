"""The correction log as a LeRobot-v3-like dataset: chunked Parquet data files plus `meta/` (docs/learning.md).

Followed from LeRobot v3.0: `data/chunk-{chunk:03d}/file-{file:03d}.parquet` holding many episodes per file,
files rolled at `data_files_size_in_mb` and `chunks_size` files per chunk folder, `meta/info.json` (codebase
version, counts, fps, splits, path templates, features), `meta/tasks.parquet`, `meta/episodes/chunk-000/
file-000.parquet`, the `index`/`episode_index`/`frame_index`/`timestamp`/`task_index` columns, and images as
`{bytes, path}` structs (LeRobot's `image` dtype). Not followed: no videos, no `meta/stats.json`, and a "frame"
is a suggestion (a decision point), not a fixed-rate camera frame; event lists are JSON strings.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from inference.errors import MissingExtraError

CODEBASE_VERSION = "v3.0"
CHUNKS_SIZE = 1000  # files per chunk folder
DATA_FILE_MB = 100  # a data file is closed once it holds this much
ROW_GROUP = 256  # rows buffered before a write: constant memory
DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
JSON_COLUMNS = ("suggestion.events", "suggestion.alternatives", "correction", "observation.preceding_events")


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise MissingExtraError("the Parquet export needs pyarrow", "pip install pyarrow") from None
    return pyarrow


def _schema(pa: Any) -> Any:
    xy = pa.list_(pa.float32(), 2)
    return pa.schema([
        ("index", pa.int64()), ("episode_index", pa.int64()), ("frame_index", pa.int64()),
        ("timestamp", pa.float32()), ("task_index", pa.int64()),
        ("observation.image", pa.struct([("bytes", pa.binary()), ("path", pa.string())])),
        ("observation.pointer", xy), ("action.suggested_click", xy), ("action.user_click", xy),
        ("suggestion.kind", pa.string()), ("suggestion.confidence", pa.float32()),
        ("decision", pa.string()), ("steps_accepted", pa.int64()), ("endpoint_error_px", pa.float32()),
        ("session_id", pa.string()), ("suggestion_id", pa.string()),
        *((name, pa.string()) for name in JSON_COLUMNS),
        ("observation.context_frames", pa.list_(pa.struct([
            ("offset_s", pa.float32()), ("pointer", xy), ("global", pa.binary()), ("crop", pa.binary()),
        ]))),
    ])  # fmt: skip


def _features(image_shape: list[int] | None) -> dict[str, Any]:
    def f(dtype: str, shape: list[int | None], names: list[str] | None = None) -> dict[str, Any]:
        return {"dtype": dtype, "shape": shape, "names": names}

    features = {
        "observation.image": f(
            "image", [*image_shape] if image_shape else [None, None, 3], ["height", "width", "channel"]
        ),
        "observation.pointer": f("float32", [2], ["x", "y"]),
        "action.suggested_click": f("float32", [2], ["x", "y"]),
        "action.user_click": f("float32", [2], ["x", "y"]),
        "suggestion.kind": f("string", [1]), "suggestion.confidence": f("float32", [1]),
        "decision": f("string", [1]), "steps_accepted": f("int64", [1]), "endpoint_error_px": f("float32", [1]),
        "session_id": f("string", [1]), "suggestion_id": f("string", [1]),
        # the frames around the suggestion at the model's resolution: PNGs of the 128 x 64 whole-screen view
        # and the 64 x 64 full-resolution crop at `pointer`, `offset_s` from the suggestion (docs/learning.md)
        "observation.context_frames": f("context_frames", [None], ["offset_s", "pointer", "global", "crop"]),
    }  # fmt: skip
    features.update({name: f("string", [1], ["json"]) for name in JSON_COLUMNS})
    for name in ("timestamp",):
        features[name] = f("float32", [1])
    for name in ("frame_index", "episode_index", "index", "task_index"):
        features[name] = f("int64", [1])
    return features


def _pointer(events: list[dict[str, Any]]) -> list[float] | None:
    last = next((e for e in reversed(events) if "x" in e), None)
    return [float(last["x"]), float(last["y"])] if last else None


def _user_click(correction: list[dict[str, Any]]) -> list[float] | None:
    press = next((e for e in correction if e["type"] == "mouse.down" and e.get("source", "user") == "user"), None)
    return [float(press["x"]), float(press["y"])] if press else None


def _nan2(value: list[float] | None) -> list[float]:
    return value if value is not None else [float("nan"), float("nan")]


class _Files:
    """Rolls data files at DATA_FILE_MB and chunk folders at CHUNKS_SIZE files."""

    def __init__(self, root: Path, pa: Any) -> None:
        self.root, self.pa, self.schema = root, pa, _schema(pa)
        self.chunk = self.file = 0
        self.writer: Any = None
        self.path: Path | None = None

    def write(self, rows: list[dict[str, Any]]) -> tuple[int, int]:
        """Write one row group; returns the (chunk, file) it went to."""
        if self.writer is None:
            self.path = self.root / DATA_PATH.format(chunk_index=self.chunk, file_index=self.file)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.writer = self.pa.parquet.ParquetWriter(self.path, self.schema)
        where = (self.chunk, self.file)
        self.writer.write_table(self.pa.Table.from_pylist(rows, schema=self.schema))
        assert self.path is not None
        if self.path.stat().st_size >= DATA_FILE_MB * 2**20:
            self.close()
            self.file += 1
            if self.file >= CHUNKS_SIZE:
                self.chunk, self.file = self.chunk + 1, 0
        return where

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def _row(record: dict[str, Any], index: int, episode: int, frame: int, task: int) -> dict[str, Any]:
    png = record["frame_png"]
    return {
        "index": index, "episode_index": episode, "frame_index": frame, "timestamp": record["t"],
        "task_index": task,
        "observation.image": None if png is None else {"bytes": png, "path": f"{record['suggestion_id']}.png"},
        "observation.pointer": _nan2(_pointer(record["preceding_events"])),
        "action.suggested_click": _nan2(record["click"]),
        "action.user_click": _nan2(_user_click(record["correction"])),
        "suggestion.kind": record["kind"], "suggestion.confidence": record["confidence"],
        "decision": record["decision"], "steps_accepted": record["steps_accepted"],
        "endpoint_error_px": record["endpoint_error_px"],
        "session_id": record["session_id"], "suggestion_id": record["suggestion_id"],
        "suggestion.events": json.dumps(record["suggested_events"]),
        "suggestion.alternatives": json.dumps(record["alternatives"]),
        "correction": json.dumps(record["correction"]),
        "observation.preceding_events": json.dumps(record["preceding_events"]),
        "observation.context_frames": [
            {"offset_s": c["offset_s"], "pointer": c["pointer"], "global": c["global_png"], "crop": c["crop_png"]}
            for c in record.get("context_frames", [])
        ],
    }  # fmt: skip


def _image_shape(png: bytes) -> list[int]:
    import io

    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        return [image.height, image.width, 3]


def write_lerobot(
    root: Path,
    sessions: list[dict[str, Any]],
    records: Iterable[dict[str, Any]],
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Stream `records` (app/export.py iter_corrections) into the dataset at `root`; returns counts."""
    pa = _pyarrow()
    files = _Files(root, pa)
    tasks: dict[str, int] = {}
    episodes: list[dict[str, Any]] = []  # one small row per session with suggestions
    buffer: list[dict[str, Any]] = []
    counts = {"rows": 0, "events": 0, "frames": 0}
    image_shape: list[int] | None = None

    def flush() -> None:
        if buffer:
            chunk, file = files.write(buffer)
            for episode in episodes:
                episode.setdefault("data/chunk_index", chunk)
                episode.setdefault("data/file_index", file)
            buffer.clear()

    for record in records:
        if not episodes or episodes[-1]["session_id"] != record["session_id"]:
            episodes.append({"episode_index": len(episodes), "session_id": record["session_id"], "tasks": [],
                             "length": 0, "dataset_from_index": counts["rows"]})  # fmt: skip
        episode = episodes[-1]
        task = tasks.setdefault(record["goal"] or "", len(tasks))
        if (record["goal"] or "") not in episode["tasks"]:
            episode["tasks"].append(record["goal"] or "")
        buffer.append(_row(record, counts["rows"], episode["episode_index"], episode["length"], task))
        episode["length"] += 1
        episode["dataset_to_index"] = counts["rows"] + 1
        counts["rows"] += 1
        counts["events"] += len(record["preceding_events"])
        if record["frame_png"] is not None:
            counts["frames"] += 1
            image_shape = image_shape or _image_shape(record["frame_png"])
        if len(buffer) >= ROW_GROUP:
            flush()
        if progress:
            progress(1)
    flush()
    files.close()
    _write_meta(root, pa, episodes, tasks, counts["rows"], image_shape)
    return counts


def _write_meta(
    root: Path, pa: Any, episodes: list[dict[str, Any]], tasks: dict[str, int], rows: int, shape: list[int] | None
) -> None:
    meta = root / "meta"
    (meta / "episodes" / "chunk-000").mkdir(parents=True, exist_ok=True)
    task_rows = [{"task_index": i, "task": t} for t, i in tasks.items()]
    pa.parquet.write_table(pa.Table.from_pylist(task_rows), meta / "tasks.parquet")
    if episodes:
        pa.parquet.write_table(pa.Table.from_pylist(episodes), meta / "episodes" / "chunk-000" / "file-000.parquet")
    info = {
        "codebase_version": CODEBASE_VERSION, "robot_type": "ghostpilot-desktop",
        "total_episodes": len(episodes), "total_frames": rows, "total_tasks": len(tasks),
        "chunks_size": CHUNKS_SIZE, "data_files_size_in_mb": DATA_FILE_MB, "video_files_size_in_mb": None,
        "fps": None, "splits": {"train": f"0:{len(episodes)}"}, "data_path": DATA_PATH, "video_path": None,
        "features": _features(shape),
        "ghostpilot": {"frame": "one row per suggestion shown; timestamp = session clock (s)",
                       "image": "the log's PNG thumbnail (<= 320 px wide) of the screen the suggestion was made on"},
    }  # fmt: skip
    (meta / "info.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
