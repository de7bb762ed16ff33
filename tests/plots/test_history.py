"""History figure: computed record by equality, drawing smoke-tested, 10,000 trials in time."""

from __future__ import annotations

import math
import time

import plotly.graph_objects as go

from tests.analysis.make import LOSS, big, floating, make_result
from tuning.plots.history import HistoryPlot, StatusPoints, draw_history, history_data, plot_history

DROPOUT = floating("dropout", 0.0, 0.5)


def test_history_record_places_failed_trials_on_the_no_score_line() -> None:
    rows = [
        {"dropout": 0.25, "score": 0.5},
        {"dropout": 0.5, "status": "FAILED", "message": "Out of memory"},
        {"dropout": 0.125, "score": 0.75},
    ]
    assert history_data(make_result(rows, [DROPOUT])) == HistoryPlot(
        title="val_accuracy of each trial and best so far",
        x_title="Trial number",
        y_title="val_accuracy (higher is better)",
        points=(
            StatusPoints(
                "Completed",
                "COMPLETED",
                True,
                (1.0, 3.0),
                (0.5, 0.75),
                (
                    "Trial 0000 (#1) · COMPLETED<br>val_accuracy: 0.5<br>best so far: 0.5<br>Dropout: 0.25",
                    "Trial 0002 (#3) · COMPLETED<br>val_accuracy: 0.75<br>best so far: 0.75<br>Dropout: 0.125",
                ),
            ),
            StatusPoints(
                "Failed",
                "FAILED",
                False,
                (2.0,),
                (0.4875,),  # 5% of the score range below the lowest score
                (
                    "Trial 0001 (#2) · FAILED<br>val_accuracy: no score<br>best so far: 0.5<br>Dropout: 0.5"
                    "<br>Out of memory",
                ),
            ),
        ),
        best_x=(1.0, 2.0, 3.0),
        best_y=(0.5, 0.5, 0.75),
        no_score_y=0.4875,
        notice="",
    )


def test_time_axis_in_minutes_and_lower_is_better() -> None:
    rows = [
        {"dropout": 0.1, "score": 1.5, "started_at": 0.0, "ended_at": 600.0},
        {"dropout": 0.2, "score": math.nan, "started_at": 600.0, "ended_at": 1200.0},
        {"dropout": 0.3, "score": 1.0, "started_at": 1200.0, "ended_at": 1800.0},
    ]
    data = history_data(make_result(rows, [DROPOUT], objective=LOSS), by="time")
    assert (data.x_title, data.y_title) == ("Time since the search started (minutes)", "val_loss (lower is better)")
    assert data.best_x == (10.0, 20.0, 30.0)
    assert data.best_y == (1.5, 1.5, 1.0)
    assert [(p.name, p.scored, p.y) for p in data.points] == [
        ("Completed", True, (1.5, 1.0)),
        ("Completed, no score", False, (0.975,)),
    ]


def test_drawing_uses_svg_for_few_points_and_a_step_line() -> None:
    rows = [{"dropout": 0.1, "score": 0.5}, {"dropout": 0.2, "status": "RUNNING"}]
    figure = plot_history(make_result(rows, [DROPOUT]), by="time")
    assert isinstance(figure, go.Figure)
    assert [type(t).__name__ for t in figure.data] == ["Scatter", "Scatter"]  # completed, best (running: no score)
    assert figure.data[-1].line.shape == "hv"
    assert figure.layout.annotations[-1].text.startswith("No start or end times are known")


def test_trial_number_axis_has_whole_number_ticks() -> None:
    two = plot_history(make_result([{"dropout": 0.1, "score": 0.5}, {"dropout": 0.2, "score": 0.6}], [DROPOUT]))
    assert (two.layout.xaxis.tick0, two.layout.xaxis.dtick) == (1, 1)
    many = plot_history(make_result([{"dropout": 0.1, "score": 0.5}] * 95, [DROPOUT]))
    assert many.layout.xaxis.dtick == 10
    timed = [{"dropout": 0.1, "score": 0.5, "started_at": 10.0 * i, "ended_at": 10.0 * i + 9} for i in range(3)]
    in_time = plot_history(make_result(timed, [DROPOUT]), by="time")
    assert in_time.layout.xaxis.dtick is None


def test_empty_project_draws() -> None:
    data = history_data(make_result([], [DROPOUT]))
    assert (data.points, data.best_x, data.no_score_y) == ((), (), None)
    assert isinstance(draw_history(data), go.Figure)


def test_ten_thousand_trials_in_time() -> None:
    result = big()
    start = time.perf_counter()
    figure = plot_history(result, by="time")
    assert time.perf_counter() - start < 3.0
    assert sum(len(t.x) for t in figure.data[:-1]) == 10_000
    assert all(isinstance(t, go.Scattergl) for t in figure.data)  # WebGL only where SVG would be slow


def test_a_running_trial_without_a_score_is_left_out_and_the_axis_fits_the_real_scores() -> None:
    rows = [{"dropout": 0.25, "score": 0.5}, {"dropout": 0.5, "status": "RUNNING"}]
    data = history_data(make_result(rows, [DROPOUT]), highlight=["0001"])
    assert [(p.status, p.x, p.y) for p in data.points] == [("COMPLETED", (1.0,), (0.5,))]
    assert (data.best_x, data.best_y, data.no_score_y, data.notice) == ((1.0, 2.0), (0.5, 0.5), None, "")
    assert (data.selected_x, data.selected_y) == ((), ())
    alone = history_data(make_result([{"dropout": 0.5, "status": "RUNNING"}], [DROPOUT]))
    assert (alone.points, alone.no_score_y, alone.notice) == ((), None, "No trial has a score yet.")
    drawn = draw_history(alone)
    assert all(y is None for trace in drawn.data for y in (trace.y or ()))  # nothing drawn at 0
