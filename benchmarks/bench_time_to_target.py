"""Time to a good model: a plain Keras Tuner RandomSearch against our default search (pruning + workers).

The same search space, synthetic data, seed and budget (trials x epochs) on every side, each run in fresh
processes as a user starts it. The target is the best validation accuracy the plain script reaches with
its whole budget, minus 0.01; each side's figure is the wall time from starting its process to the first
epoch that reaches the target (from the epoch timestamps each side records), and its final best.

Sides: ``plain`` (stock ``keras_tuner.RandomSearch`` on our HyperModel, one process), ``ours: 1 process``
(our engine, no pruning: the baseline of both gains), ``ours: pruning`` (median rule, one process),
``ours: workers`` (default workers, no pruning), ``ours: default`` (median pruning + default workers) and
``ours: asha`` (ASHA + default workers); ``ours: default, fresh workers`` is the default with its workers
started as fresh interpreters (``TUNING_WORKER_START=spawn``) instead of forked from the leader,
``ours: default, warm-up 1`` is the default with the median rule judging from the first epoch, and
``ours: default, 2 threads a worker`` the default with each worker given two CPU threads
(``TUNING_WORKER_THREADS=2``, more threads than cores in all) instead of its share, one. The time
to plain's best - 0.02 is printed too, as the noise of one epoch's validation accuracy between runs is about
0.01 here (see the final bests over repeats). Runs alternate over ``--repeats``; ratios are paired within a
repeat. On 2 cores one repeat takes ~10 minutes.

    .venv/bin/python benchmarks/bench_time_to_target.py [--repeats N] [--trials N] [--epochs N] [--sides 'A;B']
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tuning.data import DataSpec  # noqa: E402
from tuning.space.config import SearchConfig  # noqa: E402
from tuning.space.searchspace import SearchSpace  # noqa: E402
from tuning.space.specs import Choice, Fixed, FloatRange, IntRange  # noqa: E402

# side -> our settings (None: the plain Keras Tuner script)
SIDES: dict[str, dict[str, object] | None] = {
    "plain": None,
    "ours: 1 process": {"workers": 1, "pruning": "none"},
    "ours: pruning": {"workers": 1, "pruning": "median"},
    "ours: workers": {"workers": "auto", "pruning": "none"},
    "ours: default": {"workers": "auto", "pruning": "median"},
    "ours: default, fresh workers": {"workers": "auto", "pruning": "median"},
    "ours: asha": {"workers": "auto", "pruning": "asha"},
    "ours: default, warm-up 1": {"workers": "auto", "pruning": "median", "pruning_warmup_epochs": 1},
    "ours: default, 2 threads a worker": {"workers": "auto", "pruning": "median"},
}
# side -> environment it adds: the default's workers started as fresh interpreters instead of forked; each
# worker with as many CPU threads as the machine has cores (oversubscribed) instead of its share
SIDE_ENV = {
    "ours: default, fresh workers": {"TUNING_WORKER_START": "spawn"},
    "ours: default, 2 threads a worker": {"TUNING_WORKER_THREADS": "2"},
}

PLAIN = """
import json, sys, time
import keras, keras_tuner
from tuning.data import load_dataset
from tuning.engine.hypermodel import CifarHyperModel
from tuning.space.config import SearchConfig

config = SearchConfig.load(sys.argv[1])
data = load_dataset(config.data)
epochs = []

