"""The ghost overlay, offscreen: what it paints (pixel by pixel), its window mask, its flags, and the mapping
from physical virtual-screen pixels to Qt's logical pixels."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter, QPaintEvent, QRegion
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.ghost import GhostPath, GhostView
from ui.overlay import (
    WINDOW_ATTRIBUTES,
    WINDOW_FLAGS,
    GhostOverlay,
    ScreenGeometry,
    logical_to_physical,
    physical_to_logical,
    virtual_geometry,
)
from ui.painter import RING_RADIUS, Style, layout_view, render_view

ROOT = Path(__file__).resolve().parents[2]
SIZE = QSize(640, 480)


def rgba(image: QImage) -> np.ndarray:
    """H x W x 4 uint8 (R, G, B, A), not premultiplied."""
    image = image.convertToFormat(QImage.Format.Format_RGBA8888)
    h, w = image.height(), image.width()
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(h, image.bytesPerLine())
    return rows[:, : w * 4].reshape(h, w, 4).copy()


def alpha(view: GhostView | None, style: Style = "translucent") -> np.ndarray:
    return rgba(render_view(view, SIZE, style))[:, :, 3]


def peak(a: np.ndarray, x: float, y: float, r: int = 2) -> int:
    """The strongest alpha within r px of (x, y)."""
    x, y = round(x), round(y)
    return int(a[y - r : y + r + 1, x - r : x + r + 1].max())


def drawn_box(a: np.ndarray) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of every pixel with alpha > 0."""
    ys, xs = np.nonzero(a)
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def line(x0: float, y0: float, x1: float, y1: float, n: int = 21, seconds: float = 1.0) -> GhostPath:
    steps = [i / (n - 1) for i in range(n)]
    return GhostPath(points=tuple((x0 + (x1 - x0) * s, y0 + (y1 - y0) * s, seconds * s) for s in steps))


def test_path_pixels_lie_along_the_path_and_nowhere_else(qtbot: QtBot) -> None:
    a = alpha(GhostView(alternatives=(line(100, 100, 300, 200),)))
    for x, y in ((100, 100), (150, 125), (200, 150), (300, 200)):
        assert peak(a, x, y) > 0, (x, y)
    x0, y0, x1, y1 = drawn_box(a)
    assert x0 >= 90 and y0 >= 90 and x1 <= 310 and y1 <= 210
    assert a[300:, :].max() == 0 and a[:, 400:].max() == 0


def test_the_path_fades_along_its_time(qtbot: QtBot) -> None:
    a = alpha(GhostView(alternatives=(line(100, 240, 500, 240),)))
    near, middle, far = peak(a, 100, 240), peak(a, 300, 240), peak(a, 500, 240)
    assert near > middle > far > 0


def test_the_click_ring_surrounds_the_click_point(qtbot: QtBot) -> None:
    a = alpha(GhostView(alternatives=(GhostPath(click=(320, 240), button="left"),)))
    for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1), (0.7071, 0.7071), (-0.7071, -0.7071)):
        assert peak(a, 320 + RING_RADIUS * dx, 240 + RING_RADIUS * dy, r=1) > 0, (dx, dy)
    assert peak(a, 320, 240, r=1) > 0  # the centre dot
    assert peak(a, 320 + RING_RADIUS / 2, 240, r=1) == 0  # hollow between dot and ring
    x0, _, x1, y1 = drawn_box(a)
    assert x0 >= 320 - RING_RADIUS - 4 and x1 <= 320 + RING_RADIUS + 4 and y1 <= 240 + RING_RADIUS + 4


