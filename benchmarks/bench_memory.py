"""Memory: resident memory of a real background runner over 30 trials.

Keras Tuner users report leaks of about 1 GB per 20 trials; TensorFlow 2.21 + Keras 3.15 still grow a few
MB with every model fitted, whatever ``clear_session`` does. This starts real search processes (as the
app does), samples their resident set size with psutil, and prints the RSS after the first trial and
after the last one: once with the runner never restarting, once with the default, where the runner
replaces itself by a fresh interpreter (same pid) past 100 MB of growth. Target: growth under 150 MB.

    .venv/bin/python benchmarks/bench_memory.py [--trials 30]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil

from tuning.data import DataSpec
from tuning.engine.jobs import start_search
from tuning.engine.lifecycle import DEFAULT_MEMORY_LIMIT_MB
from tuning.space.config import SearchConfig
from tuning.space.searchspace import SearchSpace
from tuning.space.specs import Choice, Fixed, FloatRange
from tuning.store.paths import SearchPaths
from tuning.store.status import read_status

MB = 1024 * 1024


def make_config(trials: int) -> SearchConfig:
    space = SearchSpace().with_values(
        conv_blocks=Choice((1, 2, 3)),
        filters=Choice((16, 32)),
        dense_layers=Choice((0, 1)),
        dense_units=Fixed(64),
        dropout=FloatRange(0.0, 0.5, step=0.1),
        learning_rate=FloatRange(1e-4, 1e-2, sampling="log"),
        batch_size=Fixed(32),
        epochs=Fixed(1),
    )
    data = DataSpec(name="synthetic", train_size=500, validation_split=0.2, test_size=100, seed=0)
    return SearchConfig(space=space, data=data, tuner="random", max_trials=trials, seed=5)


def measure(trials: int, limit_mb: float) -> tuple[dict[int, float], float, int, set[int]]:
    """Run a background search; peak RSS after each trial count, wall time, restarts, pids seen."""
    os.environ["TUNING_MEMORY_LIMIT_MB"] = str(limit_mb)
    start = time.perf_counter()
    handle = start_search(make_config(trials), tempfile.mkdtemp(), "memory")
    process = psutil.Process(handle.pid)
    rss_after: dict[int, float] = {}
    pids = set()
    while handle.process.poll() is None:
        status = read_status(handle.project_dir)
        try:
            rss = process.memory_info().rss / MB
        except psutil.NoSuchProcess:
            break
        pids.add(status.pid)
        rss_after[status.trials_done] = max(rss_after.get(status.trials_done, 0.0), rss)
        time.sleep(0.2)
    elapsed = time.perf_counter() - start
    final = read_status(handle.project_dir)
    assert final.state == "completed" and final.trials_done == trials, final
    restarts = SearchPaths.of(handle.project_dir).log.read_text().count("continuing in a fresh process")
    return rss_after, elapsed, restarts, pids


def report(label: str, rss_after: dict[int, float], elapsed: float, restarts: int, pids: set[int]) -> None:
    done = sorted(k for k in rss_after if k >= 1)
    print(f"{label}: {elapsed:.0f} s, {restarts} restarts, pid(s) {sorted(p for p in pids if p)}")
    for n in (1, 5, 10, 20, 30):
        if n in rss_after:
            print(f"  after trial {n:2d}: peak RSS {rss_after[n]:.0f} MB")
    growth = rss_after[done[-1]] - rss_after[done[0]]
    print(f"  RSS growth from trial {done[0]} to trial {done[-1]}: {growth:+.0f} MB  (target < 150 MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=30)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    report("never restarting (TUNING_MEMORY_LIMIT_MB=0)", *measure(args.trials, 0))
    report(
        f"default (restart past {DEFAULT_MEMORY_LIMIT_MB:.0f} MB of growth)",
        *measure(args.trials, DEFAULT_MEMORY_LIMIT_MB),
    )


if __name__ == "__main__":
    main()
