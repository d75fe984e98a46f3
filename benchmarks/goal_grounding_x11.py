"""Goal grounding on a real application under Xvfb: does the first suggested click land in the named widget?

For each seed, a private Xvfb shows benchmarks/goal_app.py (a Qt window with a menu bar, a labelled form,
buttons and a list, labelled with words the synthetic training data never uses); the screen is grabbed
with mss and read by the real OCR model, and for every widget a goal naming it (phrased by one of a few
templates, some unlike the synthetic ones) is given to a fresh session whose pointer rests elsewhere. The
top pointer ghost's click is checked against the widget's real rectangle, with the goal and without it.

    python benchmarks/goal_grounding_x11.py [--seeds 5] [--model PATH] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.xvfb import private_xvfb, stop_process  # noqa: E402
from inference.goal_eval import read_texts, suggested_click  # noqa: E402

TEMPLATES = {
    "button": ["Click the {l} button.", "press {l}", "I want to {l}"],
    "field": ["Type 'abc' into the {l} field.", "fill in my {l}", "enter the {l}"],
    "menu": ["Open the {l} menu", "go to the {l} menu"],
    "list_item": ["Select '{l}' in the list.", "open {l}"],
}


def _grab(display: str) -> np.ndarray:
    import mss

    os.environ["DISPLAY"] = display
    with mss.MSS() as grabber:
        shot = grabber.grab(grabber.monitors[1])
    return np.asarray(shot)[:, :, 2::-1].copy()  # BGRA -> RGB


def _show_app(display: str, seed: int, out: Path) -> subprocess.Popen:
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
    app = subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "goal_app.py"), str(out), str(seed)], env=env)
    deadline = time.monotonic() + 30
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    if not out.exists():
        stop_process(app)
        raise RuntimeError("the goal app did not show within 30 s")
    time.sleep(0.5)
    return app


def measure_screen(predictor, frame: np.ndarray, elements: list[dict], texts, embed, rng: random.Random) -> list[dict]:
    """One record per widget: its goal and whether the click landed in it with and without the goal."""
    height, width = frame.shape[:2]
    records = []
    for element in elements:
        goal = rng.choice(TEMPLATES[element["kind"]]).format(l=element["label"])
        pointer = (rng.uniform(0, width - 1), rng.uniform(0, height - 1))
        events = [{"t": 0.0, "type": "mouse.move", "x": round(pointer[0]), "y": round(pointer[1])}]
        box = element["box"]
        record = {"kind": element["kind"], "goal": goal}
        for name, with_goal in (("goal", goal), ("no_goal", None)):
            point = suggested_click(predictor, (width, height), events, (0.5, frame), texts, with_goal, embed, 1.0)
            record[name] = bool(point and box[0] <= point[0] < box[2] and box[1] <= point[1] < box[3])
        records.append(record)
    return records


def run(seeds: int, model: str | None, size: tuple[int, int] = (1366, 768)) -> dict:
    from inference.goals.ocr import OcrModel
    from inference.goals.text_encoder import TextEncoder
    from inference.runtime import OnnxPredictor

    predictor = OnnxPredictor.load(model, device="cpu")
    ocr, encoder = OcrModel(), TextEncoder()
    records: list[dict] = []
    with private_xvfb(*size) as display, tempfile.TemporaryDirectory() as tmp:
        for seed in range(seeds):
            out = Path(tmp) / f"app-{seed}.json"
            app = _show_app(display, seed, out)
            try:
                frame = _grab(display)
                elements = json.loads(out.read_text())["elements"]
                texts = read_texts(ocr.read, frame)
                records += measure_screen(predictor, frame, elements, texts, encoder.embed, random.Random(seed))
            finally:
                stop_process(app)
    summary = {}
    for key in ("goal", "no_goal"):
        summary[key] = float(np.mean([r[key] for r in records]))
        for kind in TEMPLATES:
            hits = [r[key] for r in records if r["kind"] == kind]
            summary[f"{key}/{kind}"] = float(np.mean(hits)) if hits else float("nan")
    return {"n": len(records), "summary": summary, "records": records}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--model", default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.seeds, args.model)
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(f"{result['n']} goals on {args.seeds} screens")
        for key, value in result["summary"].items():
            print(f"  {key:22s} {value:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
