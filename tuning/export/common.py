"""What every export shares: its error, plain JSON-able values, and a trial's hyperparameter values."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tuning.results.model import HB_PREFIX, HP_PREFIX, METRIC_PREFIX, ProjectResult


def plain(value: Any) -> Any:
    """``value`` as a plain JSON-able Python value: NaN, ``<NA>`` and ``NaT`` become None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def clean(value: Any) -> Any:
    """``plain`` applied through dicts, lists and tuples (tuples become lists)."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    return plain(value)


def columns(result: ProjectResult, prefix: str) -> list[str]:
    """The trials table's columns that start with ``prefix`` (``hp:``, ``metric:`` or ``hb:``)."""
    return [c for c in result.trials.columns if c.startswith(prefix)]


def hp_values(result: ProjectResult, trial_id: str, *, inactive: bool = False) -> dict[str, Any]:
    """A trial's hyperparameter values by plain name; inactive ones left out, or None with ``inactive``."""
    row = result.trials.loc[trial_id]
    values = {c.removeprefix(HP_PREFIX): plain(row[c]) for c in columns(result, HP_PREFIX)}
    return values if inactive else {k: v for k, v in values.items() if v is not None}


def metric_values(result: ProjectResult, trial_id: str) -> dict[str, Any]:
    row = result.trials.loc[trial_id]
    return {c.removeprefix(METRIC_PREFIX): plain(row[c]) for c in columns(result, METRIC_PREFIX)}


def hyperband_values(result: ProjectResult, trial_id: str) -> dict[str, Any]:
    row = result.trials.loc[trial_id]
    return {c.removeprefix(HB_PREFIX): plain(row[c]) for c in columns(result, HB_PREFIX)}
