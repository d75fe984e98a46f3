"""Training data: episode folders -> per-tick arrays -> batches of context windows with their targets.

An episode is cut into active segments at idle gaps longer than IDLE_GAP (the pointer rests, nothing
happens); a window that starts before its segment is padded with idle ticks at the resting pointer, which is
exactly what the live session sees after a pause. Targets look ahead from every tick: the next tick's action
tokens, the next user click within the horizon and the next user key.
Events marked `"source": "ghostpilot"` are input but never targets: the model does not learn its own actions.
Events with a `"confidence"` (IDM labels, docs/idm.md) weigh their tick's targets by it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from inference import features
from inference.actions import TICK_HZ, TickEncoder, tick_of
from inference.episodes import Episode, Event, read_episode
from inference.features import TickFeaturizer

IDLE_GAP = 3.0  # seconds; at least the click horizon, so no target crosses a gap


@dataclass
class Segment:
    """Ticks of one active stretch: ids (n, 2+E) int16, cont (n, TICK_CONT) float32, from absolute t0."""

    t0: float
    ids: np.ndarray
    cont: np.ndarray
    ghost: np.ndarray  # (n,) bool: the tick holds events Ghostpilot performed
    true_xy: np.ndarray | None = None  # (n, 2) float32: the real pointer (last positioned event) at each tick's end
    end_tick: np.ndarray | None = None  # (n,) the tick where the movement under way at each tick ends (-1: none)
    end_press: np.ndarray | None = None  # (n,) index of the user press that ends it (-1: it ends in a rest)
    move_weight: np.ndarray | None = None  # (n,) 1 / moving ticks of the movement under way (0 at rest)
    confidence: np.ndarray | None = None  # (n,) the lowest event confidence in each tick (1: no IDM label there)


@dataclass
class EpisodeData:
    """Everything training needs from one episode, as arrays."""

    name: str
    width: int
    height: int
    segments: list[Segment]
    click_t: np.ndarray  # user presses: time (s), button token, x, y
    click_token: np.ndarray
    click_xy: np.ndarray
    mem_click_t: np.ndarray  # all presses (memory input): time, token, x, y
    mem_click_token: np.ndarray
    mem_click_xy: np.ndarray
    key_t: np.ndarray  # all key presses: time, token; key_user marks the user's own
    key_token: np.ndarray
    key_user: np.ndarray
    key_confidence: np.ndarray  # (K,) 1 unless IDM-labelled
    click_confidence: np.ndarray  # (C,) of the user presses
    frame_t: np.ndarray  # frames: time (s), prepared global views and crops
    frame_global: np.ndarray  # (F, GLOBAL_H, GLOBAL_W, 3) uint8
    frame_crop: np.ndarray  # (F, CROP, CROP, 3) uint8
    goal_texts: Any = None  # synthetic episodes: their goals and screen text (inference/synthetic/texts.py)

    @property
    def n_ticks(self) -> int:
        return sum(len(s.ids) for s in self.segments)


def split_segments(events: Sequence[Event], gap: float = IDLE_GAP) -> list[list[Event]]:
    segments: list[list[Event]] = []
    for event in events:
        if not segments or event["t"] - segments[-1][-1]["t"] > gap:
            segments.append([])
        segments[-1].append(event)
    return segments


def encode_segment(
    events: list[Event],
    width: int,
    height: int,
    start: tuple[float, float] | None,
    history: features.ClickHistory | None = None,
) -> Segment:
    """Ticks of one segment; `history` carries remembered clicks over from the segments before."""
    t0 = events[0]["t"]
    encoder = TickEncoder(width, height, t0, start)
    featurizer = TickFeaturizer(width, height, history)
    if start is not None:
        featurizer.set_idle(*start)
    rows: list[features.TickRow] = []
    true_xy: list[tuple[float, float]] = []  # the real pointer at each closed tick's end, as the session knows it
    here = start
    ghost_ticks: set[int] = set()
    confidence: dict[int, float] = {}

    def add(closed: list[tuple[int, ...]]) -> None:
        for tokens in closed:
            x, y = encoder.position or (0.0, 0.0)
            rows.append(featurizer.row(tokens, x, y))
            true_xy.append(here if here is not None else (x, y))

    for event in events:
        add(encoder.push(event))  # closes ticks before this event: `here` is still the pointer before it
        if "x" in event:
            here = (float(event["x"]), float(event["y"]))
        if event.get("source") == "ghostpilot":
            ghost_ticks.add(tick_of(event["t"], t0))
        if "confidence" in event:
            tick = tick_of(event["t"], t0)
            confidence[tick] = min(confidence.get(tick, 1.0), float(event["confidence"]))
    add(encoder.close_until(encoder.next_tick + 1))
    ids = np.stack([r.ids for r in rows]).astype(np.int16)
    cont = np.stack([r.cont for r in rows])
    ghost = np.zeros(len(rows), dtype=bool)
    ghost[[t for t in ghost_ticks if t < len(rows)]] = True
    weight = np.ones(len(rows), np.float32)
    for tick, value in confidence.items():
        if tick < len(rows):
            weight[tick] = value
    return Segment(t0, ids, cont, ghost, np.asarray(true_xy, np.float32).reshape(-1, 2), confidence=weight)


def movement_ends(seg: Segment, click_t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every tick i, the first later tick j where the pointer's current movement ends: a user press in
    tick j, or tick j is followed by REST_TICKS ticks without motion (the segment's end counts as rest).

    This is what a ghost shows (where the pointer will stop, and whether it clicks there) and what the
    endpoint metric scores: a movement that ends in a press has no rest of 0.25 s inside it.
    """
    n = len(seg.ids)
    moving = (seg.ids[:, 0] != features.ZERO_BIN) | (seg.ids[:, 1] != features.ZERO_BIN)
    padded = np.concatenate([[0], np.cumsum(np.concatenate([moving, np.zeros(features.REST_TICKS, bool)]))])
    ticks = np.arange(n)
    is_end = (padded[ticks + 1 + features.REST_TICKS] - padded[ticks + 1]) == 0
    press_tick = np.floor((click_t - seg.t0) * TICK_HZ + 1e-6).astype(np.int64)
    inside = np.flatnonzero((press_tick >= 0) & (press_tick < n))
    press_at = np.full(n, -1, np.int64)
    press_at[press_tick[inside][::-1]] = inside[::-1]  # the first press of a tick wins
    is_end |= press_at >= 0
    ends = np.flatnonzero(is_end)  # never empty: the segment's last tick is followed by rest
    nxt = np.searchsorted(ends, ticks, side="right")
    end_tick = np.where(nxt < len(ends), ends[np.minimum(nxt, len(ends) - 1)], -1)
    end_press = np.where(end_tick >= 0, press_at[np.maximum(end_tick, 0)], -1)
    return end_tick.astype(np.int64), end_press


