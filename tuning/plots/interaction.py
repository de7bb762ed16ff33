"""Heatmap of the mean score over two hyperparameters, with the number of trials of each cell in hover.

The colour scale is reversed for objectives where lower is better, so that good cells always look the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go

from tuning.analysis.interaction import BINS, interaction
from tuning.analysis.text import count, score_title
from tuning.plots.basics import value_text
from tuning.results.model import ProjectResult


@dataclass(frozen=True)
class InteractionPlot:
    """``z[j][i]`` is the mean score of x bin ``i`` and y bin ``j`` (``None`` in empty cells)."""

    title: str
    x_title: str
    y_title: str
    colorbar_title: str
    x_labels: tuple[str, ...]
    y_labels: tuple[str, ...]
    z: tuple[tuple[float | None, ...], ...]
    counts: tuple[tuple[int, ...], ...]
    hover: tuple[tuple[str, ...], ...]
    reverse_colors: bool


def interaction_data(result: ProjectResult, x: str, y: str, *, bins: int = BINS) -> InteractionPlot:
    """The heatmap of the mean score of ``result``'s completed trials over ``x`` and ``y``."""
    grid = interaction(result, x, y, bins=bins)
    hover = tuple(
        tuple(
            f"{grid.x.label}: {xl}<br>{grid.y.label}: {yl}<br>"
            + (f"mean {grid.objective}: {value_text(m)}<br>{count(c, 'trial')}" if m is not None else "no trials")
            for xl, m, c in zip(grid.x.bins, means, counts, strict=True)
        )
        for yl, means, counts in zip(grid.y.bins, grid.means, grid.counts, strict=True)
    )
    log = " (log scale)"
    return InteractionPlot(
        title=f"Mean {grid.objective} by {grid.x.label.lower()} and {grid.y.label.lower()}",
        x_title=grid.x.label + (log if grid.x.log else ""),
        y_title=grid.y.label + (log if grid.y.log else ""),
        colorbar_title=score_title(grid.objective, grid.direction).replace(" (", "<br>("),
        x_labels=grid.x.bins,
        y_labels=grid.y.bins,
        z=grid.means,
        counts=grid.counts,
        hover=hover,
        reverse_colors=grid.direction == "min",
    )


def draw_interaction(data: InteractionPlot) -> go.Figure:
    """A heatmap over the bins, empty cells left blank."""
    figure = go.Figure(
        go.Heatmap(
            x=list(data.x_labels),
            y=list(data.y_labels),
            z=[list(row) for row in data.z],
            hovertext=[list(row) for row in data.hover],
            hoverinfo="text",
            colorscale="Viridis",
            reversescale=data.reverse_colors,
            colorbar={"title": {"text": data.colorbar_title}},
            xgap=1,
            ygap=1,
        )
    )
    figure.update_layout(title={"text": data.title}, xaxis_title=data.x_title, yaxis_title=data.y_title)
    figure.update_xaxes(type="category")
    figure.update_yaxes(type="category")
    return figure


def plot_interaction(result: ProjectResult, x: str, y: str, *, bins: int = BINS) -> go.Figure:
    """How two hyperparameters act together on the score."""
    return draw_interaction(interaction_data(result, x, y, bins=bins))
