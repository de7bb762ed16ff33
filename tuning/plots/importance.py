"""Importance of the hyperparameters as horizontal bars (most important on top), with error bars when the
estimator gives a spread (permutation importance does; Optuna's PED-ANOVA and fANOVA do not)."""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go

from tuning.analysis.importance import Importance, importance
from tuning.analysis.text import percent
from tuning.plots.basics import STATUS_COLORS, notice_figure
from tuning.results.model import ProjectResult


@dataclass(frozen=True)
class ImportancePlot:
    """Bars from bottom to top (least important first); ``notice`` replaces them when there are none.

    ``stds`` is empty when the estimator gives no spread; ``note`` (a sample, what was left out) is shown
    under the title.
    """

    title: str
    x_title: str
    labels: tuple[str, ...]
    means: tuple[float, ...]
    stds: tuple[float, ...]
    hover: tuple[str, ...]
    notice: str
    note: str = ""


TITLES = {
    "permutation": "Which hyperparameters matter for {objective} ({n} completed trials)",
    "ped-anova": "PED-ANOVA: what the best trials of {objective} depend on ({n} completed trials)",
    "fanova": "fANOVA: what {objective} depends on ({n} completed trials)",
}
X_TITLES = {
    "permutation": "Share of the differences in {objective} explained",
    "ped-anova": "Share of the total importance (best 10% against all trials)",
    "fanova": "Share of the variance of {objective} explained",
}


def importance_data(result: ProjectResult, *, importances: Importance | None = None) -> ImportancePlot:
    """The bars of ``importances`` (computed from ``result`` when not given, e.g. from a cache)."""
    found = importances if importances is not None else importance(result)
    order = range(len(found.names) - 1, -1, -1)
    stds = tuple(found.stds[i] for i in order) if found.stds else ()
    spread = [f" ± {percent(s)}" for s in reversed(stds)] if stds else [""] * len(found.names)
    words = {"objective": found.objective, "n": f"{found.n_trials:,}"}
    return ImportancePlot(
        title=TITLES[found.method].format(**words),
        x_title=X_TITLES[found.method].format(**words),
        labels=tuple(found.labels[i] for i in order),
        means=tuple(found.means[i] for i in order),
        stds=stds,
        hover=tuple(f"{found.labels[i]} ({found.names[i]}): {percent(found.means[i])}{spread[i]}" for i in order),
        notice=found.notice,
        note=found.note,
    )


def draw_importance(data: ImportancePlot) -> go.Figure:
    """Horizontal bars with error bars, or the notice when there is nothing to show."""
    if data.notice:
        return notice_figure(data.title, data.notice)
    errors = {"error_x": {"type": "data", "array": data.stds, "visible": True}} if data.stds else {}
    figure = go.Figure(
        go.Bar(
            x=data.means,
            y=data.labels,
            orientation="h",
            hovertext=data.hover,
            hoverinfo="text",
            marker_color=STATUS_COLORS["COMPLETED"],
            **errors,
        )
    )
    figure.update_layout(
        title={"text": data.title, **({"subtitle": {"text": data.note}} if data.note else {})},
        xaxis={"title": {"text": data.x_title}, "tickformat": ".0%", "rangemode": "tozero"},
        height=max(300, 120 + 32 * len(data.labels)),
    )
    return figure


def plot_importance(result: ProjectResult, *, importances: Importance | None = None) -> go.Figure:
    """How much each hyperparameter matters for the score."""
    return draw_importance(importance_data(result, importances=importances))
