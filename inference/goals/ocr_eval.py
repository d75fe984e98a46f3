"""Accuracy and speed of the OCR and of goal grounding on synthetic screens, whose text and boxes are known.

    python -m inference.goals.ocr_eval ocr --seeds 1000-1019 [--size 1920x1080] [--det-max-side 1920]
    python -m inference.goals.ocr_eval grounding --seeds 2000-2029

Ground truth is the ink box of every label the renderer draws (title, menus, labels, static text, buttons, list
items), measured with the same font and anchor as `inference.synthetic.screens`. Seeds below 1000 are the
ones the defaults were chosen on; report on others.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from inference.goals.grounding import Goal, parse_goal, rank_boxes
from inference.goals.ocr import OcrConfig, OcrModel, TextBox
from inference.goals.ocr_decode import Box, box_iou
from inference.synthetic.screens import Renderer, Screen, UIState, get_font, make_screen

TEXT_KINDS = ("title", "menu", "label", "text", "button", "list_item")
CENTRED = ("menu", "button")


def visible_text(screen: Screen) -> list[tuple[str, Box]]:
    """(label, ink box) of every text the renderer draws on the resting screen (no menu open)."""
    draw = ImageDraw.Draw(Image.new("RGB", (8, 8)))
    font, bold = get_font(screen.font_size), get_font(screen.font_size, bold=True)
    found = []
    for e in screen.elements:
        if e.kind not in TEXT_KINDS or not e.label:
            continue
        f = bold if e.kind == "title" else font
        x0, y0, x1, y1 = e.box
        width = draw.textlength(e.label, font=f)
        x = (x0 + x1 - width) / 2 if e.kind in CENTRED else x0 + 6
        left, top, right, bottom = draw.textbbox((x, (y0 + y1) / 2), e.label, font=f, anchor="lm")
        found.append((e.label, (int(left), int(top), int(np.ceil(right)), int(np.ceil(bottom)))))
    return found


def score_frame(truth: list[tuple[str, Box]], found: list[TextBox], iou_min: float = 0.5) -> dict[str, Any]:
    """Per-label: detected (a found box with IoU >= iou_min), read exactly (same text, spaces ignored), IoU."""
    detected = exact = 0
    ious = []
    for label, box in truth:
        best = max(found, key=lambda t: box_iou(box, t.box), default=None)
        iou = box_iou(box, best.box) if best else 0.0
        if best is None or iou < iou_min:
            continue
        detected += 1
        ious.append(iou)
        exact += best.text.replace(" ", "") == label.replace(" ", "")
    return {"labels": len(truth), "detected": detected, "exact": exact, "ious": ious}


def evaluate_ocr(seeds: Sequence[int], size: tuple[int, int], config: OcrConfig) -> dict[str, Any]:
    """Recall, exact-read rate, mean IoU and latency (cold: empty crop cache, every crop recognised)."""
    model = OcrModel(config)
    totals = {"labels": 0, "detected": 0, "exact": 0}
    ious: list[float] = []
    cold_ms, det_ms = [], []
    for seed in seeds:
        screen = make_screen(np.random.default_rng(seed), *size)
        frame = Renderer(screen).render(UIState())
        model.clear_cache()
        started = time.perf_counter()
        found = model.read(frame)
        cold_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        model.read(frame)  # same pixels: every crop is a cache hit, this is the detector's cost
        det_ms.append((time.perf_counter() - started) * 1000)
        scored = score_frame(visible_text(screen), found)
        for key in totals:
            totals[key] += scored[key]
        ious += scored["ious"]
    return {
        "frames": len(seeds),
        "size": f"{size[0]}x{size[1]}",
        "labels": totals["labels"],
        "recall_iou50": round(totals["detected"] / totals["labels"], 4),
        "exact_rate": round(totals["exact"] / totals["labels"], 4),
        "exact_of_detected": round(totals["exact"] / max(totals["detected"], 1), 4),
        "mean_iou_detected": round(float(np.mean(ious)), 4) if ious else 0.0,
        "cold_ms_median": round(float(np.median(cold_ms)), 1),
        "cold_ms_p95": round(float(np.percentile(cold_ms, 95)), 1),
        "unchanged_ms_median": round(float(np.median(det_ms)), 1),
    }


def _frame_at(folder: Path, t_s: float) -> np.ndarray:
    """The last frame written at or before t (frames are named by their ms)."""
    frames = sorted(folder.glob("frames/*.png"))
    chosen = [p for p in frames if int(p.stem) <= t_s * 1000] or frames[:1]
    return np.asarray(Image.open(chosen[-1]).convert("RGB"))


def grounding_hit(box: Box, target: dict[str, Any], label_box: Box | None) -> tuple[bool, bool]:
    """(strict, lenient): strict = the box's centre lies in the target element; lenient also accepts the
    field's own label (OCR cannot read an empty field; its label names it)."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2

    def inside(area: Sequence[int]) -> bool:
        return area[0] <= cx < area[2] and area[1] <= cy < area[3]

    strict = inside(target["box"])
    lenient = strict or (label_box is not None and inside(label_box))
    return strict, lenient


