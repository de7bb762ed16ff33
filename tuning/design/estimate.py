"""How long a search will take on this machine: a short real measurement, then simple arithmetic.

``measure_speed`` trains the small reference CNN for a few seconds in a separate Python process (the
app never trains in its own process) and returns images per second. ``estimate_seconds`` turns a
configuration's plan into an approximate duration at that speed.

Run ``python -m tuning.design.estimate --seconds 3`` to print the measured speed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from tuning import settings
from tuning.data.digits import DIGITS_TRAIN_SIZE
from tuning.data.spec import validation_count
from tuning.errors import TuningError
from tuning.space.config import SearchConfig
from tuning.space.specs import discrete_values, single_value

_REFERENCE_FILTERS = 16  # the first block of tuning.engine.hypermodel.SMALL_CNN
_SYNTHETIC_TRAIN = 50_000  # train_size None: the whole training set (CIFAR-10 and synthetic alike)
_VALIDATION_COST = 0.3  # evaluating an image costs about a third of training on it
_TRIAL_OVERHEAD_S = 2.0  # building and compiling a model, loading data


def _measure_here(seconds: float, images: int = 512) -> float:
    """Images per second of the small CNN trained here (imports TensorFlow: run in a child process)."""
    import keras

    from tuning.data import make_synthetic, make_tf_dataset
    from tuning.engine.hypermodel import SMALL_CNN, build_model, one_hot

    keras.utils.set_random_seed(0)
    x, y = make_synthetic(images, seed=0)
    dataset = make_tf_dataset(x, one_hot(y), batch_size=int(SMALL_CNN["batch_size"]), training=True)
    model = build_model(SMALL_CNN, seed=0)
    model.fit(dataset, epochs=1, verbose=0)  # warm-up: tracing and compilation
    trained, start = 0, time.perf_counter()
    while trained == 0 or time.perf_counter() - start < seconds:
        model.fit(dataset, epochs=1, verbose=0)
        trained += images
    return trained / (time.perf_counter() - start)


def measure_speed(*, seconds: float = 3.0, timeout: float = 120.0) -> float:
    """This machine's training speed in images per second (about ``seconds`` of training, plus start-up)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = settings.pythonpath_with_package(env.get("PYTHONPATH"))
    command = [sys.executable, "-m", "tuning.design.estimate", "--seconds", str(seconds)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise TuningError(f"measuring the training speed took more than {timeout:.0f} s; try again") from None
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        detail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise TuningError(f"measuring the training speed failed: {detail}")
    return float(json.loads(lines[-1])["images_per_second"])


def _middle(spec: object) -> float:
    values = discrete_values(spec)  # type: ignore[arg-type]
    if values:
        numbers = [float(v) for v in values]
        return sum(numbers) / len(numbers)
    return float(single_value(spec))  # type: ignore[arg-type]


def size_factor(config: SearchConfig) -> float:
    """Roughly how much slower a typical model of the space trains than the small reference CNN."""
    return max(_middle(config.space.filters) / _REFERENCE_FILTERS, 0.25)


def estimate_seconds(config: SearchConfig, images_per_second: float) -> float:
    """An approximate duration of the whole search, in seconds, at ``images_per_second``.

    Planned epochs x (training images + a share for validation) / speed, scaled by the typical
    model size, plus a little per trial. Early stopping and faster or slower models change it.
    """
    if images_per_second <= 0:
        raise ValueError(f"images_per_second must be above 0, found {images_per_second}")
    search_plan = config.plan()
    total = config.data.train_size or (DIGITS_TRAIN_SIZE if config.data.name == "digits" else _SYNTHETIC_TRAIN)
    validation = validation_count(total, config.data.validation_split)
    per_epoch = (total - validation) + _VALIDATION_COST * validation
    training = search_plan.epochs_expected * per_epoch * size_factor(config) / images_per_second
    return training + _TRIAL_OVERHEAD_S * search_plan.trials * config.executions_per_trial


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tuning.design.estimate", description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="how long to train (default 3)")
    args = parser.parse_args(argv)
    print(json.dumps({"images_per_second": _measure_here(args.seconds)}), flush=True)


if __name__ == "__main__":
    main()
