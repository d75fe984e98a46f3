"""Drawing the ghosts: a GhostView laid out and painted with a QPainter, shared by the overlay and the tests.

Layout and painting are split so the overlay can learn what a view will cover (its dirty rectangle) without
painting it. Everything here is in the painter's logical pixels; the caller passes `to_local`, which maps the
view's physical virtual-screen pixels to those (the overlay's HiDPI and multi-monitor mapping, identity in
`render_view`).

Two styles: "translucent" (needs a compositor: faint, fading strokes) and "outline" (no compositor: opaque
light strokes inside a dark outline, no antialiasing, so every painted pixel is fully opaque and a 1-bit
window mask made from the alpha channel shows exactly what was drawn).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Literal

from PySide6.QtCore import QLineF, QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QImage, QPainter, QPen, QPolygonF, QRegion

from app.ghost import GhostPath, GhostView

Style = Literal["translucent", "outline"]
ToLocal = Callable[[float, float], QPointF]

MAX_ALTERNATIVES = 3  # the selected one and at most two others
ALTERNATIVE_OPACITY = 0.4  # non-selected alternatives, relative to the selected one (translucent style)
PATH_ALPHA = 0.75  # the dots nearest in time on the selected path; the far end fades to FAR_FADE of this
THREAD_SHARE = 0.5  # the line joining the dots, relative to them (translucent style)
FAR_FADE = 0.2
FADE_LEVELS = 6  # distinct steps of that fade
LINE_WIDTH = 2.5
DOT_RADIUS = 3.0
RING_RADIUS = 13.0
FONT_PX = 13
BOX_PADDING = 4.0
CORNER_MARGIN = 16.0
GOAL_MAX_WIDTH = 420.0
BUTTON_LETTERS = {"right": "R", "middle": "M"}
STATUS_TEXT = {"performing": "Performing", "paused": "Paused", "private": "Private: not watching"}

PATH_COLOUR = QColor(90, 200, 255)
BUTTON_COLOURS = {"left": PATH_COLOUR, "right": QColor(255, 165, 60), "middle": QColor(200, 130, 255)}
ALTERNATIVE_COLOUR_OUTLINE = QColor(175, 175, 175)  # outline style cannot fade: alternatives are grey
OUTLINE_COLOUR = QColor(0, 0, 0)
TEXT_COLOUR = QColor(255, 255, 255)
BOX_COLOUR = QColor(20, 22, 30)


@dataclass(frozen=True)
class Track:
    """One alternative in local coordinates, ready to paint."""

    points: tuple[tuple[QPointF, float], ...]  # (position, nearness: 1 = now, FAR_FADE = the far end)
    click: QPointF | None
    button: str
    selected: bool
    boxes: tuple[tuple[QRectF, str], ...]  # small labels: the confidence ("72%"), the button ("R", "M")
    lines: tuple[tuple[int, list[QLineF]], ...] = ()  # the path's segments batched by fade level
    dots: tuple[tuple[int, QPolygonF], ...] = ()  # its points batched by fade level


@dataclass(frozen=True)
class Layout:
    """Where everything of one view goes; `region` is what a repaint of it must cover."""

    tracks: tuple[Track, ...] = ()
    keys: str = ""
    keys_rect: QRectF | None = None
    corner_lines: tuple[str, ...] = ()
    corner_rect: QRectF | None = None
    ghost_bounds: QRect = field(default_factory=QRect)  # paths, rings, labels and keys
    corner_bounds: QRect = field(default_factory=QRect)  # goal and status, far from the ghosts: a rect of its own

    @property
    def region(self) -> QRegion:
        return QRegion(self.ghost_bounds).united(self.corner_bounds)

    @property
    def bounds(self) -> QRect:
        return self.ghost_bounds.united(self.corner_bounds)

    @property
    def empty(self) -> bool:
        return self.ghost_bounds.isEmpty() and self.corner_bounds.isEmpty()


def ghost_font(style: Style) -> QFont:
    """The ghosts' font; outline style turns antialiasing off so text pixels are opaque too."""
    font = QFont()
    font.setPixelSize(FONT_PX)
    if style == "outline":
        font.setStyleStrategy(QFont.StyleStrategy.NoAntialias)
    return font