def _field_label(screen: Screen, target: dict[str, Any]) -> Box | None:
    """The label element left of a field target, on the same row (the nearest one)."""
    if target["kind"] != "field":
        return None
    x0, y0, _, y1 = target["box"]
    row = [e for e in screen.elements if e.kind == "label" and y0 <= (e.box[1] + e.box[3]) / 2 < y1]
    left = [e for e in row if e.box[2] <= x0 + 2]
    return max(left, key=lambda e: e.box[2]).box if left else None


def _top1(model: OcrModel, encoder: Any, frame: np.ndarray, goal: Goal, weight: float) -> TextBox | None:
    boxes = model.read(frame)
    vectors = encoder.embed([b.text for b in boxes] + [goal.target])
    ranked = rank_boxes(goal, boxes, vectors[:-1], vectors[-1], weight)
    return ranked[0][0] if ranked else None


def evaluate_grounding(seeds: Sequence[int], lexical_weight: float = 0.6) -> dict[str, Any]:
    """Top-1 accuracy of rank_boxes for each task's first target, on the frame shown when the task starts;
    and for menu tasks, of the second step (the item) on the screen with that menu open."""
    from inference.goals.text_encoder import TextEncoder
    from inference.synthetic.generate import generate_episode

    model, encoder = OcrModel(), TextEncoder()
    strict = lenient = tasks = 0
    by_kind: dict[str, list[int]] = {}
    items: list[int] = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            folder = generate_episode(Path(tmp), seed)
            meta = json.loads((folder / "meta.json").read_text())
            screen = make_screen(np.random.default_rng(seed), meta["screen_width"], meta["screen_height"])
            for task in meta["tasks"]:
                goal, target = parse_goal(task["goal"]), task["targets"][0]
                best = _top1(model, encoder, _frame_at(folder, task["t_start"]), goal, lexical_weight)
                hit = grounding_hit(best.box, target, _field_label(screen, target)) if best else (False, False)
                tasks, strict, lenient = tasks + 1, strict + hit[0], lenient + hit[1]
                by_kind.setdefault(task["kind"], []).append(int(hit[1]))
                if task["kind"] == "menu" and goal.steps:
                    frame = Renderer(screen).render(UIState(open_menu=target["id"]))
                    item = _top1(model, encoder, frame, replace(goal, target=goal.steps[0]), lexical_weight)
                    items.append(int(item is not None and grounding_hit(item.box, task["targets"][1], None)[0]))
    return {
        "episodes": len(seeds),
        "tasks": tasks,
        "top1_strict": round(strict / max(tasks, 1), 4),
        "top1_element_or_label": round(lenient / max(tasks, 1), 4),
        "by_kind_element_or_label": {k: [round(float(np.mean(v)), 3), len(v)] for k, v in sorted(by_kind.items())},
        "menu_item_step_top1": [round(float(np.mean(items)), 4) if items else None, len(items)],
    }


def _seeds(text: str) -> list[int]:
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="OCR / grounding accuracy on synthetic screens.")
    parser.add_argument("what", choices=["ocr", "grounding"])
    parser.add_argument("--seeds", default="1000-1019", help="FIRST-LAST (inclusive)")
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--det-max-side", type=int, default=OcrConfig().det_max_side)
    parser.add_argument("--lexical-weight", type=float, default=0.6)
    args = parser.parse_args(argv)
    if args.what == "ocr":
        width, height = (int(v) for v in args.size.split("x"))
        result = evaluate_ocr(_seeds(args.seeds), (width, height), OcrConfig(det_max_side=args.det_max_side))
    else:
        result = evaluate_grounding(_seeds(args.seeds), args.lexical_weight)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
