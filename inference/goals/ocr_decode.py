"""The pure-numpy pieces of the OCR pipeline: DB probability map -> boxes, and CTC greedy decoding.

Kept apart from the onnxruntime sessions so each piece is unit-tested on hand-made arrays. GUI text is
horizontal, so boxes are axis-aligned rectangles instead of DB's rotated polygons, and connected regions are
found by a run-length labelling (no OpenCV or SciPy in the runtime install).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Box = tuple[int, int, int, int]
"""(x0, y0, x1, y1) in pixels, x1/y1 exclusive."""


@dataclass(frozen=True)
class DetectorPost:
    """DB post-processing settings; defaults are PaddleOCR's (thresh 0.3, box_thresh 0.5, unclip 1.6)."""

    thresh: float = 0.3  # a map pixel is text when its probability exceeds this
    box_thresh: float = 0.5  # a region is kept when its mean probability exceeds this
    unclip_ratio: float = 1.6  # DB's expansion: offset = area * ratio / perimeter
    min_side: int = 2  # regions thinner than this (map pixels) are noise
    max_regions: int = 1000  # a hard bound on work per frame


def _row_runs(row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start (inclusive) and end (exclusive) columns of the True runs of one boolean row."""
    padded = np.concatenate(([False], row, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return edges[0::2], edges[1::2]


def _find(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def label_regions(mask: np.ndarray) -> list[tuple[int, int, int, int, list[tuple[int, int, int]]]]:
    """8-connected regions of a boolean (H, W) mask: [(x0, y0, x1, y1, runs)], runs = [(row, start, end)].

    Run-length union-find: the work is proportional to the number of runs (a few thousand on a screen of
    text), not to pixels, so it stays in the low milliseconds in pure Python.
    """
    runs: list[tuple[int, int, int]] = []
    parent: list[int] = []
    previous: list[int] = []  # run indices of the row above
    for y in range(mask.shape[0]):
        if not mask[y].any():
            previous = []
            continue
        starts, ends = _row_runs(mask[y])
        current = []
        j = 0
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            index = len(runs)
            runs.append((y, start, end))
            parent.append(index)
            current.append(index)
            while j < len(previous) and runs[previous[j]][2] < start:  # ends before this run's 8-neighbourhood
                j += 1
            k = j
            while k < len(previous) and runs[previous[k]][1] <= end:  # overlaps, diagonals included
                a, b = _find(parent, index), _find(parent, previous[k])
                if a != b:
                    parent[max(a, b)] = min(a, b)
                k += 1
        previous = current
    groups: dict[int, list[tuple[int, int, int]]] = {}
    for index, run in enumerate(runs):
        groups.setdefault(_find(parent, index), []).append(run)
    regions = []
    for members in groups.values():
        rows = [r[0] for r in members]
        x0 = min(r[1] for r in members)
        x1 = max(r[2] for r in members)
        regions.append((x0, min(rows), x1, max(rows) + 1, members))
    return regions


def dilate_2x2(mask: np.ndarray) -> np.ndarray:
    """DB's `use_dilation` (a 2x2 kernel): joins letters whose shrunk cores just miss each other."""
    out = mask.copy()
    out[1:, :] |= mask[:-1, :]
    out[:, 1:] |= out[:, :-1].copy()
    return out


def unclip_box(box: tuple[float, float, float, float], ratio: float) -> tuple[float, float, float, float]:
    """Grow a shrunk rectangle by DB's offset `area * ratio / perimeter` on every side."""
    x0, y0, x1, y1 = box
    width, height = x1 - x0, y1 - y0
    offset = width * height * ratio / max(2 * (width + height), 1e-6)
    return x0 - offset, y0 - offset, x1 + offset, y1 + offset


def boxes_from_probability(
    prob: np.ndarray, scale: tuple[float, float], frame_size: tuple[int, int], post: DetectorPost
) -> list[tuple[Box, float]]:
    """Text boxes in frame pixels with their mean probability, from a DB map (Hm, Wm) in [0, 1].

    `scale` = (frame width / map width, frame height / map height); `frame_size` = (W, H) clips the boxes.
    """
    mask = dilate_2x2(prob > post.thresh)
    found: list[tuple[Box, float]] = []
    width, height = frame_size
    for x0, y0, x1, y1, runs in label_regions(mask)[: post.max_regions]:
        if min(x1 - x0, y1 - y0) < post.min_side:
            continue
        score = float(np.mean(np.concatenate([prob[r, s:e] for r, s, e in runs])))
        if score < post.box_thresh:
            continue
        ux0, uy0, ux1, uy1 = unclip_box((x0, y0, x1, y1), post.unclip_ratio)
        box = (
            max(0, int(np.floor(ux0 * scale[0]))),
            max(0, int(np.floor(uy0 * scale[1]))),
            min(width, int(np.ceil(ux1 * scale[0]))),
            min(height, int(np.ceil(uy1 * scale[1]))),
        )
        if box[2] - box[0] > 3 and box[3] - box[1] > 3:
            found.append((box, score))
    found.sort(key=lambda item: (item[0][1], item[0][0]))  # reading order: top to bottom, left to right
    return found


def ctc_greedy_decode(
    probs: np.ndarray, charset: list[str], lengths: np.ndarray | None = None
) -> list[tuple[str, float]]:
    """Best path decoding of (N, T, C) softmax outputs: merge repeats, drop blank (class 0).

    Returns (text, confidence) per row; confidence is the mean probability of the kept characters (0 if
    none). `lengths` limits each row to its first `lengths[i]` time steps (padding is ignored).
    """
    best = probs.argmax(axis=2)
    best_p = probs.max(axis=2)
    results = []
    for i in range(best.shape[0]):
        steps = best.shape[1] if lengths is None else int(lengths[i])
        ids = best[i, :steps]
        keep = ids != 0
        keep[1:] &= ids[1:] != ids[:-1]
        chars = [charset[c] for c in ids[keep].tolist()]
        confidence = float(best_p[i, :steps][keep].mean()) if keep.any() else 0.0
        results.append(("".join(chars), confidence))
    return results


def box_iou(a: Box, b: Box) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def ink_mask(crop: np.ndarray, level: int = 48, line_share: float = 0.8) -> np.ndarray:
    """Text-stroke pixels of an RGB crop: far (sum over channels > `level`) from its most common colour.

    Rows or columns that are mostly ink are widget borders, not text, and are cleared.
    """
    pixels = crop.astype(np.int32)
    packed = (pixels[:, :, 0] << 16) | (pixels[:, :, 1] << 8) | pixels[:, :, 2]
    values, counts = np.unique(packed, return_counts=True)
    mode = int(values[np.argmax(counts)])
    background = np.array([mode >> 16, (mode >> 8) & 255, mode & 255])
    ink = np.abs(pixels - background).sum(axis=2) > level
    ink[ink.mean(axis=1) > line_share, :] = False
    ink[:, ink.mean(axis=0) > line_share] = False
    return ink


def ink_extent(crop: np.ndarray) -> Box | None:
    """The tight box (crop pixels) of the text strokes in an RGB crop, or None if none stands out.

    DB boxes carry a margin (the unclip); this gives the box of the text itself.
    """
    if crop.shape[0] < 3 or crop.shape[1] < 3:
        return None
    ink = ink_mask(crop)
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0 or cols.size == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def split_at_gaps(crop: np.ndarray, gap_ratio: float = 0.8) -> list[tuple[int, int]]:
    """Column ranges of the separate texts in one detected line: blank gaps wider than `gap_ratio` x the
    text's height separate GUI elements (adjacent menu titles that DB merged), word spaces (~0.4 x) do not."""
    if crop.shape[0] < 3 or crop.shape[1] < 3:
        return [(0, crop.shape[1])]
    ink = ink_mask(crop)
    rows = np.flatnonzero(ink.any(axis=1))
    if rows.size == 0:
        return [(0, crop.shape[1])]
    min_gap = max(3, int(gap_ratio * (rows[-1] + 1 - rows[0])))
    starts, ends = _row_runs(np.asarray(ink.any(axis=0)))
    segments = [[int(starts[0]), int(ends[0])]]
    for start, end in zip(starts[1:].tolist(), ends[1:].tolist(), strict=True):
        if start - segments[-1][1] >= min_gap:
            segments.append([start, end])
        else:
            segments[-1][1] = end
    return [(a, b) for a, b in segments]
