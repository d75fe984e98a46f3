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


def main(argv: Sequence[str] | None = None) -> int:
    from app.cli import main as app_main

    return app_main(argv, gui={"run": cmd_run, "demo": cmd_demo, "bench-live": cmd_bench_live})


if __name__ == "__main__":
    sys.exit(main())
