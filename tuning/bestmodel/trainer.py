"""The final-training process: ``python -m tuning.bestmodel.trainer PROJECT_DIR --epochs N``.

Started in the background by ``tuning.bestmodel.final.start_final_training``, which hands it the job's lock
(``--lock-fd``); run by hand, it takes the lock itself. It rebuilds the best trial's model from fresh
weights with this app's HyperModel, trains it on the training set, saves it (atomically) and evaluates it
on the held-out test set, keeping ``explorer/final/status.json`` current down to the batch. It ends in
"completed", "stopped" (a stop request or SIGTERM: nothing is saved, a previous model is kept) or "failed".
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import math
import os
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuning.bestmodel.final import (
    FinalPaths,
    FinalStatus,
    TrainSize,
    check_epochs,
    read_final_status,
    training_spec,
)
from tuning.engine import background
from tuning.engine.lifecycle import scratch_dir, stop_on_signals
from tuning.errors import SearchStateError, TuningError
from tuning.store.paths import append_jsonl, read_json, write_json_atomic

if TYPE_CHECKING:
    import keras

    from tuning.bestmodel.source import HeldOutSet
    from tuning.space.config import SearchConfig

try:
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("tuning.final")
CONTROL_CHECK_SECONDS = 0.2
BATCH_WRITE_SECONDS = 0.5


class TrainingStopped(Exception):
    """Raised at a batch boundary once a stop was requested."""


class Reporter:
    """Keeps the status file current (atomically; batch updates throttled) and obeys stop requests."""

    def __init__(self, paths: FinalPaths, status: FinalStatus) -> None:
        self.paths = paths
        self.status = status
        self.stop_requested = False
        self._last_write = 0.0
        self._last_check = 0.0

    def update(self, *, force: bool = True, **fields: Any) -> None:
        for name, value in fields.items():
            setattr(self.status, name, value)
        now = time.monotonic()
        if force or now - self._last_write >= BATCH_WRITE_SECONDS:
            write_json_atomic(self.paths.status, self.status.to_dict())
            self._last_write = now

    def request_stop(self) -> None:
        if not self.stop_requested:
            self.stop_requested = True
            self.update(state="stopping", message="Stopping at the next batch…")

    def poll_stop(self) -> None:
        """Pick up a stop request from the control file (throttled); raise ``TrainingStopped`` once there is one."""
        now = time.monotonic()
        if now - self._last_check >= CONTROL_CHECK_SECONDS:
            self._last_check = now
            if (read_json(self.paths.control) or {}).get("stop"):
                self.request_stop()
        if self.stop_requested:
            raise TrainingStopped


def progress_callback(reporter: Reporter) -> keras.callbacks.Callback:
    """A Keras callback that reports epochs and batches to ``reporter`` and stops when asked."""
    import keras

    class Progress(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.started = time.time()
            reporter.update(
                epoch=epoch + 1, batch=0, message=f"Training: epoch {epoch + 1} of {reporter.status.epochs}"
            )

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            loss = float((logs or {}).get("loss", 0.0))
            if not math.isfinite(loss):
                raise TuningError(
                    f"Training diverged: the loss became {loss} at epoch {reporter.status.epoch}, batch {batch + 1}. "
                    "The search's best configuration may have been lucky; try fewer epochs."
                )
            reporter.update(force=False, batch=batch + 1)
            reporter.poll_stop()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            metrics = {k: float(keras.ops.convert_to_numpy(v)) for k, v in (logs or {}).items()}
            record = {
                "run": reporter.status.run,
                "epoch": epoch + 1,
                "duration_s": round(time.time() - self.started, 4),
            }
            append_jsonl(reporter.paths.metrics, {**record, **metrics, "time": time.time()})
            reporter.update(batch=reporter.status.batches, metrics=metrics)
            log.info("epoch %d/%d: %s", epoch + 1, reporter.status.epochs, _format(metrics))

    return Progress()


def _training_data(config: SearchConfig, train_size: TrainSize) -> tuple[Any, Any, HeldOutSet]:
    """The training images and labels (training + validation of the chosen subset), and the test set."""
    import numpy as np

    from tuning.bestmodel.source import HeldOutSet
    from tuning.data import load_dataset

    data = load_dataset(training_spec(config, train_size))
    x = np.concatenate([data.x_train, data.x_val])
    y = np.concatenate([data.y_train, data.y_val])
    return x, y, HeldOutSet(data.name, data.label, tuple(data.class_names), data.x_test, data.y_test)


def _train(paths: FinalPaths, reporter: Reporter, train_size: TrainSize) -> None:
    """Build, train, save and evaluate; every step reported."""
    import keras_tuner

    from tuning.bestmodel.evaluate import evaluate
    from tuning.bestmodel.source import best_trial, search_config
    from tuning.data import make_tf_dataset
    from tuning.engine.hypermodel import CifarHyperModel, one_hot
    from tuning.results import load_project

    result = load_project(paths.project_dir)
    config, best = search_config(result), best_trial(result)
    reporter.update(trial_id=best.trial_id, hyperparameters=best.hyperparameters, message="Loading data…")
    x, y, test_set = _training_data(config, train_size)
    trial = keras_tuner.engine.trial.Trial.load(str(best.weights.parent / "trial.json"))
    hypermodel = CifarHyperModel(config.space, tune_epochs=config.tuner != "hyperband", seed=config.seed)
    model = hypermodel.build(trial.hyperparameters)
    batch_size = int(hypermodel.values(trial.hyperparameters)["batch_size"])
    train = make_tf_dataset(
        x, one_hot(y, len(test_set.class_names)), batch_size=batch_size, training=True, seed=config.seed
    )
    reporter.update(
        state="running", train_images=len(y), test_images=len(test_set), batches=math.ceil(len(y) / batch_size)
    )
    log.info(
        "Training trial %s's configuration on %d images for %d epochs.", best.trial_id, len(y), reporter.status.epochs
    )
    model.fit(train, epochs=reporter.status.epochs, verbose=0, shuffle=False, callbacks=[progress_callback(reporter)])
    _save(model, paths)
    if len(test_set):
        reporter.update(message="Evaluating on the held-out test set…")
        evaluation = evaluate(model, test_set)
        reporter.update(test={"accuracy": evaluation.accuracy, "loss": evaluation.loss})
        log.info("Held-out test set: accuracy %.4f, loss %.4f", evaluation.accuracy, evaluation.loss)


def _save(model: keras.Model, paths: FinalPaths) -> None:
    """Save the model where readers never see half a file: a temporary ``.keras`` file, then ``os.replace``."""
    temporary = paths.folder / f".model-{os.getpid()}.keras"
    try:
        model.save(temporary)
        os.replace(temporary, paths.model)
    finally:
        temporary.unlink(missing_ok=True)
    log.info("Saved the model to %s", paths.model)


def run_final_training(
    project_dir: str | os.PathLike[str], *, epochs: int, train_size: TrainSize = "search", run: int | None = None,
    lock_fd: int | None = None,
) -> FinalStatus:  # fmt: skip
    """Run the final training in this process until it ends; its final status."""
    paths = FinalPaths.of(project_dir)
    fd = lock_fd if lock_fd is not None else _lock(paths)
    try:
        previous = read_final_status(paths.project_dir)
        status = dataclasses.replace(
            previous, state="starting", run=run or previous.run + 1, pid=os.getpid(), epochs=check_epochs(epochs),
            epoch=0, batch=0, metrics={}, test=None, error=None, ended_at=None, started_at=time.time(),
        )  # fmt: skip
        reporter = Reporter(paths, status)
        reporter.update(message="Loading the search…")
        with _logging(), stop_on_signals(reporter.request_stop):
            _run(paths, reporter, train_size)
        return reporter.status
    finally:
        os.close(fd)


def _run(paths: FinalPaths, reporter: Reporter, train_size: TrainSize) -> None:
    try:
        _train(paths, reporter, train_size)
    except TrainingStopped:
        _finish(reporter, "stopped", "Stopped on request; no model was saved (a previous final model is kept).")
    except TuningError as error:
        _finish(reporter, "failed", "The final training failed.", error=str(error))
    except Exception as error:
        log.error("%s", traceback.format_exc())
        _finish(reporter, "failed", "The final training failed.", error=f"{type(error).__name__}: {error}")
    else:
        _finish(reporter, "completed", f"Trained for {reporter.status.epochs} epochs and saved.")


def _finish(reporter: Reporter, state: str, message: str, *, error: str | None = None) -> None:
    log.info("%s%s", message, f" Error: {error}" if error else "")
    reporter.update(state=state, message=message, error=error, ended_at=time.time())


def _lock(paths: FinalPaths) -> int:
    paths.folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(paths.lock, os.O_RDWR | os.O_CREAT, 0o644)
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise SearchStateError(f"The final training of {paths.project_dir} is already running.") from None
    return fd


def _logging() -> contextlib.AbstractContextManager[None]:
    """Send the log lines to standard output, which the parent process sends to ``train.log``."""
    return background.log_lines(log, console=True)


def _format(metrics: dict[str, float]) -> str:
    return " ".join(f"{k} {v:.4f}" for k, v in metrics.items())


def _train_size(text: str) -> TrainSize:
    return text if text in ("search", "all") else int(text)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the background process."""
    parser = argparse.ArgumentParser(prog="python -m tuning.bestmodel.trainer", description=__doc__)
    parser.add_argument("project_dir", type=Path)
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--train-size", type=_train_size, default="search", help="'search', 'all' or a number")
    parser.add_argument("--run", type=int)
    parser.add_argument("--lock-fd", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        with scratch_dir():  # AutoGraph's files, gone with the process even when it is killed (see scratch_dir)
            status = run_final_training(
                args.project_dir, epochs=args.epochs, train_size=args.train_size, run=args.run, lock_fd=args.lock_fd
            )
    except TuningError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0 if status.state in ("completed", "stopped") else 1


if __name__ == "__main__":
    sys.exit(main())
