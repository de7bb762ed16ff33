"""What the runner records while Keras Tuner trains, and how it obeys stop requests.

Keras Tuner keeps only each trial's best epoch. The recorder appends every epoch of every trial to
``explorer/metrics.jsonl`` as the epoch ends (train and validation loss and accuracy, epoch duration,
learning rate), trial begin/end events to ``explorer/events.jsonl``, and keeps the status file current
down to the batch. It checks for stop requests at every batch, a safe point where no file is being
written, and raises ``SearchStopped`` there.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras
import keras_tuner
import numpy as np
import psutil

from tuning.engine.pruning import Decision, Pruner
from tuning.store.paths import SearchPaths, append_jsonl, read_json
from tuning.store.status import StatusWriter, format_duration, is_pruned

if TYPE_CHECKING:
    from tuning.space.config import SearchConfig

log = logging.getLogger("tuning.search")
CONTROL_CHECK_SECONDS = 0.2


class SearchStopped(keras_tuner.errors.FatalError):
    """Raised at a safe point when a stop was requested; ``mode`` is "now" or "after_trial"."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        super().__init__(f"search stopped ({mode.replace('_', ' ')})")


class RestartProcess(keras_tuner.errors.FatalError):
    """Raised between trials when the process has grown too much and should continue in a fresh one."""


class TooManyFailures(keras_tuner.errors.FatalError):
    """Several trials in a row failed: something is wrong with every configuration, not one."""


def read_stop_request(paths: SearchPaths) -> str | None:
    """The pending stop request ("now", "after_trial") in the control file, if any."""
    control = read_json(paths.control) or {}
    mode = control.get("stop")
    return mode if mode in ("now", "after_trial") else None


