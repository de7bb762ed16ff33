"""How two hyperparameters act together: the mean score of the completed trials in each cell of a grid.

Numeric axes are cut into even bins of the declared range on the declared scale (log bins for log
sampling; one bin per value for int ranges with few values); values outside the range go to the end bins.
Categorical axes have one bin per declared value. Inactive conditional values get a last ``NOT_USED`` bin.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pandas as pd

from tuning.analysis.common import NOT_USED, Scale, category_order, labels, positions, scale_of, scored, scores_of
from tuning.analysis.text import number
from tuning.results.model import HyperparameterInfo, ProjectResult

BINS = 8


@dataclass(frozen=True)
class Axis:
    """The bins of one hyperparameter: a label per bin, and the raw edges of the numeric bins."""

    name: str
    label: str
    numeric: bool
    log: bool
    bins: tuple[str, ...]
    edges: tuple[float, ...]


@dataclass(frozen=True)
class Interaction:
    """``means[j][i]`` and ``counts[j][i]`` for x bin ``i`` and y bin ``j``; ``None`` in empty cells."""

    objective: str
    direction: str
    x: Axis
    y: Axis
    means: tuple[tuple[float | None, ...], ...]
    counts: tuple[tuple[int, ...], ...]
    n_trials: int


def numeric_edges(
    info: HyperparameterInfo, scale: Scale, place: np.ndarray, *, bins: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """Bin edges as positions on the axis, and the value of each bin when there is one bin per value.

    Int ranges of at most ``bins`` values (linear sampling) get one bin per value; others ``bins`` even bins.
    """
    known = place[~np.isnan(place)]
    low, high = scale.bounds or ((known.min(), known.max()) if len(known) else (0.0, 1.0))
    step = float(info.step or 1)
    if info.kind == "int" and not scale.log and (high - low) / step + 1 <= bins:
        values = np.arange(low, high + step / 2, step)
        return np.append(values - step / 2, values[-1] + step / 2), values
    if high <= low:
        return np.array([low - 0.5, low + 0.5]), np.array([low])
    return np.linspace(low, high, bins + 1), None


def numeric_axis(info: HyperparameterInfo, column: pd.Series, *, bins: int) -> tuple[Axis, np.ndarray]:
    """The axis of a float or int range, and each trial's bin (the last one is ``NOT_USED``)."""
    scale = scale_of(info)
    place = positions(scale, column)
    edges, values = numeric_edges(info, scale, place, bins=bins)
    n = len(edges) - 1
    codes = np.clip(np.searchsorted(edges, place, side="right") - 1, 0, n - 1)
    codes = np.where(np.isnan(place), n, codes)
    raw = [scale.value(e) for e in edges]
    if values is not None:
        names = [number(scale.value(v)) for v in values]
    else:
        names = [f"{number(a)}–{number(b)}" for a, b in pairwise(raw)]
    names += [NOT_USED] if scale.conditional else []
    return Axis(scale.name, scale.label, True, scale.log, tuple(names), tuple(raw)), codes


def categorical_axis(info: HyperparameterInfo, column: pd.Series) -> tuple[Axis, np.ndarray]:
    """The axis of a choice or boolean, and each trial's bin."""
    scale = scale_of(info)
    text = labels(column)
    order = category_order(scale, dict.fromkeys(text))
    index = {value: i for i, value in enumerate(order)}
    codes = np.array([index[t] for t in text], dtype=int)
    return Axis(scale.name, scale.label, False, False, order, ()), codes


def axis(info: HyperparameterInfo, column: pd.Series, *, bins: int) -> tuple[Axis, np.ndarray]:
    """The bins of ``info`` and each trial's bin index."""
    if info.kind in ("float", "int"):
        return numeric_axis(info, column, bins=bins)
    return categorical_axis(info, column)


def interaction(result: ProjectResult, x: str, y: str, *, bins: int = BINS) -> Interaction:
    """The mean score and count of completed trials per (``x`` bin, ``y`` bin)."""
    known = [h for h in result.hyperparameters if result.hp(h).column in result.trials.columns]
    for name in (x, y):
        if name not in known:
            raise ValueError(f"interaction: no hyperparameter named {name!r}; found {', '.join(known)}")
    if x == y:
        raise ValueError(f"interaction: choose two different hyperparameters; found {x!r} twice")
    trials = scored(result)
    x_axis, x_codes = axis(result.hp(x), trials[result.hp(x).column], bins=bins)
    y_axis, y_codes = axis(result.hp(y), trials[result.hp(y).column], bins=bins)
    width, height = len(x_axis.bins), len(y_axis.bins)
    cells = y_codes * width + x_codes
    counts = np.bincount(cells, minlength=width * height).reshape(height, width)
    sums = np.bincount(cells, weights=scores_of(trials), minlength=width * height).reshape(height, width)
    return Interaction(
        objective=result.objective.name,
        direction=result.objective.direction,
        x=x_axis,
        y=y_axis,
        means=tuple(
            tuple(float(s / c) if c else None for s, c in zip(srow, crow, strict=True))
            for srow, crow in zip(sums, counts, strict=True)
        ),
        counts=tuple(tuple(int(c) for c in row) for row in counts),
        n_trials=len(trials),
    )
