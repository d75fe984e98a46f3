"""Screen capture for the model: a thread grabs the whole virtual screen with mss into a small ring buffer.

The overlay's own ghosts are masked out of every frame (stack notes trap 5: with a compositor mss sees them):
regions the overlay draws in are replaced by the pixels last seen there while they were clean, so the model
never learns from its own predictions. Visible deny-listed windows (PrivacyGuard.regions) are painted grey in
every frame, before it reaches the model or the store. Geometry helpers are pure functions on mss-style monitor
dicts. No Qt.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from inference.errors import GhostpilotError

Rect = tuple[int, int, int, int]  # x, y, width, height in physical pixels
Monitor = Mapping[str, Any]  # mss style: {"left", "top", "width", "height", ...}
NEUTRAL_GREY = 128  # fills a masked region that was never seen clean
MAX_FPS = 30.0
MASK_LINGER_S = 0.2  # a region stays masked this long after the overlay stops drawing there (repaint lag)


@dataclass(frozen=True)
class CapturedFrame:
    """One screen frame: `rgb` is H x W x 3 uint8 (read-only), `t` on the caller's clock."""

    t: float
    rgb: np.ndarray
    origin: tuple[int, int]  # virtual-screen position of the captured area's top-left pixel
    screen_size: tuple[int, int] = (0, 0)  # (width, height) captured; differs from rgb's when model_size is set


@dataclass(frozen=True)
class CaptureStats:
    """Medians over the last few dozen frames, in milliseconds."""

    frames: int
    grab_ms: float  # mss grab of the whole virtual screen
    process_ms: float  # BGRA->RGB, masking and optional resize
    error: str | None


# ---- geometry (pure) ----


def virtual_geometry(monitors: Sequence[Monitor]) -> dict[str, int]:
    """The bounding box of the physical monitors (mss `monitors[1:]`), as an mss-style dict."""
    if not monitors:
        raise ValueError("no monitors")
    left = min(int(m["left"]) for m in monitors)
    top = min(int(m["top"]) for m in monitors)
    right = max(int(m["left"]) + int(m["width"]) for m in monitors)
    bottom = max(int(m["top"]) + int(m["height"]) for m in monitors)
    return {"left": left, "top": top, "width": right - left, "height": bottom - top}


def monitor_of(x: float, y: float, monitors: Sequence[Monitor]) -> int:
    """Index in `monitors` of the monitor holding point (x, y); for a point in a gap, the nearest monitor."""
    if not monitors:
        raise ValueError("no monitors")

    def distance(m: Monitor) -> float:
        dx = max(m["left"] - x, 0.0, x - (m["left"] + m["width"] - 1))
        dy = max(m["top"] - y, 0.0, y - (m["top"] + m["height"] - 1))
        return float(dx * dx + dy * dy)

    return min(range(len(monitors)), key=lambda i: distance(monitors[i]))


# ---- pixels (pure) ----


def bgra_to_rgb(raw: bytes | bytearray | memoryview, width: int, height: int) -> np.ndarray:
    """mss's BGRx buffer -> a new contiguous H x W x 3 RGB array (the 4th byte is not alpha).

    Three channel copies into a preallocated array: ~1.7 ms at 1920x1080, 4x faster than ascontiguousarray of
    a reversed slice. Rows may be padded (stride > width * 4) on some platforms.
    """
    stride = len(raw) // height
    bgra = np.frombuffer(raw, dtype=np.uint8, count=stride * height).reshape(height, stride // 4, 4)[:, :width]
    rgb = np.empty((height, width, 3), dtype=np.uint8)
    rgb[..., 0] = bgra[..., 2]
    rgb[..., 1] = bgra[..., 1]
    rgb[..., 2] = bgra[..., 0]
    return rgb


def to_frame_rects(rects: Sequence[Rect], origin: tuple[int, int]) -> list[Rect]:
    """Virtual-screen rects -> rects relative to a frame whose top-left pixel is at `origin`."""
    return [(x - origin[0], y - origin[1], w, h) for x, y, w, h in rects]


def apply_mask(frame: np.ndarray, clean: np.ndarray | None, rects: Sequence[Rect]) -> np.ndarray:
    """Replace `rects` (frame pixels, clipped to the frame) with `clean`'s pixels, or neutral grey without one.

    `frame` is changed in place and returned. Feed the result back as the next `clean`: outside the mask it is
    fresh, inside it holds the last pixels seen there unmasked.
    """
    height, width = frame.shape[:2]
    usable = clean is not None and clean.shape == frame.shape
    for x, y, w, h in rects:
        x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, width), min(y + h, height)
        if x1 <= x0 or y1 <= y0:
            continue
        if usable:
            assert clean is not None
            frame[y0:y1, x0:x1] = clean[y0:y1, x0:x1]
        else:
            frame[y0:y1, x0:x1] = NEUTRAL_GREY
    return frame


class MaskRegions:
    """Where the overlay draws; a removed region lingers `linger_s` (the ghost may still be on screen)."""

    def __init__(self, linger_s: float = MASK_LINGER_S) -> None:
        self.linger_s = linger_s
        self._current: list[Rect] = []
        self._lingering: list[tuple[Rect, float]] = []  # (rect, masked until)

    def set(self, rects: Sequence[Rect], now: float) -> None:
        new: list[Rect] = [(int(x), int(y), int(w), int(h)) for x, y, w, h in rects]
        until = now + self.linger_s
        gone = [(r, until) for r in self._current if r not in new]
        self._lingering = [(r, u) for r, u in self._lingering if u > now and r not in new] + gone
        self._current = new

    def active(self, now: float) -> list[Rect]:
        return self._current + [r for r, until in self._lingering if until > now]