class Recorder:
    """Receives Keras Tuner's hooks for one runner session and writes our files."""

    def __init__(
        self,
        paths: SearchPaths,
        writer: StatusWriter,
        *,
        session: int,
        train_size: int,
        max_consecutive_failures: int,
        keep_checkpoints: str,
        memory_limit_mb: float | None = None,
        pruner: Pruner | None = None,
    ) -> None:
        self.paths = paths
        self.pruner = pruner
        self.pruned: dict[str, Decision] = {}
        self.writer = writer
        self.session = session
        self.train_size = train_size
        self.max_consecutive_failures = max_consecutive_failures
        self.keep_checkpoints = keep_checkpoints
        self.memory_limit_mb = memory_limit_mb
        self._baseline_mb: float | None = None
        self.stop_mode: str | None = None
        self._last_control_check = 0.0
        self._model: Any = None
        self._execution = -1
        self._epoch_started = 0.0
        self._trial_started = 0.0
        self._batches = 0

    @classmethod
    def for_search(
        cls, config: SearchConfig, paths: SearchPaths, writer: StatusWriter, *, train_size: int, **options: Any
    ) -> Recorder:
        """The recorder of a search with ``config``: its failure limit, checkpoints and pruning rule."""
        settings = config.pruning_settings
        pruner = None
        if settings.active:
            pruner = Pruner(paths, settings, objective=config.objective, maximize=config.direction == "max")
        return cls(
            paths,
            writer,
            session=writer.status.session,
            train_size=train_size,
            max_consecutive_failures=config.max_consecutive_failures,
            keep_checkpoints=config.keep_checkpoints,
            pruner=pruner,
            **options,
        )

    # ----- stop requests -------------------------------------------------------------------
    def request_stop(self, mode: str) -> None:
        """Ask for a stop from inside the process (signal handlers); "now" wins over "after_trial"."""
        if self.stop_mode != "now":
            self.stop_mode = mode
            self.writer.update(state="stopping", stop_requested=mode, message=_stop_message(mode))

    def poll_stop(self, *, force: bool = False) -> None:
        """Pick up a stop request from the control file (throttled), and raise if it is "now"."""
        now = time.monotonic()
        if force or now - self._last_control_check >= CONTROL_CHECK_SECONDS:
            self._last_control_check = now
            mode = read_stop_request(self.paths)
            if mode and mode != self.stop_mode:
                self.request_stop(mode)
        if self.stop_mode == "now":
            raise SearchStopped("now")

    # ----- trials ------------------------------------------------------------------------
    def before_trial(self, tuner: keras_tuner.Tuner) -> None:
        """Called before Keras Tuner creates the next trial: the place to stop, or to restart the process."""
        self.poll_stop(force=True)
        if self.stop_mode == "after_trial":
            raise SearchStopped("after_trial")
        if tuner.oracle.remaining_trials() == 0:
            return  # the search ends here: no point in a fresh process
        if self.memory_limit_mb and self._baseline_mb is not None:
            growth = _rss_mb() - self._baseline_mb
            if growth > self.memory_limit_mb or self.memory_limit_mb < 0:
                raise RestartProcess(
                    f"Memory grew by {growth:.0f} MB since the first trial of this process "
                    f"(limit {self.memory_limit_mb:.0f} MB); continuing in a fresh process."
                )

    def trial_begin(self, tuner: keras_tuner.Tuner, trial: Any) -> None:
        self.poll_stop(force=True)
        self._model, self._execution = None, -1
        self._trial_started = time.time()
        number = tuner.oracle.start_order.index(trial.trial_id) + 1
        values = dict(trial.hyperparameters.values)
        epochs = values.get("tuner/epochs", values.get("epochs"))
        batch_size = int(values.get("batch_size") or 32)
        self._batches = math.ceil(self.train_size / batch_size)
        current = {
            "trial_id": trial.trial_id,
            "number": number,
            "execution": 0,
            "executions": tuner.executions_per_trial,
            "epoch": 0,
            "epochs": epochs,
            "initial_epoch": values.get("tuner/initial_epoch", 0),
            "batch": 0,
            "batches": self._batches,
            "started_at": self._trial_started,
            "hyperparameters": values,
        }
        total = self.writer.status.trials_planned
        self.writer.update(current_trial=current, message=f"Training trial {number} of {total}")
        append_jsonl(
            self.paths.events,
            _event("trial_begin", trial.trial_id, self.session, number=number, hyperparameters=values),
        )
        log.info("Trial %d of %d (id %s) started: %s", number, total, trial.trial_id, _format_values(values))

    def epoch_begin(self, trial: Any, model: Any, epoch: int) -> None:
        if model is not self._model:
            self._model = model
            self._execution += 1
        self._epoch_started = time.time()
        current = dict(self.writer.status.current_trial or {})
        current.update(execution=self._execution, epoch=epoch + 1, batch=0)
        self.writer.update(current_trial=current, force=False)

    def batch_end(self, trial: Any, batch: int, logs: dict[str, Any] | None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            epoch = (self.writer.status.current_trial or {}).get("epoch")
            where = f"batch {batch + 1}" + (f" of epoch {epoch}" if epoch else "")
            raise keras_tuner.errors.FailedTrialError(
                f"Training diverged: the loss became {float(loss)} at {where}. "
                "A lower learning rate usually fixes this."
            )
        self.poll_stop()
        current = self.writer.status.current_trial
        if current is not None:
            current["batch"] = batch + 1
            self.writer.update(force=False, min_interval=1.0)

    def epoch_end(self, trial: Any, model: Any, epoch: int, logs: dict[str, Any] | None) -> None:
        duration = time.time() - self._epoch_started
        metrics = {k: _number(v) for k, v in (logs or {}).items()}
        record = {
            "trial_id": trial.trial_id,
            "session": self.session,
            "execution": self._execution,
            "epoch": epoch + 1,
            "duration_s": round(duration, 4),
            "learning_rate": _learning_rate(model),
            "time": time.time(),
            **metrics,
        }
        append_jsonl(self.paths.metrics, record)
        status = self.writer.status
        current = dict(status.current_trial or {})
        current.update(epoch=epoch + 1, batch=self._batches, last_metrics=metrics)
        self.writer.update(
            current_trial=current,
            epochs_done=status.epochs_done + 1,
            seconds_training=status.seconds_training + duration,
        )
        log.info(
            "  epoch %d/%s: %s (%.1f s)%s",
            epoch + 1,
            current.get("epochs"),
            _format_metrics(metrics),
            duration,
            _eta_text(status.eta_seconds()),
        )
        if math.isnan(metrics.get("loss", 0.0) or 0.0):
            raise keras_tuner.errors.FailedTrialError("Training diverged: the loss is NaN. Try a lower learning rate.")
        self._judge(trial, model, epoch + 1, current.get("epochs"))

    def _judge(self, trial: Any, model: Any, epoch: int, epochs: Any) -> None:
        """Ask the pruning rule about the epoch just recorded; stop training after it if the trial is hopeless."""
        if self.pruner is None or self._execution != 0 or not isinstance(epochs, int):
            return
        decision = self.pruner.judge(trial.trial_id, epoch, epochs)
        if decision is not None:
            self.pruned[trial.trial_id] = decision
            model.stop_training = True
            log.info("  %s", decision.message(self.pruner.objective))

    def prepare_trial_end(self, trial: Any) -> None:
        """Before Keras Tuner saves a finished trial: a pruned one keeps its reason as the trial's message."""
        decision = self.pruned.get(trial.trial_id)
        if decision is not None and self.pruner is not None and trial.status == "COMPLETED":
            trial.message = decision.message(self.pruner.objective)

    def end_fields(self, saved: Any) -> dict[str, Any]:
        """The status and pruning details of a finished trial's ``trial_end`` event."""
        decision = self.pruned.get(saved.trial_id)
        if decision is None or saved.status != "COMPLETED":
            return {"status": saved.status}
        return {"status": "PRUNED", "pruned": decision.to_dict()}

    def trial_end(self, tuner: keras_tuner.Tuner, trial: Any) -> None:
        oracle = tuner.oracle
        saved = oracle.get_trial(trial.trial_id)
        duration = time.time() - self._trial_started
        message = _short_message(saved.message)
        fields = self.end_fields(saved)
        append_jsonl(
            self.paths.events,
            _event(
                "trial_end",
                saved.trial_id,
                self.session,
                **fields,
                score=saved.score,
                best_step=saved.best_step,
                duration_s=round(duration, 3),
                message=message,
            ),
        )
        self.update_counts(oracle)
        prune_checkpoints(self.paths.project_dir, oracle, keep=self.keep_checkpoints)
        outcome = f"{oracle.objective.name} {saved.score:.4f}" if saved.score is not None else message
        log.info("Trial %s %s in %.1f s: %s", saved.trial_id, fields["status"].lower(), duration, outcome)
        if self._baseline_mb is None:
            self._baseline_mb = _rss_mb()  # after the first trial: TensorFlow's one-off warm-up excluded
        self._check_failures(oracle)
        if self.stop_mode == "after_trial" or read_stop_request(self.paths) == "after_trial":
            raise SearchStopped("after_trial")

    def update_counts(self, oracle: keras_tuner.Oracle) -> None:
        """Trials done, per status, and the best so far, from the oracle."""
        by_status = count_statuses(oracle)
        best = [t for t in oracle.get_best_trials(1) if t.status == "COMPLETED"]
        best_info = {"trial_id": best[0].trial_id, "score": best[0].score} if best else None
        self.writer.update(
            trials_done=len(oracle.end_order), trials_by_status=by_status, best=best_info, current_trial=None
        )

    def _check_failures(self, oracle: keras_tuner.Oracle) -> None:
        streak = 0
        for trial_id in reversed(oracle.end_order):
            if oracle.trials[trial_id].status not in ("FAILED", "INVALID"):
                break
            streak += 1
        if streak >= self.max_consecutive_failures:
            last = _short_message(oracle.trials[oracle.end_order[-1]].message)
            raise TooManyFailures(f"{streak} trials in a row failed; the last one said: {last}")


def count_statuses(oracle: keras_tuner.Oracle) -> dict[str, int]:
    """Trials per state ("completed", "pruned", "failed", ...), pruned ones told apart by their message."""
    by_status: dict[str, int] = {}
    for t in oracle.trials.values():
        status = "pruned" if is_pruned(t.status, t.message) else t.status.lower()
        by_status[status] = by_status.get(status, 0) + 1
    return by_status


def prune_checkpoints(project_dir: Path, oracle: keras_tuner.Oracle, *, keep: str) -> list[Path]:
    """Delete model weights no longer needed: all but the best trial's (and Hyperband's open brackets)."""
    if keep == "all":
        return []
    needed = {t.trial_id for t in oracle.get_best_trials(1) if t.status == "COMPLETED"}
    if hasattr(oracle, "trials_still_needed"):
        needed |= oracle.trials_still_needed()
    needed |= {t.trial_id for t in oracle.ongoing_trials.values()}
    removed = []
    for trial_id in oracle.trials:
        if trial_id in needed:
            continue
        for name in ("checkpoint.weights.h5", "checkpoint"):
            path = project_dir / f"trial_{trial_id}" / name
            if path.is_file():
                path.unlink()
                removed.append(path)
    return removed


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def _event(kind: str, trial_id: str, session: int, **fields: Any) -> dict[str, Any]:
    return {"event": kind, "trial_id": trial_id, "session": session, "time": time.time(), **fields}


def _number(value: Any) -> float:
    return float(np.asarray(value).item())


def _learning_rate(model: Any) -> float | None:
    try:
        return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    except (AttributeError, TypeError, ValueError):
        return None


def _short_message(message: str | None) -> str | None:
    """The last line of a traceback: the exception and what it said."""
    if not message:
        return None
    lines = [line for line in message.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else None


def _stop_message(mode: str) -> str:
    return "Stopping now…" if mode == "now" else "Stopping after the current trial…"


def _format_values(values: dict[str, Any]) -> str:
    shown = {k: v for k, v in values.items() if not k.startswith("tuner/")}
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in shown.items())


def _format_metrics(metrics: dict[str, float]) -> str:
    return " ".join(f"{k} {v:.4f}" for k, v in metrics.items())


def _eta_text(seconds: float | None) -> str:
    return "" if seconds is None else f" · ETA {format_duration(seconds)}"
