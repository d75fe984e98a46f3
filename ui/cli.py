"""The `ghostpilot` entry point: app/cli.py's commands, with the desktop handlers for `run` and `demo`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def cmd_run(args: argparse.Namespace) -> int:
    from app.cli import run_options

    if args.console:
        from app.live import run_console

        return run_console(run_options(args))
    from ui.app import run_app

    return run_app(run_options(args))


DEMO_MIN_CONFIDENCE = 0.25  # the practice window shows less certain ghosts too, so they appear within seconds


def cmd_demo(args: argparse.Namespace) -> int:
    from app.cli import run_options
    from ui.app import run_app

    if args.min_confidence is None:
        args.min_confidence = DEMO_MIN_CONFIDENCE
    return run_app(run_options(args), demo=True)


def cmd_bench_live(args: argparse.Namespace) -> int:
    import json

    from ui.bench import run_live_bench

    results = run_live_bench(args.model, seconds=args.seconds)
    print(json.dumps(results, indent=2))
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    from pathlib import Path

    from app.paths import data_dir
    from app.store import LOG_NAME
    from ui.review import run_review

    return run_review(Path(args.database) if args.database else data_dir() / LOG_NAME)


def main(argv: Sequence[str] | None = None) -> int:
    from app.cli import main as app_main

    return app_main(argv, gui={"run": cmd_run, "demo": cmd_demo, "bench-live": cmd_bench_live, "review": cmd_review})


if __name__ == "__main__":
    sys.exit(main())
