"""Capture's pure parts: monitor geometry, BGRA->RGB, masking the overlay's own ghosts, mask lingering."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from app.capture import (
    NEUTRAL_GREY,
    MaskRegions,
    ScreenCapture,
    apply_mask,
    bgra_to_rgb,
    monitor_of,
    to_frame_rects,
    virtual_geometry,
)
from inference.errors import GhostpilotError


def mon(left: int, top: int, width: int, height: int) -> dict[str, int]:
    return {"left": left, "top": top, "width": width, "height": height}


SIDE_BY_SIDE = [mon(0, 0, 1920, 1080), mon(1920, 0, 2560, 1440)]
LEFT_OF_PRIMARY = [mon(0, 0, 1920, 1080), mon(-1280, 200, 1280, 1024)]
THREE_WITH_ONE_ABOVE = [mon(0, 0, 1920, 1080), mon(1920, 0, 1920, 1080), mon(960, -1200, 1920, 1200)]


@pytest.mark.parametrize(
    ("monitors", "expected"),
    [
        ([mon(0, 0, 1920, 1080)], mon(0, 0, 1920, 1080)),
        (SIDE_BY_SIDE, mon(0, 0, 4480, 1440)),
        (LEFT_OF_PRIMARY, mon(-1280, 0, 3200, 1224)),
        (THREE_WITH_ONE_ABOVE, mon(0, -1200, 3840, 2280)),
    ],
)
def test_virtual_geometry_is_the_bounding_box(monitors: list[dict[str, int]], expected: dict[str, int]) -> None:
    assert virtual_geometry(monitors) == expected


@pytest.mark.parametrize(
    ("monitors", "point", "index"),
    [
        (SIDE_BY_SIDE, (0, 0), 0),
        (SIDE_BY_SIDE, (1919, 1079), 0),
        (SIDE_BY_SIDE, (1920, 0), 1),
        (SIDE_BY_SIDE, (3000, 1300), 1),
        (SIDE_BY_SIDE, (100, 1300), 0),  # below the short monitor: nearest is still the one above the gap
        (SIDE_BY_SIDE, (1900, 1400), 1),  # in the gap, nearer the tall monitor's left edge
        (LEFT_OF_PRIMARY, (-1, 500), 1),
        (LEFT_OF_PRIMARY, (-1280, 200), 1),
        (LEFT_OF_PRIMARY, (-500, 100), 1),  # above the left monitor, in the gap
        (LEFT_OF_PRIMARY, (0, 500), 0),
        (THREE_WITH_ONE_ABOVE, (1000, -1), 2),
        (THREE_WITH_ONE_ABOVE, (2000, 0), 1),
        (THREE_WITH_ONE_ABOVE, (100, -100), 0),  # gap left of the top monitor: primary is 100 px away
        (THREE_WITH_ONE_ABOVE, (900, -500), 2),
    ],
)
def test_monitor_of_finds_the_monitor_or_the_nearest(
    monitors: list[dict[str, int]], point: tuple[int, int], index: int
) -> None:
    assert monitor_of(*point, monitors) == index


def test_geometry_needs_a_monitor() -> None:
    with pytest.raises(ValueError):
        virtual_geometry([])
    with pytest.raises(ValueError):
        monitor_of(0, 0, [])


def test_bgra_to_rgb_swaps_channels_and_ignores_the_fourth_byte() -> None:
    rng = np.random.default_rng(0)
    bgra = rng.integers(0, 256, (5, 7, 4), dtype=np.uint8)
    rgb = bgra_to_rgb(bytearray(bgra.tobytes()), 7, 5)
    assert rgb.shape == (5, 7, 3) and rgb.dtype == np.uint8 and rgb.flags.c_contiguous
    np.testing.assert_array_equal(rgb, bgra[..., [2, 1, 0]])


def test_bgra_to_rgb_drops_row_padding() -> None:
    padded = np.zeros((3, 6, 4), dtype=np.uint8)  # 4 visible pixels per row, stride of 6
    padded[:, :4, 2] = 200  # red
    padded[:, 4:, :] = 77  # padding that must not appear
    rgb = bgra_to_rgb(padded.tobytes(), 4, 3)
    assert rgb.shape == (3, 4, 3)
    assert (rgb[..., 0] == 200).all() and (rgb[..., 1:] == 0).all()


def frame_of(value: int, height: int = 20, width: int = 30) -> np.ndarray:
    return np.full((height, width, 3), value, dtype=np.uint8)


def test_masked_regions_show_the_last_clean_pixels_and_the_rest_is_fresh() -> None:
    clean = frame_of(10)
    frame = frame_of(200)
    out = apply_mask(frame, clean, [(5, 4, 10, 6)])
    assert (out[4:10, 5:15] == 10).all()
    untouched = np.ones(out.shape[:2], dtype=bool)
    untouched[4:10, 5:15] = False
    assert (out[untouched] == 200).all()


def test_without_a_clean_frame_masked_regions_are_neutral() -> None:
    out = apply_mask(frame_of(200), None, [(0, 0, 3, 3)])
    assert (out[:3, :3] == NEUTRAL_GREY).all() and (out[3:, 3:] == 200).all()
    resized = apply_mask(frame_of(200), frame_of(10, height=5), [(0, 0, 3, 3)])  # screen size changed
    assert (resized[:3, :3] == NEUTRAL_GREY).all()


def test_rects_are_clipped_to_the_frame() -> None:
    out = apply_mask(frame_of(200), frame_of(10), [(-5, -5, 8, 8), (28, 18, 50, 50), (100, 100, 5, 5), (3, 3, 0, 9)])
    assert (out[:3, :3] == 10).all() and (out[18:, 28:] == 10).all()
    assert int((out == 10).all(axis=2).sum()) == 9 + 4


def test_a_ghost_never_reaches_the_model_over_a_sequence_of_frames() -> None:
    """The ghost moves across a changing screen; the clean pixels are whatever was there before it came."""
    ghost = 255
    clean = None
    outputs = []
    for step in range(6):
        screen = frame_of(step * 10)  # the desktop underneath changes every frame
        x = 5 * step
        screen[5:10, x : x + 5] = ghost  # the overlay's ghost, as mss sees it with a compositor
        out = apply_mask(screen, clean, [(x, 5, 5, 5)])
        assert not (out == ghost).any()
        outputs.append(out)
        clean = out
    last = outputs[-1]
    assert (last[5:10, 25:30] == 40).all()  # uncovered at step 4 (value 40), covered at step 5
    assert (last[:5] == 50).all()  # everything unmasked is this frame's


def test_frame_rects_are_relative_to_the_captured_origin() -> None:
    assert to_frame_rects([(-1280, 300, 10, 20), (0, 0, 5, 5)], (-1280, 0)) == [(0, 300, 10, 20), (1280, 0, 5, 5)]


def test_removed_mask_regions_linger_then_go() -> None:
    regions = MaskRegions(linger_s=0.2)
    regions.set([(1, 2, 3, 4)], now=10.0)
    assert regions.active(10.0) == [(1, 2, 3, 4)]
    regions.set([(5, 6, 7, 8)], now=11.0)
    assert sorted(regions.active(11.1)) == [(1, 2, 3, 4), (5, 6, 7, 8)]
    assert regions.active(11.3) == [(5, 6, 7, 8)]
    regions.set([], now=12.0)
    regions.set([(5, 6, 7, 8)], now=12.05)  # back again: listed once
    assert regions.active(12.1) == [(5, 6, 7, 8)]
    regions.set([], now=13.0)
    assert regions.active(13.5) == []


def test_fps_out_of_range_is_refused() -> None:
    for fps in (0, -1, 31):
        with pytest.raises(ValueError):
            ScreenCapture(fps)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="DISPLAY matters on Linux only")
def test_start_without_a_display_says_so_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    capture = ScreenCapture(10)
    with pytest.raises(GhostpilotError, match="no display") as caught:
        capture.start()
    assert "\n" not in str(caught.value) and not capture.running
