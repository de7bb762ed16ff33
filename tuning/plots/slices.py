"""Slice plots: the score against each hyperparameter, one figure per hyperparameter.

Numeric ranges: one point per completed trial and the smoothed trend, on a log x axis for log sampling,
over the declared range. Choices and booleans: a box per value with the trials as jittered points.
Trials where a conditional hyperparameter was not used are shown apart, as a "not used" box.
Trials chosen with ``highlight`` are ringed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from tuning.analysis.common import NOT_USED, scale_of, varying
from tuning.analysis.effects import CategoricalEffect, Group, NumericEffect, effect
from tuning.analysis.text import score_title
from tuning.plots.basics import NOT_USED_COLOR, STATUS_COLORS, selected_trace, svg_when_small, value_text
from tuning.results.model import ProjectResult

POINT_COLOR = STATUS_COLORS["COMPLETED"]
TREND_COLOR = "#d62728"
JITTER = 0.3


@dataclass(frozen=True)
class NumericSlice:
    """Points and trend of a numeric range; ``x_range`` is in axis units (log10 on log axes)."""

    name: str
    title: str
    x_title: str
    y_title: str
    log: bool
    x_range: tuple[float, float] | None
    x: tuple[float, ...]
    y: tuple[float, ...]
    hover: tuple[str, ...]
    trend_x: tuple[float, ...]
    trend_y: tuple[float | None, ...]
    not_used: Group | None
    selected_x: tuple[float, ...] = ()  # highlighted trials (with a value; "not used" ones are not ringed)
    selected_y: tuple[float, ...] = ()


@dataclass(frozen=True)
class CategoricalSlice:
    """A box per value (``boxes``, at x = 0, 1, ...) and every trial as a jittered point."""

    name: str
    title: str
    x_title: str
    y_title: str
    boxes: tuple[Group, ...]
    strip_x: tuple[float, ...]
    strip_y: tuple[float, ...]
    hover: tuple[str, ...]
    selected_x: tuple[float, ...] = ()  # highlighted trials, at their jittered place in the strip
    selected_y: tuple[float, ...] = ()


Slice = NumericSlice | CategoricalSlice


def _hover(
    trial_ids: tuple[str, ...], label: str, values: list[str], scores: tuple[float, ...], metric: str
) -> tuple[str, ...]:
    """ "Trial id, label: value, metric: score" for each point."""
    return tuple(
        f"Trial {t}<br>{label}: {v}<br>{metric}: {value_text(s)}"
        for t, v, s in zip(trial_ids, values, scores, strict=True)
    )


def _picked(
    trial_ids: Sequence[str], x: Sequence[float], y: Sequence[float], highlight: Sequence[str]
) -> dict[str, tuple[float, ...]]:
    """``selected_x``/``selected_y``: the points of the trials in ``highlight``."""
    chosen = {str(t) for t in highlight}
    keep = [i for i, t in enumerate(trial_ids) if str(t) in chosen]
    return {"selected_x": tuple(x[i] for i in keep), "selected_y": tuple(y[i] for i in keep)}


def numeric_slice(result: ProjectResult, found: NumericEffect, *, highlight: Sequence[str] = ()) -> NumericSlice:
    bounds = scale_of(result.hp(found.name)).bounds
    margin = 0.02 * (bounds[1] - bounds[0]) if bounds else 0.0
    metric = result.objective.name
    return NumericSlice(
        name=found.name,
        title=f"{metric} by {found.label.lower()}",
        x_title=found.label + (" (log scale)" if found.log else ""),
        y_title=score_title(metric, result.objective.direction),
        log=found.log,
        x_range=(bounds[0] - margin, bounds[1] + margin) if bounds else None,
        x=found.values,
        y=found.scores,
        hover=_hover(found.trial_ids, found.label, [value_text(v) for v in found.values], found.scores, metric),
        trend_x=found.trend_values,
        trend_y=found.trend_scores,
        not_used=found.not_used,
        **_picked(found.trial_ids, found.values, found.scores, highlight),
    )


def categorical_slice(
    result: ProjectResult, found: CategoricalEffect, *, jitter: float, highlight: Sequence[str] = ()
) -> CategoricalSlice:
    metric = result.objective.name
    rng = np.random.default_rng(0)
    strip_x: list[float] = []
    strip_y: list[float] = []
    hover: list[str] = []
    for i, group in enumerate(found.groups):
        strip_x += (i + rng.uniform(-jitter, jitter, group.count)).tolist() if jitter else [float(i)] * group.count
        strip_y += group.scores
        hover += _hover(group.trial_ids, found.label, [group.value] * group.count, group.scores, metric)
    return CategoricalSlice(
        name=found.name,
        title=f"{metric} by {found.label.lower()}",
        x_title=found.label,
        y_title=score_title(metric, result.objective.direction),
        boxes=found.groups,
        strip_x=tuple(strip_x),
        strip_y=tuple(strip_y),
        hover=tuple(hover),
        **_picked([t for g in found.groups for t in g.trial_ids], strip_x, strip_y, highlight),
    )


def slice_data(result: ProjectResult, name: str, *, jitter: float = JITTER, highlight: Sequence[str] = ()) -> Slice:
    """The slice of hyperparameter ``name``; ``jitter`` spreads categorical points sideways (fixed seed);
    the trials in ``highlight`` are ringed."""
    found = effect(result, name)
    if isinstance(found, NumericEffect):
        return numeric_slice(result, found, highlight=highlight)
    return categorical_slice(result, found, jitter=jitter, highlight=highlight)


def slices_data(result: ProjectResult, *, jitter: float = JITTER, highlight: Sequence[str] = ()) -> tuple[Slice, ...]:
    """The slices of every hyperparameter the search could change, in the order of the search space."""
    return tuple(slice_data(result, hp.name, jitter=jitter, highlight=highlight) for hp in varying(result))


def _box(group: Group, x: float) -> go.Box:
    """A box drawn from a group's precomputed quartiles (whiskers from lowest to highest score)."""
    color = NOT_USED_COLOR if group.value == NOT_USED else POINT_COLOR
    return go.Box(
        x=[x],
        q1=[group.q1],
        median=[group.median],
        q3=[group.q3],
        lowerfence=[group.low],
        upperfence=[group.high],
        mean=[group.mean],
        name=f"{group.value} ({group.count})",
        boxpoints=False,
        marker_color=color,
        showlegend=False,
        hoverinfo="y",
        width=0.6,
    )