class Times(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        epochs.append({"time": time.time(), "val_accuracy": float(logs["val_accuracy"])})

tuner = keras_tuner.RandomSearch(
    CifarHyperModel(config.space, tune_epochs=True, seed=config.seed),
    objective="val_accuracy", max_trials=config.max_trials, seed=config.seed,
    directory=sys.argv[2], project_name="plain", overwrite=True,
)
tuner.search(data.x_train, data.y_train, validation_data=(data.x_val, data.y_val), callbacks=[Times()], verbose=0)
json.dump(epochs, open(sys.argv[3], "w"))
"""


def make_config(trials: int, epochs: int, images: int) -> SearchConfig:
    """A space where settings matter on the synthetic images: some trials learn, others crawl."""
    space = SearchSpace().with_values(
        conv_blocks=IntRange(1, 2),
        filters=Choice((16, 32)),
        batch_norm=Fixed(False),
        dense_layers=Fixed(0),
        dropout=FloatRange(0.0, 0.3, step=0.1),
        optimizer=Fixed("adam"),
        learning_rate=FloatRange(1e-5, 1e-2, sampling="log"),
        batch_size=Fixed(32),
        epochs=Fixed(epochs),
    )
    data = DataSpec(name="synthetic", train_size=images, validation_split=0.2, test_size=100, seed=0)
    return SearchConfig(space=space, data=data, tuner="random", max_trials=trials, seed=3)


def run_side(side: str, config: SearchConfig, folder: Path) -> list[dict[str, float]]:
    """Run one side in fresh processes; its epochs as (seconds since the process started, val_accuracy)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", "TUNING_MEMORY_LIMIT_MB": "0"}
    env.update(SIDE_ENV.get(side, {}))
    settings = SIDES[side]
    config_file = folder / "config.json"
    config_file.write_text(config.to_json() if settings is None else config.with_overrides(**settings).to_json())
    project = side.replace(" ", "-").replace(":", "").replace(",", "")
    if settings is None:
        out = folder / "plain-epochs.json"
        command = [sys.executable, "-c", PLAIN, str(config_file), str(folder / project), str(out)]
    else:
        command = [sys.executable, "-m", "tuning", "run", "--directory", str(folder), "--project", project]
        command += ["--config", str(config_file)]
    start = time.time()
    subprocess.run(command, check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if settings is None:
        epochs = json.loads(out.read_text())
    else:
        lines = (folder / project / "explorer" / "metrics.jsonl").read_text().splitlines()
        epochs = [json.loads(line) for line in lines]
    return [{"t": e["time"] - start, "acc": float(e["val_accuracy"])} for e in sorted(epochs, key=lambda e: e["time"])]


def time_to(epochs: list[dict[str, float]], target: float) -> float | None:
    return next((e["t"] for e in epochs if e["acc"] >= target), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--images", type=int, default=3000)
    parser.add_argument("--sides", help="sides to run, separated by ';' (plain always runs), e.g. 'ours: asha'")
    args = parser.parse_args()
    chosen = [s.strip() for s in (args.sides or "").split(";") if s.strip() not in ("", "plain")]
    sides = ["plain", *chosen] if chosen else list(SIDES)
    unknown = set(sides) - set(SIDES)
    if unknown:
        parser.error(f"unknown sides {sorted(unknown)}; choose from {list(SIDES)}")
    config = make_config(args.trials, args.epochs, args.images)
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"budget: {args.trials} trials x {args.epochs} epochs on {args.images} synthetic images, seed {config.seed}")
    rows: dict[str, list[dict[str, float | None]]] = {side: [] for side in sides}
    for repeat in range(args.repeats):
        with tempfile.TemporaryDirectory(prefix="hpx-bench-ttt-") as tmp:
            runs = {}
            for i, side in enumerate(sides):
                folder = Path(tmp) / f"r{repeat}-{i}"
                folder.mkdir()
                runs[side] = run_side(side, config, folder)
        target = max(e["acc"] for e in runs["plain"]) - 0.01
        print(f"repeat {repeat + 1}: target val_accuracy {target:.4f} (plain's best - 0.01)")
        for side, epochs in runs.items():
            reached, total = time_to(epochs, target), max(e["t"] for e in epochs)
            near = time_to(epochs, target - 0.01)
            best = max(e["acc"] for e in epochs)
            rows[side].append({"reached": reached, "near": near, "total": total, "best": best})
            shown = f"{reached:7.1f} s" if reached is not None else "  never"
            nearly = f"{near:6.1f} s" if near is not None else " never"
            print(
                f"  {side:28s} target at {shown} (-0.02: {nearly})   budget {total:6.1f} s   best {best:.4f}   "
                f"{len(epochs)} epochs"
            )
    report(rows)


def report(rows: dict[str, list[dict[str, float | None]]]) -> None:
    print("\nmedians over repeats (ratio: paired, same repeat)")
    plain = rows["plain"]
    for side, runs in rows.items():
        reached = [r["reached"] for r in runs if r["reached"] is not None]
        ratios = [
            r["reached"] / p["reached"] for r, p in zip(runs, plain, strict=True) if r["reached"] and p["reached"]
        ]
        ratio = f"{statistics.median(ratios):.2f}" if ratios else "-"
        med = f"{statistics.median(reached):.1f} s" if reached else "never"
        bests = [r["best"] for r in runs]
        near = [r["near"] / p["near"] for r, p in zip(runs, plain, strict=True) if r["near"] and p["near"]]
        near_ratio = f"{statistics.median(near):.2f}" if near else "-"
        budget = statistics.median(r["total"] / p["total"] for r, p in zip(runs, plain, strict=True))
        print(
            f"  {side:28s} time to target {med:>9s}  / plain {ratio:>5s}  (-0.02: / plain {near_ratio:>5s})  "
            f"whole budget / plain {budget:.2f}   final best {statistics.median(bests):.4f}"
        )
    noise = [r["best"] for r in plain]
    if len(noise) > 1:
        print(f"  run-to-run noise of plain's final best: {min(noise):.4f} - {max(noise):.4f}")


if __name__ == "__main__":
    main()
