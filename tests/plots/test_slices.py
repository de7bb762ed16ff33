"""Slice figures: records by equality (log axis, "not used" apart, boxes), drawing smoke, 10,000 trials."""

from __future__ import annotations

import time

import plotly.graph_objects as go
import pytest

from tests.analysis.make import LR, MOMENTUM, OPTIMIZER, ROWS, big, make_result
from tuning.analysis.effects import Group
from tuning.plots.slices import CategoricalSlice, NumericSlice, draw_slice, plot_slice, plot_slices, slice_data

RESULT = make_result(ROWS, [OPTIMIZER, MOMENTUM, LR])
NOT_USED = Group("not used", 2, 0.625, 0.625, 0.5625, 0.6875, 0.5, 0.75, (0.5, 0.75), ("0001", "0002"))


def test_numeric_slice_keeps_not_used_apart() -> None:
    assert slice_data(RESULT, "momentum") == NumericSlice(
        name="momentum",
        title="val_accuracy by momentum",
        x_title="Momentum",
        y_title="val_accuracy (higher is better)",
        log=False,
        x_range=(-0.02, 1.02),
        x=(0.5,),
        y=(0.25,),
        hover=("Trial 0000<br>Momentum: 0.5<br>val_accuracy: 0.25",),
        trend_x=(),
        trend_y=(),
        not_used=NOT_USED,
    )


def test_log_sampled_slice_has_a_log_axis_over_the_declared_range() -> None:
    data = slice_data(RESULT, "learning_rate")
    assert isinstance(data, NumericSlice)
    assert (data.log, data.x_title, data.x, data.y) == (
        True,
        "Learning rate (log scale)",
        (1e-3, 1e-2, 1e-1),
        (0.25, 0.5, 0.75),
    )
    assert data.x_range == pytest.approx((-4.06, -0.94))  # log10 units, 2% margin
    assert len(data.trend_x) == 50
    figure = draw_slice(data)
    assert figure.layout.xaxis.type == "log"
    assert [type(t).__name__ for t in figure.data] == ["Scatter", "Scatter"]  # SVG: few points


def test_categorical_slice_boxes_and_strip() -> None:
    assert slice_data(RESULT, "optimizer", jitter=0) == CategoricalSlice(
        name="optimizer",
        title="val_accuracy by optimizer",
        x_title="Optimizer",
        y_title="val_accuracy (higher is better)",
        boxes=(
            Group("adam", 2, 0.625, 0.625, 0.5625, 0.6875, 0.5, 0.75, (0.5, 0.75), ("0001", "0002")),
            Group("sgd", 1, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, (0.25,), ("0000",)),
        ),
        strip_x=(0.0, 0.0, 1.0),
        strip_y=(0.5, 0.75, 0.25),
        hover=(
            "Trial 0001<br>Optimizer: adam<br>val_accuracy: 0.5",
            "Trial 0002<br>Optimizer: adam<br>val_accuracy: 0.75",
            "Trial 0000<br>Optimizer: sgd<br>val_accuracy: 0.25",
        ),
    )
    jittered = slice_data(RESULT, "optimizer")
    assert isinstance(jittered, CategoricalSlice)
    assert jittered == slice_data(RESULT, "optimizer")  # the same jitter every time
    assert all(abs(x - round(x)) <= 0.3 for x in jittered.strip_x)


def test_drawing_smoke_including_not_used_and_empty_projects() -> None:
    figure = plot_slice(RESULT, "momentum")
    assert [type(t).__name__ for t in figure.data] == ["Scatter", "Scatter", "Box"]
    assert figure.layout.xaxis2.ticktext == ("not used",)
    figure = plot_slice(RESULT, "optimizer")
    assert [type(t).__name__ for t in figure.data] == ["Box", "Box", "Scatter"]
    assert figure.layout.xaxis.ticktext == ("adam (2)", "sgd (1)")
    empty = make_result([], [OPTIMIZER, MOMENTUM, LR])
    assert all(isinstance(f, go.Figure) for f in plot_slices(empty))
    assert len(plot_slices(RESULT)) == 3


def test_ten_thousand_trials_in_time() -> None:
    result = big()
    start = time.perf_counter()
    figures = plot_slices(result)
    assert time.perf_counter() - start < 5.0
    assert len(figures) == 7
