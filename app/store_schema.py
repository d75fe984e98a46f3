"""The log file: its records and their rows, the schema and its migrations, opening it safely, reading it.

Schema changes are an ordered registry of functions: migration N brings a database from `PRAGMA user_version`
N-1 to N inside one transaction, so a crash mid-upgrade leaves the old version intact. `PRAGMA application_id`
marks the file as a Ghostpilot log, so a foreign SQLite file is refused instead of having tables added to it.
"""

from __future__ import annotations

import contextlib
import io
import json
import sqlite3
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from sqlite_utils import Database

from app.paths import private_file, private_umask
from inference import __version__
from inference.episodes import Event
from inference.errors import GhostpilotError
from inference.predictor import Suggestion

APPLICATION_ID = int.from_bytes(b"GhPl", "big")
SQLITE_HEADER = b"SQLite format 3\x00"
DECISIONS = ("accepted", "partial", "dismissed", "ignored")
SUGGESTION_KINDS = ("pointer", "keys")
TABLES = ("sessions", "events", "suggestions", "decisions", "context_frames")
THUMBNAIL_WIDTH = 320
KEEP_HINT = "Ghostpilot left the file untouched; move it aside to start a new log, or pass another path"

Migration = Callable[[Database], None]
MIGRATIONS: list[Migration] = []


def new_id() -> str:
    """A record id made without touching the database, so enqueueing can return it at once."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class SessionRecord:
    """One copilot run; its events and suggestions use a session clock that starts at 0 s."""

    started_at: float  # unix time
    screen_width: int
    screen_height: int
    model_name: str = ""
    model_version: str = ""
    goal: str | None = None
    app_version: str = __version__
    ended_at: float | None = None  # set by Store.end_session
    id: str = field(default_factory=new_id)


@dataclass(frozen=True)
class SuggestionRecord:
    """One ghost that was shown: predicted events (episode schema) and what it was made on."""

    session_id: str
    t: float  # session clock, seconds
    kind: str  # "pointer" | "keys"
    events: list[Event]
    confidence: float
    click: tuple[float, float] | None = None
    alternatives: list[dict[str, Any]] = field(default_factory=list)  # the runners-up: kind, events, confidence, click
    model_version: str = ""
    latency_ms: float | None = None
    goal: str | None = None
    window: str | None = None  # focused window title
    frame: bytes | np.ndarray | None = field(default=None, compare=False)  # PNG, or RGB the writer thumbnails
    id: str = field(default_factory=new_id)

    def without_frames(self) -> SuggestionRecord:
        """The record minus its screen thumbnail: what the write queue keeps when it must shed memory."""
        return replace(self, frame=None)

    @classmethod
    def from_suggestion(
        cls, session_id: str, t: float, best: Suggestion, others: Sequence[Suggestion] = ()
    ) -> SuggestionRecord:
        """A Predictor API suggestion (and its runners-up) -> a record; add context with dataclasses.replace."""
        alternatives = [
            {"kind": s.kind, "events": s.events, "confidence": s.confidence, "click": s.click} for s in others
        ]
        return cls(session_id, t, best.kind, best.events, float(best.confidence), best.click, alternatives)


@dataclass(frozen=True)
class ContextFrame:
    """One screen frame near a suggestion, as captured; the writer keeps it at the model's resolution."""

    offset_s: float  # frame time minus the suggestion's time: negative before it was shown
    pointer: tuple[float, float]  # where the pointer was (screen px): the full-resolution crop is centred there
    rgb: np.ndarray = field(compare=False)  # H x W x 3 uint8, the whole screen


@dataclass(frozen=True)
class ContextFramesRecord:
    """The frames before a suggestion (those the model saw) and after it (what the user then did)."""

    suggestion_id: str
    frames: tuple[ContextFrame, ...]

    def without_frames(self) -> ContextFramesRecord:
        return replace(self, frames=())


@dataclass(frozen=True)
class DecisionRecord:
    """What the user did with a suggestion; `correction` is what they actually did in the seconds after."""

    suggestion_id: str
    t: float
    decision: str  # "accepted" | "partial" | "dismissed" | "ignored"
    steps_accepted: int = 0
    correction: list[Event] = field(default_factory=list)
    endpoint_error_px: float | None = None


def session_row(record: SessionRecord) -> dict[str, Any]:
    return {**asdict(record), "screen_width": int(record.screen_width), "screen_height": int(record.screen_height)}


def event_rows(session_id: str, events: list[Event]) -> list[dict[str, Any]]:
    return [
        {
            "session_id": session_id,
            "t": float(e["t"]),
            "type": e["type"],
            "source": e.get("source", "user"),
            "data": dumps(e),
        }
        for e in events
    ]


def suggestion_row(record: SuggestionRecord) -> dict[str, Any]:
    click_x, click_y = (float(record.click[0]), float(record.click[1])) if record.click is not None else (None, None)
    frame = frame_thumbnail(record.frame) if isinstance(record.frame, np.ndarray) else record.frame
    return {
        "id": record.id, "session_id": record.session_id, "t": float(record.t), "kind": record.kind,
        "events": dumps(record.events), "click_x": click_x, "click_y": click_y, "confidence": float(record.confidence),
        "alternatives": dumps(record.alternatives), "model_version": record.model_version,
        "latency_ms": record.latency_ms, "goal": record.goal, "window": record.window, "frame": frame,
    }  # fmt: skip


