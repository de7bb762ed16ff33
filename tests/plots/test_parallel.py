"""Parallel coordinates: whole records compared for equality, drawing smoke-tested."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest

from plots.make_result import kt_trial, make_result, sample_result, trial, write_project
from tuning.plots.parallel import (
    Axis,
    ParallelData,
    draw_parallel,
    hp_axis,
    log_ticks,
    nice_ticks,
    parallel_data,
    plot_parallel,
)
from tuning.results import load_project
from tuning.results.model import Condition, HyperparameterInfo


def test_record_of_a_min_objective_with_log_categorical_and_conditional_axes() -> None:
    data = parallel_data(sample_result())
    lr = Axis(
        label="Learning rate (log)",
        values=(-3.0, -2.0, -4.0, math.log10(3e-2)),
        tickvals=(-4.0, -3.0, -2.0, -1.0),
        ticktext=("0.0001", "0.001", "0.01", "0.1"),
        range=(-4.0, -1.0),
        is_log=True,
    )
    optimizer = Axis(
        label="Optimizer",
        values=(1.0, 0.0, 1.0, 1.0),
        tickvals=(0.0, 1.0),
        ticktext=("sgd", "adam"),
        range=(0.0, 1.0),
    )
    momentum = Axis(
        label="Momentum",
        values=(-0.135, 0.9, -0.135, -0.135),
        tickvals=(-0.135, 0.0, 0.2, 0.4, 0.6, 0.8),
        ticktext=("not used", "0", "0.2", "0.4", "0.6", "0.8"),
        range=(-0.135, 0.9),
    )
    units = Axis("Units", (16.0, 32.0, 64.0, 8.0), (20.0, 40.0, 60.0), ("20", "40", "60"), (8.0, 64.0))
    objective = Axis(label="val_loss", values=(0.9, 0.5, 0.7, 1.2), range=(0.5, 1.2))
    assert data == ParallelData(
        axes=(lr, optimizer, momentum, units, objective),  # batch_size is fixed: no axis
        color=(0.9, 0.5, 0.7, 1.2),
        direction="min",
        color_title="val_loss (lower is better)",
        title="Parallel coordinates of 4 completed trials (1 failed and 1 unfinished trials not shown)",
        n_left_out=2,
        trial_ids=("00", "01", "03", "05"),
    )
    assert data.reverse_colors


def test_max_objective_keeps_the_colourscale_and_counts_failed_trials() -> None:
    rows = [
        trial("a", 0.8, hp={"learning_rate": 1e-3, "optimizer": "adam", "units": 8}),
        trial("b", None, status="FAILED"),
        trial("c", None, status="FAILED"),
        trial("d", None, status="INVALID"),
        trial("e", 0.6, hp={"learning_rate": 1e-2, "optimizer": "adam", "units": 16}),
    ]
    data = parallel_data(make_result(rows, objective=("val_accuracy", "max")))
    assert data.direction == "max" and not data.reverse_colors
    assert data.color_title == "val_accuracy (higher is better)"
    assert data.title == "Parallel coordinates of 2 completed trials (3 failed trials not shown)"
    assert data.n_left_out == 3
    assert data.color == (0.8, 0.6)


def test_boolean_and_numeric_choices_get_codes_in_declared_order() -> None:
    space = (
        HyperparameterInfo("augment", "boolean"),
        HyperparameterInfo("filters", "choice", values=(32, 8, 16)),
    )
    rows = [trial("a", 1.0, hp={"augment": True, "filters": 8}), trial("b", 2.0, hp={"augment": False, "filters": 32})]
    data = parallel_data(make_result(rows, space=space))
    assert data.axes[0] == Axis("Augmentation", (1.0, 0.0), (0.0, 1.0), ("False", "True"), (0.0, 1.0))
    assert data.axes[1] == Axis("Filters", (1.0, 0.0), (0.0, 1.0, 2.0), ("32", "8", "16"), (0.0, 2.0))


def test_conditional_choice_gets_a_not_used_code_below_its_categories() -> None:
    info = HyperparameterInfo("loss", "choice", values=("ce", "focal"), conditions=(Condition("head", ("x",)),))
    column = pd.Series(["focal", pd.NA, "ce"], dtype="string")
    assert hp_axis(info, column) == Axis(
        "Loss", (1.0, -1.0, 0.0), (-1.0, 0.0, 1.0), ("not used", "ce", "focal"), (-1.0, 1.0)
    )


def test_log_axis_with_a_not_used_code_and_values_outside_the_declared_range() -> None:
    info = HyperparameterInfo(
        "lr", "float", min=1e-3, max=1e-1, sampling="log", conditions=(Condition("opt", ("sgd",)),)
    )
    column = pd.Series([1e-2, None, 1.0], dtype="Float64")
    assert hp_axis(info, column) == Axis(
        label="Lr (log)",
        values=(-2.0, -3.45, 0.0),
        tickvals=(-3.45, -3.0, -2.0, -1.0, 0.0),
        ticktext=("not used", "0.001", "0.01", "0.1", "1"),
        range=(-3.45, 0.0),
        is_log=True,
    )


def test_reverse_log_is_a_log_axis_and_a_non_positive_log_range_stays_linear() -> None:
    reverse = HyperparameterInfo("beta", "float", min=0.9, max=0.999, sampling="reverse_log")
    assert hp_axis(reverse, pd.Series([0.95], dtype="Float64")).is_log
    zero = HyperparameterInfo("decay", "float", min=0.0, max=0.1, sampling="log")
    assert hp_axis(zero, pd.Series([0.01], dtype="Float64")) == Axis("Decay", (0.01,), range=(0.0, 0.1))


def test_a_missing_value_of_an_unconditional_hyperparameter_gets_a_missing_code() -> None:
    info = HyperparameterInfo("units", "int", min=0, max=10)
    axis = hp_axis(info, pd.Series([5, None], dtype="Int64"))
    assert axis == Axis(
        "Units",
        (5.0, -1.5),
        (-1.5, 0.0, 2.0, 4.0, 6.0, 8.0, 10.0),
        ("missing", "0", "2", "4", "6", "8", "10"),
        (-1.5, 10.0),
    )


def test_tick_helpers() -> None:
    assert log_ticks(1e-5, 1e-3) == (1e-5, 1e-4, 1e-3)
    assert log_ticks(2e-3, 8e-3) == (0.002, 0.005)
    assert log_ticks(0.3, 0.31) == (0.3, 0.31)
    assert nice_ticks(0.0, 0.9) == (0.0, 0.2, 0.4, 0.6, 0.8)
    assert nice_ticks(8, 64) == (20.0, 40.0, 60.0)
    assert nice_ticks(3, 3) == (3.0,)


def test_choosing_axes_and_rejecting_unknown_names() -> None:
    data = parallel_data(sample_result(), hyperparameters=["units"])
    assert [a.label for a in data.axes] == ["Units", "val_loss"]
    with pytest.raises(ValueError, match="Unknown hyperparameter 'nope'"):
        parallel_data(sample_result(), hyperparameters=["nope"])


def test_pruned_trials_left_out_are_called_pruned_not_unfinished() -> None:
    trials = [trial("a", 0.5), trial("b", 0.2, status="PRUNED"), trial("c", None, status="RUNNING")]
    data = parallel_data(make_result(trials))
    assert data.title == "Parallel coordinates of 1 completed trial (1 pruned and 1 unfinished trials not shown)"


def test_no_completed_trial_gives_an_empty_record_with_a_note() -> None:
    data = parallel_data(make_result([trial("a", None, status="RUNNING")]))
    assert data.axes == () and data.n_left_out == 1
    assert data.title == "Parallel coordinates: no completed trial yet (1 unfinished trial not shown)"
    figure = draw_parallel(data)
    assert figure.layout.annotations[0].text == data.note


def test_drawing_smoke() -> None:
    figure = plot_parallel(sample_result())
    assert isinstance(figure.data[0], go.Parcoords)
    line = figure.data[0].line
    assert line.reversescale is True and line.colorbar.title.text == "val_loss (lower is better)"
    dims = figure.data[0].dimensions
    assert dims[0].label == "Learning rate (log)"
    assert dims[2].ticktext[0] == "not used"
    assert "not shown" in figure.layout.title.text


def test_a_project_on_disk_made_elsewhere(tmp_path: Path) -> None:
    trials = [
        kt_trial("0", {"lr": 0.001, "opt": "adam"}, 0.6),
        kt_trial("1", {"lr": 0.01, "opt": "sgd", "momentum": 0.5}, 0.4),
        kt_trial("2", {"lr": 0.1, "opt": "sgd", "momentum": 0.9}, None, status="FAILED"),
    ]
    data = parallel_data(load_project(write_project(tmp_path / "project", trials)))
    assert data.axes == (
        Axis(
            "Lr (log)", (-3.0, -2.0), (-4.0, -3.0, -2.0, -1.0), ("0.0001", "0.001", "0.01", "0.1"), (-4.0, -1.0), True
        ),
        Axis("Opt", (1.0, 0.0), (0.0, 1.0), ("sgd", "adam"), (0.0, 1.0)),
        Axis(
            "Momentum",
            (-0.135, 0.5),
            (-0.135, 0.0, 0.2, 0.4, 0.6, 0.8),
            ("not used", "0", "0.2", "0.4", "0.6", "0.8"),
            (-0.135, 0.9),
        ),
        Axis("val_loss", (0.6, 0.4), range=(0.4, 0.6)),
    )
    assert (data.direction, data.n_left_out, data.title) == (
        "min",
        1,
        "Parallel coordinates of 2 completed trials (1 failed trial not shown)",
    )


def test_an_integer_axis_has_whole_number_ticks() -> None:
    info = HyperparameterInfo("conv_blocks", "int", min=1, max=3)
    axis = hp_axis(info, pd.Series([1, 3, 2], dtype="Int64"))
    assert axis == Axis("Convolutional blocks", (1.0, 3.0, 2.0), (1.0, 2.0, 3.0), ("1", "2", "3"), (1.0, 3.0))
