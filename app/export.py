"""`ghostpilot export`: the correction log (suggestions, decisions, what the user did) with its context.

Three formats (docs/learning.md): JSON lines for reading, Parquet laid out like a LeRobot v3 dataset, and
episode folders (format v1) for `ghostpilot train` / `finetune`. Everything streams: sessions one at a time,
suggestions and events through the store's chunked read-only readers (WAL: the live copilot keeps writing).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.paths import data_dir, private_umask
from app.store_read import iter_context_frames, iter_events, iter_suggestions, read_sessions
from inference.episodes import EpisodeMeta, Event, frame_name, validate_event, write_episode
from inference.errors import GhostpilotError

FORMATS = ("jsonl", "parquet", "episodes")
LOG_NAME = "ghostpilot.db"
SIDECAR = "suggestions.jsonl"  # per episode folder: the suggestions shown and their decisions
REDACT_CHUNK = 4096  # events redacted at once when streaming a session
Progress = Callable[[int], None]
Redactor = Callable[[Iterable[Event]], Iterable[Event]]


@dataclass(frozen=True)
class ExportOptions:
    database: Path | None = None  # the log (default: data_dir()/ghostpilot.db)
    since: float | None = None  # unix time: sessions that started earlier are left out
    context_s: float = 5.0  # seconds of events before each suggestion kept as its context
    redact: bool = True  # apply app/redact.py to key events when it is installed
    frames: bool = True  # episodes: write the frames around each suggestion (or its thumbnail) into frames/


@dataclass(frozen=True)
class ExportSummary:
    out: Path
    sessions: int
    suggestions: int
    events: int
    frames: int
    redacted: bool  # False when redaction was asked for but app/redact.py is missing, or turned off


def parse_since(text: str) -> float:
    """'2026-11-24' or an ISO date-time (local time unless it names a zone) -> unix time."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise GhostpilotError(f"--since {text!r} is not a date", "use YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None
    return moment.timestamp() if moment.tzinfo else moment.astimezone().timestamp()


def log_path(options: ExportOptions) -> Path:
    return options.database if options.database is not None else data_dir() / LOG_NAME


def redaction_hook(enabled: bool) -> Redactor | None:
    """REDACTION HOOK: app/redact.py's `redact_key_stream` when it exists, else None (nothing is redacted)."""
    if not enabled:
        return None
    try:
        from app import redact  # type: ignore[attr-defined, unused-ignore]
    except ImportError:
        return None
    return _chunked(redact.redact_key_stream)


def _chunked(redact_list: Callable[[list[Event]], list[Event]]) -> Redactor:
    """Stream a list-in, list-out redactor: cut at a `mouse.down` (it ends every typed run, so the cut changes
    nothing) once REDACT_CHUNK events are buffered; memory is bounded unless someone types that many keys."""

    def redact(events: Iterable[Event]) -> Iterator[Event]:
        buffer: list[Event] = []
        for event in events:
            if len(buffer) >= REDACT_CHUNK and event["type"] == "mouse.down":
                yield from redact_list(buffer)
                buffer = []
            buffer.append(event)
        yield from redact_list(buffer)

    return redact


def select_sessions(options: ExportOptions) -> list[dict[str, Any]]:
    """Sessions to export, oldest first (session rows are small: the list is fine)."""
    sessions = read_sessions(log_path(options))
    return [s for s in sessions if options.since is None or s["started_at"] >= options.since]


def _redacted(events: Iterable[Event], redactor: Redactor | None) -> list[Event]:
    return list(redactor(events)) if redactor is not None else list(events)


def iter_corrections(
    options: ExportOptions, sessions: list[dict[str, Any]], redactor: Redactor | None
) -> Iterator[dict[str, Any]]:
    """One record per suggestion: session, the suggestion, its decision, the correction, the preceding events
    (the last `context_s` seconds), the PNG thumbnail and the frames around it at the model's resolution.
    Constant memory: three streams per session (events, suggestions, frames) advance together."""
    path = log_path(options)
    for session in sessions:
        events = iter_events(path, session["id"])
        window: deque[Event] = deque()
        pending: Event | None = None
        suggestions = iter_suggestions(path, session_id=session["id"], newest_first=False)
        frames = _FrameCursor(iter_context_frames(path, session["id"]))
        try:
            for row in suggestions:
                t = float(row["t"])
                while True:  # advance the event stream up to the suggestion's time
                    pending = pending if pending is not None else next(events, None)
                    if pending is None or pending["t"] > t:
                        break
                    window.append(pending)
                    pending = None
                while window and window[0]["t"] < t - options.context_s:
                    window.popleft()
                yield _record(session, row, list(window), redactor) | {"context_frames": frames.take(row["id"])}
        finally:
            suggestions.close()
            events.close()
            frames.close()


