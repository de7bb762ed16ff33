"""What the figures of the analyses share: status colours, time units, hover lines, the notice figure."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from tuning.analysis.common import NOT_USED, labels
from tuning.analysis.text import hp_label
from tuning.results.model import HyperparameterInfo

STATUS_COLORS = {
    "COMPLETED": "#1f77b4",
    "PRUNED": "#8c564b",
    "FAILED": "#d62728",
    "INVALID": "#ff7f0e",
    "RUNNING": "#2ca02c",
    "IDLE": "#7f7f7f",
    "STOPPED": "#9467bd",
}
STATUS_SYMBOLS = {
    "COMPLETED": "circle", "PRUNED": "triangle-down", "FAILED": "x", "INVALID": "x", "RUNNING": "diamond-open",
}  # fmt: skip
BEST_COLOR = "#111111"
SELECTED_COLOR = "#e6007e"  # rings around trials chosen by the user (``highlight=``)
NOT_USED_COLOR = "#9a9a9a"
TIME_UNITS = ((120.0, 1.0, "seconds"), (7200.0, 60.0, "minutes"), (np.inf, 3600.0, "hours"))


def time_unit(longest: float) -> tuple[float, str]:
    """Seconds per unit and the unit's name for times up to ``longest`` seconds."""
    return next((size, name) for limit, size, name in TIME_UNITS if longest < limit)


def value_text(value: object) -> str:
    """A value for hover texts: numbers to 4 significant digits, others as written."""
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4g}"
    return str(value)


def hp_lines(trials: pd.DataFrame, space: Sequence[HyperparameterInfo]) -> list[str]:
    """For each trial, one "<br>label: value" line per hyperparameter (``not used`` when inactive)."""
    columns = []
    for hp in space:
        if hp.column not in trials.columns:
            continue
        column = trials[hp.column]
        if hp.kind == "float":
            values = pd.to_numeric(column, errors="coerce").astype(float).to_numpy()
            text = [NOT_USED if np.isnan(v) else f"{v:.4g}" for v in values]
        else:
            text = labels(column).tolist()
        columns.append([f"<br>{hp_label(hp.name)}: {t}" for t in text])
    return ["".join(parts) for parts in zip(*columns, strict=True)] if columns else [""] * len(trials)


def selected_ids(trials: pd.DataFrame, highlight: Sequence[str]) -> set[str]:
    """The ids in ``highlight`` that are trials of ``trials`` (others are ignored)."""
    known = {str(i) for i in trials.index}
    return {str(t) for t in highlight} & known


def selected_trace(x: Sequence[float], y: Sequence[float | None], **options: object) -> go.Scattergl:
    """Open rings around the selected trials' points, drawn over the figure's own markers."""
    return go.Scattergl(
        x=list(x),
        y=list(y),
        mode="markers",
        name="selected",
        hoverinfo="skip",
        marker={"symbol": "circle-open", "size": 15, "color": SELECTED_COLOR, "line": {"width": 2.5}},
        **options,
    )


def notice_figure(title: str, notice: str) -> go.Figure:
    """An empty figure that says why it is empty."""
    figure = go.Figure()
    figure.add_annotation(text=notice, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font={"size": 14})
    figure.update_layout(title={"text": title}, xaxis={"visible": False}, yaxis={"visible": False})
    return figure


# Browsers give a page about 16 WebGL contexts and drop the oldest beyond that (its chart goes blank); each
# Scattergl figure takes one and parallel coordinates three. Below this many points SVG is as fast.
WEBGL_FROM_POINTS = 2000


def svg_when_small(figure: go.Figure, *, webgl_from: int = WEBGL_FROM_POINTS) -> go.Figure:
    """``figure`` with its WebGL scatter traces drawn as SVG ones when it has fewer than ``webgl_from`` points."""
    gl = [t for t in figure.data if isinstance(t, go.Scattergl)]
    if not gl or sum(len(t.x) if t.x is not None else 0 for t in gl) >= webgl_from:
        return figure
    return go.Figure([_as_svg(t) if isinstance(t, go.Scattergl) else t for t in figure.data], layout=figure.layout)


def _as_svg(trace: go.Scattergl) -> go.Scatter:
    spec = trace.to_plotly_json()
    spec.pop("type", None)
    return go.Scatter(spec)