def test_right_and_middle_clicks_look_different_from_left(qtbot: QtBot) -> None:
    images = {
        b: rgba(render_view(GhostView(alternatives=(GhostPath(click=(320, 240), button=b),)), SIZE))
        for b in ("left", "right", "middle")
    }
    top = (round(240 - RING_RADIUS), 320)  # (row, column) on every ring
    colours = {b: tuple(int(c) for c in img[top][:3]) for b, img in images.items()}
    assert len(set(colours.values())) == 3, colours
    inner = images["right"][240, round(320 + RING_RADIUS * 0.55) - 1 : round(320 + RING_RADIUS * 0.55) + 2, 3]
    assert inner.max() > 0 and images["left"][240, 325:330, 3].max() == 0  # right: a second, inner ring
    upper_half = [np.pi + np.pi * i / 40 for i in range(1, 40)]  # clear of the "R"/"M" badge at the lower right
    on_ring = {
        b: [img[round(240 + RING_RADIUS * np.sin(t)), round(320 + RING_RADIUS * np.cos(t)), 3] for t in upper_half]
        for b, img in images.items()
    }
    assert min(on_ring["left"]) > 0 and min(on_ring["middle"]) == 0  # middle: a dashed ring


def test_ghost_keys_are_drawn_in_a_box_by_the_caret(qtbot: QtBot) -> None:
    a = alpha(GhostView(alternatives=(GhostPath(keys="hello⏎"),), caret=(200, 300), pointer=(500, 100)))
    box = a[290:312, 206:250]
    assert (box > 0).mean() > 0.9  # a filled rounded box
    x0, y0, x1, y1 = drawn_box(a)
    assert 200 <= x0 <= 210 and y0 >= 285 and y1 <= 318 and x1 <= 300  # by the caret, not at the pointer


def test_without_a_caret_ghost_keys_go_by_the_pointer(qtbot: QtBot) -> None:
    a = alpha(GhostView(alternatives=(GhostPath(keys="abc"),), pointer=(500, 100)))
    x0, y0, _, _ = drawn_box(a)
    assert 505 <= x0 <= 525 and 105 <= y0 <= 125  # below-right of the pointer, clear of the cursor


def test_alternatives_are_fainter_than_the_selected_one(qtbot: QtBot) -> None:
    paths = (line(50, 100, 550, 100), line(50, 300, 550, 300))
    first = alpha(GhostView(alternatives=paths, selected=0))
    second = alpha(GhostView(alternatives=paths, selected=1))
    assert int(first[95:106].max()) > 1.5 * int(first[295:306].max()) > 0
    assert int(second[295:306].max()) > 1.5 * int(second[95:106].max()) > 0


def test_at_most_three_alternatives_the_selected_one_always_among_them(qtbot: QtBot) -> None:
    paths = tuple(line(50, 60 + 100 * i, 550, 60 + 100 * i) for i in range(4))
    a = alpha(GhostView(alternatives=paths, selected=3))
    drawn = [bool(a[55 + 100 * i : 66 + 100 * i].max()) for i in range(4)]
    assert drawn == [True, True, False, True]


def test_confidence_label_next_to_the_click(qtbot: QtBot) -> None:
    with_label = alpha(GhostView(alternatives=(GhostPath(click=(300, 240), confidence=0.72),)))
    without = alpha(GhostView(alternatives=(GhostPath(click=(300, 240)),)))
    label_area = np.s_[215:240, 318:360]
    assert (with_label[label_area] > 0).mean() > 0.5 and without[label_area].max() == 0


def test_goal_and_status_in_the_top_right_corner(qtbot: QtBot) -> None:
    corner = np.s_[0:80, 320:]
    assert alpha(GhostView(goal="Fill in the form"))[corner].max() > 0
    for status in ("performing", "paused"):
        assert alpha(GhostView(status=status))[corner].max() > 0, status
    assert alpha(GhostView(status="watching")).max() == 0
    goal_only = alpha(GhostView(goal="Fill in the form"))
    assert drawn_box(goal_only)[2] <= 640 - 10 and drawn_box(goal_only)[1] >= 10


@pytest.mark.parametrize("style", ["translucent", "outline"])
def test_an_empty_view_paints_nothing(qtbot: QtBot, style: Style) -> None:
    for view in (None, GhostView(), GhostView(alternatives=(GhostPath(),), pointer=(10, 10))):
        assert alpha(view, style).max() == 0, view


