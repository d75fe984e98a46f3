"""Small python-xlib helpers: compositor, focused window, pointer, screen size, root-window properties.

Every function takes an explicit `Display` (the caller's thread owns it) or opens a short-lived one; nothing
connects at import time. python-xlib is imported lazily, so importing this module costs nothing off Linux.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from inference.errors import GhostpilotError

NO_DISPLAY_HINT = "run Ghostpilot inside an X11 (or XWayland) desktop session"


@dataclass(frozen=True)
class WindowInfo:
    """The top-level client window that has the keyboard focus."""

    id: int
    title: str
    wm_class: str  # the class part of WM_CLASS ("XTerm", "firefox"); "" when unset
    pid: int | None  # _NET_WM_PID; None when the client does not set it


def open_display(name: str | None = None) -> Any:
    """A new connection to the X server, or a one-line GhostpilotError when there is none."""
    try:
        from Xlib import display as xdisplay
        from Xlib import error as xerror
    except ImportError as exc:  # python-xlib is a Linux-only dependency
        raise GhostpilotError("no display: python-xlib is not installed", NO_DISPLAY_HINT) from exc
    if name is None and not os.environ.get("DISPLAY"):
        raise GhostpilotError("no display: DISPLAY is not set", NO_DISPLAY_HINT)
    try:
        return xdisplay.Display(name)
    except (xerror.DisplayError, xerror.ConnectionClosedError, OSError) as exc:
        raise GhostpilotError(f"no display: cannot connect to the X server ({exc})", NO_DISPLAY_HINT) from exc


@contextmanager
def _connection(display: Any | None) -> Iterator[Any]:
    """The caller's display, or a temporary one closed afterwards."""
    if display is not None:
        yield display
        return
    own = open_display()
    try:
        yield own
    finally:
        own.close()


def has_compositor(display: Any | None = None) -> bool:
    """True when a compositing manager owns `_NET_WM_CM_S<screen>` (translucent windows then blend)."""
    with _connection(display) as d:
        atom = d.intern_atom(f"_NET_WM_CM_S{d.get_default_screen()}")
        owner = d.get_selection_owner(atom)
        return int(getattr(owner, "id", owner) or 0) != 0


def pointer_position(display: Any | None = None) -> tuple[int, int]:
    """The pointer in root-window (global screen) pixels."""
    with _connection(display) as d:
        reply = d.screen().root.query_pointer()
        return int(reply.root_x), int(reply.root_y)


def screen_size(display: Any | None = None) -> tuple[int, int]:
    """Width and height of the default screen (the whole virtual screen on a single-screen X setup)."""
    with _connection(display) as d:
        screen = d.screen()
        return int(screen.width_in_pixels), int(screen.height_in_pixels)


def root_property(name: str, display: Any | None = None) -> str | None:
    """A text property of the root window (`AT_SPI_BUS`: where the accessibility bus is), or None when unset."""
    from Xlib import X

    with _connection(display) as d:
        prop = d.screen().root.get_full_property(d.intern_atom(name), X.AnyPropertyType)
        if prop is None or not len(prop.value):
            return None
        raw = prop.value
        return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def focused_window(display: Any | None = None) -> WindowInfo | None:
    """The top-level client window with the keyboard focus, or None when nothing has it.

    Uses the window manager's `_NET_ACTIVE_WINDOW` when there is one; otherwise X's input focus, walked up
    to the top-level window (without a window manager, the child of the root).
    """
    from Xlib import error as xerror

    with _connection(display) as d:
        try:
            window = _active_window(d)
            if window is None:
                return None
            return _window_info(d, window)
        except xerror.XError:  # the window vanished between two requests
            return None


def focused_window_id(display: Any | None = None) -> int | None:
    """Just the id of `focused_window()`: what the executor compares before each step."""
    info = focused_window(display)
    return info.id if info is not None else None


