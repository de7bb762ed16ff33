"""The typed result of reading one Keras Tuner project: what every analysis and figure starts from.

Readers (``tuning.results.reader``) build it; nothing here reads files. Conventions, decided once here so
that no plot has to guess them:

* ``trials`` is a pandas DataFrame with one row per trial, indexed by ``trial_id`` (str), in start order.
  Core columns: ``number`` (1-based start order, Int64), ``status`` (upper case, as Keras Tuner writes it:
  COMPLETED, FAILED, INVALID, RUNNING, IDLE, STOPPED; PRUNED for a trial this app's pruning stopped early,
  which Keras Tuner records as COMPLETED with the score it reached), ``score`` (float, NaN when none), ``best_step``
  (Int64), ``duration_s`` / ``started_at`` / ``ended_at`` (float seconds / epoch seconds, NaN where not
  known), ``message`` (str or None: the failure's last line).
  Then one column per recorded metric, named ``metric:<name>`` (the best value Keras Tuner kept, float),
  and one column per hyperparameter, named ``hp:<name>`` with a proper dtype: Float64 for float, Int64 for
  int, ``boolean`` for Boolean, ``string`` for choices of strings (numeric choices keep their numeric
  dtype). An inactive conditional hyperparameter is ``<NA>``. Hyperband's ``tuner/*`` values are
  not hyperparameters: they go to ``hb:bracket``, ``hb:round``, ``hb:parent`` (trial id or <NA>),
  ``hb:epochs``, ``hb:initial_epoch`` (Int64), present only for Hyperband projects.
* ``curves`` is a long DataFrame: ``trial_id``, ``execution`` (int), ``epoch`` (1-based int), ``metric``
  (str, e.g. ``val_accuracy``), ``value`` (float), ``source`` ("engine", "tensorboard" or "best_epoch").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

HP_PREFIX = "hp:"
METRIC_PREFIX = "metric:"
HB_PREFIX = "hb:"
TUNERS = ("random", "bayesian", "hyperband", "grid", "unknown")
STATUSES = ("COMPLETED", "PRUNED", "FAILED", "INVALID", "RUNNING", "IDLE", "STOPPED")
CURVE_COLUMNS = ("trial_id", "execution", "epoch", "metric", "value", "source")


@dataclass(frozen=True)
class Condition:
    """Active only when ``parent``'s value is one of ``values``."""

    parent: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class HyperparameterInfo:
    """One hyperparameter of the search space, as Keras Tuner declared it.

    ``kind`` is "float", "int", "choice", "boolean" or "fixed". Numeric ones have ``min``/``max`` and
    ``step`` (None when continuous) and ``sampling`` ("linear", "log" or "reverse_log"); choices have
    ``values``; fixed ones have ``values == (value,)``.
    """

    name: str
    kind: str
    min: float | None = None
    max: float | None = None
    step: float | None = None
    sampling: str = "linear"
    values: tuple[Any, ...] = ()
    default: Any = None
    conditions: tuple[Condition, ...] = ()

    @property
    def column(self) -> str:
        return HP_PREFIX + self.name

    @property
    def is_numeric(self) -> bool:
        return self.kind in ("float", "int") or (
            self.kind == "choice" and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in self.values)
        )

    @property
    def is_log(self) -> bool:
        return self.sampling in ("log", "reverse_log")

    @property
    def is_conditional(self) -> bool:
        return bool(self.conditions)

    @property
    def varies(self) -> bool:
        return self.kind != "fixed" and not (self.kind == "choice" and len(self.values) < 2)


@dataclass(frozen=True)
class Objective:
    name: str
    direction: str  # "max" or "min"
    inferred: bool = False  # True when Keras Tuner did not store it and it was deduced

    def better(self, a: float, b: float) -> bool:
        return a > b if self.direction == "max" else a < b


@dataclass
class ProjectResult:
    """Everything known about one Keras Tuner project. ``notices`` say what was skipped or inferred."""

    project_dir: Path
    name: str
    trials: pd.DataFrame
    space: tuple[HyperparameterInfo, ...]
    objective: Objective
    tuner: str  # one of TUNERS
    tuner_inferred: bool = True
    curves: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(CURVE_COLUMNS)))
    curves_source: str = "none"  # "engine", "tensorboard", "best_epoch" or "none"
    curves_note: str = ""
    config: dict[str, Any] | None = None  # our SearchConfig as a dict, for searches made by this app
    status: dict[str, Any] | None = None  # our status file's content, for searches made by this app
    notices: list[str] = field(default_factory=list)

    @property
    def hyperparameters(self) -> list[str]:
        return [hp.name for hp in self.space]

    def hp(self, name: str) -> HyperparameterInfo:
        return next(h for h in self.space if h.name == name)

    @property
    def completed(self) -> pd.DataFrame:
        return self.trials[(self.trials["status"] == "COMPLETED") & self.trials["score"].notna()]

    @property
    def pruned(self) -> pd.DataFrame:
        """Trials stopped early by pruning (their score is what they reached when stopped)."""
        return self.trials[self.trials["status"] == "PRUNED"]

    @property
    def best_trial_id(self) -> str | None:
        done = self.completed
        if done.empty:
            return None
        scores = done["score"]
        return str(scores.idxmax() if self.objective.direction == "max" else scores.idxmin())

    @property
    def made_by_us(self) -> bool:
        return self.config is not None