def draw_numeric_slice(data: NumericSlice) -> go.Figure:
    """Scattergl points and the trend line; a "not used" box in a narrow panel on the right."""
    apart = data.not_used is not None and data.not_used.count > 0
    figure = make_subplots(
        rows=1,
        cols=2 if apart else 1,
        shared_yaxes=True,
        column_widths=[0.85, 0.15] if apart else None,
        horizontal_spacing=0.02,
    )
    figure.add_trace(
        go.Scattergl(
            x=data.x,
            y=data.y,
            mode="markers",
            name="trials",
            hovertext=data.hover,
            hoverinfo="text",
            marker={"color": POINT_COLOR, "opacity": 0.6},
        ),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Scattergl(
            x=data.trend_x,
            y=data.trend_y,
            mode="lines",
            name="trend",
            hoverinfo="skip",
            line={"color": TREND_COLOR, "width": 2},
        ),
        row=1,
        col=1,
    )
    if data.selected_x:
        figure.add_trace(selected_trace(data.selected_x, data.selected_y), row=1, col=1)
    figure.update_xaxes(type="log" if data.log else "linear", title_text=data.x_title, row=1, col=1)
    if data.x_range is not None:
        figure.update_xaxes(range=list(data.x_range), row=1, col=1)
    if apart and data.not_used is not None:
        figure.add_trace(_box(data.not_used, 0.0), row=1, col=2)
        figure.update_xaxes(tickvals=[0], ticktext=[NOT_USED], row=1, col=2)
    figure.update_yaxes(title_text=data.y_title, row=1, col=1)
    figure.update_layout(title={"text": data.title}, showlegend=False, hovermode="closest")
    return figure


def draw_categorical_slice(data: CategoricalSlice) -> go.Figure:
    """A box per value with the trials as Scattergl points; empty values keep their place on the axis."""
    figure = go.Figure([_box(g, float(i)) for i, g in enumerate(data.boxes) if g.count])
    figure.add_trace(
        go.Scattergl(
            x=data.strip_x,
            y=data.strip_y,
            mode="markers",
            hovertext=data.hover,
            hoverinfo="text",
            showlegend=False,
            marker={"color": POINT_COLOR, "opacity": 0.5, "size": 5},
        )
    )
    if data.selected_x:
        figure.add_trace(selected_trace(data.selected_x, data.selected_y, showlegend=False))
    ticks = [f"{g.value} ({g.count})" for g in data.boxes]
    figure.update_xaxes(
        tickvals=list(range(len(ticks))), ticktext=ticks, title_text=data.x_title, range=[-0.6, len(ticks) - 0.4]
    )
    figure.update_layout(title={"text": data.title}, yaxis_title=data.y_title, hovermode="closest")
    return figure


def draw_slice(data: Slice) -> go.Figure:
    """The figure of one slice."""
    return svg_when_small(draw_numeric_slice(data) if isinstance(data, NumericSlice) else draw_categorical_slice(data))


def plot_slice(result: ProjectResult, name: str, *, highlight: Sequence[str] = ()) -> go.Figure:
    """How the score changes with hyperparameter ``name``; the trials in ``highlight`` ringed."""
    return draw_slice(slice_data(result, name, highlight=highlight))


def plot_slices(result: ProjectResult, *, highlight: Sequence[str] = ()) -> tuple[go.Figure, ...]:
    """One slice figure per hyperparameter the search could change; the trials in ``highlight`` ringed."""
    return tuple(draw_slice(data) for data in slices_data(result, highlight=highlight))
