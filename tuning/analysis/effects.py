"""How the score changes with each hyperparameter, over completed trials with a score.

Numeric ranges (float, int) give (value, score) points placed on the declared scale (log10 for log
sampling) and a smoothed trend: a Nadaraya–Watson kernel regression (a Gaussian-weighted moving average)
evaluated on an even grid over the declared range, with a bandwidth of ``bandwidth`` times that range, and
left out (``None``) where no trial lies within two bandwidths. Choices and booleans give the score
distribution of each declared value. Inactive values of a conditional hyperparameter always form their
own group, ``NOT_USED``, never mixed with the others.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tuning.analysis.common import (
    NOT_USED,
    Scale,
    category_order,
    floats,
    labels,
    optional,
    positions,
    scale_of,
    scored,
    scores_of,
    varying,
)
from tuning.results.model import ProjectResult

TREND_POINTS = 50
BANDWIDTH = 0.1
MIN_TREND_TRIALS = 3


@dataclass(frozen=True)
class Group:
    """The scores of the trials that used one value (statistics are ``None`` for an empty group).

    Quartiles are linear-interpolated percentiles (numpy's default).
    """

    value: str
    count: int
    mean: float | None
    median: float | None
    q1: float | None
    q3: float | None
    low: float | None
    high: float | None
    scores: tuple[float, ...]
    trial_ids: tuple[str, ...]


@dataclass(frozen=True)
class NumericEffect:
    """Points (raw ``values``, their ``positions`` on the axis, ``scores``) and the smoothed trend."""

    name: str
    label: str
    log: bool
    low: float | None
    high: float | None
    trial_ids: tuple[str, ...]
    values: tuple[float, ...]
    positions: tuple[float, ...]
    scores: tuple[float, ...]
    trend_values: tuple[float, ...]
    trend_scores: tuple[float | None, ...]
    not_used: Group | None


@dataclass(frozen=True)
class CategoricalEffect:
    """One group per declared value (declared order), then unexpected values, then ``NOT_USED``."""

    name: str
    label: str
    groups: tuple[Group, ...]


Effect = NumericEffect | CategoricalEffect


def group(value: str, scores: np.ndarray, trial_ids: np.ndarray) -> Group:
    """The statistics of one group's scores."""
    if not len(scores):
        return Group(value, 0, None, None, None, None, None, None, (), ())
    q1, median, q3 = np.percentile(scores, [25, 50, 75])
    return Group(
        value=value,
        count=len(scores),
        mean=float(np.mean(scores)),
        median=float(median),
        q1=float(q1),
        q3=float(q3),
        low=float(np.min(scores)),
        high=float(np.max(scores)),
        scores=tuple(float(s) for s in scores),
        trial_ids=tuple(str(t) for t in trial_ids),
    )


def kernel_trend(
    x: np.ndarray, y: np.ndarray, *, low: float, high: float, bandwidth: float = BANDWIDTH, points: int = TREND_POINTS
) -> tuple[np.ndarray, np.ndarray]:
    """A Gaussian kernel average of ``y`` over ``x`` on ``points`` even steps from ``low`` to ``high``.

    The kernel's standard deviation is ``bandwidth * (high - low)``; NaN where no ``x`` lies within two of them.
    """
    grid = np.linspace(low, high, points)
    width = bandwidth * (high - low)
    if len(x) < MIN_TREND_TRIALS or width <= 0:
        return grid[:0], grid[:0]
    weights = np.exp(-0.5 * ((grid[:, None] - x[None, :]) / width) ** 2)
    trend = weights @ y / np.maximum(weights.sum(axis=1), np.finfo(float).tiny)
    return grid, np.where(weights.max(axis=1) >= np.exp(-2.0), trend, np.nan)


def numeric_effect(scale: Scale, column: pd.Series, scores: np.ndarray, *, bandwidth: float) -> NumericEffect:
    """The effect of a float or int range."""
    place = positions(scale, column)
    active = ~np.isnan(place)
    raw = pd.to_numeric(column, errors="coerce").astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    bounds = scale.bounds or ((np.min(place[active]), np.max(place[active])) if active.any() else (0.0, 0.0))
    grid, trend = kernel_trend(place[active], scores[active], low=bounds[0], high=bounds[1], bandwidth=bandwidth)
    ids = column.index.to_numpy()
    return NumericEffect(
        name=scale.name,
        label=scale.label,
        log=scale.log,
        low=scale.low,
        high=scale.high,
        trial_ids=tuple(str(t) for t in ids[active]),
        values=tuple(float(v) for v in raw[active]),
        positions=tuple(float(v) for v in place[active]),
        scores=tuple(float(s) for s in scores[active]),
        trend_values=tuple(scale.value(g) for g in grid),
        trend_scores=floats(trend),
        not_used=group(NOT_USED, scores[~active], ids[~active]) if scale.conditional else None,
    )


def categorical_effect(scale: Scale, column: pd.Series, scores: np.ndarray) -> CategoricalEffect:
    """The effect of a choice or boolean: one group per value."""
    text = labels(column)
    ids = column.index.to_numpy()
    order = category_order(scale, dict.fromkeys(text))
    groups = tuple(group(value, scores[text == value], ids[text == value]) for value in order)
    return CategoricalEffect(scale.name, scale.label, groups)


def effect(result: ProjectResult, name: str, *, bandwidth: float = BANDWIDTH) -> Effect:
    """The effect of hyperparameter ``name`` on the score of the completed trials."""
    info = result.hp(name) if name in result.hyperparameters else None
    if info is None or info.column not in result.trials.columns:
        raise ValueError(f"effect: no hyperparameter named {name!r}; found {', '.join(result.hyperparameters)}")
    trials = scored(result)
    scale = scale_of(info)
    if scale.numeric:
        return numeric_effect(scale, trials[info.column], scores_of(trials), bandwidth=bandwidth)
    return categorical_effect(scale, trials[info.column], scores_of(trials))


def effects(result: ProjectResult, *, bandwidth: float = BANDWIDTH) -> tuple[Effect, ...]:
    """The effect of every hyperparameter the search could change, in the order of the search space."""
    return tuple(effect(result, hp.name, bandwidth=bandwidth) for hp in varying(result))


def spread(effect: CategoricalEffect, *, min_count: int = 2) -> float | None:
    """Largest minus smallest mean among used values with at least ``min_count`` trials (None if fewer than two)."""
    means = [g.mean for g in effect.groups if g.value != NOT_USED and g.count >= min_count and g.mean is not None]
    return optional(max(means) - min(means)) if len(means) >= 2 else None