class _FrameCursor:
    """Context frames come sorted like the suggestions they belong to: take each suggestion's run in turn."""

    def __init__(self, rows: Iterator[dict[str, Any]]) -> None:
        self.rows, self.next_row = rows, next(rows, None)

    def take(self, suggestion_id: str) -> list[dict[str, Any]]:
        taken = []
        while self.next_row is not None and self.next_row["suggestion_id"] == suggestion_id:
            row = self.next_row
            taken.append({
                "offset_s": row["offset_s"], "pointer": [row["pointer_x"], row["pointer_y"]],
                "screen": [row["screen_width"], row["screen_height"]],
                "global_png": row["global_png"], "crop_png": row["crop_png"],
            })  # fmt: skip
            self.next_row = next(self.rows, None)
        return taken

    def close(self) -> None:
        close = getattr(self.rows, "close", None)
        if close is not None:
            close()


def _record(
    session: dict[str, Any], row: dict[str, Any], context: list[Event], redactor: Redactor | None
) -> dict[str, Any]:
    click = None if row["click_x"] is None else [row["click_x"], row["click_y"]]
    return {
        "session_id": session["id"], "suggestion_id": row["id"], "t": row["t"],
        "screen_width": session["screen_width"], "screen_height": session["screen_height"],
        "goal": row["goal"], "window": row["window"],
        "kind": row["kind"], "suggested_events": _redacted(row["events"], redactor), "click": click,
        "confidence": row["confidence"], "alternatives": row["alternatives"],
        "model_version": row["model_version"], "latency_ms": row["latency_ms"],
        "decision": row["decision"], "decision_t": row["decision_t"], "steps_accepted": row["steps_accepted"],
        "correction": _redacted(row["correction"] or [], redactor), "endpoint_error_px": row["endpoint_error_px"],
        "preceding_events": _redacted(context, redactor), "frame_png": row["frame"],
    }  # fmt: skip


def _json_ready(record: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in record.items() if k not in ("frame_png", "context_frames")}
    png = record["frame_png"]
    out["frame_png_base64"] = _b64(png) if png is not None else None
    out["context_frames"] = [
        {k: v for k, v in frame.items() if not k.endswith("_png")}
        | {"global_png_base64": _b64(frame["global_png"]), "crop_png_base64": _b64(frame["crop_png"])}
        for frame in record.get("context_frames", [])
    ]
    return out


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def export_jsonl(out: Path, options: ExportOptions, progress: Progress | None = None) -> ExportSummary:
    """One JSON object per line and suggestion; the thumbnail inline as base64 PNG."""
    redactor = redaction_hook(options.redact)
    sessions = select_sessions(options)
    out.parent.mkdir(parents=True, exist_ok=True)
    count = frames = events = 0
    with open(out, "w", encoding="utf-8") as lines:
        for record in iter_corrections(options, sessions, redactor):
            lines.write(json.dumps(_json_ready(record), separators=(",", ":")) + "\n")
            count += 1
            frames += len(record["context_frames"]) or record["frame_png"] is not None
            events += len(record["preceding_events"])
            if progress:
                progress(1)
    return ExportSummary(out, len(sessions), count, events, frames, redactor is not None)


def export_parquet(out: Path, options: ExportOptions, progress: Progress | None = None) -> ExportSummary:
    """A LeRobot-v3-like dataset folder (app/export_lerobot.py)."""
    from app.export_lerobot import write_lerobot

    redactor = redaction_hook(options.redact)
    sessions = select_sessions(options)
    stats = write_lerobot(out, sessions, iter_corrections(options, sessions, redactor), progress)
    return ExportSummary(out, len(sessions), stats["rows"], stats["events"], stats["frames"], redactor is not None)


# ----- episode folders -----


