"""Memory: resident memory of a real background runner over 30 trials.

Keras Tuner users report leaks of about 1 GB per 20 trials. This starts a real search process (as the
app does), samples its resident set size with psutil while it runs, and prints the RSS after the first
trial and after the last one. Target: growth under 150 MB over 30 trials.

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

from tuning.config import SearchConfig
from tuning.data import DataSpec
from tuning.jobs import start_search
from tuning.space import SearchSpace
from tuning.specs import Choice, Fixed, FloatRange
from tuning.status import read_status

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=30)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    handle = start_search(make_config(args.trials), tempfile.mkdtemp(), "memory")
    process = psutil.Process(handle.pid)
    rss_after: dict[int, float] = {}
    while handle.process.poll() is None:
        status = read_status(handle.project_dir)
        try:
            rss = process.memory_info().rss / MB
        except psutil.NoSuchProcess:
            break
        rss_after.setdefault(status.trials_done, rss)
        rss_after[status.trials_done] = max(rss_after[status.trials_done], rss)
        time.sleep(0.2)
    final = read_status(handle.project_dir)
    assert final.state == "completed", final
    done = sorted(k for k in rss_after if k >= 1)
    first, last = rss_after[done[0]], rss_after[done[-1]]
    for n in (1, 5, 10, 20, 30):
        if n in rss_after:
            print(f"  after trial {n:2d}: peak RSS {rss_after[n]:.0f} MB")
    print(f"RSS growth from trial {done[0]} to trial {done[-1]}: {last - first:+.0f} MB  (target < 150 MB)")


if __name__ == "__main__":
    main()
