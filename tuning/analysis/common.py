"""What every analysis shares: which trials count, and how each hyperparameter is placed on an axis.

The placement (``Scale``) is decided once, from the hyperparameter's declared info, never from the data:
float and int ranges are numbers (on a log10 scale when sampled logarithmically), choices and booleans are
categories in their declared order, and a conditional hyperparameter's inactive trials form their own
category, ``NOT_USED``. Records hold ``None`` where a number is missing, so that records compare equal.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tuning.analysis.text import hp_label
from tuning.results.model import HyperparameterInfo, ProjectResult
from tuning.space.specs import format_value

NOT_USED = "not used"
FAILED_STATUSES = ("FAILED", "INVALID")
UNFINISHED_STATUSES = ("RUNNING", "IDLE")


@dataclass(frozen=True)
class Scale:
    """How one hyperparameter is placed on an axis.

    ``numeric`` scales place raw values between ``low`` and ``high`` (declared), at ``log10(value)`` when
    ``log``; categorical ones list their ``categories`` (declared values as text) in declared order.
    """

    name: str
    label: str
    numeric: bool
    log: bool
    low: float | None
    high: float | None
    categories: tuple[str, ...]
    conditional: bool

    def position(self, value: float) -> float:
        """A raw value's place on the axis (log10 on log scales)."""
        return math.log10(value) if self.log else float(value)

    def value(self, position: float) -> float:
        """The raw value at a place on the axis."""
        return float(10.0**position) if self.log else float(position)

    @property
    def bounds(self) -> tuple[float, float] | None:
        """The declared range as positions on the axis, or None when not declared."""
        if self.low is None or self.high is None or (self.log and self.low <= 0):
            return None
        return self.position(self.low), self.position(self.high)


def scale_of(info: HyperparameterInfo) -> Scale:
    """The axis of ``info``, from its declared kind, range, sampling and conditions."""
    numeric = info.kind in ("float", "int")
    low = None if info.min is None else float(info.min)
    high = None if info.max is None else float(info.max)
    log = numeric and info.is_log and (low is None or low > 0)
    categories = () if numeric else tuple(format_value(v) for v in info.values)
    return Scale(info.name, hp_label(info.name), numeric, log, low, high, categories, info.is_conditional)


def positions(scale: Scale, column: pd.Series) -> np.ndarray:
    """Each value's place on a numeric axis; NaN where inactive (or not positive on a log axis)."""
    values = pd.to_numeric(column, errors="coerce").astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    if not scale.log:
        return values
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(values > 0, np.log10(values), np.nan)


def labels(column: pd.Series) -> np.ndarray:
    """Each value as category text (``format_value``), ``NOT_USED`` where inactive."""
    return np.array([NOT_USED if pd.isna(v) else format_value(_plain(v)) for v in column], dtype=object)


def category_order(scale: Scale, seen: Iterable[str]) -> tuple[str, ...]:
    """Declared categories, then any unexpected values in order of appearance, then ``NOT_USED`` if conditional."""
    order = list(scale.categories)
    for label in seen:
        if label != NOT_USED and label not in order:
            order.append(label)
    if scale.conditional:
        order.append(NOT_USED)
    return tuple(order)


def scored(result: ProjectResult) -> pd.DataFrame:
    """Completed trials with a finite score, in trial number order."""
    trials = result.trials
    score = pd.to_numeric(trials["score"], errors="coerce").astype(float)
    keep = (trials["status"] == "COMPLETED") & np.isfinite(score)
    return trials[keep].sort_values("number", kind="stable")


def scores_of(trials: pd.DataFrame) -> np.ndarray:
    """The ``score`` column as floats (NaN where missing)."""
    return pd.to_numeric(trials["score"], errors="coerce").astype(float).to_numpy()


def varying(result: ProjectResult) -> tuple[HyperparameterInfo, ...]:
    """The hyperparameters the search could change (not fixed) that have a column in the trials table."""
    return tuple(hp for hp in result.space if hp.varies and hp.column in result.trials.columns)


def floats(values: Iterable[float]) -> tuple[float | None, ...]:
    """Python floats, ``None`` for NaN: a tuple that compares equal to itself."""
    return tuple(None if math.isnan(v) else float(v) for v in values)


def optional(value: float) -> float | None:
    """``value`` as a Python float, ``None`` when NaN."""
    return None if math.isnan(value) else float(value)


def _plain(value: object) -> object:
    """numpy scalars as Python values, so that ``format_value`` writes 8 and 0.5 (8.0 as "8", by %g)."""
    return value.item() if isinstance(value, np.generic) else value
