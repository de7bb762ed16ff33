"""Engine overhead: the same search through our engine and through a plain Keras Tuner script.

Both use the same space, data, seed, budget and HyperModel; the difference is everything the engine
adds (status file and heartbeat, per-epoch metrics, events, stop checks at every batch, atomic writes,
the lock, checkpoint pruning). Each timed search runs in a fresh process (after an unmeasured warm-up
search), because TensorFlow's per-model leak slows a long-lived process down as it runs; runs come in
pairs whose order alternates, and the figure to read is the median of the paired ratios.
Target: engine/plain <= 1.05.

    .venv/bin/python benchmarks/bench_engine.py [--quick] [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras_tuner

from tuning.data import DataSpec, load_dataset
from tuning.engine.hypermodel import CifarHyperModel
from tuning.engine.jobs import create_search
from tuning.engine.launch import run_search
from tuning.space.config import SearchConfig
from tuning.space.searchspace import SearchSpace
from tuning.space.specs import Choice, Fixed, FloatRange

SIZES = {False: (6, 2, 1500), True: (3, 1, 600)}  # trials, epochs, images; keyed by --quick


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


def one_run(mode: str, quick: bool) -> None:
    """Child process: time one search (imports and data generation before the clock starts)."""
    trials, epochs, size = SIZES[quick]
    config = make_config(trials, epochs, size)
    run_plain(config, Path(tempfile.mkdtemp()))  # warm-up: TensorFlow's one-off costs, not measured
    fn = run_plain if mode == "plain" else run_engine
    print(f"SECONDS {fn(config, Path(tempfile.mkdtemp())):.4f}")


def timed_child(mode: str, quick: bool) -> float:
    args = [sys.executable, __file__, "--one", mode] + (["--quick"] if quick else [])
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return float(next(line.split()[1] for line in out.splitlines() if line.startswith("SECONDS")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a short run (2 pairs of a smaller search)")
    parser.add_argument("--repeats", type=int, default=None, help="pairs of runs (default 5, quick 2)")
    parser.add_argument("--one", choices=("plain", "engine"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one_run(args.one, args.quick)
        return
    trials, epochs, size = SIZES[args.quick]
    repeats = args.repeats or (2 if args.quick else 5)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"search: random, {trials} trials x {epochs} epochs, {size} synthetic images, {repeats} pairs")
    plain, engine, ratios = [], [], []
    for i in range(repeats):
        order = ("plain", "engine") if i % 2 == 0 else ("engine", "plain")
        times = {mode: timed_child(mode, args.quick) for mode in order}
        plain.append(times["plain"])
        engine.append(times["engine"])
        ratios.append(times["engine"] / times["plain"])
        print(f"  pair {i + 1}: plain {times['plain']:.2f} s, engine {times['engine']:.2f} s, ratio {ratios[-1]:.3f}")
    print(f"plain  median {statistics.median(plain):.2f} s")
    print(f"engine median {statistics.median(engine):.2f} s")
    print(f"engine/plain = {statistics.median(ratios):.3f} (median of paired ratios; target <= 1.05)")


if __name__ == "__main__":
    main()