def context_frame_rows(record: ContextFramesRecord) -> list[dict[str, Any]]:
    """Each frame as the model sees it (inference/features.prepare_frame): the whole screen at 128 x 64 and a
    64 x 64 full-resolution crop at the pointer, both PNG; a few KB where a full frame would be hundreds."""
    from inference.features import prepare_frame

    rows = []
    for frame in record.frames:
        global_view, crop = prepare_frame(frame.rgb, *frame.pointer)
        rows.append({
            "suggestion_id": record.suggestion_id, "offset_s": round(float(frame.offset_s), 4),
            "pointer_x": float(frame.pointer[0]), "pointer_y": float(frame.pointer[1]),
            "screen_width": int(frame.rgb.shape[1]), "screen_height": int(frame.rgb.shape[0]),
            "global_png": png_bytes(global_view), "crop_png": png_bytes(crop),
        })  # fmt: skip
    return rows


def png_bytes(rgb: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buffer, format="PNG")
    return buffer.getvalue()


def decision_row(record: DecisionRecord) -> dict[str, Any]:
    error = None if record.endpoint_error_px is None else float(record.endpoint_error_px)
    return {
        "suggestion_id": record.suggestion_id, "t": float(record.t), "decision": record.decision,
        "steps_accepted": int(record.steps_accepted), "correction": dumps(record.correction),
        "endpoint_error_px": error,
    }  # fmt: skip


def frame_thumbnail(rgb: np.ndarray, max_width: int = THUMBNAIL_WIDTH) -> bytes:
    """An H x W x 3 uint8 RGB frame -> a PNG at most `max_width` wide (aspect kept): small enough to log."""
    from PIL import Image

    check_rgb(rgb)
    step = max(1, rgb.shape[1] // (2 * max_width))  # subsample first: Pillow then handles ~1/9 of a 1080p frame
    image = Image.fromarray(np.ascontiguousarray(rgb[::step, ::step]))
    if image.width > max_width:
        height = max(1, round(image.height * max_width / image.width))
        image = image.resize((max_width, height), Image.Resampling.BOX)
    return png_bytes(np.asarray(image))


def check_rgb(rgb: np.ndarray) -> None:
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8 or rgb.size == 0:
        raise ValueError(f"expected an H x W x 3 uint8 RGB frame, got shape {rgb.shape} {rgb.dtype}")


# --- schema ---


class LogFileError(GhostpilotError):
    """The log database cannot be used: not SQLite, damaged, foreign, too new, locked or unreachable."""


def migration(fn: Migration) -> Migration:
    """Register `fn` as the next schema version (its position in the registry + 1)."""
    MIGRATIONS.append(fn)
    return fn


_V1_TABLES = (
    """CREATE TABLE sessions (
        id TEXT PRIMARY KEY, started_at REAL NOT NULL, ended_at REAL,
        screen_width INTEGER NOT NULL, screen_height INTEGER NOT NULL,
        model_name TEXT, model_version TEXT, goal TEXT, app_version TEXT)""",
    """CREATE TABLE events (
        id INTEGER PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions(id),
        t REAL NOT NULL, type TEXT NOT NULL, source TEXT NOT NULL DEFAULT 'user', data TEXT NOT NULL)""",
    "CREATE INDEX events_session_t ON events(session_id, t)",
    """CREATE TABLE suggestions (
        id TEXT PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions(id), t REAL NOT NULL,
        kind TEXT NOT NULL, events TEXT NOT NULL, click_x REAL, click_y REAL, confidence REAL NOT NULL,
        alternatives TEXT NOT NULL DEFAULT '[]', model_version TEXT, latency_ms REAL, goal TEXT)""",
    "CREATE INDEX suggestions_session_t ON suggestions(session_id, t)",
    """CREATE TABLE decisions (
        suggestion_id TEXT PRIMARY KEY REFERENCES suggestions(id), t REAL NOT NULL,
        decision TEXT NOT NULL CHECK (decision IN ('accepted', 'partial', 'dismissed', 'ignored')),
        steps_accepted INTEGER NOT NULL DEFAULT 0, correction TEXT NOT NULL DEFAULT '[]')""",
)


@migration
def _v1_core_tables(db: Database) -> None:
    """Sessions, their input events, the suggestions shown and what the user decided."""
    for statement in _V1_TABLES:
        db.conn.execute(statement)


@migration
def _v2_suggestion_context(db: Database) -> None:
    """What the suggestion was made on (focused window, screen thumbnail) and how far off its endpoint was."""
    db.table("suggestions").add_column("window", str)
    db.table("suggestions").add_column("frame", bytes)
    db.table("decisions").add_column("endpoint_error_px", float)


@migration
def _v3_context_frames(db: Database) -> None:
    """The frames around each suggestion at the model's resolution (app/context_frames.py), for fine-tuning."""
    db.conn.execute(
        """CREATE TABLE context_frames (
            suggestion_id TEXT NOT NULL REFERENCES suggestions(id), offset_s REAL NOT NULL,
            pointer_x REAL NOT NULL, pointer_y REAL NOT NULL, screen_width INTEGER NOT NULL,
            screen_height INTEGER NOT NULL, global_png BLOB NOT NULL, crop_png BLOB NOT NULL,
            PRIMARY KEY (suggestion_id, offset_s))"""
    )


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: Database, target: int | None = None) -> int:
    """Apply the pending migrations up to `target` (default: the newest), one transaction each."""
    target = len(MIGRATIONS) if target is None else target
    for version in range(schema_version(db.conn) + 1, target + 1):
        with db.atomic():
            MIGRATIONS[version - 1](db)
            db.conn.execute(f"PRAGMA user_version = {version}")
            db.conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    return schema_version(db.conn)


