"""Importance figure: bars from the computed importance, the notice when empty, 10,000 trials."""

from __future__ import annotations

import time

import plotly.graph_objects as go

from tests.analysis.make import big, floating, make_result
from tuning.analysis.importance import Importance
from tuning.plots.importance import ImportancePlot, draw_importance, importance_data, plot_importance

GIVEN = Importance("val_loss", 25, ("a", "b"), ("Alpha", "Beta"), (0.75, 0.25), (0.125, 0.0625))


def test_bars_go_from_least_to_most_important() -> None:
    assert importance_data(make_result([], []), importances=GIVEN) == ImportancePlot(
        title="Which hyperparameters matter for val_loss (25 completed trials)",
        x_title="Share of the differences in val_loss explained",
        labels=("Beta", "Alpha"),
        means=(0.25, 0.75),
        stds=(0.0625, 0.125),
        hover=("Beta (b): 25% ± 6%", "Alpha (a): 75% ± 12%"),
        notice="",
    )


def test_drawing_bars_with_error_bars() -> None:
    figure = draw_importance(importance_data(make_result([], []), importances=GIVEN))
    bar = figure.data[0]
    assert (bar.type, bar.orientation, bar.y, bar.error_x.array) == ("bar", "h", ("Beta", "Alpha"), (0.0625, 0.125))


def test_too_few_trials_shows_the_notice() -> None:
    rows = [{"a": 0.5, "score": 0.5}] * 4
    data = importance_data(make_result(rows, [floating("a", 0.0, 1.0)]))
    assert (data.labels, data.notice) == ((), "Need at least 10 completed trials (have 4).")
    figure = draw_importance(data)
    assert isinstance(figure, go.Figure)
    assert figure.data == ()
    assert figure.layout.annotations[0].text == "Need at least 10 completed trials (have 4)."


def test_ten_thousand_trials_in_time() -> None:
    result = big()
    start = time.perf_counter()
    figure = plot_importance(result)
    assert time.perf_counter() - start < 5.0
    assert figure.data[0].y[-1] == "Learning rate"


OPTUNA = Importance(
    "val_loss", 12_000, ("a", "b"), ("Alpha", "Beta"), (0.75, 0.25), (), method="ped-anova", note="A sample."
)


def test_optuna_bars_have_no_error_bars_and_say_what_they_measure() -> None:
    data = importance_data(make_result([], []), importances=OPTUNA)
    assert data == ImportancePlot(
        title="PED-ANOVA: what the best trials of val_loss depend on (12,000 completed trials)",
        x_title="Share of the total importance (best 10% against all trials)",
        labels=("Beta", "Alpha"),
        means=(0.25, 0.75),
        stds=(),
        hover=("Beta (b): 25%", "Alpha (a): 75%"),
        notice="",
        note="A sample.",
    )
    figure = draw_importance(data)
    assert figure.data[0].error_x.array is None
    assert figure.layout.title.subtitle.text == "A sample."
