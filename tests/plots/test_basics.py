"""WebGL traces only for large figures: a page gets about 16 WebGL contexts, and SVG is as fast for few points."""

from __future__ import annotations

import plotly.graph_objects as go

from tuning.plots.basics import WEBGL_FROM_POINTS, svg_when_small


def _figure(points: int) -> go.Figure:
    half = points // 2
    line = {"color": "red", "width": 3, "shape": "hv"}
    return go.Figure(
        [
            go.Scattergl(x=list(range(half)), y=list(range(half)), mode="lines", line=line, name="a"),
            go.Scattergl(x=list(range(points - half)), y=[1] * (points - half), mode="markers", name="b"),
            go.Bar(x=[1], y=[2], name="c"),
        ]
    )


def test_small_figures_become_svg_with_every_property_kept() -> None:
    figure = svg_when_small(_figure(WEBGL_FROM_POINTS - 1))
    assert [type(t).__name__ for t in figure.data] == ["Scatter", "Scatter", "Bar"]
    first = figure.data[0]
    kept = (first.name, first.mode, first.line.color, first.line.width, first.line.shape)
    assert kept == ("a", "lines", "red", 3, "hv")
    assert len(first.x) + len(figure.data[1].x) == WEBGL_FROM_POINTS - 1


def test_large_figures_keep_webgl() -> None:
    figure = svg_when_small(_figure(WEBGL_FROM_POINTS))
    assert [type(t).__name__ for t in figure.data] == ["Scattergl", "Scattergl", "Bar"]
