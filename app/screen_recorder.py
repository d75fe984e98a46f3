"""Record an X11 screen to H.264 with the real cursor drawn in, as screen recorders do (mss + XFixes + PyAV).

mss captures never show the pointer; XFixes GetCursorImage returns the server's current cursor sprite and
hotspot (an arrow, an I-beam over text fields, whatever the application set), which is composited at the
pointer. Frames carry their capture time as pts (ms), so a variable capture rate stays honest in the file.
Used to make recordings of real applications for the IDM's evaluation (benchmarks/idm_real_app.py).
"""

from __future__ import annotations

import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np


class CursorSource:
    """The current cursor sprite (RGB, alpha, hotspot) and pointer position via XFixes; sprites are cached."""

    def __init__(self, display_name: str | None = None) -> None:
        from app.x11 import open_display

        self.display = open_display(display_name)
        self.display.xfixes_query_version()
        self.root = self.display.screen().root
        self.cache: dict[int, tuple[np.ndarray, np.ndarray, int, int]] = {}

    def current(self) -> tuple[int, int, np.ndarray, np.ndarray, int, int]:
        reply = self.display.xfixes_get_cursor_image(self.root)
        sprite = self.cache.get(reply.cursor_serial)
        if sprite is None:
            argb = np.array(reply.cursor_image, dtype=np.uint32).reshape(reply.height, reply.width)
            alpha = ((argb >> 24) & 255).astype(np.float32)[..., None] / 255.0
            rgb = np.stack([(argb >> 16) & 255, (argb >> 8) & 255, argb & 255], -1).astype(np.float32)
            sprite = (rgb, alpha, int(reply.xhot), int(reply.yhot))  # premultiplied: out = bg * (1 - a) + rgb
            self.cache[reply.cursor_serial] = sprite
        return int(reply.x), int(reply.y), *sprite

    def close(self) -> None:
        self.display.close()


def draw_cursor(frame: np.ndarray, x: int, y: int, rgb: np.ndarray, alpha: np.ndarray, hx: int, hy: int) -> None:
    """Composite a premultiplied ARGB cursor into the RGB frame in place."""
    h, w = alpha.shape[:2]
    x0, y0 = x - hx, y - hy
    fx0, fy0, fx1, fy1 = max(x0, 0), max(y0, 0), min(x0 + w, frame.shape[1]), min(y0 + h, frame.shape[0])
    if fx0 >= fx1 or fy0 >= fy1:
        return
    a = alpha[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0]
    c = rgb[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0]
    region = frame[fy0:fy1, fx0:fx1].astype(np.float32)
    frame[fy0:fy1, fx0:fx1] = np.clip(region * (1 - a) + c + 0.5, 0, 255).astype(np.uint8)


class ScreenRecorder:
    """A background thread that grabs the screen at `fps`, draws the cursor and encodes to `path`."""

    def __init__(self, path: Path, display_name: str, fps: float = 30.0, crf: int = 23) -> None:
        self.path, self.display_name, self.fps, self.crf = Path(path), display_name, fps, crf
        self.stop_event = threading.Event()
        self.started = threading.Event()
        self.t0 = 0.0
        self.frames = 0
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="screen-recorder", daemon=True)

    def start(self) -> float:
        """Start recording; returns the monotonic time of frame 0 (the recording's t = 0)."""
        self.thread.start()
        self.started.wait(10)
        if self.error is not None:
            raise self.error
        return self.t0

    def stop(self) -> int:
        self.stop_event.set()
        self.thread.join(30)
        if self.error is not None:
            raise self.error
        return self.frames

    def _run(self) -> None:
        try:
            self._record()
        except BaseException as exc:  # reported by start()/stop() in the caller's thread
            self.error = exc
            self.started.set()

    def _record(self) -> None:
        import av
        import mss

        cursor = CursorSource(self.display_name)
        with mss.MSS(display=self.display_name) as grabber, av.open(str(self.path), "w") as container:
            monitor = grabber.monitors[1]
            stream: Any = container.add_stream("libx264", rate=int(self.fps))
            stream.width, stream.height = monitor["width"] & ~1, monitor["height"] & ~1
            stream.pix_fmt = "yuv420p"
            stream.codec_context.time_base = Fraction(1, 1000)
            stream.options = {"crf": str(self.crf), "preset": "ultrafast"}
            self.t0 = time.monotonic()
            self.started.set()
            last_pts = -1
            while not self.stop_event.is_set():
                now = time.monotonic()
                shot = np.asarray(grabber.grab(monitor))
                frame = np.ascontiguousarray(shot[: stream.height, : stream.width, 2::-1])
                draw_cursor(frame, *cursor.current())
                pts = max(int(round((now - self.t0) * 1000)), last_pts + 1)
                image = av.VideoFrame.from_ndarray(frame, "rgb24")
                image.pts, image.time_base = pts, Fraction(1, 1000)
                for packet in stream.encode(image):
                    container.mux(packet)
                last_pts = pts
                self.frames += 1
                time.sleep(max(0.0, self.t0 + self.frames / self.fps - time.monotonic()))
            for packet in stream.encode():
                container.mux(packet)
        cursor.close()
