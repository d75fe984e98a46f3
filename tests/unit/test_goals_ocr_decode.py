"""The OCR pipeline's numpy pieces on hand-made arrays: region labelling, DB boxes, CTC decoding."""

from __future__ import annotations

import numpy as np
import pytest

from inference.goals.ocr import OcrConfig, detector_size
from inference.goals.ocr_decode import (
    DetectorPost,
    box_iou,
    boxes_from_probability,
    ctc_greedy_decode,
    ink_extent,
    label_regions,
    split_at_gaps,
    unclip_box,
)


def test_label_regions_separates_blobs_and_joins_diagonals() -> None:
    mask = np.zeros((8, 12), bool)
    mask[1:3, 1:4] = True  # blob A
    mask[3, 4] = True  # touches A only diagonally: 8-connected, same region
    mask[5:7, 8:11] = True  # blob B
    regions = sorted(r[:4] for r in label_regions(mask))
    assert regions == [(1, 1, 5, 4), (8, 5, 11, 7)]


def test_label_regions_u_shape_merges_late() -> None:
    mask = np.zeros((5, 7), bool)
    mask[0:4, 1] = True
    mask[0:4, 5] = True
    mask[4, 1:6] = True  # the two arms meet only in the last row
    assert [r[:4] for r in label_regions(mask)] == [(1, 0, 6, 5)]


def test_unclip_grows_by_area_over_perimeter() -> None:
    x0, y0, x1, y1 = unclip_box((10, 10, 30, 14), ratio=1.6)
    offset = 20 * 4 * 1.6 / (2 * 24)
    assert (x0, y0, x1, y1) == pytest.approx((10 - offset, 10 - offset, 30 + offset, 14 + offset))


def test_boxes_from_probability_scales_and_drops_weak_regions() -> None:
    prob = np.zeros((40, 80), np.float32)
    prob[10:14, 10:50] = 0.9  # a text line
    prob[30:33, 60:70] = 0.35  # above thresh but mean below box_thresh
    found = boxes_from_probability(prob, (2.0, 2.0), (160, 80), DetectorPost())
    assert len(found) == 1
    (x0, y0, x1, y1), score = found[0]
    assert score == pytest.approx(0.9 * 40 * 4 / (41 * 5), abs=1e-5)  # the mean over the dilated region, as DB
    assert x0 < 20 < 100 < x1 and y0 < 20 < 28 < y1  # the line at 2x, grown by the unclip
    assert x1 <= 160 and y1 <= 80


def test_ctc_greedy_merges_repeats_and_drops_blanks() -> None:
    charset = ["<blank>", "a", "b"]
    path = [1, 1, 0, 1, 2, 2, 0, 0]  # a a _ a b b _ _ -> "aab"
    probs = np.full((1, len(path), 3), 0.05, np.float32)
    for t, c in enumerate(path):
        probs[0, t, c] = 0.9
    assert ctc_greedy_decode(probs, charset) == [("aab", pytest.approx(0.9))]
    assert ctc_greedy_decode(probs, charset, np.array([2]))[0][0] == "a"  # padding steps ignored
    blank = np.zeros((1, 3, 3), np.float32)
    blank[0, :, 0] = 1.0
    assert ctc_greedy_decode(blank, charset) == [("", 0.0)]


def test_ink_extent_ignores_widget_borders() -> None:
    crop = np.full((20, 40, 3), 230, np.uint8)
    crop[0, :] = crop[-1, :] = 90  # a button's border lines
    crop[:, 0] = 90
    crop[6:14, 10:25] = 20  # the glyphs
    assert ink_extent(crop) == (10, 6, 25, 14)
    assert ink_extent(np.full((20, 40, 3), 200, np.uint8)) is None


def test_box_iou_and_detector_size() -> None:
    assert box_iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert box_iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(50 / 150)
    assert box_iou((0, 0, 1, 1), (2, 2, 3, 3)) == 0.0
    assert detector_size(1280, 720, OcrConfig()) == (1312, 736)  # shorter side raised to 736, /32
    assert detector_size(1920, 1080, OcrConfig(det_max_side=1280)) == (1280, 704)  # the max side wins


def test_split_at_gaps_cuts_between_elements_not_words() -> None:
    crop = np.full((16, 80, 3), 240, np.uint8)
    crop[3:13, 2:12] = 0  # word 1 (height 10)
    crop[3:13, 15:25] = 0  # word 2, 3 px after: a word space
    crop[3:13, 40:60] = 0  # 15 px after: another element
    assert split_at_gaps(crop) == [(2, 25), (40, 60)]
    assert split_at_gaps(np.full((16, 80, 3), 240, np.uint8)) == [(0, 80)]