def _active_window(d: Any) -> Any | None:
    from Xlib import X

    root = d.screen().root
    prop = root.get_full_property(d.intern_atom("_NET_ACTIVE_WINDOW"), X.AnyPropertyType)
    if prop is not None and len(prop.value) and int(prop.value[0]) != 0:
        return d.create_resource_object("window", int(prop.value[0]))
    focus = d.get_input_focus().focus
    focus_id = int(getattr(focus, "id", focus))
    if focus_id == X.NONE:
        return None
    if focus_id == X.PointerRoot:  # keys go to the window under the pointer
        child = root.query_pointer().child
        return None if int(getattr(child, "id", child) or 0) == 0 else child
    return _top_level(d, focus, root.id)


def _top_level(d: Any, window: Any, root_id: int) -> Any:
    """Walk up from `window` to the client window: the first with WM_STATE, else the child of the root."""
    wm_state = d.intern_atom("WM_STATE")
    current = window
    while True:
        if current.get_full_property(wm_state, 0) is not None:
            return current
        parent = current.query_tree().parent
        if parent is None or int(parent.id) in (0, root_id):
            return current
        current = parent


def _window_info(d: Any, window: Any, with_pid: bool = True) -> WindowInfo:
    from Xlib import X

    title_prop = window.get_full_property(d.intern_atom("_NET_WM_NAME"), d.intern_atom("UTF8_STRING"))
    if title_prop is not None:
        raw = title_prop.value
        title = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    else:
        title = str(window.get_wm_name() or "")
    wm_class = window.get_wm_class()
    pid_prop = window.get_full_property(d.intern_atom("_NET_WM_PID"), X.AnyPropertyType) if with_pid else None
    pid = int(pid_prop.value[0]) if pid_prop is not None and len(pid_prop.value) else None
    return WindowInfo(int(window.id), title, wm_class[1] if wm_class else "", pid)


def shown_windows(wanted: Callable[[WindowInfo], bool], display: Any | None = None) -> list[tuple[int, int, int, int]]:
    """Screen rectangles (x, y, width, height, frame included) of the mapped top-level windows `wanted` picks.

    The windows are the window manager's `_NET_CLIENT_LIST_STACKING`, or without one the root's children;
    rectangles are asked only for the picked ones (a title and class read costs two round trips per window).
    """
    from Xlib import X
    from Xlib import error as xerror

    with _connection(display) as d:
        root = d.screen().root
        stacking = root.get_full_property(d.intern_atom("_NET_CLIENT_LIST_STACKING"), X.AnyPropertyType)
        if stacking is not None and len(stacking.value):
            windows = [d.create_resource_object("window", int(w)) for w in stacking.value]
        else:
            windows = root.query_tree().children
        rects = []
        for window in windows:
            try:
                if window.get_attributes().map_state == X.IsViewable and wanted(_window_info(d, window, False)):
                    rects.append(_screen_rect(d, window, root))
            except xerror.XError:  # the window went away meanwhile
                continue
        return rects


def _screen_rect(d: Any, window: Any, root: Any) -> tuple[int, int, int, int]:
    """The window's rectangle on the root, widened by the frame the window manager draws (`_NET_FRAME_EXTENTS`)."""
    from Xlib import X

    geometry = window.get_geometry()
    origin = root.translate_coords(window, 0, 0)
    extents = window.get_full_property(d.intern_atom("_NET_FRAME_EXTENTS"), X.AnyPropertyType)
    left = right = top = bottom = 0
    if extents is not None and len(extents.value) >= 4:
        left, right, top, bottom = (int(v) for v in extents.value[:4])
    x, y = int(origin.x) - left, int(origin.y) - top
    return x, y, int(geometry.width) + left + right, int(geometry.height) + top + bottom


class X11Desktop:
    """The executor's view of the desktop (focus, pointer, screen) on one connection owned by one thread."""

    def __init__(self, display_name: str | None = None) -> None:
        self._display = open_display(display_name)

    def focused_window_id(self) -> int | None:
        return focused_window_id(self._display)

    def pointer_position(self) -> tuple[int, int]:
        return pointer_position(self._display)

    def screen_size(self) -> tuple[int, int]:
        return screen_size(self._display)

    def close(self) -> None:
        self._display.close()
