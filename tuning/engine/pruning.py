"""Early stopping of unpromising trials (pruning) for random, Bayesian and grid search.

Keras Tuner stops trials early only inside Hyperband. Here a trial is stopped after an epoch when the
per-epoch metrics already recorded in ``explorer/metrics.jsonl`` say it is unlikely to catch up:

* ``median``, the median stopping rule (Golovin et al., *Google Vizier*, KDD 2017): once at least
  ``min_trials`` trials have finished and the trial has trained ``warmup_epochs`` epochs, stop it when its
  best objective so far is worse than the median of the finished trials' best values up to the same epoch.
* ``asha``, asynchronous successive halving (Li et al., MLSys 2020), stopping variant: rungs at
  ``min_epochs * factor**k`` epochs; a trial reaching a rung continues only if its value there is among the
  best ``1/factor`` of all values recorded at that rung so far (by any trial, on any worker). With fewer
  than ``factor`` values at a rung nobody is stopped there yet.

Decisions are computed from the files alone, so they hold for several workers sharing one search folder
and survive a kill: a trial stopped early stays stopped (Keras Tuner records it as COMPLETED with the best
score it reached, and our events mark it as pruned); an interrupted trial reruns and is judged again.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Any

from tuning.space.pruning import PruningSettings, rungs
from tuning.store.paths import SearchPaths, read_jsonl
from tuning.store.status import PRUNED_PREFIX


@dataclass(frozen=True)
class Decision:
    """Why a trial was stopped early: the epoch, its value, and the threshold it failed."""

    rule: str
    epoch: int
    epochs: int
    value: float
    threshold: float
    compared: int  # how many values the threshold was computed from
    factor: int = 0  # ASHA's reduction factor

    def message(self, metric: str) -> str:
        """E.g. "Pruned at epoch 3 of 10: val_accuracy 0.3100 < median 0.5200 of 4 finished trials"."""
        sign = "<" if self.value < self.threshold else ">"
        if self.rule == "median":
            basis = f"median {self.threshold:.4f} of {self.compared} finished trials"
        else:
            basis = f"{self.threshold:.4f}, the best 1/{self.factor} of {self.compared} trials at this rung"
        return f"{PRUNED_PREFIX}{self.epoch} of {self.epochs}: {metric} {self.value:.4f} {sign} {basis}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "epoch": self.epoch,
            "epochs": self.epochs,
            "value": self.value,
            "threshold": self.threshold,
            "compared": self.compared,
            "factor": self.factor,
        }


@dataclass
class History:
    """Per-epoch objective values of every trial (latest session, first execution) and which ended."""

    values: dict[str, dict[int, float]] = field(default_factory=dict)
    sessions: dict[str, int] = field(default_factory=dict)
    finished: set[str] = field(default_factory=set)

    def add_epoch(self, trial_id: str, session: int, epoch: int, value: float) -> None:
        if session > self.sessions.get(trial_id, -1):  # a rerun replaces the lost attempt's epochs
            self.sessions[trial_id] = session
            self.values[trial_id] = {}
        if session == self.sessions[trial_id] and math.isfinite(value):
            self.values[trial_id][epoch] = value

    def best_up_to(self, trial_id: str, epoch: int, *, maximize: bool) -> float | None:
        seen = [v for e, v in self.values.get(trial_id, {}).items() if e <= epoch]
        if not seen:
            return None
        return max(seen) if maximize else min(seen)


class HistoryFile:
    """A ``History`` kept current from ``metrics.jsonl`` and ``events.jsonl``, reading only new lines."""

    def __init__(self, paths: SearchPaths, objective: str) -> None:
        self.paths = paths
        self.objective = objective
        self.history = History()
        self._offsets = {"metrics": 0, "events": 0}

    def refresh(self) -> History:
        metrics, self._offsets["metrics"] = read_jsonl(self.paths.metrics, offset=self._offsets["metrics"])
        events, self._offsets["events"] = read_jsonl(self.paths.events, offset=self._offsets["events"])
        for line in metrics:
            value = line.get(self.objective)
            if int(line.get("execution") or 0) == 0 and isinstance(value, int | float):
                trial_id, epoch = str(line.get("trial_id")), int(line.get("epoch") or 0)
                self.history.add_epoch(trial_id, int(line.get("session") or 0), epoch, float(value))
        for event in events:
            if event.get("event") == "trial_end" and event.get("status") in ("COMPLETED", "PRUNED"):
                self.history.finished.add(str(event.get("trial_id")))
        return self.history


def decide(
    settings: PruningSettings, history: History, trial_id: str, epoch: int, epochs: int, *, maximize: bool
) -> Decision | None:
    """Whether ``trial_id``, which has just finished ``epoch`` of ``epochs``, should stop now (None: go on)."""
    if not settings.active or epoch >= epochs:
        return None
    if settings.rule == "median":
        return _median(settings, history, trial_id, epoch, epochs, maximize=maximize)
    return _asha(settings, history, trial_id, epoch, epochs, maximize=maximize)


def _median(
    settings: PruningSettings, history: History, trial_id: str, epoch: int, epochs: int, *, maximize: bool
) -> Decision | None:
    if epoch < settings.warmup_epochs:
        return None
    mine = history.best_up_to(trial_id, epoch, maximize=maximize)
    others = _finished_values(history, trial_id, epoch, maximize=maximize)
    if mine is None or len(others) < settings.min_trials:
        return None
    median = statistics.median(others)
    worse = mine < median if maximize else mine > median
    return Decision("median", epoch, epochs, mine, median, len(others)) if worse else None


def _finished_values(history: History, trial_id: str, epoch: int, *, maximize: bool) -> list[float]:
    found = (history.best_up_to(t, epoch, maximize=maximize) for t in history.finished if t != trial_id)
    return [v for v in found if v is not None]


def _asha(
    settings: PruningSettings, history: History, trial_id: str, epoch: int, epochs: int, *, maximize: bool
) -> Decision | None:
    if epoch not in rungs(settings, epochs):
        return None
    mine = history.values.get(trial_id, {}).get(epoch)
    at_rung = [v[epoch] for v in history.values.values() if epoch in v]
    if mine is None or len(at_rung) < settings.factor:
        return None
    keep = max(1, len(at_rung) // settings.factor)
    cut = sorted(at_rung, reverse=maximize)[keep - 1]
    promoted = mine >= cut if maximize else mine <= cut
    return None if promoted else Decision("asha", epoch, epochs, mine, cut, len(at_rung), settings.factor)


class Pruner:
    """The pruning rule of one search process, judging its trials from the search's files after each epoch."""

    def __init__(self, paths: SearchPaths, settings: PruningSettings, *, objective: str, maximize: bool) -> None:
        self.settings = settings
        self.objective = objective
        self.maximize = maximize
        self.file = HistoryFile(paths, objective)

    def judge(self, trial_id: str, epoch: int, epochs: int) -> Decision | None:
        """Whether ``trial_id`` should stop after ``epoch`` of ``epochs`` (its epoch is already on file)."""
        return decide(self.settings, self.file.refresh(), trial_id, epoch, epochs, maximize=self.maximize)