def _upscaled(png: bytes, width: int, height: int) -> np.ndarray:
    """The stored thumbnail (<= 320 px wide) stretched to screen size, so pointer coordinates index it."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGB").resize((width, height), Image.Resampling.BILINEAR))


def _valid_events(events: Iterable[Event], skipped: list[int]) -> Iterator[Event]:
    """Logged events as episode events; invalid ones (a bad key name, out-of-order time) are counted and left."""
    last_t = 0.0
    for event in events:
        try:
            validate_event(event)
        except ValueError:
            skipped[0] += 1
            continue
        if event["t"] < last_t:
            skipped[0] += 1
            continue
        last_t = event["t"]
        yield event


def _sidecar_line(record: dict[str, Any]) -> str:
    keep = ("suggestion_id", "t", "kind", "suggested_events", "click", "confidence", "goal", "decision",
            "decision_t", "steps_accepted", "endpoint_error_px", "correction")  # fmt: skip
    return json.dumps({k: record[k] for k in keep}, separators=(",", ":")) + "\n"


def _write_session_episode(
    folder: Path, session: dict[str, Any], options: ExportOptions, redactor: Redactor | None
) -> tuple[int, int, int]:
    """One session -> one episode folder; returns (events, suggestions, frames)."""
    path = log_path(options)
    meta = EpisodeMeta(
        session["screen_width"], session["screen_height"], goal=session["goal"], source="ghostpilot-log",
        extra={"session_id": session["id"], "started_at": session["started_at"],
               "model_name": session["model_name"], "model_version": session["model_version"]},
    )  # fmt: skip
    skipped, counted = [0], [0]

    def counting(events: Iterable[Event]) -> Iterator[Event]:
        for event in events:
            counted[0] += 1
            yield event

    logged = iter_events(path, session["id"])
    stream = redactor(logged) if redactor is not None else logged
    write_episode(folder, meta, counting(_valid_events(stream, skipped)))
    suggestions = frames = 0
    seen_ms: set[int] = set()
    with open(folder / SIDECAR, "w", encoding="utf-8") as sidecar:
        for record in iter_corrections(options, [session], redactor):
            sidecar.write(_sidecar_line(record))
            suggestions += 1
            if options.frames:
                frames += _write_frames(folder, record, (meta.screen_width, meta.screen_height), seen_ms)
    return counted[0], suggestions, frames


def _write_frames(folder: Path, record: dict[str, Any], screen: tuple[int, int], seen_ms: set[int]) -> int:
    """A suggestion's context frames as screen-sized PNGs (inference.features.compose_frame); a log from before
    context frames has only the thumbnail, stretched. Returns how many frames were written."""
    from PIL import Image

    from inference.features import compose_frame

    written = 0
    for frame in record["context_frames"] or [None]:
        if frame is None and record["frame_png"] is None:
            break
        t_ms = int(round((record["t"] + (frame["offset_s"] if frame else 0.0)) * 1000))
        if t_ms in seen_ms or t_ms < 0:
            continue
        if frame is None:
            rgb = _upscaled(record["frame_png"], *screen)
        else:
            (x, y), (width, height) = frame["pointer"], screen
            rgb = compose_frame(_png_rgb(frame["global_png"]), _png_rgb(frame["crop_png"]), x, y, width, height)
        seen_ms.add(t_ms)
        (folder / "frames").mkdir(exist_ok=True)
        Image.fromarray(rgb).save(folder / "frames" / frame_name(t_ms), compress_level=1)
        written += 1
    return written


def _png_rgb(png: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGB"))


def export_episodes(out: Path, options: ExportOptions, progress: Progress | None = None) -> ExportSummary:
    """One episode folder per session (`session-<started>-<id8>`), events as logged (`source` kept)."""
    redactor = redaction_hook(options.redact)
    sessions = select_sessions(options)
    out.mkdir(parents=True, exist_ok=True)
    totals = np.zeros(3, np.int64)
    for session in sessions:
        totals += _write_session_episode(out / episode_name(session), session, options, redactor)
        if progress:
            progress(1)
    events, suggestions, frames = (int(v) for v in totals)
    return ExportSummary(out, len(sessions), suggestions, events, frames, redactor is not None)


def episode_name(session: dict[str, Any]) -> str:
    """Sorts by start time, so the newest sessions are the last folders."""
    started = dt.datetime.fromtimestamp(session["started_at"], dt.UTC).strftime("%Y%m%dT%H%M%S")
    return f"session-{started}-{session['id'][:8]}"


def export_total(fmt: str, options: ExportOptions) -> int:
    """How many progress steps an export will report (suggestions, or sessions for episodes)."""
    sessions = select_sessions(options)
    if fmt == "episodes":
        return len(sessions)
    return sum(sum(1 for _ in iter_suggestions(log_path(options), session_id=s["id"], frames=False)) for s in sessions)


def export_log(fmt: str, out: Path, options: ExportOptions, progress: Progress | None = None) -> ExportSummary:
    exporters = {"jsonl": export_jsonl, "parquet": export_parquet, "episodes": export_episodes}
    if fmt not in exporters:
        raise GhostpilotError(f"unknown export format {fmt!r}", f"use one of {', '.join(FORMATS)}")
    with private_umask():  # the export holds the same private data as the log: owner-only files and folders
        return exporters[fmt](out, options, progress)
