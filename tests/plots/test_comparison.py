"""Comparison figure: best-so-far lines on a shared axis and ECDFs by equality, refusals, 10,000 trials."""

from __future__ import annotations

import time

import plotly.graph_objects as go
import pytest

from tests.analysis.make import LOSS, big, floating, make_result, synthetic
from tuning.analysis.compare import ComparisonError
from tuning.plots.comparison import ComparisonPlot, Line, comparison_data, draw_comparison, plot_comparison

SPACE = [floating("dropout", 0.0, 0.5)]
A = make_result(
    [{"score": 0.5, "started_at": 0.0, "ended_at": 30.0}, {"score": 0.75, "ended_at": 90.0}], SPACE, name="a"
)
B = make_result([{"score": 0.25}], SPACE, name="b")


def test_comparison_record_by_trial_number() -> None:
    assert comparison_data([A, B]) == ComparisonPlot(
        title="Comparison of 2 searches on val_accuracy",
        curve_x_title="Trial number",
        curve_y_title="Best val_accuracy so far (higher is better)",
        ecdf_x_title="val_accuracy (higher is better)",
        ecdf_y_title="Share of trials scoring at most this",
        curves=(
            Line(
                "a", (1.0, 2.0), (0.5, 0.75), ("a<br>Trial 1<br>best so far: 0.5", "a<br>Trial 2<br>best so far: 0.75")
            ),
            Line("b", (1.0,), (0.25,), ("b<br>Trial 1<br>best so far: 0.25",)),
        ),
        ecdfs=(
            Line(
                "a",
                (0.5, 0.75),
                (0.5, 1.0),
                ("a<br>val_accuracy ≤ 0.5: 50% of trials", "a<br>val_accuracy ≤ 0.75: 100% of trials"),
            ),
            Line("b", (0.25,), (1.0,), ("b<br>val_accuracy ≤ 0.25: 100% of trials",)),
        ),
        notice="",
    )


def test_by_time_leaves_out_projects_without_times_and_says_so() -> None:
    data = comparison_data([A, B], by="time")
    assert (data.curve_x_title, [c.name for c in data.curves]) == ("Time since the search started (seconds)", ["a"])
    assert data.curves[0].x == (30.0, 90.0)
    assert data.notice == "No start or end times are known for b: not shown."
    figure = draw_comparison(data)
    assert [t.type for t in figure.data] == ["scattergl", "scattergl", "scattergl"]
    assert figure.layout.annotations[-1].text == data.notice


def test_drawing_smoke_and_refusals() -> None:
    figure = plot_comparison([A, B])
    assert isinstance(figure, go.Figure)
    assert {t.line.shape for t in figure.data} == {"hv"}
    assert isinstance(plot_comparison([make_result([], SPACE)]), go.Figure)
    with pytest.raises(ComparisonError, match="different objectives"):
        comparison_data([A, make_result([], SPACE, objective=LOSS)])
    with pytest.raises(ValueError, match="by must be one of number, time"):
        comparison_data([A], by="epochs")


def test_ten_thousand_trials_in_time() -> None:
    results = [big(), synthetic(10_000, seed=1)]
    start = time.perf_counter()
    figure = plot_comparison(results, by="time")
    assert time.perf_counter() - start < 5.0
    assert len(figure.data) == 4