def _nearness(t: float, horizon: float) -> float:
    """1 for a point due now, falling linearly to FAR_FADE at the path's last time."""
    return 1.0 - (1.0 - FAR_FADE) * min(max(t / horizon, 0.0), 1.0) if horizon > 0 else 1.0


def _text_rect(anchor: QPointF, text: str, metrics: QFontMetricsF) -> QRectF:
    """A padded box for one line of text with its top-left at `anchor`."""
    width = metrics.horizontalAdvance(text) + 2 * BOX_PADDING
    return QRectF(anchor.x(), anchor.y(), width, metrics.height() + 2 * BOX_PADDING)


def _track(path: GhostPath, selected: bool, to_local: ToLocal, metrics: QFontMetricsF) -> Track:
    horizon = max((t for _, _, t in path.points), default=0.0)
    points = [(to_local(x, y), _nearness(t, horizon)) for x, y, t in path.points]
    click = to_local(*path.click) if path.click is not None else None
    if click is not None and points and points[-1][0] != click:
        points.append((click, FAR_FADE if horizon > 0 else 1.0))  # the path runs into its click ring
    end = click if click is not None else (points[-1][0] if points else None)
    boxes = []
    if path.confidence > 0 and end is not None:
        label = f"{round(path.confidence * 100)}%"
        boxes.append((_text_rect(end + QPointF(RING_RADIUS + 4, -RING_RADIUS - 4), label, metrics), label))
    letter = BUTTON_LETTERS.get(path.button or "left")
    if letter and click is not None:
        boxes.append((_text_rect(click + QPointF(RING_RADIUS * 0.75, RING_RADIUS * 0.75), letter, metrics), letter))
    lines: dict[int, list[QLineF]] = defaultdict(list)
    dots: dict[int, list[QPointF]] = defaultdict(list)
    for (a, near_a), (b, near_b) in pairwise(points):
        lines[_level((near_a + near_b) / 2)].append(QLineF(a, b))
    for point, near in points:
        dots[_level(near)].append(point)
    batched_dots = tuple((level, QPolygonF(spots)) for level, spots in dots.items())
    button = path.button or "left"
    return Track(tuple(points), click, button, selected, tuple(boxes), tuple(lines.items()), batched_dots)


def _keys_anchor(view: GhostView, to_local: ToLocal, fallback: QPointF | None) -> QPointF | None:
    """Right of the caret, else below-right of the pointer (clear of the cursor), else by the path's end."""
    if view.caret is not None:
        return to_local(*view.caret) + QPointF(6, -(FONT_PX / 2 + BOX_PADDING))
    if view.pointer is not None:
        return to_local(*view.pointer) + QPointF(18, 18)
    return fallback + QPointF(RING_RADIUS + 4, RING_RADIUS) if fallback is not None else None


def _corner(view: GhostView, frame: QRectF, metrics: QFontMetricsF) -> tuple[tuple[str, ...], QRectF | None]:
    lines = []
    if view.goal:
        lines.append(metrics.elidedText(f"Goal: {view.goal}", Qt.TextElideMode.ElideRight, GOAL_MAX_WIDTH))
    if view.status in STATUS_TEXT:
        lines.append(STATUS_TEXT[view.status])
    if not lines:
        return (), None
    width = max(metrics.horizontalAdvance(line) for line in lines) + 2 * BOX_PADDING
    height = len(lines) * metrics.height() + 2 * BOX_PADDING
    rect = QRectF(frame.right() - CORNER_MARGIN - width, frame.top() + CORNER_MARGIN, width, height)
    return tuple(lines), rect


def _shown_alternatives(view: GhostView) -> list[tuple[GhostPath, bool]]:
    """At most MAX_ALTERNATIVES, the selected one last so it is painted on top."""
    selected = view.selected if 0 <= view.selected < len(view.alternatives) else None
    others = [p for i, p in enumerate(view.alternatives) if i != selected][: MAX_ALTERNATIVES - 1]
    chosen = [(p, False) for p in others]
    return [*chosen, (view.alternatives[selected], True)] if selected is not None else chosen


