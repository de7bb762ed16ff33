"""Engine overhead: the same search through our engine and through a plain Keras Tuner script.

Both use the same space, data, seed, budget and HyperModel; the difference is everything the engine
adds (status file and heartbeat, per-epoch metrics, events, stop checks at every batch, atomic writes,
the lock, checkpoint pruning). Runs alternate (plain, engine, plain, engine, ...) in one process so
machine noise hits both alike; the figure to read is the ratio of medians. Target: engine/plain <= 1.05.

    .venv/bin/python benchmarks/bench_engine.py [--quick] [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras_tuner

from tuning.config import SearchConfig
from tuning.data import DataSpec, load_dataset
from tuning.jobs import create_search
from tuning.model import CifarHyperModel
from tuning.runner import run_search
from tuning.space import SearchSpace
from tuning.specs import Choice, Fixed, FloatRange


def make_config(trials: int, epochs: int, train_size: int) -> SearchConfig:
    space = SearchSpace().with_values(
        conv_blocks=Choice((1, 2)),
        filters=Choice((16, 32)),
        dense_layers=Fixed(0),
        batch_norm=Fixed(False),
        dropout=FloatRange(0.0, 0.5, step=0.1),
        learning_rate=FloatRange(1e-4, 1e-2, sampling="log"),
        batch_size=Fixed(32),
        epochs=Fixed(epochs),
    )
    data = DataSpec(name="synthetic", train_size=train_size, validation_split=0.2, test_size=200, seed=0)
    return SearchConfig(space=space, data=data, tuner="random", max_trials=trials, seed=3)


def run_plain(config: SearchConfig, directory: Path) -> float:
    """A plain Keras Tuner script: load the data, make the tuner, search."""
    start = time.perf_counter()
    data = load_dataset(config.data)
    tuner = keras_tuner.RandomSearch(
        hypermodel=CifarHyperModel(config.space, seed=config.seed),
        objective=keras_tuner.Objective("val_accuracy", "max"),
        max_trials=config.max_trials,
        seed=config.seed,
        directory=str(directory),
        project_name="plain",
    )
    tuner.search(data.x_train, data.y_train, validation_data=(data.x_val, data.y_val), verbose=0)
    assert len(tuner.oracle.trials) == config.max_trials
    return time.perf_counter() - start


def run_engine(config: SearchConfig, directory: Path) -> float:
    """The same search through our engine, in this process (no start-up of a new Python)."""
    start = time.perf_counter()
    project_dir = create_search(config, directory, "engine")
    status = run_search(project_dir, resume=False)
    assert status.state == "completed" and status.trials_done == config.max_trials, status
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a short run (2 repeats of a smaller search)")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args()
    trials, epochs, size, repeats = (3, 1, 600, 2) if args.quick else (6, 2, 1500, 4)
    repeats = args.repeats or repeats
    config = make_config(trials, epochs, size)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"search: random, {trials} trials x {epochs} epochs, {size} synthetic images, {repeats} repeats")
    run_plain(config, Path(tempfile.mkdtemp()))  # warm-up: TensorFlow graph caches, data generation
    plain, engine = [], []
    for i in range(repeats):
        order = [("plain", run_plain, plain), ("engine", run_engine, engine)]
        for name, fn, times in order if i % 2 == 0 else order[::-1]:
            times.append(fn(config, Path(tempfile.mkdtemp())))
            print(f"  repeat {i + 1}: {name:6s} {times[-1]:.2f} s")
    ratio = statistics.median(engine) / statistics.median(plain)
    print(f"plain  median {statistics.median(plain):.2f} s")
    print(f"engine median {statistics.median(engine):.2f} s")
    print(f"engine/plain = {ratio:.3f}  (target <= 1.05)")


if __name__ == "__main__":
    main()
