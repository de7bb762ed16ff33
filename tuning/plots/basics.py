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
    "FAILED": "#d62728",
    "INVALID": "#ff7f0e",
    "RUNNING": "#2ca02c",
    "IDLE": "#7f7f7f",
    "STOPPED": "#9467bd",
}
STATUS_SYMBOLS = {"COMPLETED": "circle", "FAILED": "x", "INVALID": "x", "RUNNING": "diamond-open"}
BEST_COLOR = "#111111"
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


def notice_figure(title: str, notice: str) -> go.Figure:
    """An empty figure that says why it is empty."""
    figure = go.Figure()
    figure.add_annotation(text=notice, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font={"size": 14})
    figure.update_layout(title={"text": title}, xaxis={"visible": False}, yaxis={"visible": False})
    return figure