def layout_view(view: GhostView | None, to_local: ToLocal, frame: QRectF, style: Style) -> Layout:
    """Place everything `view` shows; `frame` is the screen area whose top-right corner holds goal and status."""
    if view is None:
        return Layout()
    metrics = QFontMetricsF(ghost_font(style))
    tracks = tuple(_track(path, selected, to_local, metrics) for path, selected in _shown_alternatives(view))
    current = next((t for t in tracks if t.selected), None)
    keys = current_keys(view)
    keys_rect = None
    if keys:
        end = None
        if current is not None:
            end = current.click if current.click is not None else (current.points[-1][0] if current.points else None)
        anchor = _keys_anchor(view, to_local, end)
        keys_rect = _text_rect(anchor, keys, metrics) if anchor is not None else None
    corner_lines, corner_rect = _corner(view, frame, metrics)
    corner_bounds = _aligned(corner_rect) if corner_rect is not None else QRect()
    return Layout(tracks, keys, keys_rect, corner_lines, corner_rect, _ghost_bounds(tracks, keys_rect), corner_bounds)


def current_keys(view: GhostView) -> str:
    """The selected alternative's ghost keystrokes (others' keys would pile up at the same caret)."""
    current = view.current if 0 <= view.selected < len(view.alternatives) else None
    return current.keys if current is not None else ""


def _aligned(rect: QRectF) -> QRect:
    """Whole pixels covering `rect`, with room for antialiasing."""
    return rect.toAlignedRect().adjusted(-2, -2, 2, 2) if not rect.isEmpty() else QRect()


def _ghost_bounds(tracks: Sequence[Track], keys_rect: QRectF | None) -> QRect:
    """Everything but the corner box, with room for rings, pens and outlines."""
    reach = RING_RADIUS + LINE_WIDTH + 3
    xs: list[float] = []
    ys: list[float] = []
    rect = keys_rect if keys_rect is not None else QRectF()
    for track in tracks:
        spots = [p for p, _ in track.points] + ([track.click] if track.click is not None else [])
        xs.extend(p.x() for p in spots)
        ys.extend(p.y() for p in spots)
        for box, _ in track.boxes:
            rect = rect.united(box)
    if xs:
        rect = rect.united(
            QRectF(min(xs) - reach, min(ys) - reach, max(xs) - min(xs) + 2 * reach, max(ys) - min(ys) + 2 * reach)
        )
    return _aligned(rect)


def _passes(style: Style, colour: QColor, alpha: float, width: float) -> list[tuple[QColor, float]]:
    """(colour, width) per stroke pass: one faint pass, or a dark outline under an opaque light stroke."""
    if style == "outline":
        return [(OUTLINE_COLOUR, width + 2.0), (colour, width)]
    faint = QColor(colour)
    faint.setAlphaF(max(0.0, min(alpha, 1.0)))
    return [(faint, width)]


def _track_colour(track: Track, style: Style, by_button: bool = False) -> QColor:
    """Outline style cannot fade, so its alternatives are grey; rings take their button's colour."""
    if style == "outline" and not track.selected:
        return ALTERNATIVE_COLOUR_OUTLINE
    return BUTTON_COLOURS.get(track.button, PATH_COLOUR) if by_button else PATH_COLOUR


def _level(near: float) -> int:
    """Nearness in FADE_LEVELS steps, so a path is drawn in a few batched calls instead of one per segment."""
    return round((near - FAR_FADE) / (1.0 - FAR_FADE) * (FADE_LEVELS - 1))


def _near(level: int) -> float:
    return FAR_FADE + (1.0 - FAR_FADE) * level / (FADE_LEVELS - 1)


