"""Training throughput of ``model.fit`` on our ``make_tf_dataset`` pipeline versus on NumPy arrays.

All feed the same small CNN (same initial weights, same batch size) with the same synthetic images:
ours from uint8 arrays normalised per batch inside tf.data, once from an array in memory (held as one
tensor) and once from rows of a memory-mapped ``.npy`` file (read batch by batch, as CIFAR-10's cache is),
the baseline from float32 arrays already normalised in NumPy. One warm-up fit each is excluded; then the
three alternate, in turn first, for a few repeats of a fit call of a few epochs (as a trial is). Prints
images/second (median over repeats) and the ratios ours / NumPy and memory-mapped / in memory (the median
of the paired ratios, robust to a machine that slows down).

    python benchmarks/bench_pipeline.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras
import numpy as np

from tuning.data import make_synthetic, make_tf_dataset
from tuning.data.rows import ImageRows
from tuning.engine.hypermodel import SMALL_CNN, build_model, one_hot


def small_cnn(seed: int) -> keras.Model:
    """Two conv blocks (16, 32 filters) and a dense head: the kind of model a search starts with."""
    keras.utils.set_random_seed(seed)
    return build_model(SMALL_CNN)


def _timed(fit: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (all threads of this process) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fit()
    return time.perf_counter() - wall, time.process_time() - cpu


def _measure(fits: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[tuple[float, float]]]:
    """(wall, CPU) seconds per fit call for each method; the methods alternate, each in turn first."""
    seconds: dict[str, list[tuple[float, float]]] = {name: [] for name in fits}
    names = list(fits)
    for r in range(repeats):
        for name in names if r % 2 == 0 else names[::-1]:
            seconds[name].append(_timed(fits[name]))
    return seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer images and repeats (well under a minute)")
    parser.add_argument("--images", type=int, help="training images (default 10000, quick 3000)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, help="epochs per timed fit call, as in a trial (default 2, quick 1)")
    parser.add_argument("--repeats", type=int, help="timed fit calls per method (default 8, quick 4)")
    args = parser.parse_args(argv)
    n = args.images or (3000 if args.quick else 10_000)
    epochs = args.epochs or (1 if args.quick else 2)
    repeats = args.repeats or (4 if args.quick else 8)

    x, labels = make_synthetic(n, seed=0)
    y = one_hot(labels)  # our models train on one-hot targets
    x_float = x.astype(np.float32) / 255.0
    ours_ds = make_tf_dataset(x, y, batch_size=args.batch_size, training=True, seed=0)
    folder = tempfile.mkdtemp(prefix="hpx-bench-pipeline-")
    np.save(Path(folder) / "x.npy", x)
    rows = ImageRows(np.load(Path(folder) / "x.npy", mmap_mode="r"))
    mapped_ds = make_tf_dataset(rows, y, batch_size=args.batch_size, training=True, seed=0)
    ours, mapped, numpy = small_cnn(0), small_cnn(0), small_cnn(0)
    fits: dict[str, Callable[[], object]] = {
        # shuffle=False for ours: the pipeline shuffles itself (Keras ignores the flag for tf.data anyway).
        "ours": lambda: ours.fit(ours_ds, epochs=epochs, shuffle=False, verbose=0),
        "mapped": lambda: mapped.fit(mapped_ds, epochs=epochs, shuffle=False, verbose=0),
        "numpy": lambda: numpy.fit(x_float, y, batch_size=args.batch_size, epochs=epochs, shuffle=True, verbose=0),
    }
    for fit in fits.values():  # warm-up: tracing and first-epoch costs, not counted
        fit()
    load_before = os.getloadavg()[0]
    seconds = _measure(fits, repeats)

    print(f"images={n} epochs/fit={epochs} batch_size={args.batch_size} repeats={repeats} cpus={os.cpu_count()}")
    print(f"load average (1 min) before/after timing: {load_before:.2f} / {os.getloadavg()[0]:.2f}")
    for i, what in enumerate(("wall-clock", "CPU-time")):
        rate = {name: n * epochs / statistics.median(t[i] for t in times) for name, times in seconds.items()}
        ratios = [b[i] / a[i] for a, b in zip(seconds["ours"], seconds["numpy"], strict=True)]
        mapped_ratios = [b[i] / a[i] for a, b in zip(seconds["mapped"], seconds["ours"], strict=True)]
        print(f"[{what}] model.fit on make_tf_dataset : {rate['ours']:7.0f} images/s (median)")
        print(f"[{what}]   the same, memory-mapped rows: {rate['mapped']:7.0f} images/s (median)")
        print(f"[{what}] model.fit on NumPy arrays    : {rate['numpy']:7.0f} images/s (median)")
        print(f"[{what}] ratio ours/numpy: {statistics.median(ratios):.2f} (median of paired ratios; target >= 1.0)")
        print(f"[{what}] paired ratios: " + " ".join(f"{v:.2f}" for v in ratios))
        print(
            f"[{what}] ratio mapped rows/ours in memory: {statistics.median(mapped_ratios):.2f} (paired: "
            + " ".join(f"{v:.2f}" for v in mapped_ratios)
            + ")"
        )


if __name__ == "__main__":
    main()