# ---- the capture thread ----


def _display_error(exc: BaseException) -> GhostpilotError:
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
    where = os.environ.get("DISPLAY", "")
    return GhostpilotError(
        f"cannot capture the screen{' on ' + where if where else ''}: {first}",
        "check that the X server is running and lets this user connect",
    )


class ScreenCapture:
    """Grabs monitors[0] (the whole virtual screen) at up to `fps` into a ring of the last `buffer_size` frames.

    The mss object lives in the capture thread (mss instances are not thread-safe). `clock` stamps frames,
    e.g. the input recorder's clock, so frames and events share one timeline. `model_size` (W, H) downscales
    the published frames; masking always happens at full resolution first. `private_regions()` (read once per
    frame, computed elsewhere) names screen rectangles painted grey: visible deny-listed windows.
    """

    def __init__(
        self,
        fps: float,
        model_size: tuple[int, int] | None = None,
        clock: Callable[[], float] = time.monotonic,
        buffer_size: int = 8,
        private_regions: Callable[[], Sequence[Rect]] = list,
    ) -> None:
        if not 0 < fps <= MAX_FPS:
            raise ValueError(f"fps must be in (0, {MAX_FPS:g}], got {fps}")
        self.fps = fps
        self.model_size = model_size
        self.clock = clock
        self._frames: deque[CapturedFrame] = deque(maxlen=buffer_size)
        self._lock = threading.Lock()
        self._mask = MaskRegions()
        self._clean: np.ndarray | None = None  # last full-resolution masked frame
        self.private_regions = private_regions  # windows never to be seen (PrivacyGuard.regions), screen px
        self._private: list[Rect] = []
        self._grab_ms: deque[float] = deque(maxlen=50)
        self._process_ms: deque[float] = deque(maxlen=50)
        self._count = 0
        self._error: GhostpilotError | None = None
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, timeout_s: float = 10.0) -> None:
        """Start the thread; returns after the first frame, raises a one-line GhostpilotError if none can be had."""
        if self._thread is not None:
            return
        if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
            raise GhostpilotError(
                "no display: DISPLAY is not set", "run Ghostpilot inside an X11 (or XWayland) session"
            )
        self._error = None
        self._stop.clear()
        self._ready.clear()
        self._thread = threading.Thread(target=self._run, name="ghostpilot-capture", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout_s):
            self.stop()
            raise GhostpilotError(f"screen capture gave no frame within {timeout_s:g} s", "check the X server")
        if self._error is not None:
            error = self._error
            self.stop()
            raise error

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def set_mask(self, rects: Sequence[Rect]) -> None:
        """Virtual-screen rects where the overlay draws now; call it before the overlay paints there."""
        with self._lock:
            self._mask.set(rects, time.monotonic())

    def latest(self) -> CapturedFrame | None:
        with self._lock:
            return self._frames[-1] if self._frames else None

    def recent(self) -> list[CapturedFrame]:
        """The buffered frames, oldest first."""
        with self._lock:
            return list(self._frames)

    @property
    def stats(self) -> CaptureStats:
        with self._lock:
            grab = statistics.median(self._grab_ms) if self._grab_ms else 0.0
            process = statistics.median(self._process_ms) if self._process_ms else 0.0
            return CaptureStats(self._count, grab, process, str(self._error) if self._error else None)

    def _run(self) -> None:
        try:
            import mss

            grabber = mss.MSS()
            monitor = dict(grabber.monitors[0])
        except Exception as exc:  # mss raises its own X errors when the server is missing or refuses us
            self._error = _display_error(exc)
            self._ready.set()
            return
        period = 1.0 / self.fps
        with grabber:
            next_due = time.monotonic()
            while not self._stop.is_set():
                try:
                    self._capture_one(grabber, monitor)
                except Exception as exc:  # the X server went away mid-session
                    self._error = _display_error(exc)
                    break
                finally:
                    self._ready.set()
                next_due = max(next_due + period, time.monotonic())  # fall behind rather than burst
                self._stop.wait(next_due - time.monotonic())

    def _capture_one(self, grabber: Any, monitor: dict[str, int]) -> None:
        t0, start = self.clock(), time.perf_counter()
        shot = grabber.grab(monitor)
        t1, grabbed = self.clock(), time.perf_counter()
        width, height = shot.size
        rgb = bgra_to_rgb(shot.raw, width, height)
        origin = (int(monitor["left"]), int(monitor["top"]))
        with self._lock:
            rects = to_frame_rects(self._mask.active(time.monotonic()), origin)
        private = list(self.private_regions())
        if private != self._private:  # the last clean pixels may show a window that is private now
            self._private, self._clean = private, None
        rgb = apply_mask(rgb, self._clean, rects)
        rgb = apply_mask(rgb, None, to_frame_rects(private, origin))  # grey, never pixels seen there before
        rgb.flags.writeable = False
        self._clean = rgb
        published = rgb if self.model_size is None else _resize(rgb, self.model_size)
        frame = CapturedFrame((t0 + t1) / 2, published, origin, (width, height))
        done = time.perf_counter()
        with self._lock:
            self._frames.append(frame)
            self._count += 1
            self._grab_ms.append((grabbed - start) * 1e3)
            self._process_ms.append((done - grabbed) * 1e3)


def _resize(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    # reducing_gap: a box reduce first, then bilinear: 1.6 ms instead of 10 ms from 1920x1080 to 128x64
    small = np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0))
    small.flags.writeable = False
    return small
