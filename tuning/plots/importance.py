"""Importance of the hyperparameters as horizontal bars with error bars (most important on top)."""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go

from tuning.analysis.importance import Importance, importance
from tuning.analysis.text import percent
from tuning.plots.basics import STATUS_COLORS, notice_figure
from tuning.results.model import ProjectResult


@dataclass(frozen=True)
class ImportancePlot:
    """Bars from bottom to top (least important first); ``notice`` replaces them when there are none."""

    title: str
    x_title: str
    labels: tuple[str, ...]
    means: tuple[float, ...]
    stds: tuple[float, ...]
    hover: tuple[str, ...]
    notice: str


def importance_data(result: ProjectResult, *, importances: Importance | None = None) -> ImportancePlot:
    """The bars of ``importances`` (computed from ``result`` when not given, e.g. from a cache)."""
    found = importances if importances is not None else importance(result)
    order = range(len(found.names) - 1, -1, -1)
    return ImportancePlot(
        title=f"Which hyperparameters matter for {found.objective} ({found.n_trials} completed trials)",
        x_title=f"Share of the differences in {found.objective} explained",
        labels=tuple(found.labels[i] for i in order),
        means=tuple(found.means[i] for i in order),
        stds=tuple(found.stds[i] for i in order),
        hover=tuple(
            f"{found.labels[i]} ({found.names[i]}): {percent(found.means[i])} ± {percent(found.stds[i])}" for i in order
        ),
        notice=found.notice,
    )


def draw_importance(data: ImportancePlot) -> go.Figure:
    """Horizontal bars with error bars, or the notice when there is nothing to show."""
    if data.notice:
        return notice_figure(data.title, data.notice)
    figure = go.Figure(
        go.Bar(
            x=data.means,
            y=data.labels,
            orientation="h",
            error_x={"type": "data", "array": data.stds, "visible": True},
            hovertext=data.hover,
            hoverinfo="text",
            marker_color=STATUS_COLORS["COMPLETED"],
        )
    )
    figure.update_layout(
        title={"text": data.title},
        xaxis={"title": {"text": data.x_title}, "tickformat": ".0%", "rangemode": "tozero"},
        height=max(300, 120 + 32 * len(data.labels)),
    )
    return figure


def plot_importance(result: ProjectResult, *, importances: Importance | None = None) -> go.Figure:
    """How much each hyperparameter matters for the score."""
    return draw_importance(importance_data(result, importances=importances))