def movement_weights(seg: Segment) -> np.ndarray:
    """1 / (moving ticks of the movement under way) at each moving tick, 0 at rest.

    The endpoint metric scores every movement at four moments, however long it lasts; a loss averaged over
    ticks would weigh a movement by its length. These weights make each movement count once.
    """
    assert seg.end_tick is not None
    moving = (seg.cont[:, 11] < features.REST_TICKS / features.REST_CAP) & (seg.end_tick >= 0)
    ends = np.where(moving, seg.end_tick, -1)
    counts = np.bincount(ends[moving], minlength=len(seg.ids)) if moving.any() else np.zeros(len(seg.ids), int)
    return np.where(moving, 1.0 / np.maximum(counts[np.maximum(ends, 0)], 1), 0.0).astype(np.float32)


def _event_arrays(events: Sequence[Event]) -> dict[str, np.ndarray]:
    from inference.actions import button_token, key_token

    clicks = [e for e in events if e["type"] == "mouse.down"]
    user_clicks = [e for e in clicks if e.get("source") != "ghostpilot"]
    keys = [e for e in events if e["type"] == "key.down"]

    def click_arrays(items: list[Event]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (
            np.array([e["t"] for e in items], dtype=np.float64),
            np.array([button_token(e["button"], True) for e in items], dtype=np.int64),
            np.array([(e["x"], e["y"]) for e in items], dtype=np.float32).reshape(-1, 2),
        )

    out = dict(zip(("click_t", "click_token", "click_xy"), click_arrays(user_clicks), strict=True))
    out.update(zip(("mem_click_t", "mem_click_token", "mem_click_xy"), click_arrays(clicks), strict=True))
    out["key_t"] = np.array([e["t"] for e in keys], dtype=np.float64)
    out["key_token"] = np.array([key_token(e["key"], True) for e in keys], dtype=np.int64)
    out["key_user"] = np.array([e.get("source") != "ghostpilot" for e in keys], dtype=bool)
    out["key_confidence"] = np.array([float(e.get("confidence", 1.0)) for e in keys], dtype=np.float32)
    out["click_confidence"] = np.array([float(e.get("confidence", 1.0)) for e in user_clicks], dtype=np.float32)
    return out


def _frame_arrays(episode: Episode) -> dict[str, np.ndarray]:
    times = np.array(episode.frame_times_ms, dtype=np.float64) / 1000
    globals_, crops = [], []
    positioned = [e for e in episode.events if "x" in e]
    event_t = np.array([e["t"] for e in positioned])
    for t_ms, t in zip(episode.frame_times_ms, times, strict=True):
        index = int(np.searchsorted(event_t, t, side="right")) - 1
        unknown = (episode.meta.screen_width / 2, episode.meta.screen_height / 2)  # as the live session does
        x, y = (positioned[index]["x"], positioned[index]["y"]) if index >= 0 else unknown
        g, c = features.prepare_frame(episode.load_frame(t_ms), x, y)
        globals_.append(g)
        crops.append(c)
    shape_g, shape_c = (0, features.GLOBAL_H, features.GLOBAL_W, 3), (0, features.CROP, features.CROP, 3)
    return {
        "frame_t": times,
        "frame_global": np.stack(globals_) if globals_ else np.zeros(shape_g, np.uint8),
        "frame_crop": np.stack(crops) if crops else np.zeros(shape_c, np.uint8),
    }


def load_episode_data(path: Path, use_frames: bool = True) -> EpisodeData:
    episode = read_episode(path)
    width, height = episode.meta.screen_width, episode.meta.screen_height
    segments = []
    start: tuple[float, float] | None = None  # where the pointer rests when a segment begins (as the session)
    history = features.ClickHistory()
    for chunk in split_segments(episode.events):
        segments.append(encode_segment(chunk, width, height, start, history))
        last = next((e for e in reversed(chunk) if "x" in e), None)
        start = (float(last["x"]), float(last["y"])) if last else start
    frames = _frame_arrays(episode) if use_frames and episode.frame_times_ms else _frame_arrays_empty()
    data = EpisodeData(path.name, width, height, segments, **_event_arrays(episode.events), **frames)
    if "generator" in episode.meta.extra:
        from inference.synthetic.texts import episode_texts

        data.goal_texts = episode_texts(episode)
    for seg in segments:
        seg.end_tick, seg.end_press = movement_ends(seg, data.click_t)
        seg.move_weight = movement_weights(seg)
    return data


def _frame_arrays_empty() -> dict[str, np.ndarray]:
    return {
        "frame_t": np.zeros(0),
        "frame_global": np.zeros((0, features.GLOBAL_H, features.GLOBAL_W, 3), np.uint8),
        "frame_crop": np.zeros((0, features.CROP, features.CROP, 3), np.uint8),
    }


def load_many(
    paths: Sequence[Path], use_frames: bool, progress: Callable[[int], None] | None = None, processes: int = 1
) -> list[EpisodeData]:
    """Episodes in order; `processes` > 1 decodes them in a process pool (frames make this the slow part)."""
    if processes > 1 and len(paths) > 1:
        import multiprocessing
        from functools import partial

        with multiprocessing.get_context("fork").Pool(processes) as pool:
            data = pool.map(partial(load_episode_data, use_frames=use_frames), paths, chunksize=1)
        if progress:
            progress(len(data))
        return data
    data = []
    for path in paths:
        data.append(load_episode_data(path, use_frames))
        if progress:
            progress(1)
    return data


def active_ticks(segment: Segment) -> np.ndarray:
    """Ticks worth ending a training window on: something happened at or just before them."""
    ids = segment.ids
    active = (ids[:, 0] != features.ZERO_BIN) | (ids[:, 1] != features.ZERO_BIN) | (ids[:, 2] != 0)
    return np.flatnonzero(active)