def _paint_path(painter: QPainter, track: Track, style: Style, opacity: float) -> None:
    """Dots along the path (smaller and fainter further in time) on a thread; flat caps so faint joints never
    stack into brighter beads."""
    colour = _track_colour(track, style)
    width = LINE_WIDTH if track.selected else LINE_WIDTH * 0.7
    thread = THREAD_SHARE if style == "translucent" else 1.0
    cap = Qt.PenCapStyle.FlatCap if style == "translucent" else Qt.PenCapStyle.RoundCap
    for pass_index in range(2 if style == "outline" else 1):  # all outlines first, so they never cover a stroke
        for level, segments in track.lines:
            alpha = PATH_ALPHA * thread * opacity * _near(level)
            pen_colour, pen_width = _passes(style, colour, alpha, width * (0.6 + 0.4 * thread))[pass_index]
            painter.setPen(QPen(pen_colour, pen_width, Qt.PenStyle.SolidLine, cap))
            painter.drawLines(segments)
        for level, points in track.dots:
            radius = DOT_RADIUS * (0.5 + 0.5 * _near(level)) if track.selected else DOT_RADIUS * 0.6
            pen_colour, pen_width = _passes(style, colour, PATH_ALPHA * opacity * _near(level), 2 * radius)[pass_index]
            painter.setPen(QPen(pen_colour, pen_width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            painter.drawPoints(points)


def _paint_ring(painter: QPainter, track: Track, style: Style, opacity: float) -> None:
    """The click ring: left = ring and dot; right = double ring (and an "R" box); middle = dashed (and "M")."""
    if track.click is None:
        return
    centre, button = track.click, track.button
    colour = _track_colour(track, style, by_button=True)
    dash = Qt.PenStyle.DashLine if button == "middle" else Qt.PenStyle.SolidLine
    for pen_colour, width in _passes(style, colour, 0.95 * opacity, LINE_WIDTH):
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(pen_colour, width, dash, Qt.PenCapStyle.FlatCap))
        painter.drawEllipse(centre, RING_RADIUS, RING_RADIUS)
        if button == "right":
            painter.drawEllipse(centre, RING_RADIUS * 0.55, RING_RADIUS * 0.55)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(pen_colour))
        dot = 2.5 + (width - LINE_WIDTH) / 2
        painter.drawEllipse(centre, dot, dot)


def _paint_text_box(painter: QPainter, rect: QRectF, lines: Sequence[str], style: Style, opacity: float) -> None:
    """Light text in a dark rounded box: faint when translucent, opaque when outlined."""
    box, text = QColor(BOX_COLOUR), QColor(TEXT_COLOUR)
    if style == "translucent":
        box.setAlphaF(0.55 * opacity)
        text.setAlphaF(0.8 * opacity)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(box))
    painter.drawRoundedRect(rect, 4, 4)
    painter.setPen(QPen(text))
    line_height = (rect.height() - 2 * BOX_PADDING) / max(len(lines), 1)
    for i, line in enumerate(lines):
        line_rect = QRectF(rect.left() + BOX_PADDING, rect.top() + BOX_PADDING + i * line_height, rect.width(), 0)
        painter.drawText(line_rect.adjusted(0, 0, 0, line_height), Qt.AlignmentFlag.AlignLeft, line)


def paint_layout(painter: QPainter, layout: Layout, style: Style, ghosts: bool = True, corner: bool = True) -> None:
    """Paint a laid-out view (or only its ghosts, or only its corner box); the caller owns the painter."""
    if layout.empty:
        return
    font = ghost_font(style)
    painter.setFont(font)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, style == "translucent")
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, style == "translucent")
    if ghosts:
        _paint_ghosts(painter, layout, style)
    if corner and layout.corner_rect is not None:
        _paint_text_box(painter, layout.corner_rect, layout.corner_lines, style, 1.0)


def _paint_ghosts(painter: QPainter, layout: Layout, style: Style) -> None:
    for track in layout.tracks:
        opacity = 1.0 if track.selected else ALTERNATIVE_OPACITY
        _paint_path(painter, track, style, opacity)
        _paint_ring(painter, track, style, opacity)
        for box, text in track.boxes:
            _paint_text_box(painter, box, [text], style, opacity)
    if layout.keys_rect is not None:
        _paint_text_box(painter, layout.keys_rect, [layout.keys], style, 1.0)


def render_view(view: GhostView | None, size: QSize, style: Style = "translucent") -> QImage:
    """The view painted into a transparent ARGB image, physical pixels = image pixels (needs a QGuiApplication)."""
    image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    layout = layout_view(view, QPointF, QRectF(0, 0, size.width(), size.height()), style)
    painter = QPainter(image)
    try:
        paint_layout(painter, layout, style)
    finally:
        painter.end()
    return image