FULL_VIEW = GhostView(
    alternatives=(
        GhostPath(line(100, 100, 400, 250).points, click=(400, 250), keys="hello⏎", confidence=0.72),
        GhostPath(line(100, 100, 200, 400).points, click=(200, 400), button="right", confidence=0.2),
    ),
    pointer=(100, 100),
    caret=(300, 420),
    goal="Fill in the form and press Save",
    status="performing",
)


def test_outline_style_paints_only_opaque_pixels_dark_around_light(qtbot: QtBot) -> None:
    pixels = rgba(render_view(FULL_VIEW, SIZE, "outline"))
    assert set(np.unique(pixels[:, :, 3]).tolist()) == {0, 255}
    along = pixels[160:200, 200:300]  # a stretch of the selected path
    drawn = along[along[:, :, 3] == 255][:, :3].astype(int).sum(axis=1)
    assert drawn.min() < 100 and drawn.max() > 450  # a dark outline and a light stroke, both opaque


def region_pixels(region: QRegion, size: QSize) -> np.ndarray:
    """A QRegion as a boolean H x W array."""
    image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setClipRegion(region)
    painter.fillRect(QRect(QPoint(0, 0), size), Qt.GlobalColor.white)
    painter.end()
    return rgba(image)[:, :, 3] > 0


def test_outline_mask_covers_exactly_the_drawn_pixels_and_follows_the_view(qtbot: QtBot) -> None:
    overlay = GhostOverlay(style="outline")
    qtbot.addWidget(overlay)
    size = overlay.size()
    assert overlay.geometry() == virtual_geometry([ScreenGeometry.of(s) for s in overlay.screen().virtualSiblings()])
    overlay.set_view(FULL_VIEW)
    expected = rgba(render_view(FULL_VIEW, size, "outline"))[:, :, 3] > 0
    assert np.array_equal(region_pixels(overlay.mask_region, size), expected)
    moved = GhostView(alternatives=(GhostPath(click=(600, 300), button="middle"),))
    overlay.set_view(moved)  # the mask is rebuilt only where the old and new ghosts are: nothing stale remains
    expected = rgba(render_view(moved, size, "outline"))[:, :, 3] > 0
    assert np.array_equal(region_pixels(overlay.mask_region, size), expected)


def test_drawn_rects_cover_the_ghosts_in_physical_pixels_and_survive_a_screen_change(qtbot: QtBot) -> None:
    overlay = GhostOverlay(style="outline")
    qtbot.addWidget(overlay)
    assert overlay.drawn_rects() == []
    overlay.set_view(FULL_VIEW)
    rects = overlay.drawn_rects()
    assert len(rects) == 2  # the ghosts, and the goal/status box in the top-right corner
    covered = np.zeros((overlay.height(), overlay.width()), bool)
    for x, y, w, h in rects:
        covered[y : y + h, x : x + w] = True
    drawn = rgba(render_view(FULL_VIEW, overlay.size(), "outline"))[:, :, 3] > 0
    assert not (drawn & ~covered).any() and covered.mean() < 0.5
    mask = region_pixels(overlay.mask_region, overlay.size())
    overlay.fit_to_screens()  # what a monitor change triggers: the same ghosts again
    assert overlay.drawn_rects() == rects
    assert np.array_equal(region_pixels(overlay.mask_region, overlay.size()), mask)


HIDPI_SCRIPT = """
import json
from PySide6.QtWidgets import QApplication
from app.ghost import GhostPath, GhostView
from ui.overlay import GhostOverlay
app = QApplication([])
overlay = GhostOverlay("translucent")
overlay.set_view(GhostView(alternatives=(GhostPath(click=(400, 300)),)))
point = overlay.to_local(400, 300)
print(json.dumps({"local": [point.x(), point.y()], "rects": overlay.drawn_rects(), "size": overlay.size().toTuple()}))
"""


