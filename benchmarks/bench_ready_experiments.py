"""Every ready-made experiment as a user starts it: wall time on this machine and the conclusion it drew.

Each one runs in a fresh ``python -m tuning experiment --ready NAME`` process (default workers) in a temporary
folder; the figure is the process's wall time, start to conclusion. The ready-made experiments are sized to
finish in about a minute on two CPU cores on the built-in images.

    .venv/bin/python benchmarks/bench_ready_experiments.py [NAME ...]
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tuning.space.experiment import READY  # noqa: E402


def run(key: str, folder: Path) -> tuple[float, dict]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    started = time.perf_counter()
    command = [sys.executable, "-m", "tuning", "experiment", "--ready", key, "--directory", str(folder)]
    subprocess.run([*command, "--project", key], check=True, capture_output=True, env=env)
    wall = time.perf_counter() - started
    summary = subprocess.run(
        [sys.executable, "-m", "tuning", "summary", str(folder / key), "--json"],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return wall, json.loads(summary.stdout)["experiment"]


def main() -> None:
    keys = sys.argv[1:] or list(READY)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        for key in keys:
            wall, experiment = run(key, Path(tmp))
            finals = ", ".join(
                f"{'/'.join(map(str, r['values']))}: {'failed' if r['final'] is None else round(r['final'], 3)}"
                for r in experiment["runs"]
            )
            print(f"\n## {key}: {wall:.0f} s, {len(experiment['runs'])} runs\nfinal: {finals}")
            print(experiment["conclusion"], flush=True)


if __name__ == "__main__":
    main()
