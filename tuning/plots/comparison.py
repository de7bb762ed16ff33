"""Several searches on one chart: best-so-far curves (left) and the distribution of their scores (right)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from tuning.analysis.compare import Comparison, compare
from tuning.analysis.history import BY
from tuning.analysis.text import direction_text
from tuning.plots.basics import svg_when_small, time_unit, value_text
from tuning.results.model import ProjectResult

COLORS = qualitative.Plotly


@dataclass(frozen=True)
class Line:
    name: str
    x: tuple[float, ...]
    y: tuple[float | None, ...]
    hover: tuple[str, ...]


@dataclass(frozen=True)
class ComparisonPlot:
    """``curves[i]`` and ``ecdfs[i]`` belong to the same project (and share a colour when drawn)."""

    title: str
    curve_x_title: str
    curve_y_title: str
    ecdf_x_title: str
    ecdf_y_title: str
    curves: tuple[Line, ...]
    ecdfs: tuple[Line, ...]
    notice: str


def curve_lines(found: Comparison, by: str) -> tuple[tuple[Line, ...], str, str]:
    """Best-so-far lines on a shared x axis, the axis title, and a notice naming projects without times."""
    if by == "number":
        lines = tuple(_curve(c.project, [float(n) for n in c.numbers], c.best_by_number, "") for c in found.curves)
        return lines, "Trial number", ""
    timed = [c for c in found.curves if c.seconds is not None]
    size, unit = time_unit(max((s for c in timed for s in c.seconds or ()), default=0.0))
    lines = tuple(_curve(c.project, [s / size for s in c.seconds or ()], c.best_by_time or (), unit) for c in timed)
    missing = [c.project for c in found.curves if c.seconds is None]
    notice = f"No start or end times are known for {', '.join(missing)}: not shown." if missing else ""
    return lines, f"Time since the search started ({unit})", notice


def _curve(project: str, x: list[float], best: tuple[float | None, ...], unit: str) -> Line:
    """A best-so-far line; ``unit`` is the time unit, or "" for trial numbers."""
    where = [f"{v:.3g} {unit}" if unit else f"Trial {v:.0f}" for v in x]
    hover = tuple(
        f"{project}<br>{w}<br>best so far: {'none yet' if b is None else value_text(b)}"
        for w, b in zip(where, best, strict=True)
    )
    return Line(project, tuple(x), best, hover)


def _ecdf(project: str, scores: tuple[float, ...], shares: tuple[float, ...], objective: str) -> Line:
    hover = tuple(
        f"{project}<br>{objective} ≤ {value_text(s)}: {p:.0%} of trials" for s, p in zip(scores, shares, strict=True)
    )
    return Line(project, scores, shares, hover)


def comparison_data(results: Sequence[ProjectResult], *, by: str = "number") -> ComparisonPlot:
    """Best-so-far curves by trial number or by wall time (``by``), and the ECDF of each project's scores."""
    if by not in BY:
        raise ValueError(f"comparison_data: by must be one of {', '.join(BY)}; found {by!r}")
    found = compare(results)
    curves, x_title, notice = curve_lines(found, by)
    ecdfs = tuple(_ecdf(e.project, e.scores, e.shares, found.objective) for e in found.ecdfs)
    better = direction_text(found.direction)
    return ComparisonPlot(
        title=f"Comparison of {len(results)} searches on {found.objective}",
        curve_x_title=x_title,
        curve_y_title=f"Best {found.objective} so far ({better})",
        ecdf_x_title=f"{found.objective} ({better})",
        ecdf_y_title="Share of trials scoring at most this",
        curves=curves,
        ecdfs=ecdfs,
        notice=notice,
    )


def draw_comparison(data: ComparisonPlot) -> go.Figure:
    """Two panels: best so far (step lines) and ECDFs (step lines), one colour per project."""
    figure = make_subplots(rows=1, cols=2, subplot_titles=("Best so far", "Distribution of scores"))
    names = list(dict.fromkeys([line.name for line in (*data.curves, *data.ecdfs)]))
    for col, lines in ((1, data.curves), (2, data.ecdfs)):
        for line in lines:
            color = COLORS[names.index(line.name) % len(COLORS)]
            figure.add_trace(
                go.Scattergl(
                    x=line.x,
                    y=line.y,
                    mode="lines",
                    name=line.name,
                    legendgroup=line.name,
                    showlegend=col == 1 or line.name not in {c.name for c in data.curves},
                    line={"shape": "hv", "color": color, "width": 2},
                    hovertext=line.hover,
                    hoverinfo="text",
                ),
                row=1,
                col=col,
            )
    figure.update_xaxes(title_text=data.curve_x_title, row=1, col=1)
    figure.update_yaxes(title_text=data.curve_y_title, row=1, col=1)
    figure.update_xaxes(title_text=data.ecdf_x_title, row=1, col=2)
    figure.update_yaxes(title_text=data.ecdf_y_title, tickformat=".0%", range=[0, 1.02], row=1, col=2)
    figure.update_layout(title={"text": data.title}, hovermode="closest")
    if data.notice:
        figure.add_annotation(text=data.notice, xref="paper", yref="paper", x=0, y=-0.25, showarrow=False)
    return figure


def plot_comparison(results: Sequence[ProjectResult], *, by: str = "number") -> go.Figure:
    """Best-so-far curves and score distributions of several searches with the same objective."""
    return svg_when_small(draw_comparison(comparison_data(results, by=by)))
