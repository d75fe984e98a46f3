"""The ghost overlay: a click-through, never-focused window over the whole virtual desktop that draws a GhostView.

The core speaks physical pixels of the virtual screen (pointer events, mss); Qt places windows and paints in
logical pixels. `physical_to_logical` is the one translation between them (docs/overlay.md): a screen keeps its
native top-left in Qt's logical space and only its size is divided by its device pixel ratio.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, Qt, Slot
from PySide6.QtGui import QBitmap, QGuiApplication, QImage, QPainter, QPaintEvent, QRegion, QScreen
from PySide6.QtWidgets import QWidget

from app.ghost import GhostView
from ui.painter import Layout, Style, layout_view, paint_layout

WINDOW_FLAGS = (
    Qt.WindowType.FramelessWindowHint
    | Qt.WindowType.WindowStaysOnTopHint
    | Qt.WindowType.Tool  # no taskbar entry
    | Qt.WindowType.WindowTransparentForInput  # the X11 input shape is empty: clicks reach the window below
    | Qt.WindowType.X11BypassWindowManagerHint  # override-redirect: the window manager never focuses or decorates it
    | Qt.WindowType.WindowDoesNotAcceptFocus
)
WINDOW_ATTRIBUTES = (
    Qt.WidgetAttribute.WA_TranslucentBackground,
    Qt.WidgetAttribute.WA_ShowWithoutActivating,
    Qt.WidgetAttribute.WA_TransparentForMouseEvents,
)


@dataclass(frozen=True)
class ScreenGeometry:
    """One monitor as Qt reports it: `QScreen.geometry()` (logical px) and `devicePixelRatio()`."""

    x: int
    y: int
    width: int
    height: int
    dpr: float = 1.0

    @classmethod
    def of(cls, screen: QScreen) -> ScreenGeometry:
        rect = screen.geometry()
        return cls(rect.x(), rect.y(), rect.width(), rect.height(), screen.devicePixelRatio())

    @property
    def physical(self) -> tuple[float, float, float, float]:
        """(x, y, width, height) in physical px: Qt keeps a screen's native top-left and scales only its size."""
        return float(self.x), float(self.y), self.width * self.dpr, self.height * self.dpr


Rect = tuple[float, float, float, float]


def _closest(rects: Sequence[Rect], px: float, py: float) -> int:
    """Index of the rectangle holding (px, py) (right and bottom edges excluded), else of the nearest one."""
    if not rects:
        raise ValueError("no screens")
    for i, (x, y, w, h) in enumerate(rects):
        if x <= px < x + w and y <= py < y + h:
            return i
    gaps = [max(x - px, 0.0, px - (x + w)) ** 2 + max(y - py, 0.0, py - (y + h)) ** 2 for x, y, w, h in rects]
    return gaps.index(min(gaps))


def screen_at_physical(px: float, py: float, screens: Sequence[ScreenGeometry]) -> ScreenGeometry:
    """The screen showing physical point (px, py); the nearest one for a point in a gap between monitors."""
    if len(screens) == 1:
        return screens[0]
    return screens[_closest([s.physical for s in screens], px, py)]


def physical_to_logical(px: float, py: float, screens: Sequence[ScreenGeometry]) -> tuple[float, float]:
    """Physical virtual-screen px -> Qt global logical px, through the screen that shows the point."""
    s = screen_at_physical(px, py, screens)
    return s.x + (px - s.x) / s.dpr, s.y + (py - s.y) / s.dpr


def logical_to_physical(lx: float, ly: float, screens: Sequence[ScreenGeometry]) -> tuple[float, float]:
    """Qt global logical px -> physical virtual-screen px (the inverse of `physical_to_logical`)."""
    s = screens[0] if len(screens) == 1 else screens[_closest([(s.x, s.y, s.width, s.height) for s in screens], lx, ly)]
    return s.x + (lx - s.x) * s.dpr, s.y + (ly - s.y) * s.dpr


def virtual_geometry(screens: Sequence[ScreenGeometry]) -> QRect:
    """The union of all screens in Qt logical px: what the overlay covers."""
    rect = QRect()
    for s in screens:
        rect = rect.united(QRect(s.x, s.y, s.width, s.height))
    return rect


