"""The review window: recent ghosts drawn over their frames, filters, acceptance and latency plots, deletes.

A view over app/review.ReviewLog, which does every query, number and deletion; here is only drawing and wiring.
Ghost paths are drawn in the overlay's ghost colour, what the user really did in another (docs/review.md).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.review import FILTERS, ReviewEntry, ReviewLog, SeriesPoint, caption
from inference.errors import GhostpilotError
from ui.painter import PATH_COLOUR

GHOST_COLOUR = QColor(PATH_COLOUR)  # as the overlay draws ghosts
USER_COLOUR = QColor(255, 80, 160)  # what the user really did
EMPTY_FRAME = QColor(48, 50, 58)  # the canvas of a ghost logged without a frame
DECISION_COLOURS = {"accepted": "#16a34a", "partial": "#65a30d", "dismissed": "#dc2626", "ignored": "#9ca3af"}
CARD_WIDTH = 320
RATE_COLOUR = QColor("#16a34a")
LATENCY_COLOUR = QColor("#f59e0b")


def entry_image(entry: ReviewEntry, width: int = CARD_WIDTH) -> QImage:
    """The entry's frame at `width` px with the user's path (and press) under the ghost's path (and click)."""
    frame = QImage.fromData(entry.thumbnail) if entry.thumbnail else QImage()
    scale = width / entry.canvas[0]
    image = QImage(width, max(1, round(entry.canvas[1] * scale)), QImage.Format.Format_RGB32)
    image.fill(EMPTY_FRAME)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if not frame.isNull():
        painter.drawImage(QRectF(image.rect()), frame)
    _draw_path(painter, entry.user_path, entry.user_press, USER_COLOUR, scale)
    _draw_path(painter, entry.ghost_path, entry.ghost_click, GHOST_COLOUR, scale)
    painter.end()
    return image