def test_on_a_dpr_2_screen_physical_pixels_map_to_half_as_many_logical_ones() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_SCALE_FACTOR": "2"}
    done = subprocess.run([sys.executable, "-c", HIDPI_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["local"] == [200, 150] and result["size"] == [400, 400]  # an 800x800 screen at DPR 2
    [(x, y, w, h)] = result["rects"]
    assert x + w / 2 == 400 and y + h / 2 == 300  # the ghost's rect, back in physical px, centred on its click


def test_outline_overlay_hides_while_nothing_is_drawn(qtbot: QtBot) -> None:
    overlay = GhostOverlay(style="outline")
    qtbot.addWidget(overlay)
    overlay.show()
    assert not overlay.isVisible()  # an empty mask would mean "no mask": a black window over everything
    overlay.set_view(FULL_VIEW)
    assert overlay.isVisible()
    overlay.set_view(GhostView())
    assert overlay.mask_region.isEmpty() and not overlay.isVisible()
    overlay.hide()
    overlay.set_view(FULL_VIEW)
    assert not overlay.isVisible()  # hidden by its owner: a new view does not bring it back


BUTTONS = ("left", "right", "middle")
MANY_VIEWS = [
    FULL_VIEW,
    *(
        GhostView(alternatives=(GhostPath(click=(600, 460), button=b, confidence=1.0),))
        for b in ("left", "right", "middle")
    ),
    GhostView(alternatives=(GhostPath(line(630, 10, 10, 470).points, keys="x" * 40),), pointer=(630, 470)),
    GhostView(alternatives=(GhostPath(keys="⏎⇥⌫␣⎋"),)),  # keys with neither caret nor pointer: nowhere to show
    GhostView(alternatives=(GhostPath(click=(20, 20), button="right", keys="ab"),), goal="g" * 200, status="paused"),
]


@pytest.mark.parametrize("style", ["translucent", "outline"])
def test_everything_painted_lies_inside_the_layout_region(qtbot: QtBot, style: Style) -> None:
    """The region is what a repaint covers and where the outline mask is looked for: nothing may fall outside."""
    frame = QRectF(0, 0, SIZE.width(), SIZE.height())
    for view in MANY_VIEWS:
        inside = region_pixels(layout_view(view, QPointF, frame, style).region, SIZE)
        drawn = alpha(view, style) > 0
        assert not (drawn & ~inside).any(), view


@pytest.mark.parametrize("style", ["translucent", "outline"])
def test_the_widget_paints_what_render_view_paints(qtbot: QtBot, style: Style) -> None:
    overlay = GhostOverlay(style=style)
    qtbot.addWidget(overlay)
    for view in (FULL_VIEW, MANY_VIEWS[-1]):
        overlay.set_view(view)
        image = QImage(overlay.size(), QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        overlay.render(image)
        assert np.array_equal(rgba(image), rgba(render_view(view, overlay.size(), style)))


class RecordingOverlay(GhostOverlay):
    """Remembers the region of every paint event."""

    def __init__(self) -> None:
        super().__init__(style="translucent")
        self.painted: list[QRect] = []

    def paintEvent(self, event: QPaintEvent) -> None:
        self.painted.append(event.region().boundingRect())
        super().paintEvent(event)


def test_a_new_view_repaints_only_the_old_and_new_ghosts(qtbot: QtBot) -> None:
    overlay = RecordingOverlay()
    qtbot.addWidget(overlay)
    first = GhostView(alternatives=(GhostPath(click=(100, 100)),))
    second = GhostView(alternatives=(GhostPath(click=(160, 130)),))
    overlay.set_view(first)
    overlay.show()
    qtbot.waitUntil(lambda: bool(overlay.painted))
    old_bounds = overlay.layout_now.bounds
    overlay.painted.clear()
    overlay.set_view(second)
    qtbot.waitUntil(lambda: bool(overlay.painted))
    dirty = old_bounds.united(overlay.layout_now.bounds)
    assert all(dirty.contains(rect) for rect in overlay.painted), (dirty, overlay.painted)
    assert dirty.width() * dirty.height() < overlay.width() * overlay.height() / 20
    overlay.painted.clear()
    overlay.set_view(GhostView(alternatives=(GhostPath(click=(160, 130)),)))  # equal to the view shown
    QApplication.processEvents()
    assert overlay.painted == []


def test_window_is_click_through_never_focused_and_on_top(qtbot: QtBot) -> None:
    overlay = GhostOverlay()
    qtbot.addWidget(overlay)
    flags = overlay.windowFlags()
    for flag in (
        Qt.WindowType.WindowTransparentForInput,
        Qt.WindowType.WindowDoesNotAcceptFocus,
        Qt.WindowType.WindowStaysOnTopHint,
        Qt.WindowType.X11BypassWindowManagerHint,
        Qt.WindowType.FramelessWindowHint,
    ):
        assert flags & flag, flag
    assert flags & WINDOW_FLAGS == WINDOW_FLAGS
    assert all(overlay.testAttribute(a) for a in WINDOW_ATTRIBUTES)
    assert overlay.focusPolicy() == Qt.FocusPolicy.NoFocus


# -- the coordinate mapping: physical virtual-screen px -> Qt logical px --

SIDE_BY_SIDE = [ScreenGeometry(0, 0, 1920, 1080, 1.0), ScreenGeometry(1920, 0, 1920, 1080, 2.0)]  # right: 4K at 2x


def test_mapping_on_two_screens_one_at_dpr_2() -> None:
    assert physical_to_logical(100, 200, SIDE_BY_SIDE) == (100, 200)
    assert physical_to_logical(1919, 1079, SIDE_BY_SIDE) == (1919, 1079)
    assert physical_to_logical(1920 + 400, 300, SIDE_BY_SIDE) == (1920 + 200, 150)
    assert physical_to_logical(1920 + 3839, 2159, SIDE_BY_SIDE) == (1920 + 1919.5, 1079.5)
    assert logical_to_physical(1920 + 200, 150, SIDE_BY_SIDE) == (1920 + 400, 300)
    assert virtual_geometry(SIDE_BY_SIDE) == QRect(0, 0, 3840, 1080)


def test_mapping_with_a_screen_left_of_the_primary_and_a_gap() -> None:
    screens = [ScreenGeometry(0, 0, 1280, 720, 1.5), ScreenGeometry(-1280, 0, 1280, 1024, 1.0)]
    assert physical_to_logical(-100, 500, screens) == (-100, 500)
    assert physical_to_logical(1500, 900, screens) == (1000, 600)  # 1920x1080 panel at 1.5
    assert physical_to_logical(-100, 1050, screens) == (-100, 1050)  # below the left screen: nearest screen's scale
    with pytest.raises(ValueError):
        physical_to_logical(0, 0, [])


LAYOUTS = [
    SIDE_BY_SIDE,
    [ScreenGeometry(0, 0, 1280, 720, 1.5), ScreenGeometry(-1280, 0, 1280, 1024, 1.0)],
    [ScreenGeometry(0, 0, 1920, 1080, 2.0), ScreenGeometry(3840, 200, 1280, 1024, 1.0)],
    [ScreenGeometry(0, 0, 1707, 960, 1.25)],
]


@given(st.sampled_from(LAYOUTS), st.data())
def test_mapping_round_trips_on_every_screen(screens: list[ScreenGeometry], data: st.DataObject) -> None:
    screen = data.draw(st.sampled_from(screens))
    x, y, w, h = screen.physical
    px = data.draw(st.floats(x, x + w - 1))
    py = data.draw(st.floats(y, y + h - 1))
    lx, ly = physical_to_logical(px, py, screens)
    assert screen.x <= lx < screen.x + screen.width and screen.y <= ly < screen.y + screen.height
    back = logical_to_physical(lx, ly, screens)
    assert back == pytest.approx((px, py), abs=1e-6)
