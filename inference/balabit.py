"""Import the Balabit Mouse Dynamics Challenge CSVs as episodes, so real human pointing feeds eval and training.

Each `userNN/session_*` CSV (`record timestamp,client timestamp,button,state,x,y`) becomes one episode folder
`userNN-session_*` with events only (no frames). The mapping, and why:

- `client timestamp` is the event time: the record timestamp is when a network monitor saw the packet (bursty).
  Should the client clock ever go back, the event keeps the previous time (clamped) so the stream stays ordered.
- `Move` and `Drag` -> `mouse.move` (a drag is a move with the button held; the press says which button).
- `Left`/`Right` `Pressed`/`Released` -> `mouse.down`/`mouse.up`. `XButton` rows are skipped (no such button
  in episode format v1).
- `Scroll` `Up`/`Down` -> `mouse.scroll` dx=0, dy=+1/-1 at the current pointer position (the CSV gives 0,0).
  A scroll before any known pointer position is skipped.
- Rows at (65535, 65535) mean the pointer left the remote screen: they are skipped and never move the pointer,
  so they create no motion; the next on-screen sample continues from where the pointer really is.

Screens are not recorded; meta says 1920x1080 (every coordinate in the data lies inside it). Times are rounded
to 0.1 ms (the client clock ticks at about 16 ms). Any malformed row raises EpisodeError naming file and line.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

from inference.episodes import Episode, EpisodeMeta, Event, write_episode
from inference.errors import EpisodeError

SCREEN_WIDTH, SCREEN_HEIGHT = 1920, 1080
HEADER = ["record timestamp", "client timestamp", "button", "state", "x", "y"]
OFF_SCREEN = 65535
PROGRESS_EVERY = 65536  # rows between progress callbacks
_BUTTONS = {"Left": "left", "Right": "right"}
_PRESS = {"Pressed": "mouse.down", "Released": "mouse.up"}
_SCROLL = {"Up": 1, "Down": -1}


class _Reader:
    """Turns CSV rows into events, carrying the clamped clock and the current pointer position."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.t = 0.0
        self.position: tuple[int, int] | None = None

    def fail(self, line: int, reason: str) -> EpisodeError:
        return EpisodeError(f"{self.path}:{line}: {reason}")

    def event(self, row: list[str], line: int) -> Event | None:
        """The event for one data row, or None for a row that carries no usable event."""
        if len(row) != len(HEADER):
            raise self.fail(line, f"expected {len(HEADER)} comma-separated fields, got {len(row)}")
        _, client, button, state, x_text, y_text = row
        try:
            t, x, y = float(client), int(x_text), int(y_text)
        except ValueError:
            raise self.fail(line, "client timestamp must be a number and x, y integers") from None
        if not math.isfinite(t) or t < 0:
            raise self.fail(line, f"client timestamp must be a non-negative number, got {client!r}")
        if x < 0 or y < 0:
            raise self.fail(line, f"negative pointer position ({x}, {y})")
        self.t = max(self.t, round(t, 4))  # clamp: never let time go back
        if (x, y) == (OFF_SCREEN, OFF_SCREEN):
            return None
        return self._convert(button, state, x, y, line)

    def _convert(self, button: str, state: str, x: int, y: int, line: int) -> Event | None:
        if button == "NoButton" and state in ("Move", "Drag"):
            self.position = (x, y)
            return {"t": self.t, "type": "mouse.move", "x": x, "y": y}
        if button in _BUTTONS and state in _PRESS:
            self.position = (x, y)
            return {"t": self.t, "type": _PRESS[state], "x": x, "y": y, "button": _BUTTONS[button]}
        if button == "Scroll" and state in _SCROLL:
            if self.position is None:
                return None
            px, py = self.position
            return {"t": self.t, "type": "mouse.scroll", "x": px, "y": py, "dx": 0, "dy": _SCROLL[state]}
        if button == "XButton" and state in _PRESS:
            return None
        raise self.fail(line, f"unknown button/state {button!r}/{state!r}")


def read_balabit_csv(path: Path, progress: Callable[[int], None] | None = None) -> Iterator[Event]:
    """Stream one session CSV as episode events; `progress` gets the number of rows read since its last call."""
    reader = _Reader(path)
    pending = 0
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            rows = csv.reader(handle)
            header = next(rows, None)
            if header is None or [h.strip() for h in header] != HEADER:
                raise reader.fail(1, f"header must be {','.join(HEADER)}")
            for line, row in enumerate(rows, start=2):
                event = reader.event(row, line)
                if event is not None:
                    yield event
                pending += 1
                if progress is not None and pending >= PROGRESS_EVERY:
                    progress(pending)
                    pending = 0
    except UnicodeDecodeError:
        raise EpisodeError(f"{path}: not UTF-8 text") from None
    except csv.Error as exc:
        raise EpisodeError(f"{path}: unreadable CSV ({exc})") from None
    if progress is not None and pending:
        progress(pending)


def session_files(src_dir: Path) -> list[Path]:
    """Every `userNN/session_*` file under src_dir, sorted."""
    files = sorted(p for p in Path(src_dir).glob("user*/session_*") if p.is_file())
    if not files:
        raise EpisodeError(f"{src_dir}: no userNN/session_* files (is this the Balabit training_files folder?)")
    return files


def import_session(csv_path: Path, out_dir: Path, progress: Callable[[int], None] | None = None) -> Path:
    """Convert one session CSV; written to a temporary folder first so a failure leaves no half episode."""
    user_dir, session = csv_path.parent.name, csv_path.name
    user = user_dir.removeprefix("user").lstrip("0") or "0"
    meta = EpisodeMeta(
        screen_width=SCREEN_WIDTH,
        screen_height=SCREEN_HEIGHT,
        fps=30.0,
        app="balabit",
        source="balabit",
        extra={"user": user, "session": session.removeprefix("session_")},
    )
    final = Path(out_dir) / user_dir / session  # one folder per user: `ghostpilot train` weighs folders equally
    partial = final.parent / f".{session}.partial"
    partial.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(partial, ignore_errors=True)
    try:
        write_episode(partial, meta, read_balabit_csv(csv_path, progress))
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        if not any(partial.parent.iterdir()):
            partial.parent.rmdir()
        raise
    if final.exists():
        shutil.rmtree(final)
    partial.rename(final)
    return final


def import_balabit(src_dir: Path, out_dir: Path, progress: Callable[[int], None] | None = None) -> list[Path]:
    """Convert every session under src_dir into out_dir; returns the episode folders in sorted order."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [import_session(path, out, progress) for path in session_files(Path(src_dir))]


def balabit_user(episode: Episode | Path) -> str | None:
    """The Balabit user id ("7", "15", ...) of an episode, or None for an episode from elsewhere."""
    if isinstance(episode, Episode):
        user = episode.meta.extra.get("user")
    else:
        try:
            user = json.loads((Path(episode) / "meta.json").read_text(encoding="utf-8")).get("user")
        except (OSError, ValueError, AttributeError) as exc:
            raise EpisodeError(f"{episode}/meta.json: unreadable ({exc})") from None
    return None if user is None else str(user)


def main(argv: list[str] | None = None) -> int:
    """`python -m inference.balabit SRC OUT`: import with a progress bar."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("src", type=Path, help="folder holding userNN/session_* CSVs")
    parser.add_argument("out", type=Path, help="where the episode folders go")
    args = parser.parse_args(argv)
    from tqdm import tqdm

    with tqdm(unit=" rows", unit_scale=True) as bar:
        paths = import_balabit(args.src, args.out, bar.update)
    print(f"{len(paths)} episodes in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