class GhostOverlay(QWidget):
    """Draws the ghosts of a GhostView over everything; never takes clicks, keys or focus.

    style "translucent" needs a compositing manager; "outline" paints opaque strokes and shapes the window to
    them (a window mask), so without a compositor the desktop stays visible everywhere else. The caller picks
    the style (app/x11.py knows whether a compositor runs). Call `set_view` on the GUI thread (or through a
    queued signal): it repaints only the union of the old and new ghosts' bounds.
    """

    def __init__(self, style: Style = "translucent", parent: QWidget | None = None) -> None:
        super().__init__(parent, WINDOW_FLAGS)
        for attribute in WINDOW_ATTRIBUTES:
            self.setAttribute(attribute)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setWindowTitle("Ghostpilot overlay")
        self._style: Style = style
        self._view: GhostView | None = None
        self._layout = Layout()
        self._mask = QRegion()  # outline style: what is painted, in widget coordinates
        self._pieces: list[tuple[QPoint, QImage]] = []  # outline style: the painted pieces the mask was cut from
        self._wanted_visible = False
        self._screens: list[ScreenGeometry] = []
        self._frame = QRectF()
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.screenAdded.connect(self._screen_added)
            app.screenRemoved.connect(self.fit_to_screens)
            for screen in app.screens():
                screen.geometryChanged.connect(self.fit_to_screens)
        self.fit_to_screens()

    @property
    def style_name(self) -> Style:
        return self._style

    @property
    def view(self) -> GhostView | None:
        return self._view

    @property
    def layout_now(self) -> Layout:
        """What is drawn now (in widget coordinates): for tests and the benchmark."""
        return self._layout

    @property
    def mask_region(self) -> QRegion:
        """Outline style: the window's shape (empty means the window is hidden, never unmasked)."""
        return QRegion(self._mask)

    @Slot(QScreen)
    def _screen_added(self, screen: QScreen) -> None:
        screen.geometryChanged.connect(self.fit_to_screens)
        self.fit_to_screens()

    @Slot()
    def fit_to_screens(self) -> None:
        """Cover every screen again (monitors added, removed, moved or rescaled) and redraw the view there."""
        self._screens = [ScreenGeometry.of(s) for s in QGuiApplication.screens()] or [ScreenGeometry(0, 0, 1, 1)]
        area = virtual_geometry(self._screens)
        self.setGeometry(area)
        primary = QGuiApplication.primaryScreen()
        frame = primary.geometry() if primary is not None else area
        self._frame = QRectF(frame.translated(-area.topLeft()))
        self._layout, self._mask, self._pieces = Layout(), QRegion(), []
        view, self._view = self._view, None
        self.set_view(view)
        self.update()

    def to_local(self, px: float, py: float) -> QPointF:
        """Physical virtual-screen px -> this widget's logical px."""
        lx, ly = physical_to_logical(px, py, self._screens)
        origin = self.geometry().topLeft()
        return QPointF(lx - origin.x(), ly - origin.y())

    def drawn_rects(self) -> list[tuple[int, int, int, int]]:
        """Where ghosts are drawn now as (x, y, w, h) in physical virtual-screen px.

        Screen grabs (mss) see the overlay in both styles, so the capture can blank these before the model looks
        at a frame (it would otherwise learn from its own predictions)."""
        origin = self.geometry().topLeft()
        rects = []
        for rect in (self._layout.ghost_bounds, self._layout.corner_bounds):
            if rect.isEmpty():
                continue
            rect = rect.translated(origin)
            x0, y0 = logical_to_physical(rect.x(), rect.y(), self._screens)
            x1, y1 = logical_to_physical(rect.x() + rect.width(), rect.y() + rect.height(), self._screens)
            rects.append((math.floor(x0), math.floor(y0), math.ceil(x1 - x0), math.ceil(y1 - y0)))
        return rects

    @Slot(object)
    def set_view(self, view: GhostView | None) -> None:
        """Show `view` (None or an empty view: nothing); repaints only what changed, nothing for the same view."""
        if view == self._view:
            return
        layout = layout_view(view, self.to_local, self._frame, self._style)
        dirty = self._layout.region.united(layout.region)
        self._view, self._layout = view, layout
        if self._style == "outline":
            self._reshape()
        if not dirty.isEmpty():
            self.update(dirty)

    def _reshape(self) -> None:
        """Outline style: the window's shape is exactly the painted pixels of the current view.

        Set on the QWindow, not with QWidget.setMask: a widget mask would clip every repaint to the mask's
        ~1,000 rectangles and flush each one to the X server separately (~13 ms instead of 1-2 under Xvfb)."""
        self._mask, self._pieces = QRegion(), []
        for rect, corner in ((self._layout.ghost_bounds, False), (self._layout.corner_bounds, True)):
            if not rect.isEmpty():
                piece = self._paint_piece(rect, corner)
                self._pieces.append((rect.topLeft(), piece))
                self._mask = self._mask.united(
                    QRegion(QBitmap.fromImage(piece.createAlphaMask())).translated(rect.topLeft())
                )
        if self._mask.isEmpty():
            super().setVisible(False)  # an empty mask means "unmasked": a black full-screen window without a compositor
            return
        self.winId()  # the native window exists from here on
        window = self.windowHandle()
        if window is not None:
            window.setMask(self._mask)
        super().setVisible(self._wanted_visible)

    def _paint_piece(self, rect: QRect, corner: bool) -> QImage:
        """The ghosts (or the corner box) painted into an image of `rect`."""
        piece = QImage(rect.size(), QImage.Format.Format_ARGB32_Premultiplied)
        piece.fill(Qt.GlobalColor.transparent)
        painter = QPainter(piece)
        try:
            painter.translate(-rect.x(), -rect.y())
            paint_layout(painter, self._layout, self._style, ghosts=not corner, corner=corner)
        finally:
            painter.end()
        return piece

    def setVisible(self, visible: bool) -> None:
        """show()/hide() from the caller; outline style stays hidden while nothing is drawn."""
        self._wanted_visible = visible
        super().setVisible(visible and (self._style == "translucent" or not self._mask.isEmpty()))

    def paintEvent(self, event: QPaintEvent) -> None:
        """Outline style at DPR 1 shows the very pieces its mask was cut from; otherwise it paints the layout."""
        painter = QPainter(self)
        try:
            painter.setClipRegion(event.region())
            if self._style == "outline" and self.devicePixelRatioF() == 1.0:
                for top_left, piece in self._pieces:
                    painter.drawImage(top_left, piece)
            else:
                paint_layout(painter, self._layout, self._style)
        finally:
            painter.end()