def _draw_path(painter: QPainter, path: Sequence[tuple[float, float]], mark: Any, colour: QColor, k: float) -> None:
    painter.setPen(QPen(colour, 3, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    if len(path) > 1:
        painter.drawPolyline(QPolygonF([QPointF(x * k, y * k) for x, y in path]))
    if mark is not None:
        painter.drawEllipse(QPointF(mark[0] * k, mark[1] * k), 6, 6)


class EntryCard(QFrame):
    """One entry: frame with both paths, decision badge, caption, delete button."""

    delete_requested = Signal(str)

    def __init__(self, entry: ReviewEntry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entry = entry
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.image = entry_image(entry)
        picture = QLabel()
        picture.setPixmap(QPixmap.fromImage(self.image))
        decision = entry.decision or "pending"
        self.badge = QLabel(decision)
        colour = DECISION_COLOURS.get(decision, "#6b7280")
        self.badge.setStyleSheet(f"background: {colour}; color: white; border-radius: 4px; padding: 1px 6px;")
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip("delete this suggestion, its decision and its frame from the log")
        self.delete_button.clicked.connect(lambda: self.delete_requested.emit(entry.id))
        top = QHBoxLayout()
        top.addWidget(self.badge)
        top.addWidget(QLabel(entry.window or ""), 1)
        top.addWidget(self.delete_button)
        self.caption = QLabel(caption(entry))
        self.caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(picture)
        layout.addWidget(self.caption)


class SeriesPlot(QWidget):
    """Acceptance rate (0-100 %) and median latency per time bucket, as two small line charts."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.points: list[SeriesPoint] = []
        self.setMinimumSize(640, 150)

    def set_points(self, points: list[SeriesPoint]) -> None:
        self.points = points
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("white"))
        half = self.width() / 2
        rates = [p.acceptance_rate for p in self.points]
        latencies = [p.latency_ms for p in self.points]
        top = max((v for v in latencies if v is not None), default=0.0)
        self._panel(painter, QRectF(0, 0, half, self.height()), rates, 1.0, "acceptance rate", RATE_COLOUR, "100 %")
        label = f"{top:.0f} ms"
        self._panel(painter, QRectF(half, 0, half, self.height()), latencies, top, "latency", LATENCY_COLOUR, label)
        painter.end()

    def _panel(
        self, painter: QPainter, box: QRectF, values: list[float | None], top: float, title: str, colour: QColor,
        top_label: str,
    ) -> None:  # fmt: skip
        plot = box.adjusted(44, 20, -10, -22)
        painter.setPen(QColor("#374151"))
        painter.drawText(box.adjusted(44, 2, 0, 0), Qt.AlignmentFlag.AlignLeft, title)
        painter.drawText(QRectF(box.left(), plot.top() - 6, 40, 14), Qt.AlignmentFlag.AlignRight, top_label)
        painter.drawText(QRectF(box.left(), plot.bottom() - 8, 40, 14), Qt.AlignmentFlag.AlignRight, "0")
        painter.setPen(QColor("#d1d5db"))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(plot)
        if self.points:
            first, last = self.points[0].start, self.points[-1].start
            painter.setPen(QColor("#374151"))
            painter.drawText(plot.adjusted(0, plot.height() + 4, 0, 20), Qt.AlignmentFlag.AlignLeft, _clock(first))
            painter.drawText(plot.adjusted(0, plot.height() + 4, 0, 20), Qt.AlignmentFlag.AlignRight, _clock(last))
        if not values or top <= 0:
            return
        step = plot.width() / max(1, len(values) - 1)
        painter.setPen(QPen(colour, 2.5))
        painter.setBrush(colour)
        points = [
            QPointF(plot.left() + (step * index if len(values) > 1 else plot.width() / 2),
                    plot.bottom() - plot.height() * min(value / top, 1.0))
            for index, value in enumerate(values)
            if value is not None  # a bucket without data is skipped: the line joins its neighbours
        ]  # fmt: skip
        if len(points) > 1:
            painter.drawPolyline(QPolygonF(points))
        for point in points:
            painter.drawEllipse(point, 2.5, 2.5)
        painter.setBrush(Qt.BrushStyle.NoBrush)


def _clock(t: float) -> str:
    return time.strftime("%d %b %H:%M", time.localtime(t))


class ReviewWindow(QWidget):
    """The gallery over a ReviewLog; `refresh` reloads entries and plots after any change."""

    COLUMNS = 3

    def __init__(self, review: ReviewLog, limit: int = 200, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.review, self.limit, self.show_filter = review, limit, "all"
        self.cards: list[EntryCard] = []
        self.confirm_box: QMessageBox | None = None
        self.setWindowTitle(f"Ghostpilot: review suggestions ({review.path})")
        self.resize(1100, 800)
        self.filters = QButtonGroup(self)
        bar = QHBoxLayout()
        for name in FILTERS:
            button = QPushButton(name.capitalize())
            button.setCheckable(True)
            button.setChecked(name == "all")
            button.clicked.connect(lambda *_, n=name: self.set_filter(n))
            self.filters.addButton(button)
            bar.addWidget(button)
        bar.addStretch(1)
        self.minutes = QDoubleSpinBox()
        self.minutes.setRange(1, 7 * 24 * 60)
        self.minutes.setValue(10)
        self.minutes.setSuffix(" min")
        self.delete_recent_button = QPushButton("Delete last…")
        self.delete_recent_button.clicked.connect(lambda: self.ask_delete_last(self.minutes.value()))
        bar.addWidget(self.minutes)
        bar.addWidget(self.delete_recent_button)
        self.plot = SeriesPlot()
        self.status = QLabel()
        self.grid = QGridLayout()
        holder = QWidget()
        holder.setLayout(self.grid)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(holder)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.plot)
        layout.addWidget(self.status)
        layout.addWidget(scroll, 1)
        self.refresh()

    def set_filter(self, name: str) -> None:
        self.show_filter = name
        for button in self.filters.buttons():
            button.setChecked(button.text().lower() == name)
        self.refresh()

    def refresh(self) -> None:
        """Reload from the log; a log that cannot be read says why in the window."""
        for card in self.cards:
            self.grid.removeWidget(card)
            card.deleteLater()
        self.cards = []
        try:
            entries = self.review.entries(self.show_filter, self.limit)
            self.plot.set_points(self.review.series())
        except GhostpilotError as exc:
            self.status.setText(f"cannot read the log: {exc}")
            return
        for index, entry in enumerate(entries):
            card = EntryCard(entry)
            card.delete_requested.connect(self.delete_entry)
            self.grid.addWidget(card, index // self.COLUMNS, index % self.COLUMNS)
            self.cards.append(card)
        shown = f"{len(entries)} suggestions" + (f" (the newest {self.limit})" if len(entries) == self.limit else "")
        self.status.setText(shown if entries else "no suggestions here yet")

    def delete_entry(self, suggestion_id: str) -> None:
        self._run(lambda: self.review.delete_entry(suggestion_id))

    def ask_delete_last(self, minutes: float) -> QMessageBox:
        """Confirm first; Yes deletes everything from the last `minutes` (events too), as `ghostpilot forget`."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Delete recent history",
                          f"Delete everything recorded in the last {minutes:g} minutes: suggestions, decisions, "
                          "frames and input events? This cannot be undone.",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self)  # fmt: skip
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        yes = box.button(QMessageBox.StandardButton.Yes)
        box.buttonClicked.connect(
            lambda button: self._run(lambda: self.review.delete_last(minutes)) if button is yes else None
        )
        self.confirm_box = box
        box.open()
        return box

    def _run(self, deletion: Callable[[], Any]) -> None:
        try:
            deleted = deletion()
        except GhostpilotError as exc:
            self.status.setText(f"not deleted: {exc}")
            return
        self.refresh()
        self.status.setText(f"deleted {deleted.describe()}; the log was compacted")


def open_review(path: Path, store: Any | None = None) -> ReviewWindow:
    """The window over the log at `path`; `store`: this process's running Store, so deletions use its writer."""
    window = ReviewWindow(ReviewLog(path, store=store))
    window.show()
    return window


class ReviewOpener:
    """The tray's "Review suggestions…": one window, reloaded and raised on each click."""

    def __init__(self, path: Path, store: Any | None = None) -> None:
        self.path, self.store = path, store
        self.window: ReviewWindow | None = None

    def __call__(self) -> None:
        if self.window is None:
            self.window = open_review(self.path, self.store)
        else:
            self.window.refresh()
            self.window.show()
        self.window.raise_()


def run_review(path: Path) -> int:
    """`ghostpilot review`: the window on its own, deleting through its own connection."""
    if not path.is_file():
        raise GhostpilotError(f"no Ghostpilot log at {path}", "run the copilot first, or pass --database PATH")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = open_review(path)
    window.raise_()
    return int(app.exec())
