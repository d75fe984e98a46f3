"""The review window over a real SQLite log: cards, filters, paths drawn over frames, deletes, plots."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QMessageBox

from app.review import ReviewLog
from app.store import Store, read_suggestions
from tests.unit.test_review import START, fill
from ui.review import (
    EMPTY_FRAME,
    GHOST_COLOUR,
    LATENCY_COLOUR,
    RATE_COLOUR,
    USER_COLOUR,
    ReviewOpener,
    ReviewWindow,
    entry_image,
)
from ui.tray import TrayCommands, TrayController


@pytest.fixture
def log(tmp_path: Path) -> tuple[Path, list[str]]:
    path = tmp_path / "ghostpilot.db"
    return path, fill(path)


def near(image: QImage, x: float, y: float, colour: QColor, tolerance: int = 40) -> bool:
    pixel = image.pixelColor(round(x), round(y))
    return all(abs(a - b) <= tolerance for a, b in zip(pixel.getRgb()[:3], colour.getRgb()[:3], strict=True))


def test_window_lists_every_entry_newest_first_with_its_badge(qtbot, log: tuple[Path, list[str]]) -> None:
    path, ids = log
    window = ReviewWindow(ReviewLog(path))
    qtbot.addWidget(window)
    assert [card.entry.id for card in window.cards] == ids[::-1]
    badges = [card.badge.text() for card in window.cards]
    assert badges == ["pending", "accepted", "partial", "ignored", "dismissed", "accepted"]
    assert "6 suggestions" in window.status.text()


@pytest.mark.parametrize(
    ("button", "badges"),
    [("Accepted", {"accepted"}), ("Rejected", {"dismissed", "ignored"}), ("Partial", {"partial"})],
)
def test_filter_buttons(qtbot, log: tuple[Path, list[str]], button: str, badges: set[str]) -> None:
    window = ReviewWindow(ReviewLog(log[0]))
    qtbot.addWidget(window)
    (clicked,) = [b for b in window.filters.buttons() if b.text() == button]
    clicked.click()
    assert {card.badge.text() for card in window.cards} == badges and clicked.isChecked()
    (everything,) = [b for b in window.filters.buttons() if b.text() == "All"]
    everything.click()
    assert len(window.cards) == 6


def test_card_draws_the_ghost_path_and_the_users_path_over_the_frame(qtbot, log: tuple[Path, list[str]]) -> None:
    window = ReviewWindow(ReviewLog(log[0]))
    qtbot.addWidget(window)
    card = window.cards[-1]  # suggestion 0: ghost (100, 100) -> (1000, 500); the user went to (960, 900..1000)
    image, scale = card.image, 320 / 1920
    assert image.width() == 320 and image.height() == 180
    for k in range(1, 10):  # along the predicted path
        x, y = 100 + 900 * k / 10, 100 + 400 * k / 10
        assert near(image, x * scale, y * scale, GHOST_COLOUR), k
    assert near(image, 960 * scale, 950 * scale, USER_COLOUR)  # the user's real path
    assert near(image, 300, 20, QColor(0, 0, 0), tolerance=0)  # the (black) frame, not the empty canvas
    assert not near(image, 300, 20, EMPTY_FRAME, tolerance=5)


def test_a_ghost_without_frame_is_drawn_on_an_empty_canvas(qtbot, log: tuple[Path, list[str]]) -> None:
    entry = ReviewLog(log[0]).entries()[0]
    image = entry_image(entry.__class__(**{**entry.__dict__, "thumbnail": None}), width=640)
    assert image.width() == 640 and near(image, 600, 20, EMPTY_FRAME, tolerance=0)
    x, y = entry.ghost_path[5]
    assert near(image, 2 * x, 2 * y, GHOST_COLOUR)


def test_delete_button_removes_the_entry_from_the_database(qtbot, log: tuple[Path, list[str]]) -> None:
    path, ids = log
    window = ReviewWindow(ReviewLog(path))
    qtbot.addWidget(window)
    (card,) = [c for c in window.cards if c.entry.id == ids[2]]
    card.delete_button.click()
    assert ids[2] not in {row["id"] for row in read_suggestions(path)}
    assert len(window.cards) == 5 and ids[2] not in {c.entry.id for c in window.cards}
    assert "deleted 0 events, 1 suggestions, 1 decisions" in window.status.text()


def test_delete_last_minutes_asks_first(qtbot, tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    now = time.time()
    ids = fill(path, ["accepted", "dismissed", "ignored"], gap_s=600, start=now - 1230)  # the last one 30 s ago
    window = ReviewWindow(ReviewLog(path))
    qtbot.addWidget(window)
    window.minutes.setValue(5)
    window.delete_recent_button.click()
    box = window.confirm_box
    assert box is not None and "last 5 minutes" in box.text()
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert len(read_suggestions(path)) == 3  # cancelled: nothing deleted
    box = window.ask_delete_last(5)
    box.button(QMessageBox.StandardButton.Yes).click()
    assert [row["id"] for row in read_suggestions(path)] == [ids[1], ids[0]]
    assert [c.entry.id for c in window.cards] == [ids[1], ids[0]]


def test_plots_draw_acceptance_rate_and_latency(qtbot, log: tuple[Path, list[str]]) -> None:
    window = ReviewWindow(ReviewLog(log[0]))
    qtbot.addWidget(window)
    window.plot.resize(800, 200)
    assert len(window.plot.points) > 1

    def colours(image: QImage) -> tuple[int, int]:
        rate = latency = 0
        for y in range(0, image.height(), 2):
            for x in range(0, image.width(), 2):
                rate += near(image, x, y, RATE_COLOUR, 10)
                latency += near(image, x, y, LATENCY_COLOUR, 10)
        return rate, latency

    rate, latency = colours(window.plot.grab().toImage())
    assert rate > 20 and latency > 20
    window.plot.set_points([])
    assert colours(window.plot.grab().toImage()) == (0, 0)


def test_a_missing_log_says_so_in_the_window(qtbot, tmp_path: Path) -> None:
    window = ReviewWindow(ReviewLog(tmp_path / "none.db"))
    qtbot.addWidget(window)
    assert window.cards == [] and "no Ghostpilot log" in window.status.text()


def test_tray_entry_opens_one_window_with_deletes_through_the_running_store(qtbot, tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    ids = fill(path, ["accepted", "dismissed"], start=START)
    with Store.open(path) as store:
        opener = ReviewOpener(tmp_path / "unused.db", store=store)
        commands = TrayCommands(lambda: None, lambda _s: None, lambda: None, lambda: tmp_path, lambda: None, opener)
        tray = TrayController(commands, use_tray=False)
        assert tray.actions["review"].isEnabled()
        tray.actions["review"].trigger()
        window = opener.window
        assert window is not None and window.review.store is store
        qtbot.addWidget(window)
        window.cards[0].delete_button.click()
        tray.actions["review"].trigger()
        assert opener.window is window and [c.entry.id for c in window.cards] == [ids[0]]
    assert [row["id"] for row in read_suggestions(path)] == [ids[0]]


def test_review_command_opens_the_window_and_refuses_a_missing_log(qtbot, log: tuple[Path, list[str]], capsys) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from ui.cli import main

    assert main(["review", "--database", str(log[0].with_name("missing.db"))]) == 2
    assert "no Ghostpilot log" in capsys.readouterr().err
    seen: list[int] = []

    def close_when_shown() -> None:  # the command runs the event loop: look at its window, then quit
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, ReviewWindow) and w.isVisible()]
        if windows:
            seen.append(len(windows[0].cards))
            windows[0].close()
            windows[0].deleteLater()
            QApplication.quit()
        else:
            QTimer.singleShot(50, close_when_shown)

    QTimer.singleShot(0, close_when_shown)
    assert main(["review", "--database", str(log[0])]) == 0
    assert seen == [6]
