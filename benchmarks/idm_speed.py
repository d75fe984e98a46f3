"""IDM labelling speed and memory on 1080p30 H.264 video: is it faster than real time, and is memory flat?

Makes a synthetic 1920x1080 recording of the requested length (the episode's frames looped), then labels it
in a fresh process exactly as `ghostpilot label` does and reports wall time per frame (decode included),
the real-time factor and the process's peak RSS. Run it for two lengths to see that memory does not grow.

    PYTHONPATH=. .venv/bin/python benchmarks/idm_speed.py --seconds 30 --seconds 180 [--threads 2]
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from inference.actions import TICK_HZ


def make_video(path: Path, seconds: float, seed: int = 300001) -> None:
    from inference.idm.synth_frames import iter_frames, n_ticks, random_look
    from inference.idm.synth_video import write_video
    from inference.synthetic.generate import simulate_episode

    sim = simulate_episode(seed, (1920, 1080))
    look = random_look(np.random.default_rng(seed), damage=False)
    frames = [f for _, f in iter_frames(sim, look, min(n_ticks(sim), 300))]  # 10 s looped: bounded memory
    count = int(seconds * TICK_HZ)
    write_video(itertools.islice(itertools.cycle(frames), count), path)


def peak_rss_mb() -> float:
    """This process's peak RSS since exec (VmHWM); ru_maxrss would include the forking parent's pages."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def label_once(video: Path, threads: int) -> dict[str, float]:
    """Runs in its own process so ru_maxrss is this labelling's peak alone."""
    from inference.idm.label import label_recording
    from inference.idm.runtime import IdmModel

    model = IdmModel(threads=threads)
    ticks = [0]
    started, cpu0 = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        label_recording(video, Path(tmp) / "ep", model, progress=lambda n, _: ticks.__setitem__(0, ticks[0] + n))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
    frames = ticks[0] + 1
    return {
        "frames": frames,
        "wall_s": round(wall, 2),
        "ms_per_frame": round(1000 * wall / frames, 2),
        "cpu_ms_per_frame": round(1000 * cpu / frames, 2),
        "realtime_factor": round(frames / TICK_HZ / wall, 2),
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, action="append")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--label", type=Path, help=argparse.SUPPRESS)  # internal: label this video and print JSON
    args = parser.parse_args()
    if args.label:
        print(json.dumps(label_once(args.label, args.threads)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        for seconds in args.seconds or [30.0]:
            video = Path(tmp) / f"{int(seconds)}s.mp4"
            make_video(video, seconds)
            cmd = [sys.executable, __file__, "--label", str(video), "--threads", str(args.threads)]
            result = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
            print(json.dumps({"video_s": seconds, "resolution": "1920x1080", "threads": args.threads, **result}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