def dumps(value: Any) -> str:
    """Compact JSON; NumPy scalars and arrays become plain numbers and lists."""
    return json.dumps(value, separators=(",", ":"), default=_json_default)


def _json_default(value: Any) -> Any:
    for name in ("tolist", "item"):  # numpy arrays and scalars
        convert = getattr(value, name, None)
        if callable(convert):
            return convert()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def open_error(path: Path, exc: BaseException) -> LogFileError:
    """An sqlite3 failure while opening `path` -> one line naming the file, with a hint."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    if code in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
        return LogFileError(f"{path} is damaged or not a Ghostpilot log ({exc})", KEEP_HINT)
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return LogFileError(f"{path} is locked by another program", "close the other Ghostpilot or SQLite program")
    if code == sqlite3.SQLITE_FULL:
        return LogFileError(f"cannot write {path}: disk full", "free some disk space and try again")
    return LogFileError(f"cannot open {path} ({exc})", "check that the path is a file you can read and write")


def _check_header(path: Path) -> None:
    """Refuse a non-SQLite file before SQLite sees it (an empty or missing file is a new log)."""
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise LogFileError(f"cannot read {path} ({exc.strerror})", "check the path and its permissions") from None
    if head and head != SQLITE_HEADER:
        raise LogFileError(f"{path} is not an SQLite database", KEEP_HINT)


def _check_identity(path: Path, conn: sqlite3.Connection) -> None:
    """Our application id, or a brand-new empty file; never someone else's database, never a newer schema."""
    app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    has_tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
    if app_id != APPLICATION_ID and (app_id != 0 or has_tables):
        raise LogFileError(f"{path} is an SQLite database but not a Ghostpilot log", KEEP_HINT)
    version = schema_version(conn)
    if version > len(MIGRATIONS):
        raise LogFileError(
            f"{path} was written by a newer Ghostpilot (log schema v{version}, this version reads v{len(MIGRATIONS)})",
            "update Ghostpilot, or pass another log path",
        )


def private_log_files(path: Path) -> None:
    """The database and its WAL and shared-memory files: owner read/write only."""
    for suffix in ("", "-wal", "-shm"):
        private_file(Path(f"{path}{suffix}"))


def connect_writer(path: Path, busy_timeout_ms: int) -> Database:
    """The one write connection: checked, migrated, WAL, files 0600. Raises LogFileError, never overwrites."""
    _check_header(path)
    conn: sqlite3.Connection | None = None
    try:
        with private_umask():
            conn = sqlite3.connect(path, timeout=busy_timeout_ms / 1000, check_same_thread=False)
            _check_identity(path, conn)
            private_file(path)
            db = Database(conn, execute_plugins=False)
            db.enable_wal()
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA journal_size_limit = 67108864")
            migrate(db)
        private_log_files(path)
        return db
    except sqlite3.Error as exc:
        _close_quietly(conn)
        raise open_error(path, exc) from None
    except LogFileError:
        _close_quietly(conn)
        raise


def connect_reader(path: Path, busy_timeout_ms: int = 5000) -> sqlite3.Connection:
    """A read-only connection to a log at the current schema (WAL: it never blocks the writer)."""
    if not path.is_file():
        raise LogFileError(f"no Ghostpilot log at {path}", "run a session first, or pass the log's path")
    _check_header(path)
    conn: sqlite3.Connection | None = None
    try:
        with private_umask():  # a reader may create the -shm file
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=busy_timeout_ms / 1000)
            _check_identity(path, conn)
        if schema_version(conn) < len(MIGRATIONS):
            raise LogFileError(
                f"{path} uses an older log schema (v{schema_version(conn)})", "open it once with Ghostpilot to upgrade"
            )
        conn.row_factory = sqlite3.Row
        return conn
    except sqlite3.Error as exc:
        _close_quietly(conn)
        raise open_error(path, exc) from None
    except LogFileError:
        _close_quietly(conn)
        raise


def _close_quietly(conn: sqlite3.Connection | None) -> None:
    if conn is not None:
        with contextlib.suppress(sqlite3.Error):
            conn.close()
