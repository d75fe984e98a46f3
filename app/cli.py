"""`ghostpilot`: a thin command line over the library. Library errors become one line on stderr, exit 2."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from inference.errors import GhostpilotError

Handler = Callable[[argparse.Namespace], int]


def _progress_bar(total: int | None, desc: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, dynamic_ncols=True, mininterval=1.0, file=sys.stderr)


def cmd_import_balabit(args: argparse.Namespace) -> int:
    from inference.balabit import import_balabit

    with _progress_bar(None, "rows") as bar:
        written = import_balabit(Path(args.src_dir), Path(args.out_dir), progress=bar.update)
    print(f"wrote {len(written)} episodes to {args.out_dir}")
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
    from inference.synthetic.generate import generate_episodes

    with _progress_bar(args.count, "synth") as bar:
        written = generate_episodes(
            Path(args.out_dir), args.count, seed=args.seed, with_frames=not args.no_frames, progress=bar.update
        )
    print(f"wrote {len(written)} synthetic episodes to {args.out_dir}")
    return 0


def cmd_label(args: argparse.Namespace) -> int:
    from inference.idm.label import label_recording
    from inference.idm.runtime import IdmModel

    model = IdmModel(Path(args.idm) if args.idm else None, threads=args.threads)
    bars: list[Any] = []  # made at the first tick, so a bad recording's error is the only output

    def progress(n: int, total: int | None) -> None:
        if not bars:
            bars.append(_progress_bar(total, "label"))
        bars[0].update(n)

    try:
        out, count = label_recording(Path(args.recording), Path(args.out_dir), model, args.decoding, progress)
    finally:
        for bar in bars:
            bar.close()
    print(f"wrote {count} IDM-labelled events to {out}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from inference.train import TrainConfig, train

    overrides = json.loads(args.model_config) if args.model_config else {}
    if args.no_frames:
        overrides["use_frames"] = False
    cfg = TrainConfig(
        steps=args.steps, batch_size=args.batch_size, lr=args.lr, seed=args.seed, out_dir=args.out,
        eval_every=args.eval_every, model=overrides, threads=args.threads,
    )  # fmt: skip
    from tqdm import tqdm

    best = train(args.episodes, args.val or [], cfg, log=lambda line: tqdm.write(line, file=sys.stderr))
    if os.environ.get("RANK", "0") == "0":
        print(f"best checkpoint: {best}")
    return 0


def cmd_export_model(args: argparse.Namespace) -> int:
    from inference.export import export_onnx

    path = export_onnx(args.checkpoint, args.out, trust_pickle=args.trust_pickle)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from inference.baselines import ConstantVelocityPredictor, StayPredictor
    from inference.episodes import find_episodes
    from inference.evaluate import evaluate_many
    from inference.report import format_report, report_to_json

    episodes = find_episodes(args.episodes)
    predictors: dict[str, Any] = {"stay": StayPredictor(), "constant_velocity": ConstantVelocityPredictor()}
    if not args.baselines_only:
        from app.models import load_model

        model = load_model(args.model, device=args.device)
        predictors = {f"model:{model.name}": model, **predictors}
    with _progress_bar(len(episodes), "eval") as bar:
        reports = evaluate_many(predictors, episodes, progress=bar.update)
    print(json.dumps(report_to_json(reports), indent=2) if args.json else format_report(reports))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from app.bench import run_bench

    if args.live:
        if args.live_handler is None:
            return cmd_gui_missing(args)
        return int(args.live_handler(args))
    results = run_bench(args.model, steps=args.steps, goals=not args.no_goals)
    print(json.dumps(results, indent=2) if args.json else "\n".join(f"{k}: {v}" for k, v in results.items()))
    return 0


def run_options(args: argparse.Namespace) -> Any:
    """`run`/`demo` arguments over the settings file."""
    from app.goal import goal_argument
    from app.live import RunOptions
    from app.settings import MAX_CAPTURE_FPS

    if args.min_confidence is not None and not 0.0 <= args.min_confidence <= 1.0:
        raise GhostpilotError(f"--min-confidence must be between 0 and 1, got {args.min_confidence:g}")
    if args.fps is not None and not 0.0 < args.fps <= MAX_CAPTURE_FPS:
        raise GhostpilotError(f"--fps must be above 0 and at most {MAX_CAPTURE_FPS:g}, got {args.fps:g}")
    return RunOptions.from_settings(
        model=args.model, device=args.device, min_confidence=args.min_confidence, fps=args.fps,
        store=not args.no_log, database=args.database, trace=args.trace, recall=not args.no_recall,
        goal=goal_argument(args.goal),
    )  # fmt: skip


def cmd_run(args: argparse.Namespace) -> int:
    from app.live import run_console

    return run_console(run_options(args))


def cmd_gui_missing(args: argparse.Namespace) -> int:
    raise GhostpilotError(
        f"`{args.command}` needs the desktop app", "start it with `ghostpilot`, not `python -m app.cli`"
    )


def cmd_forget(args: argparse.Namespace) -> int:
    from app.paths import data_dir
    from app.retention import forget, parse_window
    from app.store import LOG_NAME

    last_s = None if args.all else parse_window(args.last)
    path = Path(args.database) if args.database else data_dir() / LOG_NAME
    deleted = forget(path, last_s)
    span = "everything" if args.all else f"the last {args.last}"
    print(f"deleted {span} from {path}: {deleted.describe()}; the file was compacted (VACUUM)")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from app.doctor import format_checks, run_checks

    checks = run_checks()
    print(format_checks(checks))
    return 1 if any(c.status == "fail" for c in checks) else 0


def cmd_model(args: argparse.Namespace) -> int:
    from app import models

    if args.action in ("use", "register") and not args.name:
        raise GhostpilotError(f"`model {args.action}` needs a {'name' if args.action == 'use' else 'file'}")
    if args.action == "list":
        current = models.current().name
        for entry in models.list_models():
            mark = "*" if entry.name == current else " "
            print(f"{mark} {entry.name:<24} {entry.sha256[:12]}  {entry.path}")
    elif args.action == "use":
        print(f"now using {models.use(args.name).name}")
    elif args.action == "register":
        entry = models.register(args.name, name=args.as_name)
        print(f"registered {entry.name} ({entry.sha256[:12]})")
    else:
        print(f"rolled back to {models.rollback().name}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from app.export import ExportOptions, export_log, export_total, parse_since

    since = parse_since(args.since) if args.since else None
    options = ExportOptions(database=Path(args.database) if args.database else None, since=since,
                            redact=not args.no_redact, frames=not args.no_frames)  # fmt: skip
    out = Path(args.out or {"jsonl": "ghostpilot-log.jsonl"}.get(args.format, f"ghostpilot-{args.format}"))
    with _progress_bar(export_total(args.format, options), f"export {args.format}") as bar:
        summary = export_log(args.format, out, options, progress=bar.update)
    redaction = "redacted" if summary.redacted else "NOT redacted"
    print(f"wrote {summary.suggestions} suggestions from {summary.sessions} sessions to {out} (keys {redaction})")
    return 0


def cmd_finetune(args: argparse.Namespace) -> int:
    from app.export import parse_since
    from app.swap import FinetuneJob, default_out_dir, finetune_and_swap

    job = FinetuneJob(steps=args.steps, since=parse_since(args.since) if args.since else None, base=args.base,
                      holdout=args.holdout, swap=not args.no_swap,
                      database=Path(args.database) if args.database else None)  # fmt: skip
    bars: dict[str, Any] = {}

    def progress(stage: str, n: int, total: int | None) -> None:
        if stage not in bars:
            bars[stage] = _progress_bar(total, stage)
        bars[stage].update(n)

    try:
        outcome = finetune_and_swap(job, Path(args.out) if args.out else default_out_dir(), progress)
    finally:
        for bar in bars.values():
            bar.close()
    v = outcome.verdict
    print(f"candidate {outcome.candidate} ({outcome.trained_sessions} sessions trained, "
          f"{outcome.negatives} dismissed ghosts, {outcome.held_back_sessions} held back)")  # fmt: skip
    print(f"held-back pointer error: candidate {v.candidate.pointer_error_px:.1f} px, "
          f"current {v.current.pointer_error_px:.1f} px over {v.current.movements} movements")  # fmt: skip
    print(("swapped in: " if outcome.swapped else "kept the current model: ") + v.reason)
    return 0


def _add_model_args(p: argparse.ArgumentParser, default_device: str | None = "auto") -> None:
    p.add_argument("--model", default=None, help="ONNX model (default: settings, else the shipped model)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default=default_device)


def _add_live_args(p: argparse.ArgumentParser) -> None:
    _add_model_args(p, default_device=None)
    p.add_argument("--min-confidence", type=float, default=None, help="hide ghosts below this (default: settings)")
    p.add_argument("--fps", type=float, default=None, help="screen frames per second for the model (default: settings)")
    p.add_argument("--no-log", action="store_true", help="do not record this session in the database")
    p.add_argument("--database", default=None, help="SQLite file (default: the data directory)")
    p.add_argument("--trace", default=None, help="append what the copilot shows to this file, as JSON lines")
    p.add_argument("--no-recall", action="store_true", help="do not offer what you did last time in the same place")
    p.add_argument("--goal", default=None, help="start with this goal (docs/goals.md); Ctrl+Space changes it")


def build_parser(gui: Mapping[str, Handler] | None = None) -> argparse.ArgumentParser:
    """The command line; `gui` supplies the desktop handlers (ui/cli.py), else run is console-only."""
    gui = gui or {}
    from inference import __version__

    parser = argparse.ArgumentParser(prog="ghostpilot", description="A local forward-dynamics desktop copilot.")
    parser.add_argument("--version", action="version", version=f"ghostpilot {__version__}")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("run", help="the copilot: ghosts over your desktop, Tab accepts (the default command)")
    _add_live_args(p)
    p.add_argument("--console", action="store_true", help="print ghosts in this terminal instead of drawing them")
    p.set_defaults(handler=gui.get("run", cmd_run))

    p = sub.add_parser("demo", help="the copilot over a practice window, to see ghosts within seconds")
    _add_live_args(p)
    p.set_defaults(handler=gui.get("demo", cmd_gui_missing), console=False)

    p = sub.add_parser("doctor", help="check display, capture, input, keys, compositor, password fields, model, log")
    p.set_defaults(handler=cmd_doctor)

    p = sub.add_parser("forget", help="delete recent history from the log (--last 10m, 2h, 1d; or --all)")
    span = p.add_mutually_exclusive_group(required=True)
    span.add_argument("--last", help="how far back to delete: 10m, 2h, 1d, 1w")
    span.add_argument("--all", action="store_true", help="delete every recorded session")
    p.add_argument("--database", default=None, help="SQLite file (default: the data directory)")
    p.set_defaults(handler=cmd_forget)

    p = sub.add_parser("review", help="the review window: recent ghosts over their frames, acceptance, deletes")
    p.add_argument("--database", default=None, help="SQLite file (default: the data directory)")
    p.set_defaults(handler=gui.get("review", cmd_gui_missing))

    p = sub.add_parser("model", help="the model registry: list, register FILE.onnx, use NAME, rollback")
    p.add_argument("action", choices=("list", "use", "register", "rollback"))
    p.add_argument("name", nargs="?", help="use: a model name; register: an .onnx file")
    p.add_argument("--as", dest="as_name", default=None, help="register: the name to give it (default: file stem)")
    p.set_defaults(handler=cmd_model)

    p = sub.add_parser("import-balabit", help="convert Balabit mouse-dynamics CSV sessions into episodes")
    p.add_argument("src_dir")
    p.add_argument("out_dir")
    p.set_defaults(handler=cmd_import_balabit)

    p = sub.add_parser("synth", help="generate synthetic GUI episodes (screens, a scripted user, goals)")
    p.add_argument("out_dir")
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-frames", action="store_true")
    p.set_defaults(handler=cmd_synth)

    p = sub.add_parser("label", help="label a screen recording (mp4/mkv/webm or a frame folder) with IDM events")
    p.add_argument("recording")
    p.add_argument("out_dir")
    p.add_argument("--idm", help="folder with idm.json and its ONNX files (default: the shipped IDM)")
    p.add_argument("--decoding", choices=("peaks", "argmax"), default="peaks")
    p.add_argument("--threads", type=int, default=2)
    p.set_defaults(handler=cmd_label)

    p = sub.add_parser("train", help="train the model from episode folders (needs the train extra)")
    p.add_argument("episodes", nargs="+", help="episode folders or folders of them; each path weighs the same")
    p.add_argument("--val", nargs="*", help="validation episode folders (held out)")
    p.add_argument("--out", default="runs/default")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--no-frames", action="store_true", help="a pointer-only model")
    p.add_argument("--model-config", help="JSON overrides of ModelConfig, e.g. '{\"d_model\": 96}'")
    p.set_defaults(handler=cmd_train)

    p = sub.add_parser("export-model", help="export a checkpoint to ONNX")
    p.add_argument("checkpoint")
    p.add_argument("--out", default="assets/models/ghostpilot-default.onnx")
    p.add_argument(
        "--trust-pickle", action="store_true", help="convert a legacy pickled .pt to .safetensors beside it first"
    )
    p.set_defaults(handler=cmd_export_model)

    p = sub.add_parser("eval", help="score the model and baselines on episodes")
    p.add_argument("episodes", nargs="+")
    _add_model_args(p)
    p.add_argument("--json", action="store_true")
    p.add_argument("--baselines-only", action="store_true")
    p.set_defaults(handler=cmd_eval)

    p = sub.add_parser("export", help="the correction log with its context: jsonl, parquet (LeRobot-like), episodes")
    p.add_argument("--format", choices=("jsonl", "parquet", "episodes"), default="jsonl")
    p.add_argument("--since", help="only sessions started on or after this date (YYYY-MM-DD[THH:MM])")
    p.add_argument("--out", help="file (jsonl) or folder (default: ghostpilot-log.jsonl / ghostpilot-FORMAT)")
    p.add_argument("--no-redact", action="store_true", help="keep typed secrets (redacted by default)")
    p.add_argument("--no-frames", action="store_true", help="episodes: leave out the screen thumbnails")
    p.add_argument("--database", default=None, help="SQLite log (default: the data directory)")
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser("finetune", help="fine-tune on the log; swap the model in only if it scores better")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--since", help="only sessions started on or after this date")
    p.add_argument("--base", default=None, help="torch checkpoint to start from (default: the current model's)")
    p.add_argument("--holdout", type=float, default=0.2, help="share of the newest sessions held back to judge")
    p.add_argument("--no-swap", action="store_true", help="report the verdict, keep the current model")
    p.add_argument("--out", default=None, help="folder for the candidate (default: the data directory)")
    p.add_argument("--database", default=None, help="SQLite log (default: the data directory)")
    p.set_defaults(handler=cmd_finetune)

    p = sub.add_parser("bench", help="measure predictor step latency")
    p.add_argument("--model", default=None)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--json", action="store_true")
    p.add_argument("--live", action="store_true", help="the whole copilot on this display: latency, CPU, memory")
    p.add_argument("--seconds", type=float, default=20.0, help="length of each --live phase")
    p.add_argument("--no-goals", action="store_true", help="skip the OCR and text-embedding latency")
    p.set_defaults(handler=cmd_bench, live_handler=gui.get("bench-live"))
    return parser


def main(argv: Sequence[str] | None = None, gui: Mapping[str, Handler] | None = None) -> int:
    parser = build_parser(gui)
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["run", *(argv or sys.argv[1:])])
    handler: Handler = args.handler
    try:
        return handler(args)
    except GhostpilotError as exc:
        print(f"ghostpilot: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ghostpilot: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
