"""Parallel coordinates: one axis per varying hyperparameter plus the objective, one line per trial.

``parallel_data`` computes a ``ParallelData`` record; ``draw_parallel`` draws it; ``plot_parallel`` does
both. How an axis shows a hyperparameter is decided once for every figure, from its declared info, by
``tuning.analysis.common.scale_of``; ``hp_axis`` turns that into Plotly's terms:

* log-sampled floats and ints: log10 of the value, ticks labelled with real values at decades (1, 2, 5
  multiples when the range spans less than two decades);
* choices and booleans: integer codes in declared order, labelled with the values;
* conditional hyperparameters: a "not used" code one step below the axis for trials where they were
  inactive (a hyperparameter missing for another reason gets a "missing" code the same way);
* everything else: the plain value.

Only completed trials with a score are drawn; the others are counted in the title. Colour follows the
objective with its direction: better is always yellow (Viridis, reversed for objectives to minimise).
Trials chosen with ``highlight`` get a first "selected" axis, brushed to them, so that Plotly keeps their
lines coloured and greys out the others (drag the brush away to see every line again).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from tuning.analysis.common import NOT_USED, Scale, category_order, labels, positions, scale_of
from tuning.analysis.text import score_title
from tuning.results.model import HyperparameterInfo, ProjectResult
from tuning.space.specs import format_value

MISSING = "missing"
COLORSCALE = "Viridis"
_SLOT_GAP = 0.15  # the "not used" code sits this fraction of the axis' span below it
_FAILED = ("FAILED", "INVALID")


@dataclass(frozen=True)
class Axis:
    """One vertical axis: the values of the drawn trials in axis units, and how to label them."""

    label: str
    values: tuple[float, ...]
    tickvals: tuple[float, ...] | None = None  # None: Plotly's own ticks
    ticktext: tuple[str, ...] | None = None
    range: tuple[float, float] | None = None
    is_log: bool = False


@dataclass(frozen=True)
class ParallelData:
    """Everything the parallel-coordinates figure shows."""

    axes: tuple[Axis, ...]
    color: tuple[float, ...]
    direction: str  # "max" or "min"
    color_title: str
    title: str
    n_left_out: int
    trial_ids: tuple[str, ...] = ()
    note: str = ""
    selected: tuple[bool, ...] = ()  # per drawn trial; empty when no trial is highlighted

    @property
    def reverse_colors(self) -> bool:
        """Viridis is yellow at the top: reverse it when lower is better, so better is always yellow."""
        return self.direction == "min"


def _slot(scale: Scale, column: pd.Series) -> str | None:
    """The label of the code for trials without a value: "not used" (conditional), "missing", or none."""
    if scale.conditional:
        return NOT_USED
    return MISSING if column.isna().any() else None


def hp_axis(info: HyperparameterInfo, column: pd.Series) -> Axis:
    """The axis of one hyperparameter for these values (``<NA>`` where it was not used).

    Numeric or categorical, log or linear: as ``tuning.analysis.common.scale_of`` decides for every figure.
    """
    scale = scale_of(info)
    slot = _slot(scale, column)
    if not scale.numeric:
        return _category_axis(scale, info, column, slot)
    placed = positions(scale, column)
    present = placed[~np.isnan(placed)]
    ends = [*(scale.bounds or ()), *present.tolist()]
    lo, hi = (min(ends), max(ends)) if ends else (0.0, 1.0)
    if scale.log:
        return _log_axis(scale, placed, lo, hi, slot)
    return _linear_axis(scale.label, placed, lo, hi, slot, integer=info.kind == "int")


def _category_axis(scale: Scale, info: HyperparameterInfo, column: pd.Series, slot: str | None) -> Axis:
    texts = labels(column)
    if not scale.categories and info.kind == "boolean":
        scale = dataclasses.replace(scale, categories=("False", "True"))
    order = [c for c in category_order(scale, texts) if c != NOT_USED]
    codes = {text: float(i) for i, text in enumerate(order)}
    ticks, text = tuple(codes.values()), tuple(order)
    if slot is not None:
        ticks, text = (-1.0, *ticks), (slot, *text)
    return Axis(
        label=scale.label,
        values=tuple(-1.0 if v is pd.NA or v is None else codes[t] for v, t in zip(column, texts, strict=True)),
        tickvals=ticks,
        ticktext=text,
        range=(ticks[0], ticks[-1]),
    )


def _round(value: float) -> float:
    """``value`` to 12 significant digits: ``-0.135``, not ``-0.13500000000000001``."""
    return float(f"{value:.12g}")


def log_ticks(lo: float, hi: float) -> tuple[float, ...]:
    """Real values to label a log axis from ``lo`` to ``hi``: decades, else 1-2-5 steps, else the ends."""
    first, last = math.ceil(math.log10(lo) - 1e-9), math.floor(math.log10(hi) + 1e-9)
    ticks = [10.0**k for k in range(first, last + 1)]
    if len(ticks) < 2:
        steps = [m * 10.0**k for k in range(first - 1, last + 1) for m in (1, 2, 5)]
        ticks = [t for t in steps if lo * (1 - 1e-9) <= t <= hi * (1 + 1e-9)]
    if len(ticks) < 2:
        ticks = [lo, hi] if hi > lo else [lo]
    return tuple(_round(t) for t in ticks)


def _log_axis(scale: Scale, placed: np.ndarray, bottom: float, top: float, slot: str | None) -> Axis:
    ticks = log_ticks(scale.value(bottom), scale.value(top))
    tickvals, ticktext = tuple(math.log10(t) for t in ticks), tuple(format_value(t) for t in ticks)
    slot_at = _round(bottom - ((top - bottom) * _SLOT_GAP or 1.0))
    if slot is not None:
        tickvals, ticktext, bottom = (slot_at, *tickvals), (slot, *ticktext), slot_at
    return Axis(
        label=f"{scale.label} (log)",
        values=tuple(slot_at if math.isnan(v) else float(v) for v in placed),
        tickvals=tickvals,
        ticktext=ticktext,
        range=(bottom, top),
        is_log=True,
    )


def nice_ticks(lo: float, hi: float, count: int = 5) -> tuple[float, ...]:
    """About ``count`` round values (1, 2 or 5 times a power of ten apart) from ``lo`` to ``hi``."""
    if hi <= lo:
        return (float(lo),)
    rough = (hi - lo) / count
    power = 10.0 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= rough * (1 - 1e-9))
    start = math.ceil(lo / step - 1e-9)
    return tuple(_round(k * step) for k in range(start, math.floor(hi / step + 1e-9) + 1))


def _linear_axis(
    label: str, placed: np.ndarray, lo: float, hi: float, slot: str | None, *, integer: bool = False
) -> Axis:
    ticks = _integer_ticks(lo, hi) if integer else nice_ticks(lo, hi)
    if slot is None:
        values = tuple(float(v) for v in placed)
        if not integer:
            return Axis(label=label, values=values, range=(lo, hi))
        return Axis(label, values, ticks, tuple(format_value(t) for t in ticks), (lo, hi))
    slot_at = _round(lo - ((hi - lo) * _SLOT_GAP or 1.0))
    return Axis(
        label=label,
        values=tuple(slot_at if math.isnan(v) else float(v) for v in placed),
        tickvals=(slot_at, *ticks),
        ticktext=(slot, *(format_value(t) for t in ticks)),
        range=(slot_at, hi),
    )


def _integer_ticks(lo: float, hi: float) -> tuple[float, ...]:
    """Round ticks, whole numbers only (no "1.5 convolutional blocks")."""
    ticks = nice_ticks(lo, hi)
    if all(float(t).is_integer() for t in ticks):
        return ticks
    return tuple(float(t) for t in range(math.ceil(lo), math.floor(hi) + 1))


def left_out_text(trials: pd.DataFrame, shown: pd.DataFrame) -> str:
    """E.g. "(3 failed trials not shown)", or "" when every trial is shown."""
    rest = trials.loc[~trials.index.isin(shown.index), "status"]
    failed = int(rest.isin(_FAILED).sum())
    pruned = int((rest == "PRUNED").sum())
    unfinished = len(rest) - failed - pruned
    if not len(rest):
        return ""
    counts = ((failed, "failed"), (pruned, "pruned"), (unfinished, "unfinished"))
    parts = [f"{n} {what}" for n, what in counts if n]
    return f"({' and '.join(parts)} {'trial' if len(rest) == 1 else 'trials'} not shown)"


def _hp_infos(result: ProjectResult, names: Sequence[str] | None) -> list[HyperparameterInfo]:
    if names is None:
        return [h for h in result.space if h.varies and h.column in result.trials.columns]
    known = result.hyperparameters
    for name in names:
        if name not in known:
            raise ValueError(f"Unknown hyperparameter {name!r}; expected one of {', '.join(known) or '(none)'}.")
    return [result.hp(name) for name in names if result.hp(name).column in result.trials.columns]


def parallel_data(
    result: ProjectResult, *, hyperparameters: Sequence[str] | None = None, highlight: Sequence[str] = ()
) -> ParallelData:
    """The record of the figure: completed trials only, one axis per varying hyperparameter + objective.

    ``highlight``: trial ids to show above the others (ids not drawn are ignored).
    """
    objective = result.objective
    shown = result.completed
    left_out = left_out_text(result.trials, shown)
    common = {"direction": objective.direction, "color_title": score_title(objective.name, objective.direction)}
    if shown.empty:
        return ParallelData(
            axes=(),
            color=(),
            title=" ".join(filter(None, ["Parallel coordinates: no completed trial yet", left_out])),
            n_left_out=len(result.trials),
            note="No completed trial with a score yet: nothing to draw.",
            **common,
        )
    scores = tuple(float(s) for s in shown["score"])
    axes = [hp_axis(info, shown[info.column]) for info in _hp_infos(result, hyperparameters)]
    axes.append(Axis(label=objective.name, values=scores, range=(min(scores), max(scores))))
    count = f"{len(shown)} completed {'trial' if len(shown) == 1 else 'trials'}"
    chosen = {str(t) for t in highlight}
    selected = tuple(str(i) in chosen for i in shown.index)
    return ParallelData(
        axes=tuple(axes),
        color=scores,
        title=" ".join(filter(None, [f"Parallel coordinates of {count}", left_out])),
        n_left_out=len(result.trials) - len(shown),
        trial_ids=tuple(str(i) for i in shown.index),
        selected=selected if any(selected) else (),
        **common,
    )


def _dimension(axis: Axis) -> dict[str, Any]:
    dimension: dict[str, Any] = {"label": axis.label, "values": np.asarray(axis.values, dtype=float)}
    if axis.range is not None:
        dimension["range"] = list(axis.range)
    if axis.tickvals is not None:
        dimension["tickvals"] = list(axis.tickvals)
        dimension["ticktext"] = list(axis.ticktext or ())
    return dimension


def draw_parallel(data: ParallelData) -> go.Figure:
    """The Plotly figure of a ``ParallelData`` record."""
    figure = go.Figure(layout={"title": {"text": data.title}})
    if not data.axes:
        figure.add_annotation(text=data.note, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
        figure.update_xaxes(visible=False)
        figure.update_yaxes(visible=False)
        return figure
    line = {
        "color": np.asarray(data.color, dtype=float),
        "colorscale": COLORSCALE,
        "reversescale": data.reverse_colors,
        "showscale": True,
        "colorbar": {"title": {"text": data.color_title}},
    }
    dimensions = [_dimension(a) for a in data.axes]
    if data.selected:
        dimensions.insert(0, _selected_dimension(data.selected))
    figure.add_trace(go.Parcoords(line=line, dimensions=dimensions))
    figure.update_layout(margin={"l": 60, "r": 40, "t": 90, "b": 40})
    return figure


def _selected_dimension(selected: tuple[bool, ...]) -> dict[str, Any]:
    """An axis that is 1 for highlighted trials and 0 for the others, brushed to the highlighted ones."""
    return {
        "label": "selected",
        "values": np.asarray(selected, dtype=float),
        "range": [0.0, 1.0],
        "tickvals": [0.0, 1.0],
        "ticktext": ["other", "selected"],
        "constraintrange": [0.5, 1.0],
    }


def plot_parallel(
    result: ProjectResult, *, hyperparameters: Sequence[str] | None = None, highlight: Sequence[str] = ()
) -> go.Figure:
    """Parallel coordinates of the completed trials (``hyperparameters``: which axes; default all varying),
    the trials in ``highlight`` in colour and the others greyed."""
    return draw_parallel(parallel_data(result, hyperparameters=hyperparameters, highlight=highlight))
